"""Variables of a running declaration, and the signals that carry control flow."""

from __future__ import annotations

from typing import Any


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


class Signal(BaseException):
    """Control flow, not an error: never caught by `catch`, never an error event."""


class ReturnSignal(Signal):
    def __init__(self, value: Any) -> None:
        self.value = value


class YieldSignal(Signal):
    def __init__(self, value: Any) -> None:
        self.value = value


class BreakSignal(Signal):
    pass


class ContinueSignal(Signal):
    pass
