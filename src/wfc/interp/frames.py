"""Variables of a running declaration, and the signals that carry control flow."""

from __future__ import annotations

from typing import Any

MACHINE = "@machine"  # in a machine action's frame: the instance (no wf name can collide)


class Frame:
    """A scope's variables; an item scope reads through to its parent."""

    __slots__ = ("vars", "parent", "saga")

    def __init__(self, names: dict[str, Any], parent: Frame | None = None, saga: Any = None) -> None:
        self.vars = names
        self.parent = parent
        self.saga = saga  # the running `runtime.Saga`, in a saga's frame

    def get(self, name: str) -> Any:
        frame: Frame | None = self
        while frame is not None:
            if name in frame.vars:
                return frame.vars[name]
            frame = frame.parent
        raise AssertionError(f"unresolved local {name!r}: the checker should have caught it")

    def set(self, name: str, value: Any) -> None:
        self.vars[name] = value


class Signal:
    """Control flow, not an error: what a statement returns to end its block early
    (a statement that runs to its end returns None). Returned, never raised: a
    `catch` cannot see it, and the common case costs no exception."""

    __slots__ = ()


class Return(Signal):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Yield(Signal):
    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Break(Signal):
    __slots__ = ()


class Continue(Signal):
    __slots__ = ()


BREAK = Break()
CONTINUE = Continue()
