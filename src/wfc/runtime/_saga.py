"""Saga bookkeeping: completed steps, and unwinding them in reverse on failure."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any, NoReturn, TypeAlias

from ._clock import OPEN_DEADLINES, Deadline
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
    `TimeoutError`. Compensations run in place as long as none of them waits
    (nothing can cancel code that does not wait), and then this raises at once,
    with no coroutine of its own; from the first that waits on, they run in a
    task of their own behind a shield, which the awaitable returned waits for:
    cancelling the saga again while it unwinds does not skip compensations; the
    cancellation is raised once they have all run.
    """
    if not isinstance(error, _UNWOUND):
        raise error  # KeyboardInterrupt, SystemExit, GeneratorExit: nothing may be awaited
    pending = done[::-1]
    if failing is not None and step is not None:
        pending.insert(0, failing)  # the failed step first: it is the newest
    compensating = _compensate(rt, name, step, pending, error, stop_on_error)
    # One context of its own from the start (as a task would have had): a step that
    # sets a context variable before it waits resets it in the same context after.
    context = contextvars.copy_context()
    try:
        waiting_on = context.run(compensating.send, None)
    except StopIteration as finished:
        failure = finished.value
    else:
        return _finish_in_task(compensating, waiting_on, context, error)
    # The raised error's traceback holds this frame: were its locals left holding the
    # errors, every failed saga would leave a reference cycle for the collector.
    try:
        if failure is error:
            raise error  # a cancellation goes on as it was
        failure.__cause__ = error
        raise failure
    finally:
        del failure, error


async def _compensate(
    rt: Runtime,
    name: str,
    failed_step: str | None,
    pending: list[Compensation],
    error: BaseException,
    stop_on_error: bool,
) -> SagaFailed | BaseException:
    """Run the compensations `pending` in order; the `SagaFailed` that reports them, or
    `error` itself if it is a cancellation (which goes on as it was)."""
    OPEN_DEADLINES.set([])  # in the unwinding's own context: a compensation's timeout follows it to a task
    observed = rt.observers
    compensated: list[str] = []
    errors: list[tuple[str, BaseException]] = []
    uncompensated: list[str] = []
    for step, undo, args in pending:
        if observed:
            rt.event("compensate.start", step)
        try:
            await undo(*args)
        except Exception as exc:  # recorded; the others still run unless told to stop
            errors.append((step, exc))
            if observed:
                rt.event("compensate.error", step, error_fields(exc))
            if stop_on_error:
                uncompensated = [entry[0] for entry in pending[len(compensated) + len(errors) :]]
                break
            continue
        compensated.append(step)
        if observed:
            rt.event("compensate.end", step)
    if observed:
        rt.event("saga.failed", name, {"step": failed_step, **error_fields(error)})
    if isinstance(error, asyncio.CancelledError):
        return error
    where = f" at step {failed_step}" if failed_step else ""
    message = f"saga {name} failed{where}: {type(error).__name__}: {error}"
    return SagaFailed(message, failed_step, error, compensated, errors, uncompensated)


_UNWOUND = (Exception, asyncio.CancelledError)  # what a saga unwinds for; the rest goes on at once


async def _finish_in_task(
    compensating: Coroutine[Any, Any, SagaFailed | BaseException],
    waiting_on: Any,
    context: contextvars.Context,
    error: BaseException,
) -> NoReturn:
    """Drive the compensations that began in place, and now wait, to the end in a
    shielded task; then raise what `Saga.unwind` raises."""
    origin = asyncio.current_task()
    assert origin is not None
    # A compensation's timeout that fired while it ran in place (a durable run's replay
    # fires an overdue one at once) asked its cancellation of this task: it is owed to
    # the compensation, in the task it moves to, not to whoever awaits the saga.
    owed = Deadline.fired_in(context, origin)
    resumed = _Resumed(compensating, waiting_on, origin, cancel=owed).run()
    unwinding = asyncio.get_running_loop().create_task(resumed, context=context)
    interrupted = False
    while True:
        try:
            failure = await asyncio.shield(unwinding)
            break
        except asyncio.CancelledError:
            if owed:
                owed = False
                if origin.uncancel() == 0:  # the timeout's alone: nobody cancelled the saga
                    continue
            interrupted = True
    try:
        raise _outcome(failure, error, interrupted)
    finally:
        del failure, error


def _outcome(failure: SagaFailed | BaseException, error: BaseException, interrupted: bool) -> BaseException:
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


class _Resumed:
    """A coroutine that has started and is waiting on `waiting_on`, made awaitable
    again, so that a task can drive the rest of it. It passes what it yields to
    the task and what the task sends or throws back: exactly what the task would
    have done had it run the coroutine from the start."""

    def __init__(
        self, coroutine: Coroutine[Any, Any, Any], waiting_on: Any, origin: Any, cancel: bool = False
    ) -> None:
        self._coroutine = coroutine
        self._waiting_on = waiting_on
        self._origin = origin  # the task it began in
        self._cancel = cancel  # a cancellation owed to it, asked of `origin`

    async def run(self) -> Any:
        # Deadlines the coroutine opened before it moved here (a compensation's
        # `timeout`) must now cancel this task.
        task = asyncio.current_task()
        assert task is not None
        Deadline.moved_to(task, self._origin)
        if self._cancel:
            task.cancel()  # it arrives where the coroutine waits, as it would have there
        return await self

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, yielded = self._coroutine, self._waiting_on
        while True:
            try:
                sent = yield yielded
            except BaseException as exc:  # the task throws in what the awaited future raised
                try:
                    yielded = coroutine.throw(exc)
                except StopIteration as finished:
                    return finished.value
            else:
                try:
                    yielded = coroutine.send(sent)
                except StopIteration as finished:
                    return finished.value
