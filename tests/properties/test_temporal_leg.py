"""The Temporal leg of the differential proof: random programs run on a real Temporal
server (the dev server the `temporal_server` fixture starts) give what the interpreter
gives: the value, or the error's type and message, and the handler calls.

Handlers answer at once, so no timeout fires; programs whose outcome depends on the
time things take (waits, races, `max_time`, a rate limit's waits, a machine's `after`
timers and `invoke`d calls, which the generator leaves out here) are left out: Temporal's
timers are real, the interpreter's clock virtual. So are those that draw random numbers (weighted routes,
`uuid()`): Temporal's deterministic source is seeded per workflow, the interpreter's by
the test.
Handlers answer at once. Where branches run concurrently, the calls are compared as a
multiset, and programs whose handlers fail on their N-th call are left out (which call
is N-th depends on timing). CI draws WFC_TEMPORAL_EXAMPLES programs (default 12).
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, note, settings

from .harness import install_handlers, trace
from .programs import programs

EXAMPLES = int(os.environ.get("WFC_TEMPORAL_EXAMPLES", "12"))
UNMATCHED = ("wait ", "max_time", "select {", "parallel first", "parallel quorum", "receive ", "weighted", "uuid(",
             "limit(rate")  # fmt: skip


def on_temporal(
    address: str, source: str, scripts: dict[str, Any], filename: str
) -> tuple[tuple, list[tuple]]:
    from temporalio.client import Client, WorkflowFailureError

    from wfc import temporal

    calls = install_handlers(scripts)
    module = _load(source, filename)

    async def main() -> Any:
        client = await Client.connect(address)
        queue = f"prop-{uuid.uuid4()}"
        async with temporal.worker(client, module, queue):
            handle = await temporal.start(client, module, "main", [], queue)
            return await handle.result()

    try:
        outcome: tuple = ("value", repr(asyncio.run(main())))
    except WorkflowFailureError as failed:
        outcome = ("error", *temporal.failed_run(failed))
    return outcome, list(calls)


def _load(source: str, filename: str) -> Any:
    import tempfile
    from pathlib import Path

    from wfc import temporal

    folder = Path(tempfile.mkdtemp(prefix="wfprop"))
    (folder / filename).write_text(source, encoding="utf-8")
    return temporal.load(folder / filename)


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(programs(timed_machines=False))
def test_temporal_agrees_with_the_interpreter(temporal_server: str, program: Any) -> None:
    source, scripts = program
    assume(not any(word in source for word in UNMATCHED))
    scripts = {name: replace(script, delay=0.0) for name, script in scripts.items()}
    concurrent = "parallel" in source
    assume(not (concurrent and any(script.fail_on for script in scripts.values())))
    note(f"wf program:\n{source}\nscripts: {scripts}")
    filename = f"prop{uuid.uuid4().hex[:8]}.wf"
    local = trace(source, scripts, "interp", filename)
    kind, *rest = local.outcome
    if kind == "value":  # JSON carries it: tuples come back as lists
        expected = ("value", repr(json.loads(json.dumps(eval_repr(rest[0])))))
    else:  # a KeyError's str() quotes its message; Temporal carries the message itself
        expected = ("error", rest[0], eval_repr(rest[1]) if rest[0] == "KeyError" else rest[1])
    outcome, calls = on_temporal(temporal_server, source, scripts, filename)
    assert outcome == expected
    if concurrent:  # which call of a handler is its N-th depends on the interleaving
        assert sorted(call[:2] for call in calls) == sorted(call[:2] for call in local.calls)
    else:
        assert calls == local.calls


def eval_repr(text: str) -> Any:
    """A value back from the repr the trace keeps (literals only: ast.literal_eval)."""
    import ast

    return ast.literal_eval(text)
