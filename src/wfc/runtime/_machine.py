"""State machines: the one implementation of `send` both backends use.

A compiled machine is a subclass that fills in the class attributes; the
interpreter makes the same kind of subclass at load time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, NamedTuple

from ._runtime import current

Guard = Callable[[Any, dict[str, Any]], Any]
Action = Callable[[Any, dict[str, Any]], Awaitable[Any]]
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
        # The most recent transitions: a bounded deque, as trimming a full list would
        # move its thousand entries on every send. `history` reads it as a list.
        self._history: deque[tuple[str, str, str]] = deque(maxlen=HISTORY_LIMIT)
        self._moves = _plain_moves(type(self))
        self._busy = False  # a send is in progress
        self._waiters: deque[asyncio.Future[None]] | None = None  # sends waiting, in arrival order
        self._stored: tuple[Any, str, int] | None = None  # (store, key, version) once opened

    @classmethod
    async def open(cls, store: Any, key: str, *args: Any, **kwargs: Any) -> Machine:
        """The instance kept in `store` under `key`, made with `args` if there is none.

        Every `send` on it then runs while holding the key's lease in the store, on
        the snapshot as last saved, and saves the new snapshot before returning: any
        number of processes may open the same machine, and no two of them ever
        apply a transition from the same state.
        """
        record_key = f"machine:{key}"
        while True:
            record = await store.get(record_key, 0.0)
            if record is not None:
                instance = cls.restore(record[0])
                version = record[1]
                break
            instance = cls(*args, **kwargs)
            version = await store.put(record_key, instance.snapshot(), 0)
            if version:
                break
        instance._stored = (store, record_key, version)
        return instance

    @property
    def done(self) -> bool:
        """Whether the machine is in a final state."""
        return self.state in self.finals

    def can(self, event: str, ctx: dict[str, Any] | None = None) -> bool:
        """Whether `send(event, ctx)` would take a transition now."""
        return self._chosen(event, {} if ctx is None else ctx) is not None

    def events(self) -> list[str]:
        """The events with a transition out of the current state, in declaration order."""
        return [event for (state, event) in self.transitions if state == self.state]

    def _chosen(self, event: str, ctx: dict[str, Any]) -> Transition | None:
        for transition in self.transitions.get((self.state, event), ()):
            if transition.guard is None or transition.guard(self, ctx):
                return transition
        return None

    async def send(self, event: str, ctx: dict[str, Any] | None = None) -> bool:
        """Handle `event`; True if a transition was taken.

        One send at a time: a send that finds none in progress takes its turn at
        once (no lock object, no await); others wait in arrival order (`_wait_turn`)
        and each finished send hands the turn straight to the first of them.
        """
        if not self._busy and self._stored is None:
            source = self.state
            target = self._moves.get((source, event))
            if target is not None:  # no guard, no action: done without awaiting, so no turn to take
                # `_moved`, written out: this is the whole of such a send.
                self.state = target
                self._history.append((source, event, target))
                if current().observers:
                    current().event(
                        "transition", self.machine, {"from": source, "event": event, "to": target}
                    )
                return True
        return await self._send_in_turn(event, ctx)

    async def _send_in_turn(self, event: str, ctx: dict[str, Any] | None) -> bool:
        """`send`, once it must take a turn (a guard, an action, a store, or a
        send in progress): apart, so that the plain send's frame stays small."""
        if self._busy:
            await self._wait_turn()
        else:
            self._busy = True
        try:
            source = self.state
            if ctx is None:
                ctx = {}
            if self._stored is not None:
                return await self._send_stored(event, ctx)
            return await self._take(event, ctx, source, self._chosen(event, ctx))
        finally:
            if self._waiters:
                self._hand_over()
            else:
                self._busy = False

    async def _wait_turn(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = deque()
        self._waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self._hand_over()  # the turn came as this send was cancelled: pass it on
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def _hand_over(self) -> None:
        """End a turn: the first waiting send takes it, or the machine is free."""
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._busy = False

    async def _send_stored(self, event: str, ctx: dict[str, Any]) -> bool:
        rt = current()
        store, record_key, _ = self._stored  # type: ignore[misc]
        lease = await _take_lease(rt, store, record_key + ":lease")
        try:
            record = await store.get(record_key, 0.0)
            if record is not None:  # another process may have moved it on
                latest = self.restore(record[0])
                self.state, self._history = latest.state, latest._history
                self._stored = (store, record_key, record[1])
            taken = await self._send(event, ctx)
            if taken:
                version = await store.put(record_key, self.snapshot(), self._stored[2])  # type: ignore[index]
                if not version:  # only a lease that expired mid-send can let this happen
                    raise RuntimeError(f"machine {record_key} changed while its lease was held")
                self._stored = (store, record_key, version)
            return taken
        finally:
            await store.delete(record_key + ":lease", lease)

    async def _send(self, event: str, ctx: dict[str, Any]) -> bool:
        source = self.state
        return await self._take(event, ctx, source, self._chosen(event, ctx))

    async def _take(
        self, event: str, ctx: dict[str, Any], source: str, transition: Transition | None
    ) -> bool:
        """Take the chosen transition (None: the event is rejected), running its actions."""
        if transition is None:
            rt = current()
            if rt.observers:
                rt.event("transition.rejected", self.machine, {"from": source, "event": event})
            return False
        exits, enters = self.exit_actions.get(source), self.enter_actions.get(transition.target)
        if exits:
            for action in exits:
                await action(self, ctx)
        if transition.action is not None:
            await transition.action(self, ctx)
        self.state = transition.target
        if enters:
            for action in enters:
                await action(self, ctx)
        self._moved(source, event, transition.target)
        return True

    def _moved(self, source: str, event: str, target: str) -> None:
        """The transition is done: state, history, event."""
        self.state = target
        self._history.append((source, event, target))
        rt = current()
        if rt.observers:
            rt.event("transition", self.machine, {"from": source, "event": event, "to": target})

    @property
    def history(self) -> list[tuple[str, str, str]]:
        """The most recent transitions (at most 1,000), oldest first: a new list."""
        return list(self._history)

    def snapshot(self) -> dict[str, Any]:
        """State, history and parameters: JSON-serialisable when the parameters are."""
        return {
            "machine": self.machine,
            "state": self.state,
            "history": [list(entry) for entry in self.history],
            "params": dict(self.params),
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> Machine:
        """An instance that behaves exactly like the one the snapshot was taken of."""
        if snapshot.get("machine") != cls.machine:
            raise ValueError(f"a snapshot of {snapshot.get('machine')!r}, not of {cls.machine!r}")
        instance = cls(**snapshot["params"])
        instance.state = snapshot["state"]
        instance._history.extend(tuple(entry) for entry in snapshot["history"])
        return instance

    def __repr__(self) -> str:
        return f"<{self.machine} state={self.state!r}>"


def _plain_moves(cls: type[Machine]) -> dict[tuple[str, str], str]:
    """(state, event) -> target, for the moves whose only transition has no guard and
    no action and whose states have no exit or enter actions: a `send` takes them
    with no coroutine. Built once per machine class, on its first send."""
    moves = cls.__dict__.get("_plain_moves")
    if moves is None:
        moves = {
            key: options[0].target
            for key, options in cls.transitions.items()
            if len(options) == 1
            and options[0].guard is None
            and options[0].action is None
            and key[0] not in cls.exit_actions
            and options[0].target not in cls.enter_actions
        }
        cls._plain_moves = moves  # type: ignore[attr-defined]
    return moves


LEASE_SECONDS = 60.0  # how long a crashed sender can hold a stored machine


async def _take_lease(rt: Any, store: Any, key: str) -> int:
    """Wait until the lease record `key` is free, then hold it; its version."""
    pause = 0.001
    while True:
        version = await store.put(key, True, 0, rt.policy_now() + LEASE_SECONDS)
        if version:
            return version
        if await store.get(key, rt.policy_now()) is None:
            continue  # it expired just now
        await asyncio.sleep(pause)  # held by a sender elsewhere: real time, even on a VirtualClock
        pause = min(pause * 2, 0.05)
