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
from wfc.runtime import Guard, Runtime, step


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


def outcome(run) -> tuple:
    """Events, and the value or the error (type, message, notes) of one run."""
    rt = Runtime()
    events: list = []
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
