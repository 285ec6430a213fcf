"""Handler calls ("steps") that stand inside larger expressions.

Statement-level steps are emitted inline by the compiler for speed; this helper
does the same thing, in the same order, where inlining is not possible.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from inspect import isawaitable
from types import CoroutineType
from typing import Any

from ._runtime import Runtime

# The attempt of the innermost retried call running: 1 outside any retry and on a
# first attempt (so first attempts pay nothing), 2 and up on retries.
ATTEMPT: ContextVar[int] = ContextVar("wfc_attempt", default=1)


def attempt() -> int:
    """Which attempt of the innermost retried call (or stage, or workflow) this is:
    1 on the first, 2 on the first retry, and so on; 1 where nothing is retried."""
    return ATTEMPT.get()


async def on_attempt(
    number: int,
    rt: Runtime,
    target: str,
    location: str,
    function: Callable[..., Any],
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """The handler call of a step, and its await, as attempt `number`: compiled retry
    loops call through this from the second attempt on, so that `attempt()` says which
    (a durable run's journal calls the handler, as in the first attempt)."""
    token = ATTEMPT.set(number)
    try:
        if rt.journal is None:
            result = function(*args, **kwargs)
        else:
            result = rt.journal.step(target, location, function, *args, **kwargs)
        return await result if isawaitable(result) else result
    finally:
        ATTEMPT.reset(token)


def begin_step(
    rt: Runtime,
    target: str,
    location: str,
    lookup: Callable[[], Any],
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """A step's first half: `step.start`, the handler's look-up and its call. The
    result may be awaitable (`step` awaits it); a failure is raised with its note.

    The arguments are evaluated by the caller, before `step.start`; the handler
    is looked up inside the step, so a missing handler is a failed step.
    """
    if rt.observers:
        rt.event("step.start", target)
    try:
        function = lookup()
        if rt.journal is None:
            return function(*args, **kwargs)
        return rt.journal.step(target, location, function, *args, **kwargs)
    except BaseException as exc:
        raise rt.step_failed(exc, target, location)


async def step(
    rt: Runtime,
    target: str,
    location: str,
    lookup: Callable[[], Any],
    /,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Call the handler that `lookup()` returns: events, await, error note.

    The interpreter writes the second half (after `begin_step`) out in place
    where it saves a coroutine; tests/test_counts.py and the differential tests
    hold the copies to this one.
    """
    result = begin_step(rt, target, location, lookup, *args, **kwargs)
    if result.__class__ is CoroutineType or isawaitable(result):
        try:
            result = await result
        except BaseException as exc:
            raise rt.step_failed(exc, target, location)
    if rt.observers:
        rt.event("step.end", target)
    return result
