"""The step protocol (start event, call, await what is awaitable, error note, end event)
lives in `wfc.runtime.step`; the guard's hot path and the compiled code inline copies
of it. These tests pin each copy to the runtime's behaviour: same events, same result,
same error (type, message, notes)."""

from __future__ import annotations

import asyncio
import sys
import types

import pytest

from wfc.api import load_source
from wfc.runtime import Guard, Runtime, map_calls, step


class Stray(BaseException):
    """A BaseException a handler raises: an error of the step, never a cancellation."""


def value():
    return 7


async def coroutine():
    return 8


def awaitable():  # awaitable, but not a coroutine
    future = asyncio.get_running_loop().create_future()
    future.set_result(9)
    return future


def failing():
    raise ValueError("no")


def stray():
    raise Stray("odd")


HANDLERS = [value, coroutine, awaitable, failing, stray]


def outcome(run, observe: bool = True) -> tuple:
    """Events, and the value or the error (type, message, notes) of one run."""
    rt = Runtime()
    events: list = []
    if observe:
        rt.observe(events.append)

    async def main():
        with rt.activate():
            return await run(rt)

    try:
        result = ("value", asyncio.run(main()))
    except BaseException as exc:  # noqa: BLE001 - the outcome is what is compared
        result = ("error", type(exc).__name__, str(exc), tuple(getattr(exc, "__notes__", ())))
    return [(e.kind, e.name) for e in events], result


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda h: h.__name__)
def test_the_guards_inline_step_is_the_runtimes(handler) -> None:
    by_runtime = outcome(lambda rt: step(rt, "h.f", "t.wf:1:1", lambda: handler))
    by_guard = outcome(lambda rt: Guard("h.f", "t.wf:1:1").run(rt, handler))
    assert by_guard == by_runtime


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda h: h.__name__)
def test_the_compiled_inline_step_is_the_runtimes(handler) -> None:
    module = types.ModuleType("wfstep_handlers")
    module.f = handler
    sys.modules["wfstep_handlers"] = module
    source = "use wfstep_handlers as h\nworkflow w() {\n    x = h.f()\n    return x\n}\n"
    by_runtime = outcome(lambda rt: step(rt, "h.f", "steps.wf:3:9", lambda: handler))
    for backend in ("compiled", "interp"):
        workflow = load_source(source, f"steps.wf", backend=backend).w
        events, result = outcome(lambda rt: workflow())
        steps_only = [event for event in events if event[0].startswith("step.")]
        assert (steps_only, result[:2]) == (by_runtime[0], by_runtime[1][:2]), backend
        if result[0] == "error":  # the note names the step and where it stands
            assert result[3] == by_runtime[1][3], backend


@pytest.mark.parametrize("handler", HANDLERS, ids=lambda h: h.__name__)
def test_the_pools_inline_step_is_the_runtimes(handler) -> None:
    # `map_calls` with no observer and no journal: the pool makes each step itself.
    by_runtime = outcome(lambda rt: step(rt, "h.f", "t.wf:1:1", lambda: handler))
    rt = Runtime()

    async def main():
        with rt.activate():
            return await map_calls(rt, "h.f", "t.wf:1:1", lambda: lambda item: handler(), [1, 2],
                                   concurrent=True, limit=2)

    try:
        by_pool = ("value", asyncio.run(main()))
    except BaseException as exc:  # noqa: BLE001 - the outcome is what is compared
        by_pool = ("error", type(exc).__name__, str(exc), tuple(getattr(exc, "__notes__", ())))
    expected = ("value", [by_runtime[1][1]] * 2) if by_runtime[1][0] == "value" else by_runtime[1]
    assert by_pool == expected


def test_an_observer_that_comes_during_a_pools_steps_sees_the_steps_after() -> None:
    rt, events = Runtime(), []

    def f(item):
        if item == 1:
            rt.observe(events.append)
        return item * 10

    async def main():
        with rt.activate():
            return await map_calls(rt, "h.f", "t.wf:1:1", lambda: f, [0, 1, 2], concurrent=True)

    assert asyncio.run(main()) == [0, 10, 20]
    assert [(e.kind, e.name) for e in events] == [("step.end", "h.f"), ("step.start", "h.f"), ("step.end", "h.f")]


ONE_STEP = "use wfstep_handlers as h\nworkflow w(xs) {\n    r = parallel for x in xs limit 2 { yield h.f(x) }\n    return r\n}\n"
# The same loop with a body of its own: the item's function makes the step.
WITH_A_BODY = ONE_STEP.replace("{ yield h.f(x) }", "{\n        v = h.f(x)\n        yield v\n    }")


@pytest.mark.parametrize("handler", [*HANDLERS, None], ids=lambda h: getattr(h, "__name__", "missing"))
@pytest.mark.parametrize("observed", [True, False])  # unobserved, the pool makes the steps itself
def test_a_loop_that_is_one_step_means_what_its_body_would(handler, observed) -> None:
    module = types.ModuleType("wfstep_handlers")
    if handler is not None:  # else no handler of that name: each item's step fails
        module.f = lambda x: handler()
    sys.modules["wfstep_handlers"] = module

    def run(source: str, backend: str) -> tuple:
        workflow = load_source(source, "steps.wf", backend=backend).w
        return outcome(lambda rt: workflow([1, 2, 3]), observe=observed)

    for backend in ("compiled", "interp"):
        (events, result), (body_events, body_result) = run(ONE_STEP, backend), run(WITH_A_BODY, backend)
        assert events == body_events, backend
        assert result[:3] == body_result[:3], backend
        if result[0] == "error":  # the note names the step where the loop's call stands
            assert (result[3], body_result[3]) == (("steps.wf:3:46: in step h.f",), ("steps.wf:4:13: in step h.f",))
