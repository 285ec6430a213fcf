"""OpenTelemetry tracing for wf runs (the `otel` extra: `pip install 'wfc-lang[otel]'`).

    from wfc.otel import trace_runtime
    trace_runtime(rt)                      # spans go to the global tracer provider
    trace_runtime(rt, tracer_provider=p)   # or to this one

Workflows, routers, sagas, stages, steps and compensations become spans; everything else
the run tells its observers (retries, timeouts, breaker and limiter decisions, fallbacks,
routes, transitions, emits, waits, progress) becomes an event on the span it happened in.
A span's parent is the span running in the same task when it started, so the branches of
a `parallel` block are sibling spans under the block's stage or declaration, and a
handler's own spans (an instrumented HTTP client, say) nest under its step's span.

Attribute names are stable: `wf.kind` (workflow, saga, stage, step, compensate), `wf.name`
(the declaration, the stage, or the step's target as written), and each event field as
`wf.<field>`. A failed span has status ERROR and an `exception` event
(`exception.type`, `exception.message`); a span whose task was cancelled before it ended
is ended with `wf.cancelled` set when its parent ends.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from .runtime import Event, Runtime

# event kind -> (span kind, how it ends): the events that open and close spans
_OPENS = {
    "workflow.start": "workflow",
    "saga.start": "saga",
    "stage.start": "stage",
    "step.start": "step",
    "compensate.start": "compensate",
}
_CLOSES = {
    "workflow.end": ("workflow", None),
    "workflow.error": ("workflow", "error"),
    "saga.end": ("saga", None),
    "saga.failed": ("saga", "error"),
    "stage.end": ("stage", None),
    "stage.error": ("stage", "error"),
    "step.end": ("step", None),
    "step.error": ("step", "error"),
    "compensate.end": ("compensate", None),
    "compensate.error": ("compensate", "error"),
}


class _Open:
    """A span in progress, with the span it nests in and the ones nested in it."""

    __slots__ = ("span", "kind", "name", "parent", "children", "token")

    def __init__(
        self, span: Span, kind: str, name: str, parent: _Open | None, token: contextvars.Token[Any]
    ) -> None:
        self.span, self.kind, self.name, self.parent = span, kind, name, parent
        self.children: list[_Open] = []
        self.token = token

    def end(self, cancelled: bool = False) -> None:
        for child in list(self.children):
            child.end(cancelled=True)  # its task was cancelled before it could end it
        if cancelled:
            self.span.set_attribute("wf.cancelled", True)
        self.span.end()
        if self.parent is not None and self in self.parent.children:
            self.parent.children.remove(self)


class SpanObserver:
    """An observer that turns a runtime's events into spans (see the module's docstring)."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer
        self._current: contextvars.ContextVar[_Open | None] = contextvars.ContextVar(
            "wfc_otel_span", default=None
        )

    def __call__(self, event: Event) -> None:
        opens = _OPENS.get(event.kind)
        if opens is not None:
            self._open(opens, event)
            return
        closes = _CLOSES.get(event.kind)
        if closes is not None:
            self._close(*closes, event)
            return
        current = self._current.get()
        if current is not None:
            current.span.add_event(event.kind, _attributes(event))

    def _open(self, kind: str, event: Event) -> None:
        parent = self._current.get()
        span = self._tracer.start_span(
            f"{kind} {event.name}",
            context=None if parent is None else trace.set_span_in_context(parent.span),
            attributes={"wf.kind": kind, "wf.name": event.name, **_attributes(event)},
        )
        token = otel_context.attach(trace.set_span_in_context(span))  # a handler's spans nest here
        node = _Open(span, kind, event.name, parent, token)
        if parent is not None:
            parent.children.append(node)
        self._current.set(node)

    def _close(self, kind: str, failed: str | None, event: Event) -> None:
        node = self._current.get()
        while node is not None and not (node.kind == kind and node.name == event.name):
            node = node.parent  # an inner span whose end never came (its step was cancelled)
        if node is None:
            return
        if failed is not None:
            fields = event.fields
            node.span.add_event(
                "exception",
                {
                    "exception.type": str(fields.get("error", "")),
                    "exception.message": str(fields.get("message", "")),
                },
            )
            node.span.set_status(
                Status(StatusCode.ERROR, f"{fields.get('error', '')}: {fields.get('message', '')}")
            )
        for attribute, value in _attributes(event).items():
            node.span.set_attribute(attribute, value)
        inner = self._current.get()
        while inner is not None and inner is not node:  # detach in the order attached
            otel_context.detach(inner.token)
            inner = inner.parent
        otel_context.detach(node.token)
        node.end()
        self._current.set(node.parent)


def trace_runtime(rt: Runtime, tracer_provider: trace.TracerProvider | None = None) -> Callable[[], None]:
    """Trace every run of `rt` from now on; returns what stops it."""
    from . import __version__

    return rt.observe(SpanObserver(trace.get_tracer("wfc", __version__, tracer_provider=tracer_provider)))


def _attributes(event: Event) -> dict[str, Any]:
    """The event's fields as span attributes (`wf.<field>`), in the types OpenTelemetry takes."""
    return {f"wf.{key}": _value(value) for key, value in event.fields.items() if value is not None}


def _value(value: Any) -> Any:
    if isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Sequence) and all(isinstance(item, str) for item in value):
        return list(value)
    return repr(value)


def print_spans(rt: Runtime, stream: TextIO, as_json: Callable[[Any], str]) -> None:
    """Trace `rt`, writing each span to `stream` as one JSON line (`as_json` renders it)
    when it ends: `span`, `id`, `parent`, `ms`, `status`, `attributes`, `events`."""
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

    def line(span: ReadableSpan) -> str:
        record = {
            "span": span.name,
            "id": f"{span.context.span_id:016x}" if span.context else None,
            "parent": None if span.parent is None else f"{span.parent.span_id:016x}",
            "ms": round(((span.end_time or 0) - (span.start_time or 0)) / 1e6, 3),
            "status": span.status.status_code.name,
            "attributes": dict(span.attributes or {}),
            "events": [{"name": event.name, **dict(event.attributes or {})} for event in span.events],
        }
        return as_json(record) + "\n"

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=stream, formatter=line)))
    trace_runtime(rt, tracer_provider=provider)
