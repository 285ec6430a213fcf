"""Sagas: compensation in reverse order, frozen arguments, nesting, checks."""

from __future__ import annotations

import sys

import pytest

import shop
import wfc
from conftest import EXAMPLES, run, run_source
from wfc.api import analyze, load_source
from wfc.diagnostics import CompileError
from wfc.runtime import SagaFailed

STEPS = ["validate_inventory", "create_order", "deduct_inventory", "send_notification"]
UNDO = {"validate_inventory": "release_hold", "create_order": "cancel_order",
        "deduct_inventory": "restock", "send_notification": "send_apology"}
NAMES = {"validate_inventory": "hold", "create_order": "order",
         "deduct_inventory": "shop.deduct_inventory", "send_notification": "shop.send_notification"}


@pytest.fixture(autouse=True)
def fresh_shop():
    shop.FAIL.clear()
    shop.log.clear()
    shop.STOCK.update({"P1": 10, "P2": 0})
    yield
    shop.FAIL.clear()


def place(backend, *args):
    return run(wfc.load(EXAMPLES / "order_saga.wf", backend=backend), "place_order", *args)


def test_saga_success(backend) -> None:
    outcome = place(backend, "P1", 3, "Ann")
    assert outcome.value["product_id"] == "P1" and shop.STOCK["P1"] == 7
    assert [e.kind for e in outcome.events if e.kind.startswith("saga")] == ["saga.start", "saga.end"]


@pytest.mark.parametrize("failing", STEPS)
def test_failure_at_every_step_compensates_completed_steps_in_reverse(backend, failing) -> None:
    shop.FAIL.add(failing)
    outcome = place(backend, "P1", 2, "Ann")
    error = outcome.error
    assert isinstance(error, SagaFailed)
    done = STEPS[: STEPS.index(failing)]
    assert error.step == NAMES[failing]
    assert isinstance(error.error, ConnectionError) and error.__cause__ is error.error
    assert error.compensated == [NAMES[step] for step in reversed(done)]
    assert error.compensation_errors == []
    undone = [entry[0] for entry in shop.log if entry[0] in UNDO.values()]
    assert undone == [UNDO[step] for step in reversed(done)]
    assert shop.STOCK["P1"] == 10  # deducted stock was put back
    kinds = [e.kind for e in outcome.events if e.kind.startswith(("saga", "compensate"))]
    assert kinds == ["saga.start"] + ["compensate.start", "compensate.end"] * len(done) + ["saga.failed"]


def test_compensation_arguments_are_frozen_when_the_step_completes(backend) -> None:
    source = """
use backend_handlers as h
saga s() {
    n = 1
    step a = h.double(n) compensate h.double(n)
    n = 100
    step h.explode("late")
}"""
    import backend_handlers
    backend_handlers.log.clear()
    outcome = run_source(source, backend, "s")
    assert outcome.error.compensated == ["a"]
    assert backend_handlers.log[-1] == ("double", (1,))


def test_failing_compensation_is_recorded_and_others_still_run(backend) -> None:
    shop.FAIL.update({"send_notification", "restock"})
    outcome = place(backend, "P1", 1, "Ann")
    error = outcome.error
    assert error.compensated == ["order", "hold"]
    assert [(name, type(exc).__name__) for name, exc in error.compensation_errors] == [
        ("shop.deduct_inventory", "ConnectionError")]
    compensation = [(e.kind, e.name) for e in outcome.events if e.kind.startswith("compensate")]
    assert compensation == [
        ("compensate.start", "shop.deduct_inventory"), ("compensate.error", "shop.deduct_inventory"),
        ("compensate.start", "order"), ("compensate.end", "order"),
        ("compensate.start", "hold"), ("compensate.end", "hold"),
    ]
    failed = next(e for e in outcome.events if e.kind == "compensate.error")
    assert failed.fields == {"error": "ConnectionError", "message": "restock failed"}


def test_non_step_failure_has_no_step(backend) -> None:
    outcome = place(backend, "P1", 0, "Ann")
    assert outcome.error.step is None and str(outcome.error.error) == "quantity must be positive"
    assert str(outcome.error) == "saga place_order failed: ValidationError: quantity must be positive"


def test_a_failed_saga_error_pickles_and_copies_whole(backend) -> None:
    import copy
    import pickle

    shop.FAIL.update({"send_notification", "restock"})
    error = place(backend, "P1", 1, "Ann").error
    error.add_note("seen by the caller")
    for again in (pickle.loads(pickle.dumps(error)), copy.copy(error)):
        assert type(again) is SagaFailed and str(again) == str(error)
        assert (again.step, again.compensated, again.uncompensated) == (error.step, error.compensated, [])
        assert str(again.error) == str(error.error)
        assert [name for name, _ in again.compensation_errors] == ["shop.deduct_inventory"]
        assert again.fields == {} and again.__notes__ == ["seen by the caller"]


def test_nested_sagas_unwind_both(backend) -> None:
    source = """
use backend_handlers as h
saga inner(x) {
    step i1 = h.double(x) compensate h.double(-1)
    step h.explode("inner broke")
}
saga outer() {
    step o1 = h.double(5) compensate h.double(-5)
    step o2 = inner(1) compensate h.double(-2)
}"""
    import backend_handlers
    backend_handlers.log.clear()
    error = run_source(source, backend, "outer").error
    assert isinstance(error, SagaFailed) and error.step == "o2" and error.compensated == ["o1"]
    inner = error.error
    assert isinstance(inner, SagaFailed) and inner.step == "h.explode" and inner.compensated == ["i1"]
    compensations = [args[0] for name, args in backend_handlers.log if name == "double" and args[0] < 0]
    assert compensations == [-1, -5]


def test_return_inside_a_saga_ends_it(backend) -> None:
    outcome = run_source("saga s(x) { if x { return 1 }\n return 2 }", backend, "s", True)
    assert outcome.value == 1 and outcome.kinds == ["saga.start", "saga.end"]


@pytest.mark.parametrize("source, code", [
    ("use m\nworkflow w() { step m.f() }", "E0130"),
    ("use m\nsaga s() { parallel { step m.f() } }", "E0131"),
    ("saga s() { step 1 + 2 }", "E0133"),
])
def test_saga_checks(source, code) -> None:
    with pytest.raises(CompileError) as info:
        analyze(source, "s.wf")
    assert code in [d.code for d in info.value.diagnostics]


def test_compensations_that_wait_and_fail_keep_their_order_and_records() -> None:
    """Compensations that finish at once, wait, fail after waiting and reset a context
    variable after waiting, in one unwinding: order, records and the cause all kept."""
    import asyncio
    import contextvars

    from wfc.runtime import Runtime, Saga

    calls: list[str] = []

    async def undo_now(name: str) -> None:
        calls.append(name)

    marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="")

    async def undo_later(name: str) -> None:
        token = marker.set(name)  # set before the wait, reset after it (as a journaled step does)
        await asyncio.sleep(0.001)
        marker.reset(token)
        calls.append(name)

    async def undo_failing_later(name: str) -> None:
        await asyncio.get_running_loop().run_in_executor(None, lambda: None)
        calls.append(name)
        raise ValueError(f"{name} could not be undone")

    async def main() -> SagaFailed:
        rt = Runtime()
        saga = Saga(rt, "s")
        for name, undo in (("a", undo_now), ("b", undo_failing_later), ("c", undo_later), ("d", undo_now)):
            saga.step = name
            saga.completed(undo, name)
        saga.step = "e"
        try:
            await saga.unwind(RuntimeError("boom"))
        except SagaFailed as failure:
            return failure
        raise AssertionError("unwind always raises")

    failure = asyncio.run(main())
    assert calls == ["d", "c", "b", "a"]
    assert failure.step == "e" and failure.compensated == ["d", "c", "a"]
    assert [(step, str(error)) for step, error in failure.compensation_errors] == [("b", "b could not be undone")]
    assert isinstance(failure.__cause__, RuntimeError)


def _started_in_a_saga(compensation: str) -> str:
    return ("use backend_handlers as h\nsaga s() {\n"
            f"    step a = h.double(1) compensate {compensation}\n"
            "    step h.explode(\"x\") compensate none\n}\n")


def test_a_compensation_with_asyncio_timeout_times_out_on_its_own(backend) -> None:
    """Task-bound code in a handler binds to the compensation's own task. Compensations
    used to start in the saga's task and move to one of their own at their first wait:
    this timeout then cancelled the saga's task, and the saga hung for the handler's 30 s."""
    import time

    started = time.monotonic()
    outcome = run_source(_started_in_a_saga("h.undo_with_asyncio_timeout(a, 0.02)"), backend, "s")
    assert time.monotonic() - started < 10
    assert isinstance(outcome.error, SagaFailed) and outcome.error.compensated == []
    assert [(step, type(error)) for step, error in outcome.error.compensation_errors] == [("a", TimeoutError)]


def test_a_compensation_stays_in_one_task_across_its_waits(backend) -> None:
    import backend_handlers

    backend_handlers.log.clear()
    outcome = run_source(_started_in_a_saga("h.undo_in_one_task(a)"), backend, "s")
    assert isinstance(outcome.error, SagaFailed) and outcome.error.compensated == ["a"]
    assert ("undo_in_one_task", (2, True)) in backend_handlers.log


def test_a_compensation_with_a_failing_task_group_fails_alone(backend) -> None:
    outcome = run_source(_started_in_a_saga("h.undo_with_a_task_group(a)"), backend, "s")
    assert isinstance(outcome.error, SagaFailed)
    [(step, error)] = outcome.error.compensation_errors
    assert step == "a" and isinstance(error, ExceptionGroup)
    assert [str(inner) for inner in error.exceptions] == ["child of 2 failed"]


def test_an_error_that_cannot_be_shown_still_ends_the_unwinding() -> None:
    """What reports an unwinding is made in the compensations' task; should making it
    fail, the saga waiting on it gets that failure instead of waiting for ever."""
    import asyncio

    from wfc.runtime import Runtime, Saga

    class Unshowable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("cannot be shown")

    async def undo() -> None:
        await asyncio.sleep(0)

    async def unwound() -> BaseException:
        saga = Saga(Runtime(), "s")
        saga.step = "a"
        saga.completed(undo)
        saga.step = "b"
        try:
            await saga.unwind(Unshowable())
        except BaseException as exc:  # noqa: BLE001 - what it raised is the point
            return exc
        raise AssertionError("unwind always raises")

    loop = asyncio.new_event_loop()
    try:
        task = loop.create_task(unwound())
        loop.run_until_complete(asyncio.wait([task], timeout=5))
        assert task.done(), "the saga still waits on its unwinding"
        assert isinstance(task.result(), RuntimeError) and str(task.result()) == "cannot be shown"
    finally:
        loop.close()


def test_compensations_that_never_wait_end_within_the_fewest_rounds_of_the_loop(backend) -> None:
    """On Python 3.12+ the compensations' task starts eagerly: a saga whose compensations
    never wait fails at once, as the hand-written one would. 3.11 starts a task on the
    loop's next round, and the saga resumes in that same round, not one later."""
    import asyncio

    from wfc.runtime import Runtime

    module = load_source(_started_in_a_saga('h.note("undo", a)'), "eager.wf", backend=backend)

    async def main() -> int:
        loop = asyncio.get_running_loop()
        rounds = 0

        def count() -> None:  # runs once in every round of the loop
            nonlocal rounds, ticking
            rounds += 1
            ticking = loop.call_soon(count)

        ticking = loop.call_soon(count)
        with Runtime().activate(), pytest.raises(SagaFailed):
            await module.s()
        ticking.cancel()
        return rounds

    assert asyncio.run(main()) == (0 if sys.version_info >= (3, 12) else 1)


# ---- unwind options ------------------------------------------------------------------
UNWIND = """use backend_handlers as h
saga book(n) unwind({options}) {{
    step a = h.double(n)
        compensate h.note("a", a)
    step b = h.double(a)
        compensate h.explode("undo b")
    step c = h.explode("c fails")
        compensate h.note("c", c, a)
    return c
}}
"""


def unwound(backend, options):
    import backend_handlers

    backend_handlers.log.clear()
    outcome = run_source(UNWIND.format(options=options), backend, "book", 1)
    assert isinstance(outcome.error, SagaFailed)
    undone = [entry for entry in backend_handlers.log if entry[0] in ("note", "explode")][1:]
    compensations = [(e.kind, e.name) for e in outcome.events if e.kind.startswith("compensate")]
    return outcome.error, undone, compensations


def test_by_default_the_failed_step_is_not_compensated_and_every_compensation_runs(backend) -> None:
    error, undone, _ = unwound(backend, "failed_step: false, stop_on_error: false")
    assert undone == [("explode", ("undo b",)), ("note", ("a", 2))]
    assert error.compensated == ["a"] and error.uncompensated == []


def test_failed_step_true_compensates_the_failing_step_first_with_its_variable_null(backend) -> None:
    error, undone, events = unwound(backend, "failed_step: true")
    assert undone == [("note", ("c", None, 2)), ("explode", ("undo b",)), ("note", ("a", 2))]
    assert error.compensated == ["c", "a"] and [s for s, _ in error.compensation_errors] == ["b"]
    assert events[:2] == [("compensate.start", "c"), ("compensate.end", "c")]


def test_stop_on_error_leaves_the_older_steps_as_they_were(backend) -> None:
    error, undone, events = unwound(backend, "stop_on_error: true")
    assert undone == [("explode", ("undo b",))]
    assert error.compensated == [] and error.uncompensated == ["a"]
    assert events == [("compensate.start", "b"), ("compensate.error", "b")]



def test_stop_on_error_after_a_compensation_that_worked_leaves_only_the_older_steps(backend) -> None:
    """The failed step's compensation works, the next fails: only the steps older than
    that one are left uncompensated (found by tools/mutate.py)."""
    error, undone, _ = unwound(backend, "failed_step: true, stop_on_error: true")
    assert undone == [("note", ("c", None, 2)), ("explode", ("undo b",))]
    assert error.compensated == ["c"] and error.uncompensated == ["a"]

def test_a_step_that_fails_in_a_loop_is_compensated_with_its_own_null_not_the_last_value(backend) -> None:
    import backend_handlers

    backend_handlers.log.clear()
    source = ("use backend_handlers as h\nsaga s() unwind(failed_step: true) {\n"
              "    for i in [1, 2] {\n"
              "        if i == 1 {\n            step x = h.double(i) compensate h.note(x, i)\n"
              "        } else {\n            step x = h.explode(\"no\") compensate h.note(x, i)\n        }\n"
              "    }\n}\n")
    outcome = run_source(source, backend, "s")
    assert isinstance(outcome.error, SagaFailed)
    assert [entry for entry in backend_handlers.log if entry[0] == "note"] == [("note", (None, 2)), ("note", (2, 1))]


@pytest.mark.parametrize("options, message", [
    ("failed: true", "unknown `unwind` option 'failed'"),
    ("failed_step: yes", "`failed_step` takes `true` or `false`"),
    ("stop_on_error: true, stop_on_error: false", "`stop_on_error` is given twice"),
])
def test_bad_unwind_options(options, message) -> None:
    with pytest.raises(CompileError) as info:
        analyze(f"use h\nsaga s() unwind({options}) {{\n step h.f() compensate h.g()\n}}", "u.wf")
    assert [(d.code, d.message) for d in info.value.diagnostics] == [("E0197", message)]


@pytest.mark.parametrize("seconds, compensated, errors", [(0.5, ["a"], []), (5, [], ["a"])])
def test_a_compensation_with_a_timeout_that_waits_is_timed_on_its_own_task(
    backend, seconds, compensated, errors
) -> None:
    """A compensation's `timeout` cuts the compensation, in the task it runs in. It once
    cancelled the saga's task instead, so the saga raised a bare CancelledError (found
    by the durable-replay property)."""
    source = ("use backend_handlers as h\nsaga s() {\n"
              f"    step a = h.double(1) compensate h.slow(a, {seconds}) with timeout(1s)\n"
              "    step h.explode(\"x\") compensate none\n}\n")
    outcome = run_source(source, backend, "s")
    assert isinstance(outcome.error, SagaFailed)
    assert outcome.error.compensated == compensated
    assert [step for step, _ in outcome.error.compensation_errors] == errors
    assert outcome.now == min(seconds, 1)


def test_an_outer_timeout_does_not_follow_the_compensation_into_its_task(backend) -> None:
    """A timeout around the saga call cancels the saga, not its compensations: the
    shielded compensation finishes first."""
    import backend_handlers

    backend_handlers.log.clear()
    source = ("use backend_handlers as h\nsaga s() {\n"
              "    step a = h.slow(1, 1) compensate h.slow(\"undo\", 5)\n"
              "    step h.explode(\"x\") compensate none\n}\n"
              "workflow main() {\n    return s() with timeout(2s)\n}\n")
    outcome = run_source(source, backend)
    assert isinstance(outcome.error, TimeoutError)
    assert ("slow", ("undo", 5)) in backend_handlers.log and outcome.now == 6.0
