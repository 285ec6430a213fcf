"""The shape of a machine's states, and the W3C SCXML algorithm's set arithmetic.

A state is named by its path from the top (`active.paying`); "" is the machine
itself. A configuration is the tuple of active leaves in document order, written
as one string (`lights.cars.green, lights.walkers.stop`): that string is what
`Machine.state` holds, so a flat machine's state is just its state's name.
Everything here is pure and computed once per machine class; `_machine.py` runs
the actions around it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

SEPARATOR = ", "  # between the leaves of a configuration with parallel regions


class Tree:
    """The states of one machine class: parents, children, kinds, document order."""

    __slots__ = (
        "order",
        "parent",
        "children",
        "initial",
        "parallel",
        "final",
        "history",
        "flat",
        "lineage",
        "timed",
        "_steps",
        "_leaves",
        "_active",
    )

    def __init__(self, cls: Any) -> None:
        names: tuple[str, ...] = cls.states or _flat_states(cls)
        self.flat = not cls.states
        self.order = {path: index for index, path in enumerate(names)}
        self.parent = {path: path.rpartition(".")[0] for path in names}
        self.history: dict[str, bool] = dict(cls.histories)  # path -> deep
        self.children: dict[str, tuple[str, ...]] = {}
        for path in names:
            if path not in self.history:
                self.children[self.parent[path]] = (*self.children.get(self.parent[path], ()), path)
        self.parallel: frozenset[str] = frozenset(cls.parallels)
        self.final: frozenset[str] = frozenset(cls.finals)
        self.initial = {
            parent: cls.initials.get(parent, kids[0]) for parent, kids in self.children.items() if parent
        }
        self.initial[""] = cls.initial
        self.timed = frozenset({*cls.delays, *cls.invokes})  # states whose entry starts work
        # each state with its proper ancestors, innermost first: where an event bubbles
        self.lineage = {path: (path, *self.ancestors(path)) for path in names}
        self._leaves: dict[str, tuple[str, ...]] = {}
        self._active: dict[str, frozenset[str]] = {}
        self._steps: dict[
            tuple[str, tuple[tuple[str, str | None], ...]], tuple[list[str], list[str], str]
        ] = {}

    # ---- configurations --------------------------------------------------
    def leaves(self, state: str) -> tuple[str, ...]:
        found = self._leaves.get(state)
        if found is None:
            found = self._leaves[state] = tuple(state.split(SEPARATOR))
        return found

    def active(self, state: str) -> frozenset[str]:
        """Every active state of the configuration: its leaves and their ancestors."""
        found = self._active.get(state)
        if found is None:
            found = frozenset(a for leaf in self.leaves(state) for a in (leaf, *self.ancestors(leaf)))
            self._active[state] = found
        return found

    def join(self, leaves: Iterable[str]) -> str:
        return SEPARATOR.join(sorted(leaves, key=self.order.__getitem__))

    def ancestors(self, path: str) -> list[str]:
        """Proper ancestors, innermost first, without the machine itself."""
        found = []
        parent = self.parent.get(path, "")
        while parent:
            found.append(parent)
            parent = self.parent.get(parent, "")
        return found

    def is_descendant(self, path: str, ancestor: str) -> bool:
        """Strictly below `ancestor` ("" is the machine, above every state)."""
        return ancestor == "" or path.startswith(ancestor + ".")

    def within(self, path: str, ancestor: str) -> bool:
        return path == ancestor or self.is_descendant(path, ancestor)

    def is_compound(self, path: str) -> bool:
        return path in self.children and path not in self.parallel

    def is_atomic(self, path: str) -> bool:
        return path not in self.children and path not in self.history

    # ---- the sets a microstep exits and enters ---------------------------------
    def step(
        self, state: str, moves: tuple[tuple[str, str | None], ...]
    ) -> tuple[list[str], list[str], str] | None:
        """For the (source, target) moves from configuration `state`: the states
        exited (innermost first), entered (outermost first) and the configuration
        after, computed once. None when a target is a history state: what it
        remembers decides where it leads."""
        key = (state, moves)
        found = self._steps.get(key)
        if found is None:
            if any(target in self.history for _, target in moves):
                return None
            exiting = self.exiting(state, moves)
            entering = self.entry_set([(s, t) for s, t in moves if t is not None], {})
            found = self._steps[key] = (exiting, entering, self.after(state, exiting, entering))
        return found

    def exiting(self, state: str, moves: tuple[tuple[str, str | None], ...]) -> list[str]:
        active = self.active(state)
        exits = set().union(*(self.exit_set(source, target, active) for source, target in moves))
        return sorted(exits, key=self.order.__getitem__, reverse=True)

    def after(self, state: str, exiting: list[str], entering: list[str]) -> str:
        """The configuration once `exiting` is left and `entering` entered."""
        gone = set(exiting)
        staying = [leaf for leaf in self.leaves(state) if leaf not in gone]
        return self.join([*staying, *(s for s in entering if self.is_atomic(s))])

    def domain(self, source: str, target: str) -> str:
        """The innermost compound state (or the machine) that strictly contains both
        ends: what an external transition leaves and re-enters below."""
        for ancestor in (*self.ancestors(source), ""):
            if (ancestor == "" or self.is_compound(ancestor)) and self.is_descendant(target, ancestor):
                return ancestor
        return ""

    def exit_set(self, source: str, target: str | None, active: frozenset[str]) -> set[str]:
        if target is None:
            return set()
        domain = self.domain(source, target)
        return {state for state in active if self.is_descendant(state, domain)}

    def entry_set(self, moves: list[tuple[str, str]], recorded: dict[str, tuple[str, ...]]) -> list[str]:
        """The states entered by the (source, target) moves, in document order."""
        entering: set[str] = set()
        for source, target in moves:
            self._enter_below(target, entering, recorded)
            self._enter_above(target, self.domain(source, target), entering, recorded)
        return sorted(entering, key=self.order.__getitem__)

    def _enter_below(self, path: str, entering: set[str], recorded: dict[str, tuple[str, ...]]) -> None:
        if path in self.history:
            parent = self.parent[path]
            for state in recorded.get(path) or (self.initial[parent],):
                self._enter_below(state, entering, recorded)
                self._enter_above(state, parent, entering, recorded)
            return
        entering.add(path)
        if path in self.parallel:
            for region in self.children[path]:
                if not any(self.within(state, region) for state in entering):
                    self._enter_below(region, entering, recorded)
        elif path in self.children:
            first = self.initial[path]
            self._enter_below(first, entering, recorded)
            self._enter_above(first, path, entering, recorded)

    def _enter_above(
        self, path: str, stop: str, entering: set[str], recorded: dict[str, tuple[str, ...]]
    ) -> None:
        for ancestor in self.ancestors(path):
            if ancestor == stop or not self.is_descendant(ancestor, stop):
                return
            entering.add(ancestor)
            if ancestor in self.parallel:
                for region in self.children[ancestor]:
                    if not any(self.within(state, region) for state in entering):
                        self._enter_below(region, entering, recorded)

    def first_configuration(self) -> str:
        entering: set[str] = set()
        self._enter_below(self.initial[""], entering, {})
        return self.join(state for state in entering if self.is_atomic(state))

    def in_final(self, path: str, active: frozenset[str]) -> bool:
        """SCXML's isInFinalState: a compound state whose final child is active, or a
        parallel state all of whose regions are."""
        if path in self.parallel:
            return all(self.in_final(region, active) for region in self.children[path])
        return any(child in self.final and child in active for child in self.children.get(path, ()))

    def record(
        self, exiting: Iterable[str], active: frozenset[str], leaves: tuple[str, ...]
    ) -> dict[str, tuple[str, ...]]:
        """What each history state of an exited state remembers."""
        memory: dict[str, tuple[str, ...]] = {}
        for path, deep in self.history.items():
            parent = self.parent[path]
            if parent in exiting:
                if deep:
                    memory[path] = tuple(leaf for leaf in leaves if self.is_descendant(leaf, parent))
                else:
                    memory[path] = tuple(c for c in self.children[parent] if c in active)
        return memory


def plain_moves(cls: Any, tree: Tree) -> dict[tuple[str, str], str]:
    """(leaf, event) -> the configuration it leads to, for the moves of a statechart
    whose outcome is fixed: the first state from the leaf outwards with transitions
    for the event has one, with no guard and no action, and no state it exits or
    enters has actions, timers, invocations, a history to record or a done event
    to raise. A `send` takes those with no coroutine, as a flat machine's."""
    busy = {*cls.exit_actions, *cls.enter_actions, *cls.delays, *cls.invokes, *tree.history}
    busy |= {tree.parent[path] for path in tree.history}  # exiting them records history
    events = {event for _, event in cls.transitions}
    moves: dict[tuple[str, str], str] = {}
    for leaf in tree.order:
        if tree.is_atomic(leaf) and not any(a in tree.parallel for a in tree.ancestors(leaf)):
            for event in events:
                found = _plain_move(cls, tree, busy, leaf, event)
                if found is not None:
                    moves[(leaf, event)] = found
    return moves


def _plain_move(cls: Any, tree: Tree, busy: set[str], leaf: str, event: str) -> str | None:
    source = next((s for s in tree.lineage[leaf] if (s, event) in cls.transitions), None)
    if source is None:
        return None
    target = _plain_target(cls.transitions[(source, event)])
    if target is None or target in tree.history:
        return None
    active = frozenset(tree.lineage[leaf])
    exits = tree.exit_set(source, target, active)
    entered = tree.entry_set([(source, target)], {})
    if busy & (exits | set(entered)) or any(s in tree.final and tree.parent[s] for s in entered):
        return None
    staying = [state for state in active if state not in exits and tree.is_atomic(state)]
    return tree.join([*staying, *(s for s in entered if tree.is_atomic(s))])


def _plain_target(options: tuple[Any, ...]) -> str | None:
    """The target of a lone transition with no guard and no action."""
    if len(options) == 1 and options[0].guard is None and options[0].action is None:
        return options[0].target
    return None


def _flat_states(cls: Any) -> tuple[str, ...]:
    """A flat machine's states, from its tables (it has no `states` of its own)."""
    seen: dict[str, None] = {cls.initial: None}
    for state, _ in cls.transitions:
        seen[state] = None
    for options in cls.transitions.values():
        for transition in options:
            if transition.target is not None:
                seen[transition.target] = None
    for table in (cls.enter_actions, cls.exit_actions, cls.delays, cls.invokes):
        seen.update(dict.fromkeys(table))
    seen.update(dict.fromkeys(sorted(cls.finals)))
    return tuple(seen)
