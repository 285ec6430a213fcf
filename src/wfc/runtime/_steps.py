"""Handler calls ("steps") that stand inside larger expressions.

Statement-level steps are emitted inline by the compiler for speed; this helper
does the same thing, in the same order, where inlining is not possible.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import isawaitable
from typing import Any

from ._runtime import Runtime


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

    The arguments are evaluated by the caller, before `step.start`; the handler
    is looked up inside the step, so a missing handler is a failed step.
    """
    if rt.observers:
        rt.event("step.start", target)
    try:
        function = lookup()
        result = (
            function(*args, **kwargs)
            if rt.journal is None
            else rt.journal.step(target, location, function, *args, **kwargs)
        )
        if isawaitable(result):
            result = await result
    except BaseException as exc:
        raise rt.step_failed(exc, target, location)
    if rt.observers:
        rt.event("step.end", target)
    return result
