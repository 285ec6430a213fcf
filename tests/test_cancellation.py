"""Cancellation: sagas undo when stopped from outside, and stray BaseExceptions are errors.

A timeout, a failing sibling branch or `task.cancel()` reaches wf code as
`CancelledError`, a BaseException. These tests pin that sagas still compensate
(shielded, newest first) and that a handler's own `CancelledError` or
`BaseException` subclass is an error of its step, never a silent cancellation.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import backend_handlers as h
from conftest import _counter
from wfc.api import load_source
from wfc.runtime import Event, Runtime, SagaFailed, VirtualClock, WorkflowError

SAGA = """
use backend_handlers as h
saga book(x) {
    step a = h.double(1) compensate h.double(-1)
    step b = h.double(2) compensate h.slow(-2, 3)
    step h.slow(x, 10)
    return x
}
"""


class Stray(BaseException):
    """A BaseException that is not an Exception, raised by a handler."""


def handler_raising(exc: BaseException):
    def handler(*args: Any) -> Any:
        h.log.append(("raise", (type(exc).__name__,)))
        raise exc
    return handler


async def run_in(module: Any, name: str, rt: Runtime, *args: Any, cancel_at: float | None = None):
    """Run `name` as a task (cancelled at virtual time `cancel_at`); its outcome."""
    with rt.activate():
        task = asyncio.ensure_future(getattr(module, name)(*args))
        if cancel_at is not None:
            rt.clock.call_later(cancel_at, task.cancel)
        try:
            return "value", await task
        except BaseException as exc:  # noqa: BLE001 - the tests assert on cancellations too
            return "error", exc


def outcome(source: str, backend: str, name: str, *args: Any, cancel_at: float | None = None):
    module = load_source(source, f"cancel{next(_counter)}.wf", backend=backend)
    rt = Runtime(clock=VirtualClock(), seed=1)
    events: list[Event] = []
    rt.observe(events.append)
    h.log.clear()
    kind, value = asyncio.run(run_in(module, name, rt, *args, cancel_at=cancel_at))
    return kind, value, events, rt.clock.now()


def undone() -> list[Any]:
    return [args[0] for name, args in h.log if name in ("double", "slow") and args[0] < 0]


def saga_events(events: list[Event]) -> list[tuple[str, str]]:
    return [(e.kind, e.name) for e in events if e.kind.startswith(("saga", "compensate"))]


UNWOUND = [("saga.start", "book"), ("compensate.start", "b"), ("compensate.end", "b"),
           ("compensate.start", "a"), ("compensate.end", "a"), ("saga.failed", "book")]


def test_saga_with_its_own_timeout_compensates_then_raises_the_timeout(backend) -> None:
    source = SAGA.replace("saga book(x) {", "saga book(x) with timeout(5s) {")
    kind, error, events, now = outcome(source, backend, "book", 7)
    assert kind == "error" and type(error) is TimeoutError and "5s" in str(error)
    assert undone() == [-2, -1]  # newest first
    assert saga_events(events) == UNWOUND
    failed = next(e for e in events if e.kind == "saga.failed")
    assert failed.fields == {"step": "h.slow", "error": "CancelledError", "message": ""}
    assert now == 5 + 3  # the timeout, then the slow compensation ran to its end


def test_timeout_around_the_call_that_runs_a_saga(backend) -> None:
    source = SAGA + "workflow main() { return book(7) with timeout(4s) }\n"
    kind, error, events, _ = outcome(source, backend, "main")
    assert kind == "error" and type(error) is TimeoutError
    assert undone() == [-2, -1] and saga_events(events) == UNWOUND


def test_a_failing_sibling_branch_unwinds_a_saga_in_parallel(backend) -> None:
    source = SAGA + """
workflow main() {
    parallel {
        r = book(7)
        h.explode("sibling")
    }
    return r
}
"""
    kind, error, events, _ = outcome(source, backend, "main")
    assert kind == "error" and isinstance(error, ValueError) and str(error) == "sibling"
    assert undone() == [-2, -1] and saga_events(events) == UNWOUND


def test_a_failing_item_unwinds_the_sagas_of_other_items(backend) -> None:
    source = SAGA + """
workflow main() {
    r = parallel for x in [1, 2, 3] limit 3 {
        if x == 3 { wait 1s; h.explode("item 3") }
        yield book(x)
    }
    return r
}
"""
    kind, error, events, _ = outcome(source, backend, "main")
    assert kind == "error" and str(error) == "item 3"
    assert sorted(undone()) == [-2, -2, -1, -1]
    assert [e.kind for e in events].count("saga.failed") == 2


def test_application_cancelling_the_task_unwinds_and_the_cancellation_goes_on(backend) -> None:
    kind, error, events, now = outcome(SAGA, backend, "book", 7, cancel_at=2)
    assert kind == "error" and isinstance(error, asyncio.CancelledError)
    assert undone() == [-2, -1] and saga_events(events) == UNWOUND
    assert now == 2 + 3


def test_cancelling_again_while_unwinding_does_not_skip_compensations(backend) -> None:
    module = load_source(SAGA, f"cancel{next(_counter)}.wf", backend=backend)
    rt = Runtime(clock=VirtualClock(), seed=1)
    h.log.clear()

    async def main() -> BaseException:
        with rt.activate():
            task = asyncio.ensure_future(module.book(7))
            rt.clock.call_later(2, task.cancel)
            rt.clock.call_later(3, task.cancel)  # mid-way through the 3s compensation of b
            rt.clock.call_later(4, task.cancel)
            try:
                await task
            except asyncio.CancelledError as exc:
                return exc
            raise AssertionError("the task was not cancelled")

    assert isinstance(asyncio.run(main()), asyncio.CancelledError)
    assert undone() == [-2, -1]
    assert ("slow", (-2, 3)) in h.log and rt.clock.now() == 5  # b's undo was not cut short


def test_an_error_during_unwinding_cancelled_still_compensates_everything(backend) -> None:
    source = SAGA.replace("step h.slow(x, 10)", 'step h.explode("late")')
    module = load_source(source, f"cancel{next(_counter)}.wf", backend=backend)
    rt = Runtime(clock=VirtualClock(), seed=1)
    h.log.clear()
    kind, error = asyncio.run(run_in(module, "book", rt, 7, cancel_at=1))
    assert kind == "error" and isinstance(error, asyncio.CancelledError)
    assert isinstance(error.__cause__, SagaFailed) and error.__cause__.compensated == ["b", "a"]
    assert undone() == [-2, -1]


def two_compensated_steps(backend: str, undo_a: str, undo_b: str, then: str) -> Any:
    """The module of a saga `s`: steps a and b, undone by `undo_a` and `undo_b`, then the step `then`."""
    source = ("use backend_handlers as h\nsaga s() {\n"
              f"    step a = h.double(1) compensate {undo_a}\n"
              f"    step b = h.double(2) compensate {undo_b}\n"
              f"    step {then}\n}}\n")
    h.log.clear()
    return load_source(source, f"cancel{next(_counter)}.wf", backend=backend)


def test_an_anyio_scope_that_cancels_at_every_round_lets_every_compensation_finish(backend) -> None:
    """anyio's cancel scopes (under Starlette, FastAPI and httpx) cancel a task again at
    every round of the loop until it leaves the scope. Compensations run in that task
    would be cut short at their first wait; in a task of their own they all finish, and
    the scope then ends as cancelled."""
    import anyio

    module = two_compensated_steps(backend, 'h.undo_after_a_wait("a", 0.02)',
                                   'h.undo_after_a_wait("b", 0.02)', then="h.cancel_the_scope_and_wait()")

    async def main() -> bool:
        with Runtime().activate(), anyio.CancelScope() as scope:
            h.SCOPES.append(scope)
            await module.s()
        return scope.cancelled_caught

    assert anyio.run(main) is True
    assert [args for name, args in h.log if name == "undone"] == [("b",), ("a",)]


def test_a_cancellation_in_the_round_its_compensations_run_in_waits_for_them(backend) -> None:
    """A task that has not started yet (3.11, or a loop with a task factory) runs its
    compensations in the round the saga resumes in; a cancellation that comes then,
    here from the first compensation itself, is raised once both have run."""
    module = two_compensated_steps(backend, 'h.note("undo", a)', "h.cancel_pending()", then='h.explode("x")')

    async def main() -> BaseException:
        loop = asyncio.get_running_loop()
        loop.set_task_factory(lambda loop, coro, **options: asyncio.Task(coro, loop=loop, **options))
        with Runtime().activate():
            saga = asyncio.ensure_future(module.s())
            h.PENDING.append(saga)
            try:
                await saga
            except BaseException as exc:  # noqa: BLE001 - the test asserts what it was
                return exc
        raise AssertionError("the saga did not fail")

    error = asyncio.run(main())
    assert type(error) is asyncio.CancelledError
    assert isinstance(error.__cause__, SagaFailed) and error.__cause__.compensated == ["b", "a"]
    assert ("note", ("undo", 2)) in h.log


@pytest.mark.parametrize("raised", [asyncio.CancelledError(), Stray("odd"), asyncio.CancelledError("mine")])
def test_a_handler_raising_a_base_exception_fails_its_step(backend, raised) -> None:
    h.raising = handler_raising(raised)
    source = "use backend_handlers as h\nworkflow main() { return h.raising() }"
    kind, error, events, _ = outcome(source, backend, "main")
    assert kind == "error" and type(error) is WorkflowError
    assert error.__cause__ is raised
    assert str(error).startswith("handler h.raising raised ")
    assert error.__notes__ and "in step h.raising" in error.__notes__[0]
    assert ("step.error", "h.raising") in [(e.kind, e.name) for e in events]


@pytest.mark.parametrize("raised", [asyncio.CancelledError(), Stray("odd")])
def test_a_handler_fallback_is_a_step_too(backend, raised) -> None:
    h.raising = handler_raising(raised)
    source = "use backend_handlers as h\nworkflow main() { return h.explode() with fallback(h.raising) }"
    kind, error, events, _ = outcome(source, backend, "main")
    assert kind == "error" and type(error) is WorkflowError and error.__cause__ is raised
    assert error.__notes__ and "in step h.raising" in error.__notes__[0]
    steps = [(e.kind, e.name) for e in events if e.kind.startswith(("step.", "fallback"))]
    assert steps == [("step.start", "h.explode"), ("step.error", "h.explode"), ("fallback", "h.explode"),
                     ("step.start", "h.raising"), ("step.error", "h.raising")]


def test_a_handler_raising_cancelled_error_in_a_saga_step_is_compensated_as_an_error(backend) -> None:
    h.raising = handler_raising(asyncio.CancelledError())
    source = SAGA.replace("step h.slow(x, 10)", "step h.raising()")
    kind, error, _, _ = outcome(source, backend, "book", 7)
    assert kind == "error" and isinstance(error, SagaFailed) and type(error.error) is WorkflowError
    assert error.compensated == ["b", "a"]


@pytest.mark.parametrize("limit", [1, 2, 10])
@pytest.mark.parametrize("raised", [asyncio.CancelledError(), Stray("odd")])
def test_a_stray_base_exception_in_a_fan_out_item_is_an_error_not_a_null(backend, limit, raised) -> None:
    h.raising = handler_raising(raised)
    source = f"""
use backend_handlers as h
workflow main(skip) {{
    if skip {{
        r = parallel for x in [1, 2, 3, 4] limit {limit} on error skip {{
            if x == 2 {{ h.raising() }}
            yield h.double(x)
        }}
        return r
    }}
    r = parallel for x in [1, 2, 3, 4] limit {limit} {{
        if x == 2 {{ h.raising() }}
        yield h.double(x)
    }}
    return r
}}
"""
    kind, error, _, _ = outcome(source, backend, "main", False)
    assert kind == "error" and type(error) is WorkflowError and error.__cause__ is raised
    kind, value, _, _ = outcome(source, backend, "main", True)
    assert (kind, value) == ("value", [2, 6, 8])


def test_a_real_cancellation_cancels_every_item_and_propagates(backend) -> None:
    source = """
use backend_handlers as h
workflow main() {
    r = parallel for x in [1, 2, 3, 4, 5] limit 2 on error skip { yield h.slow(x, 10) }
    return r
}
"""
    kind, error, _, now = outcome(source, backend, "main", cancel_at=1)
    assert kind == "error" and isinstance(error, asyncio.CancelledError)
    assert [args[0] for name, args in h.log if name == "slow"] == [1, 2] and now == 1


def test_retry_never_retries_a_cancellation(backend) -> None:
    source = """
use backend_handlers as h
workflow main() { return h.slow(1, 10) with retry(attempts: 5, delay: 1s) }
"""
    kind, error, events, _ = outcome(source, backend, "main", cancel_at=2)
    assert kind == "error" and isinstance(error, asyncio.CancelledError)
    assert "retry" not in [e.kind for e in events]


@pytest.mark.parametrize("limit", [10**20, 0, 100_001])
def test_a_computed_limit_out_of_range_is_a_clear_error(backend, limit) -> None:
    source = """
use backend_handlers as h
workflow main(n) {
    r = parallel for x in [1, 2, 3] limit n { yield h.double(x) }
    return r
}
"""
    kind, error, _, _ = outcome(source, backend, "main", limit)
    assert kind == "error" and type(error) is ValueError
    assert str(error).startswith("limit must be a whole number from 1 to 100_000, not ")


def test_a_huge_limit_over_a_few_items_costs_a_few_workers(backend) -> None:
    source = """
use backend_handlers as h
workflow main() {
    r = parallel for x in [1, 2, 3] limit 100000 { yield h.slow(x, 1) }
    return r
}
"""
    kind, value, _, now = outcome(source, backend, "main")
    assert (kind, value, now) == ("value", [1, 2, 3], 1)
