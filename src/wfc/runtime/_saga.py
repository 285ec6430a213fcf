"""Saga bookkeeping: completed steps, and unwinding them in reverse on failure."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, NoReturn, TypeAlias

from ._errors import SagaFailed
from ._events import error_fields
from ._runtime import Runtime

Compensation: TypeAlias = tuple[str, Callable[..., Awaitable[Any]], tuple[Any, ...]]
"""A completed step's name, its compensation, and the arguments to call it with."""


class Saga:
    """One run of a saga: which step is running, and what completed steps undo.

    `step` names the step in progress (None between steps); `done` lists the
    completed steps' compensations in completion order. The interpreter records
    them with `completed(undo)`; compiled code keeps `step` and `done` in locals
    (no object at all) and hands them to `unwind` on failure.
    """

    __slots__ = ("_rt", "name", "step", "done", "failing", "stop_on_error")

    def __init__(
        self,
        rt: Runtime,
        name: str,
        step: str | None = None,
        done: list[Compensation] | None = None,
        failing: Compensation | None = None,
        stop_on_error: bool = False,
    ) -> None:
        self._rt = rt
        self.name = name
        self.step = step
        self.done: list[Compensation] = [] if done is None else done
        # `unwind(failed_step: true)`: the compensation of the step in progress, which
        # runs first if that step fails. `unwind(stop_on_error: true)`: the first
        # compensation that fails ends the unwinding.
        self.failing = failing
        self.stop_on_error = stop_on_error

    def starting(self, undo: Callable[..., Awaitable[Any]], *args: Any) -> None:
        """The step in progress is compensated by `undo(*args)` even if it fails."""
        if self.step is not None:
            self.failing = (self.step, undo, args)

    def completed(self, undo: Callable[..., Awaitable[Any]] | None, *args: Any) -> None:
        """The step in progress finished; `undo(*args)` compensates it (None: nothing to undo)."""
        if undo is not None and self.step is not None:
            self.done.append((self.step, undo, args))
        self.step = self.failing = None

    def unwind(self, error: BaseException) -> Awaitable[NoReturn]:
        """Compensate completed steps, newest first, then raise what the caller sees;
        called as `await saga.unwind(error)`. See `unwind`."""
        return unwind(self._rt, self.name, self.step, self.done, error, self.failing, self.stop_on_error)


def unwind(
    rt: Runtime,
    name: str,
    step: str | None,
    done: list[Compensation],
    error: BaseException,
    failing: Compensation | None = None,
    stop_on_error: bool = False,
) -> Awaitable[NoReturn]:
    """Compensate the saga `name`'s completed steps `done`, newest first, after `error`
    in `step`, then raise what the caller sees; called as `await unwind(...)`.

    An error raises `SagaFailed` from it; a cancellation (the saga's own timeout,
    an enclosing one, a failed sibling branch, `task.cancel()`) unwinds too and
    then goes on as the cancellation it was, so timeouts still surface as
    `TimeoutError`. The compensations run in a task of their own, so that
    everything bound to a task (`asyncio.timeout`, task groups, anyio's locks)
    binds to theirs; and cancelling the saga again while it unwinds neither
    interrupts nor skips them: the cancellation reaches the saga once they have
    all run. Where Python can (3.12+) the task starts eagerly: compensations that
    never wait finish before this returns, with no round of the event loop.
    """
    if not isinstance(error, _UNWOUND):
        raise error  # KeyboardInterrupt, SystemExit, GeneratorExit: nothing may be awaited
    pending = done[::-1]
    if failing is not None and step is not None:
        pending.insert(0, failing)  # the failed step first: it is the newest
    if pending:
        loop = asyncio.get_running_loop()
        unwound = _Unwound(loop=loop)
        running, started = _start(loop, _compensate(rt, name, step, pending, error, stop_on_error, unwound))
        if not unwound.done():
            return _unwinding(unwound, running, started, error)
        failure = unwound.result()  # started eagerly, and none of them waited
        del unwound  # it holds the failure too (see below)
    else:
        failure = _report(rt, name, step, error, [], [], [])  # nothing to undo, nothing to wait for
    # The raised error's traceback holds this frame: were its locals left holding the
    # errors, every failed saga would leave a reference cycle for the collector.
    try:
        raise _outcome(failure, error, interrupted=False)
    finally:
        del failure, error


class _Unwound(asyncio.Future[BaseException]):
    """The report of a saga's compensations, which the saga waits on while they run in
    their task. It refuses to be cancelled: cancelling the waiting saga thus leaves the
    compensations alone, and asyncio delivers the cancellation to the saga when this
    is done (a cancellation it could not pass on is kept for the task's next step)."""

    def cancel(self, msg: Any | None = None) -> bool:
        return False


async def _unwinding(
    unwound: _Unwound, running: asyncio.Task[None], started: bool, error: BaseException
) -> NoReturn:
    """Wait for `unwound` (the compensations run by the task `running`, held here so it
    cannot be collected; `started`: it has run its first step), then raise what
    `unwind` raises."""
    interrupted = False
    while not unwound.done():
        try:
            if started:
                await unwound
            else:
                # The task's first step is due on the loop's next round; a bare yield puts
                # the saga's own step right behind it in that round. Compensations that
                # never wait are then done when the saga resumes: a round sooner than
                # `unwound` would wake it.
                started = True
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            interrupted = True  # the saga was cancelled meanwhile: it goes on once they are done
    failure = unwound.result()  # or what stopped the unwinding itself (the loop closing)
    del unwound, running  # they hold the failure too
    try:
        raise _outcome(failure, error, interrupted)
    finally:
        del failure, error


async def _compensate(
    rt: Runtime,
    name: str,
    failed_step: str | None,
    pending: list[Compensation],
    error: BaseException,
    stop_on_error: bool,
    unwound: _Unwound,
) -> None:
    """Run the compensations `pending` in order; set `unwound` to what reports them
    (see `_report`), or to what stopped them."""
    observed = rt.observers
    compensated: list[str] = []
    errors: list[tuple[str, BaseException]] = []
    uncompensated: list[str] = []
    try:
        for position, (step, undo, args) in enumerate(pending):
            if observed:
                rt.event("compensate.start", step)
            try:
                await undo(*args)
            except Exception as exc:  # recorded; the others still run unless told to stop
                errors.append((step, exc))
                rt.failed("compensate.error", step, exc)
                if stop_on_error:
                    uncompensated = [entry[0] for entry in pending[position + 1 :]]
                    break
                continue
            compensated.append(step)
            if observed:
                rt.event("compensate.end", step)
        report = _report(rt, name, failed_step, error, compensated, errors, uncompensated)
    except Exception as failed:  # making the report failed (an error whose str() raises)
        unwound.set_exception(failed)  # the saga raises it: it must not wait for ever
        return
    except BaseException as stopped:  # this task cancelled (the loop closing), the process stopping
        unwound.set_exception(stopped)
        raise
    unwound.set_result(report)


def _report(
    rt: Runtime,
    name: str,
    failed_step: str | None,
    error: BaseException,
    compensated: list[str],
    errors: list[tuple[str, BaseException]],
    uncompensated: list[str],
) -> BaseException:
    """Emit `saga.failed`; the `SagaFailed` that reports an unwinding, or `error` itself
    if it is a cancellation (which goes on as it was)."""
    if rt.observers:
        rt.event("saga.failed", name, {"step": failed_step, **error_fields(error)})
    if isinstance(error, asyncio.CancelledError):
        return error
    where = f" at step {failed_step}" if failed_step else ""
    message = f"saga {name} failed{where}: {type(error).__name__}: {error}"
    return SagaFailed(message, failed_step, error, compensated, errors, uncompensated)


_UNWOUND = (Exception, asyncio.CancelledError)  # what a saga unwinds for; the rest goes on at once


def _outcome(failure: BaseException, error: BaseException, interrupted: bool) -> BaseException:
    """What an unwound saga raises: the cancellation it was, a cancellation that
    came while it unwound an error, or `failure` from the error."""
    if isinstance(error, asyncio.CancelledError):
        return error
    if interrupted:  # cancelled while unwinding an error: the cancellation goes on
        cancelled = asyncio.CancelledError()
        cancelled.__cause__ = failure
        return cancelled
    failure.__cause__ = error
    return failure


if sys.version_info >= (3, 12):
    _PLAIN_CREATE_TASK = asyncio.BaseEventLoop.create_task

    def _start(
        loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]
    ) -> tuple[asyncio.Task[None], bool]:
        """A task for `coroutine`, and whether it has started: it starts eagerly on a loop
        that makes plain tasks (a loop of its own, such as Temporal's or uvloop, or a
        task factory, makes it as usual)."""
        if type(loop).create_task is _PLAIN_CREATE_TASK and loop.get_task_factory() is None:
            return asyncio.Task(coroutine, loop=loop, eager_start=True), True
        return loop.create_task(coroutine), False

else:

    def _start(
        loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, None]
    ) -> tuple[asyncio.Task[None], bool]:
        """A task for `coroutine`, not started (Python 3.11 cannot start one eagerly)."""
        return loop.create_task(coroutine), False
