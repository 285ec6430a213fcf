"""The events around a workflow, a saga or a stage, and a requirement's error: each
rule once, for both backends.

The interpreter calls these. Generated code writes the same events in place, behind
its `if _obs:` checks (a call per event would cost every stage and every run), with
the event names taken from here when it is generated; the differential tests and
tests/test_lifecycle.py hold the two to the same events in the same order.
"""

from __future__ import annotations

from typing import Any

from ._errors import ValidationError
from ._runtime import Runtime


class Lifecycle:
    """`KIND.start` as it begins and `KIND.end` as it ends normally; `KIND.error` when
    an `Exception` leaves it (a cancellation is not reported as a failure); for a
    stage whose `when` is false, `KIND.skip` alone. Events are made only while
    someone observes."""

    __slots__ = ("kind", "start", "end", "error", "skip")

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.start, self.end = f"{kind}.start", f"{kind}.end"
        self.error, self.skip = f"{kind}.error", f"{kind}.skip"

    def started(self, rt: Runtime, name: str) -> None:
        if rt.observers:
            rt.event(self.start, name)

    def ended(self, rt: Runtime, name: str) -> None:
        if rt.observers:
            rt.event(self.end, name)

    def failed(self, rt: Runtime, name: str, exc: BaseException) -> None:
        rt.failed(self.error, name, exc)

    def skipped(self, rt: Runtime, name: str) -> None:
        if rt.observers:
            rt.event(self.skip, name)


WORKFLOW = Lifecycle("workflow")
SAGA = Lifecycle("saga")  # a failed saga reports `saga.failed` with its step (runtime.Saga)
STAGE = Lifecycle("stage")


def unmet(message: Any, source: str) -> ValidationError:
    """The error of a `require` whose condition is false: its message, or when that is
    missing or empty, `requirement failed: SOURCE` (the condition as written)."""
    return ValidationError(message or f"requirement failed: {source}")
