"""wfc.otel: a run's events as OpenTelemetry spans, checked with the SDK's in-memory
exporter on both backends, and `wfc run --otel-console`."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest

from conftest import require_module

require_module("opentelemetry.sdk", "the otel extra: python -m pip install -e '.[otel]'")

from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import StatusCode  # noqa: E402

import otel_handlers  # noqa: E402
from conftest import EXAMPLES, load_both  # noqa: E402
from wfc.otel import trace_runtime  # noqa: E402
from wfc.runtime import Runtime, VirtualClock  # noqa: E402

SOURCE = """use otel_handlers as h
saga trip(x) {
    step a = h.book(x)
        compensate h.cancel(a)
    step b = h.boom(x)
        compensate h.cancel(b)
    return b
}
workflow main(x) {
    stage fan {
        parallel {
            one = h.fetch(1)
            two = h.fetch(2)
        }
    }
    stage again {
        y = h.flaky(x) with retry(attempts: 3, delay: 1s)
    }
    try { z = trip(x) } catch SagaFailed { z = null }
    return [one, two, y, z]
}
"""


def traced(backend: str):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_handlers.PROVIDER[:] = [provider]
    module = load_both(SOURCE)[backend]
    rt = Runtime(clock=VirtualClock(), seed=1)
    trace_runtime(rt, tracer_provider=provider)

    async def main():
        with rt.activate():
            return await module.main(7)

    value = asyncio.run(main())
    spans = exporter.get_finished_spans()
    by_name = {span.name: span for span in spans}
    return value, spans, by_name


def parent_of(span, by_name):
    return next((s.name for s in by_name.values() if s.context.span_id == span.parent.span_id), None)


def test_spans_nest_as_the_run_did(backend) -> None:
    value, spans, by_name = traced(backend)
    assert value == [1, 2, 7, None]
    assert parent_of(by_name["stage fan"], by_name) == "workflow main"
    assert by_name["workflow main"].parent is None
    fetches = [span for span in spans if span.name == "step h.fetch"]
    assert len(fetches) == 2
    assert {parent_of(span, by_name) for span in fetches} == {"stage fan"}  # siblings
    assert fetches[0].start_time < fetches[1].end_time and fetches[1].start_time < fetches[0].end_time
    http = [span for span in spans if span.name == "http GET"]  # the handler's own spans
    assert {span.parent.span_id for span in http} == {span.context.span_id for span in fetches}
    assert all(span.attributes["wf.kind"] == "step" and span.attributes["wf.name"] == "h.fetch"
               for span in fetches)


def test_failures_retries_and_compensations(backend) -> None:
    _, spans, by_name = traced(backend)
    flaky = [span for span in spans if span.name == "step h.flaky"]
    assert [span.status.status_code for span in flaky] == [StatusCode.ERROR, StatusCode.UNSET]
    exception = next(event for event in flaky[0].events if event.name == "exception")
    assert exception.attributes == {"exception.type": "ConnectionError", "exception.message": "down"}
    retries = [event for event in by_name["stage again"].events if event.name == "retry"]
    assert [(e.attributes["wf.attempt"], e.attributes["wf.delay"]) for e in retries] == [(1, 1.0)]
    saga = by_name["saga trip"]
    assert saga.status.status_code == StatusCode.ERROR and parent_of(saga, by_name) == "workflow main"
    compensations = [span for span in spans if span.name == "compensate a"]
    assert [parent_of(span, by_name) for span in compensations] == ["saga trip"]
    assert [parent_of(span, by_name) for span in spans if span.name == "step h.cancel"] == ["compensate a"]


def test_a_step_cancelled_by_a_failing_sibling_is_ended_as_cancelled(backend) -> None:
    source = """use otel_handlers as h
workflow main() {
    parallel {
        h.fetch(1)
        h.boom(2)
    }
}
"""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    otel_handlers.PROVIDER[:] = [provider]
    module = load_both(source)[backend]
    rt = Runtime(clock=VirtualClock())
    trace_runtime(rt, tracer_provider=provider)

    async def main():
        with rt.activate():
            return await module.main()

    with pytest.raises(ValueError):
        asyncio.run(main())
    by_name = {span.name: span for span in exporter.get_finished_spans()}
    assert by_name["step h.fetch"].attributes.get("wf.cancelled") is True
    assert by_name["step h.boom"].status.status_code == StatusCode.ERROR
    assert by_name["workflow main"].status.status_code == StatusCode.ERROR


def test_wfc_run_otel_console_prints_spans_on_stderr() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "wfc", "run", str(EXAMPLES / "summary.wf"), "summarize", "--otel-console",
         "--arg", "content=wfc turns workflow files into asyncio Python. It is fast."],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["words"] == 10  # stdout keeps the result
    spans = [json.loads(line) for line in result.stderr.splitlines()]
    names = [span["span"] for span in spans]
    assert names[-1] == "workflow summarize" and "stage transform" in names
    root = spans[-1]["id"]
    assert {span["parent"] for span in spans if span["span"].startswith("stage ")} == {root}


def test_otel_console_without_opentelemetry_says_what_to_install(tmp_path) -> None:
    blocked = tmp_path / "opentelemetry"
    blocked.mkdir()
    (blocked / "__init__.py").write_text("raise ImportError('not installed')\n", encoding="utf-8")
    import os

    result = subprocess.run(
        [sys.executable, "-m", "wfc", "run", str(EXAMPLES / "summary.wf"), "summarize", "--otel-console",
         "--arg", "content=x"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])},
    )
    assert result.returncode == 2 and not result.stdout
    assert result.stderr.strip() == (
        "error: --otel-console needs OpenTelemetry: python -m pip install 'wfc-lang[otel]'")
