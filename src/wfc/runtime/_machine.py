"""State machines: the one implementation of `send` both backends use.

A compiled machine is a subclass that fills in the class attributes; the
interpreter makes the same kind of subclass at load time.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, ClassVar, NamedTuple

from ._runtime import current

Guard = Callable[[Any, dict], Any]
Action = Callable[[Any, dict], Awaitable[Any]]
HISTORY_LIMIT = 1000


class Transition(NamedTuple):
    target: str
    guard: Guard | None = None
    action: Action | None = None


class Machine:
    """An instance of a wf state machine.

    `send` tries the current state's transitions for the event in declaration
    order; the first whose guard holds is taken: exit actions, the transition's
    action, the state change, enter actions, then history. One `send` runs at a
    time per instance; concurrent ones wait in arrival order.
    """

    machine: ClassVar[str] = "Machine"
    initial: ClassVar[str] = ""
    finals: ClassVar[frozenset[str]] = frozenset()
    transitions: ClassVar[dict[tuple[str, str], tuple[Transition, ...]]] = {}
    enter_actions: ClassVar[dict[str, tuple[Action, ...]]] = {}
    exit_actions: ClassVar[dict[str, tuple[Action, ...]]] = {}

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        self.state = self.initial
        self.history: list[tuple[str, str, str]] = []
        self._lock: asyncio.Lock | None = None

    @property
    def done(self) -> bool:
        """Whether the machine is in a final state."""
        return self.state in self.finals

    def can(self, event: str, ctx: dict | None = None) -> bool:
        """Whether `send(event, ctx)` would take a transition now."""
        return self._chosen(event, {} if ctx is None else ctx) is not None

    def events(self) -> list[str]:
        """The events with a transition out of the current state, in declaration order."""
        return [event for (state, event) in self.transitions if state == self.state]

    def _chosen(self, event: str, ctx: dict) -> Transition | None:
        for transition in self.transitions.get((self.state, event), ()):
            if transition.guard is None or transition.guard(self, ctx):
                return transition
        return None

    async def send(self, event: str, ctx: dict | None = None) -> bool:
        """Handle `event`; True if a transition was taken."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self._send(event, {} if ctx is None else ctx)

    async def _send(self, event: str, ctx: dict) -> bool:
        rt = current()
        source = self.state
        transition = self._chosen(event, ctx)
        if transition is None:
            if rt.observers:
                rt.event("transition.rejected", self.machine, {"from": source, "event": event})
            return False
        for action in self.exit_actions.get(source, ()):
            await action(self, ctx)
        if transition.action is not None:
            await transition.action(self, ctx)
        self.state = transition.target
        for action in self.enter_actions.get(transition.target, ()):
            await action(self, ctx)
        self.history.append((source, event, transition.target))
        del self.history[:-HISTORY_LIMIT]
        if rt.observers:
            rt.event("transition", self.machine, {"from": source, "event": event, "to": transition.target})
        return True

    def snapshot(self) -> dict[str, Any]:
        """State, history and parameters: JSON-serialisable when the parameters are."""
        return {"machine": self.machine, "state": self.state,
                "history": [list(entry) for entry in self.history], "params": dict(self.params)}

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> Machine:
        """An instance that behaves exactly like the one the snapshot was taken of."""
        if snapshot.get("machine") != cls.machine:
            raise ValueError(f"a snapshot of {snapshot.get('machine')!r}, not of {cls.machine!r}")
        instance = cls(**snapshot["params"])
        instance.state = snapshot["state"]
        instance.history = [tuple(entry) for entry in snapshot["history"]]  # type: ignore[misc]
        return instance

    def __repr__(self) -> str:
        return f"<{self.machine} state={self.state!r}>"
