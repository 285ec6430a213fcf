"""State machines: the one implementation of `send` both backends use.

A compiled machine is a subclass that fills in the class attributes; the
interpreter makes the same kind of subclass at load time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, NamedTuple

from ._chart import Tree, plain_moves
from ._clock import format_seconds
from ._runtime import current

Guard = Callable[[Any, dict[str, Any]], Any]
Action = Callable[[Any, dict[str, Any]], Awaitable[Any]]
HISTORY_LIMIT = 1000


class Transition(NamedTuple):
    target: str | None  # None: a targetless transition, which runs its action and stays
    guard: Guard | None = None
    action: Action | None = None


class Delay(NamedTuple):
    """`after SECONDS -> ...` in a state: its transitions, tried when the timer fires."""

    seconds: Guard  # evaluated on entry to the state
    transitions: tuple[Transition, ...]


class Invoke(NamedTuple):
    """`invoke CALL { done -> ...  error -> ... }` in a state."""

    call: Action  # started on entry, cancelled on exit; its value or error becomes an event
    done: tuple[Transition, ...]
    error: tuple[Transition, ...]


# A scoped event (a timer's or an invocation's): (its state, its work key, its transitions).
Scope = tuple[str, tuple[str, int], tuple[Transition, ...]]
SELF_SENT_LIMIT = 1000  # events a machine may send itself while handling one event


class Machine:
    """An instance of a wf state machine (a statechart).

    `send` picks, for each active leaf state, the first transition for the event
    whose guard holds, looking from the leaf outwards (SCXML's selection), then
    takes them: exit actions innermost first, the transitions' actions, the new
    configuration, enter actions outermost first, then history. Events the machine
    sends itself meanwhile are handled before `send` returns. One `send` runs at a
    time per instance; concurrent ones, timers and invocations wait in arrival order.
    """

    machine: ClassVar[str] = "Machine"
    initial: ClassVar[str] = ""
    finals: ClassVar[frozenset[str]] = frozenset()
    transitions: ClassVar[dict[tuple[str, str], tuple[Transition, ...]]] = {}
    enter_actions: ClassVar[dict[str, tuple[Action, ...]]] = {}
    exit_actions: ClassVar[dict[str, tuple[Action, ...]]] = {}
    # A statechart's shape (a flat machine leaves these empty):
    states: ClassVar[tuple[str, ...]] = ()  # every state's path, in document order
    initials: ClassVar[dict[str, str]] = {}  # compound state -> its `initial` child
    parallels: ClassVar[frozenset[str]] = frozenset()
    histories: ClassVar[dict[str, bool]] = {}  # history state -> deep
    delays: ClassVar[dict[str, tuple[Delay, ...]]] = {}
    invokes: ClassVar[dict[str, tuple[Invoke, ...]]] = {}

    def __init__(self, params: dict[str, Any]) -> None:
        self.params = params
        tree = self._tree = _tree_of(type(self))
        self.state = self.initial if tree.flat else tree.first_configuration()
        # The most recent transitions: a bounded deque, as trimming a full list would
        # move its thousand entries on every send. `history` reads it as a list.
        self._history: deque[tuple[str, str, str]] = deque(maxlen=HISTORY_LIMIT)
        self._moves = _plain_moves(type(self))
        self._busy = False  # a send is in progress
        self._waiters: deque[asyncio.Future[None]] | None = None  # sends waiting, in arrival order
        self._stored: tuple[Any, str, int] | None = None  # (store, key, version) once opened
        self.data: dict[str, Any] = self.initial_data()
        self.failures: list[BaseException] = []  # errors of transitions a timer or invocation took
        self._internal: deque[tuple[str, dict[str, Any]]] = deque()  # events sent to itself
        self._recorded: dict[str, tuple[str, ...]] = {}  # history state -> what it remembers
        # Running timers and invocations: (state, "after" | "invoke", index) -> (task, deadline or ctx)
        self._work: dict[tuple[str, str, int], tuple[asyncio.Task[Any], Any]] = {}
        self._unarmed: list[tuple[str, str, int, Any]] = []  # work to start once a loop runs
        if self.delays or self.invokes:
            for state in sorted(tree.active(self.state), key=tree.order.__getitem__):
                self._plan(state, {})
            self._arm()

    def initial_data(self) -> dict[str, Any]:
        """The `data` fields' first values (a machine that declares some overrides this)."""
        return {}

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
        """Whether the machine is in a top-level final state."""
        return self.state in self.finals and "." not in self.state

    @property
    def leaves(self) -> tuple[str, ...]:
        """The active atomic states, in document order (more than one in parallel regions)."""
        return self._tree.leaves(self.state)

    def matches(self, state: str) -> bool:
        """Whether `state` (a path such as `active.paying`, at any depth) is active."""
        return state in self._tree.active(self.state)

    def can(self, event: str, ctx: dict[str, Any] | None = None) -> bool:
        """Whether `send(event, ctx)` would take a transition now."""
        return bool(self._select(event, {} if ctx is None else ctx, None))

    def events(self) -> list[str]:
        """The events with a transition out of an active state, in declaration order."""
        if self._tree.flat:
            return [event for (state, event) in self.transitions if state == self.state]
        active = self._tree.active(self.state)
        return list(dict.fromkeys(event for (state, event) in self.transitions if state in active))

    def raise_event(self, event: str, ctx: dict[str, Any] | None = None) -> None:
        """Queue an event the machine sends itself (a `send` in an action): it is
        handled once the current transition is complete, before `send` returns."""
        self._internal.append((event, {} if ctx is None else ctx))

    def _select(self, event: str, ctx: dict[str, Any], scope: Scope | None) -> list[tuple[str, Transition]]:
        """The transitions `event` takes: (source state, transition), in document order."""
        tree = self._tree
        if scope is not None:
            source, _, options = scope
            if source in tree.active(self.state):
                for transition in options:
                    if transition.guard is None or transition.guard(self, ctx):
                        return [(source, transition)]
            return []
        leaves = tree.leaves(self.state)
        if len(leaves) == 1:  # no parallel regions: the first enabled transition from the leaf out
            for state in tree.lineage[leaves[0]]:
                enabled = self._enabled(state, event, ctx)
                if enabled is not None:
                    return [(state, enabled)]
            return []
        chosen: list[tuple[str, Transition]] = []
        for leaf in leaves:
            for state in tree.lineage[leaf]:
                enabled = self._enabled(state, event, ctx)
                if enabled is not None:
                    if (state, enabled) not in chosen:
                        chosen.append((state, enabled))
                    break
        return self._without_conflicts(chosen) if len(chosen) > 1 else chosen

    def _enabled(self, state: str, event: str, ctx: dict[str, Any]) -> Transition | None:
        """The first of `state`'s transitions for `event` whose guard holds."""
        for transition in self.transitions.get((state, event), ()):
            if transition.guard is None or transition.guard(self, ctx):
                return transition
        return None

    def _without_conflicts(self, chosen: list[tuple[str, Transition]]) -> list[tuple[str, Transition]]:
        """SCXML's conflict rule, for parallel regions: of two transitions that would
        exit a common state, one from a deeper source wins, else the earlier one."""
        tree, active = self._tree, self._tree.active(self.state)
        kept: list[tuple[str, Transition, set[str]]] = []
        for source, transition in chosen:
            exits = tree.exit_set(source, transition.target, active)
            beaten = [k for k in kept if exits & k[2] and tree.is_descendant(source, k[0])]
            if any(exits & k[2] for k in kept if k not in beaten):
                continue
            kept = [k for k in kept if k not in beaten] + [(source, transition, exits)]
        return [(source, transition) for source, transition, _ in kept]

    async def send(self, event: str, ctx: dict[str, Any] | None = None) -> bool:
        """Handle `event`; True if a transition was taken.

        One send at a time: a send that finds none in progress takes its turn at
        once (no lock object, no await); others wait in arrival order (`_wait_turn`)
        and each finished send hands the turn straight to the first of them.
        """
        if not self._busy and self._stored is None and not self._unarmed:
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

    async def _send_in_turn(self, event: str, ctx: dict[str, Any] | None, scope: Scope | None = None) -> bool:
        """`send`, once it must take a turn (a guard, an action, a store, or a
        send in progress): apart, so that the plain send's frame stays small.
        `scope` is a timer's or an invocation's event, for its own state only."""
        if self._busy:
            await self._wait_turn()
        else:
            self._busy = True
        try:
            if ctx is None:
                ctx = {}
            if self._unarmed:
                self._arm()
            if scope is not None:
                self._work.pop((scope[0], *scope[1]), None)  # it runs now: an exit must not cancel it
            if self._stored is not None:
                return await self._send_stored(event, ctx, scope)
            if scope is None and self._tree.flat:
                taken = await self._take_flat(event, ctx, self._enabled(self.state, event, ctx))
            else:
                taken = await self._take(event, ctx, self._select(event, ctx, scope))
            if self._internal:
                await self._take_internal(event)
            return taken
        finally:
            if self._waiters:
                self._hand_over()
            else:
                self._busy = False

    async def _take_internal(self, cause: str) -> None:
        """Handle the events the machine sent itself, oldest first, each to completion."""
        handled = 0
        while self._internal:
            handled += 1
            if handled > SELF_SENT_LIMIT:
                self._internal.clear()
                raise RuntimeError(
                    f"machine {self.machine} sent itself more than {SELF_SENT_LIMIT} events while "
                    f"handling {cause!r}: a cycle of `send` in its actions?"
                )
            event, ctx = self._internal.popleft()
            await self._take(event, ctx, self._select(event, ctx, None))

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

    async def _send_stored(self, event: str, ctx: dict[str, Any], scope: Scope | None) -> bool:
        rt = current()
        store, record_key, _ = self._stored  # type: ignore[misc]
        lease = await _take_lease(rt, store, record_key + ":lease")
        try:
            record = await store.get(record_key, 0.0)
            if record is not None:  # another process may have moved it on
                latest = self.restore(record[0])
                latest._stop_all()
                self.state, self._history = latest.state, latest._history
                self.data, self._recorded = latest.data, latest._recorded
                self._stored = (store, record_key, record[1])
            taken = await self._take(event, ctx, self._select(event, ctx, scope))
            if self._internal:
                await self._take_internal(event)
            if taken:
                version = await store.put(record_key, self.snapshot(), self._stored[2])  # type: ignore[index]
                if not version:  # only a lease that expired mid-send can let this happen
                    raise RuntimeError(f"machine {record_key} changed while its lease was held")
                self._stored = (store, record_key, version)
            return taken
        finally:
            await store.delete(record_key + ":lease", lease)

    async def _take(self, event: str, ctx: dict[str, Any], moves: list[tuple[str, Transition]]) -> bool:
        """Take the chosen transitions (none: the event is rejected), running their actions."""
        source = self.state
        if not moves:
            rt = current()
            if rt.observers:
                rt.event("transition.rejected", self.machine, {"from": source, "event": event})
            return False
        exiting, entering, after = self._step(moves)
        if self.exit_actions:
            for state in exiting:
                for action in self.exit_actions.get(state, ()):
                    await action(self, ctx)
        for _, transition in moves:
            if transition.action is not None:
                await transition.action(self, ctx)
        entered = self._commit(moves, exiting, entering, after, ctx)
        if self.enter_actions:
            for state in entered:
                for action in self.enter_actions.get(state, ()):
                    await action(self, ctx)
        self._moved(source, event, self.state)
        return True

    async def _take_flat(self, event: str, ctx: dict[str, Any], transition: Transition | None) -> bool:
        """`_take` for a flat machine's event: one state, one transition, no sets."""
        source = self.state
        if transition is None:
            rt = current()
            if rt.observers:
                rt.event("transition.rejected", self.machine, {"from": source, "event": event})
            return False
        target = transition.target
        if target is None:
            if transition.action is not None:
                await transition.action(self, ctx)
            self._moved(source, event, source)
            return True
        exits = self.exit_actions.get(source)
        if exits:
            for action in exits:
                await action(self, ctx)
        if transition.action is not None:
            await transition.action(self, ctx)
        self.state = target
        if self._work or target in self._tree.timed:
            self._commit([(source, transition)], [source], [target], target, ctx)
        enters = self.enter_actions.get(target)
        if enters:
            for action in enters:
                await action(self, ctx)
        self._moved(source, event, target)
        return True

    def _step(self, moves: list[tuple[str, Transition]]) -> tuple[list[str], list[str] | None, str]:
        """What the moves exit (innermost first), enter (outermost first) and lead to;
        entering None when a target is a history state, which `_commit` resolves once
        the exits have recorded what it remembers."""
        tree = self._tree
        if tree.flat:
            target = moves[0][1].target
            return ([self.state], [target], target) if target is not None else ([], [], self.state)
        if len(moves) == 1:
            targets: tuple[tuple[str, str | None], ...] = ((moves[0][0], moves[0][1].target),)
        else:
            targets = tuple((source, t.target) for source, t in moves)
        step = tree.step(self.state, targets)
        if step is None:
            return tree.exiting(self.state, targets), None, self.state
        return step

    def _commit(
        self,
        moves: list[tuple[str, Transition]],
        exiting: list[str],
        entering: list[str] | None,
        after: str,
        ctx: dict[str, Any],
    ) -> list[str]:
        """The exits are done: the new configuration, with its timers and invocations;
        the states entered, outermost first."""
        tree = self._tree
        if tree.history and exiting:
            self._recorded.update(tree.record(exiting, tree.active(self.state), self.leaves))
        if entering is None:
            targets = [(source, t.target) for source, t in moves if t.target is not None]
            entering = tree.entry_set(targets, self._recorded)
            after = tree.after(self.state, exiting, entering)
        self.state = after
        if self._work:
            for key in [key for key in self._work if key[0] in exiting]:
                self._work.pop(key)[0].cancel()
        for state in entering:
            if state in tree.timed:
                self._plan(state, ctx)
            if state in tree.final:
                self._reached_final(state)
        if self._unarmed:
            self._arm()
        return entering

    def _reached_final(self, state: str) -> None:
        """SCXML's done events: `done.PARENT`, and `done.P` for a parallel state P
        all of whose regions are now final."""
        tree = self._tree
        parent = tree.parent[state]
        if not parent:
            return
        self._internal.append((f"done.{parent}", {}))
        grandparent = tree.parent[parent]
        if grandparent in tree.parallel and tree.in_final(grandparent, tree.active(self.state)):
            self._internal.append((f"done.{grandparent}", {}))

    # ---- timers and invocations -------------------------------------------
    def _plan(self, state: str, ctx: dict[str, Any]) -> None:
        """The timers and invocations entering `state` starts."""
        for index, delay in enumerate(self.delays.get(state, ())):
            seconds = float(delay.seconds(self, ctx))
            self._unarmed.append((state, "after", index, [seconds, seconds]))  # [left, declared]
        for index, _ in enumerate(self.invokes.get(state, ())):
            self._unarmed.append((state, "invoke", index, ctx))

    def _arm(self) -> None:
        """Start the planned work, if a loop runs (a machine made outside one starts
        its initial state's timers on its first `send`)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        clock = current().clock
        for state, kind, index, value in self._unarmed:
            if kind == "after":
                left, declared = value
                task = loop.create_task(self._timer(state, index, left, declared, clock))
                self._work[(state, kind, index)] = (task, (clock.monotonic() + left, declared, clock))
            else:
                task = loop.create_task(self._invoked(state, index, value))
                self._work[(state, kind, index)] = (task, value)
        self._unarmed.clear()

    async def _timer(self, state: str, index: int, left: float, declared: float, clock: Any) -> None:
        await clock.sleep(left)
        label = f"after {format_seconds(declared)}"
        await self._deliver(label, {}, (state, ("after", index), self.delays[state][index].transitions))

    async def _invoked(self, state: str, index: int, ctx: dict[str, Any]) -> None:
        invoke = self.invokes[state][index]
        try:
            result = await invoke.call(self, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            payload = {"error": exc.args[0] if len(exc.args) == 1 else str(exc), "type": type(exc).__name__}
            await self._deliver("error.invoke", payload, (state, ("invoke", index), invoke.error))
            return
        await self._deliver("done.invoke", {"result": result}, (state, ("invoke", index), invoke.done))

    async def _deliver(self, event: str, ctx: dict[str, Any], scope: Scope) -> None:
        """A timer's or invocation's event, sent as any other; a failure of the
        transition it takes has no caller to go to, so it is kept in `failures`."""
        try:
            await self._send_in_turn(event, ctx, scope)
        except Exception as exc:
            self.failures.append(exc)
            rt = current()
            if rt.observers:
                rt.event("transition.error", self.machine, {"event": event, "error": repr(exc)})

    def _stop_all(self) -> None:
        for task, _ in self._work.values():
            task.cancel()
        self._work.clear()
        self._unarmed.clear()

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
        """State, history and parameters (and the data, what history states
        remember, running timers' remaining time and running invocations' events):
        JSON-serialisable when the values are."""
        snapshot: dict[str, Any] = {
            "machine": self.machine,
            "state": self.state,
            "history": [list(entry) for entry in self.history],
            "params": dict(self.params),
        }
        if self.data:
            snapshot["data"] = dict(self.data)
        if self._recorded:
            snapshot["recorded"] = {key: list(value) for key, value in self._recorded.items()}
        work = [[state, kind, index, value] for state, kind, index, value in self._unarmed]
        for (state, kind, index), (_, value) in self._work.items():
            if kind == "after":
                deadline, declared, clock = value
                value = [max(deadline - clock.monotonic(), 0.0), declared]
            work.append([state, kind, index, value])
        if work:
            snapshot["work"] = sorted(work, key=lambda entry: (entry[0], entry[1], entry[2]))
        return snapshot

    @classmethod
    def restore(cls, snapshot: dict[str, Any]) -> Machine:
        """An instance that behaves exactly like the one the snapshot was taken of:
        its timers resume with the time they had left, its invocations start again."""
        if snapshot.get("machine") != cls.machine:
            raise ValueError(f"a snapshot of {snapshot.get('machine')!r}, not of {cls.machine!r}")
        instance = cls(**snapshot["params"])
        instance._stop_all()
        instance.state = snapshot["state"]
        instance._history.extend(tuple(entry) for entry in snapshot["history"])
        if "data" in snapshot:
            instance.data = dict(snapshot["data"])
        instance._recorded = {key: tuple(value) for key, value in snapshot.get("recorded", {}).items()}
        instance._unarmed = [
            (state, kind, index, value) for state, kind, index, value in snapshot.get("work", ())
        ]
        instance._arm()
        return instance

    def __repr__(self) -> str:
        return f"<{self.machine} state={self.state!r}>"


def _tree_of(cls: type[Machine]) -> Tree:
    tree = cls.__dict__.get("_wf_tree")
    if tree is None:
        tree = Tree(cls)
        cls._wf_tree = tree  # type: ignore[attr-defined]
    return tree


def _plain_moves(cls: type[Machine]) -> dict[tuple[str, str], str]:
    """(state, event) -> the new state, for the moves whose only transition has no
    guard and no action and whose states have no exit or enter actions, timers or
    invocations (for a statechart, `_chart.plain_moves`): a `send` takes them with
    no coroutine. Built once per machine class, on its first send."""
    moves = cls.__dict__.get("_plain_moves")
    if moves is None:
        if cls.states:
            moves = plain_moves(cls, _tree_of(cls))
        else:
            busy = {*cls.exit_actions, *cls.enter_actions, *cls.delays, *cls.invokes}
            moves = {
                key: target
                for key, options in cls.transitions.items()
                if len(options) == 1
                and options[0].guard is None
                and options[0].action is None
                and (target := options[0].target) is not None
                and key[0] not in busy
                and target not in busy
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
