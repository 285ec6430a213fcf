"""Saga bookkeeping: completed steps, and unwinding them in reverse on failure."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import NoReturn

from ._errors import SagaFailed
from ._events import error_fields
from ._runtime import Runtime

Compensation = Callable[[], Awaitable[object]]


class Saga:
    """One run of a saga: which step is running, and what completed steps undo.

    `step` names the step in progress (None between steps); `completed(undo)`
    records that it finished, with its compensation (or None: nothing to undo).
    """

    __slots__ = ("_rt", "name", "step", "_done")

    def __init__(self, rt: Runtime, name: str) -> None:
        self._rt = rt
        self.name = name
        self.step: str | None = None
        self._done: list[tuple[str, Compensation]] = []
        if rt.observers:
            rt.event("saga.start", name)

    def completed(self, undo: Compensation | None) -> None:
        if undo is not None and self.step is not None:
            self._done.append((self.step, undo))
        self.step = None

    async def unwind(self, error: BaseException) -> NoReturn:
        """Compensate completed steps, newest first, then raise what the caller sees.

        An error raises `SagaFailed` from it; a cancellation (the saga's own
        timeout, an enclosing one, a failed sibling branch, `task.cancel()`)
        unwinds too and then goes on as the cancellation it was, so timeouts
        still surface as `TimeoutError`. Unwinding runs in its own task behind
        a shield: cancelling the saga again while it unwinds does not skip
        compensations; the cancellation is raised once they have all run.
        """
        if not isinstance(error, (Exception, asyncio.CancelledError)):
            raise error  # KeyboardInterrupt, SystemExit, GeneratorExit: nothing may be awaited
        unwinding = asyncio.ensure_future(self._compensate(error))
        interrupted = False
        while True:
            try:
                failure = await asyncio.shield(unwinding)
                break
            except asyncio.CancelledError:
                interrupted = True
        if isinstance(error, asyncio.CancelledError):
            raise error
        if interrupted:  # cancelled while unwinding an error: the cancellation goes on
            raise asyncio.CancelledError() from failure
        raise failure from error

    async def _compensate(self, error: BaseException) -> SagaFailed:
        rt, failed_step = self._rt, self.step
        compensated: list[str] = []
        errors: list[tuple[str, BaseException]] = []
        for step, undo in reversed(self._done):
            if rt.observers:
                rt.event("compensate.start", step)
            try:
                await undo()
            except Exception as exc:  # recorded; the other compensations still run
                errors.append((step, exc))
                rt.failed("compensate.error", step, exc)
                continue
            compensated.append(step)
            if rt.observers:
                rt.event("compensate.end", step)
        where = f" at step {failed_step}" if failed_step else ""
        failure = SagaFailed(
            f"saga {self.name} failed{where}: {type(error).__name__}: {error}",
            step=failed_step,
            error=error,
            compensated=compensated,
            compensation_errors=errors,
        )
        if rt.observers:
            rt.event("saga.failed", self.name, {"step": failed_step, **error_fields(error)})
        return failure
