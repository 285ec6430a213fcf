"""Statecharts against a model: random nested, parallel and history states, random
events, and after each `send` the machine's configuration and history must be the
ones a plain, cache-free transcription of the W3C SCXML algorithm (below) gives.

The runtime caches each step and takes plain moves without a coroutine; the model
does neither, so the property checks those shortcuts too, on both backends.
Set WFC_PROPERTY_EXAMPLES to run more examples than CI's budget."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from wfc.api import load_source
from wfc.runtime import Runtime

EXAMPLES = max(20, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 2)
EVENTS = ["a", "b", "c"]


@dataclass
class Node:
    path: str
    kind: str  # atomic, compound, parallel, final, shallow, deep
    children: list[Node] = field(default_factory=list)
    moves: list[tuple[str, str]] = field(default_factory=list)  # (event, target path)


class Model:
    """SCXML's algorithm for a chart with no guards, actions or data."""

    def __init__(self, root: Node) -> None:
        self.nodes: dict[str, Node] = {}
        self.order: list[str] = []

        def index(node: Node) -> None:
            if node.path:
                self.nodes[node.path] = node
                self.order.append(node.path)
            for child in node.children:
                index(child)

        index(root)
        self.root = root
        self.memory: dict[str, set[str]] = {}
        self.config: set[str] = set()
        self.history: list[tuple[str, str, str]] = []
        self.internal: list[str] = []
        self.enter([(None, root.children[0].path)])

    # -- structure --
    def parent(self, path: str) -> str:
        return path.rpartition(".")[0]

    def proper_ancestors(self, path: str, upto: str | None = None) -> list[str]:
        found, current = [], self.parent(path)
        while current and current != upto:
            found.append(current)
            current = self.parent(current)
        return found

    def is_descendant(self, path: str, of: str) -> bool:
        return of == "" or path.startswith(of + ".")

    def states_of(self, path: str) -> list[Node]:
        node = self.root if path == "" else self.nodes[path]
        return [c for c in node.children if c.kind not in ("shallow", "deep")]

    def kind(self, path: str) -> str:
        return "compound" if path == "" else self.nodes[path].kind

    def text(self) -> str:
        leaves = [p for p in self.order if p in self.config and not self.states_of(p)]
        return ", ".join(leaves)

    # -- SCXML --
    def domain(self, source: str, target: str) -> str:
        for ancestor in [*self.proper_ancestors(source), ""]:
            if self.kind(ancestor) == "compound" and self.is_descendant(target, ancestor):
                return ancestor
        return ""

    def exit_set(self, source: str, target: str) -> set[str]:
        domain = self.domain(source, target)
        return {s for s in self.config if self.is_descendant(s, domain)}

    def select(self, event: str) -> list[tuple[str, str]]:
        chosen: list[tuple[str, str]] = []
        for leaf in [p for p in self.order if p in self.config and not self.states_of(p)]:
            for state in [leaf, *self.proper_ancestors(leaf)]:
                targets = [t for e, t in self.nodes[state].moves if e == event]
                if targets:
                    if (state, targets[0]) not in chosen:
                        chosen.append((state, targets[0]))
                    break
        kept: list[tuple[str, str]] = []
        for move in chosen:
            preempted, beaten = False, []
            for other in kept:
                if self.exit_set(*move) & self.exit_set(*other):
                    if self.is_descendant(move[0], other[0]):
                        beaten.append(other)
                    else:
                        preempted = True
                        break
            if not preempted:
                kept = [k for k in kept if k not in beaten] + [move]
        return kept

    def send(self, event: str) -> bool:
        """Handle `event`, then the done events it raised (1,000 at most, as wf does)."""
        taken = self.microstep(event, self.select(event))
        handled = 0
        while self.internal:
            handled += 1
            if handled > 1000:
                self.internal.clear()
                raise RuntimeError("a cycle of done events")
            internal = self.internal.pop(0)
            self.microstep(internal, self.select(internal))
        return taken

    def microstep(self, event: str, moves: list[tuple[str, str]]) -> bool:
        if not moves:
            return False
        before = self.text()
        exiting = set().union(*(self.exit_set(s, t) for s, t in moves))
        for state in exiting:
            for child in self.nodes[state].children:
                if child.kind == "shallow":
                    self.memory[child.path] = {c.path for c in self.states_of(state) if c.path in self.config}
                elif child.kind == "deep":
                    self.memory[child.path] = {
                        s for s in self.config if self.is_descendant(s, state) and not self.states_of(s)}
        self.config -= exiting
        self.enter(moves)
        self.history.append((before, event, self.text()))
        return True

    def enter(self, moves: list[tuple[str | None, str]]) -> None:
        entering: set[str] = set()
        for source, target in moves:
            self.below(target, entering)
            self.above(target, self.domain(source, target) if source else "", entering)
        self.config |= entering
        for state in sorted(entering, key=self.order.index):
            if self.nodes[state].kind == "final":
                parent = self.parent(state)
                if parent:
                    self.internal.append(f"done.{parent}")
                    grand = self.parent(parent)
                    if grand and self.kind(grand) == "parallel" and all(
                        self.in_final(r.path) for r in self.states_of(grand)):
                        self.internal.append(f"done.{grand}")

    def in_final(self, path: str) -> bool:
        if self.kind(path) == "parallel":
            return all(self.in_final(r.path) for r in self.states_of(path))
        return any(c.kind == "final" and c.path in self.config for c in self.states_of(path))

    def below(self, path: str, entering: set[str]) -> None:
        node = self.nodes[path]
        if node.kind in ("shallow", "deep"):
            parent = self.parent(path)
            remembered = self.memory.get(path) or {self.states_of(parent)[0].path}
            for state in sorted(remembered, key=self.order.index):
                self.below(state, entering)
                self.above(state, parent, entering)
            return
        entering.add(path)
        if node.kind == "parallel":
            for region in self.states_of(path):
                if not any(s == region.path or self.is_descendant(s, region.path) for s in entering):
                    self.below(region.path, entering)
        elif node.kind == "compound":
            first = self.states_of(path)[0].path
            self.below(first, entering)

    def above(self, path: str, upto: str, entering: set[str]) -> None:
        for ancestor in self.proper_ancestors(path, upto or None):
            if upto and not self.is_descendant(ancestor, upto):
                break
            entering.add(ancestor)
            if self.kind(ancestor) == "parallel":
                for region in self.states_of(ancestor):
                    if not any(s == region.path or self.is_descendant(s, region.path) for s in entering):
                        self.below(region.path, entering)


@st.composite
def charts(draw) -> Node:
    names = iter(f"s{n}" for n in range(100))
    root = Node("", "compound")

    def grow(parent: Node, depth: int, allow_final: bool) -> None:
        count = draw(st.integers(2 if parent.kind == "parallel" else 1, 3))
        for number in range(count):
            path = f"{parent.path}.{next(names)}" if parent.path else next(names)
            kinds = ["atomic", "atomic"]
            if depth < 2:
                kinds += ["compound", "parallel"]
            if allow_final and number:
                kinds.append("final")
            kind = "compound" if parent.kind == "parallel" else draw(st.sampled_from(kinds))
            node = Node(path, kind)
            parent.children.append(node)
            if kind in ("compound", "parallel"):
                grow(node, depth + 1, kind == "compound")
                if draw(st.booleans()):
                    node.children.append(Node(f"{path}.{next(names)}", draw(st.sampled_from(["shallow", "deep"]))))

    grow(root, 0, True)
    everything: list[Node] = []

    def collect(node: Node) -> None:
        for child in node.children:
            everything.append(child)
            collect(child)

    collect(root)
    targets = [n.path for n in everything]
    compounds = [n.path for n in everything if n.kind in ("compound", "parallel")]
    for node in everything:
        if node.kind in ("final", "shallow", "deep"):
            continue
        for _ in range(draw(st.integers(0, 2))):
            event = draw(st.sampled_from(EVENTS + [f"done.{c}" for c in compounds[:2]]))
            node.moves.append((event, draw(st.sampled_from(targets))))
    return root


def source_of(root: Node) -> str:
    def state(node: Node) -> str:
        name = node.path.rsplit(".", 1)[-1]
        if node.kind in ("shallow", "deep"):
            return ("deep " if node.kind == "deep" else "") + f"history {name}"
        head = {"final": "final state", "parallel": "parallel state"}.get(node.kind, "state")
        if node.kind == "compound" and node.path.count(".") and _parent_kind(root, node.path) == "parallel":
            head = "region"
        body = [f"on {event} -> {target}" for event, target in node.moves]
        body += [state(child) for child in node.children]
        return f"{head} {name} {{\n" + "\n".join(body) + "\n}"

    lines = [f"initial {root.children[0].path}", *(state(c) for c in root.children)]
    return "machine Chart() {\n" + "\n".join(lines) + "\n}\n"


def _parent_kind(root: Node, path: str) -> str:
    parent = path.rpartition(".")[0]

    def find(node: Node) -> str | None:
        if node.path == parent:
            return node.kind
        return next((k for c in node.children if (k := find(c)) is not None), None)

    return find(root) or "compound"


def outcomes(send, state, events: list[str]) -> list[tuple[object, str]]:
    """What each event's send gave (True, False or "raised") and the state after it."""
    found: list[tuple[object, str]] = []
    for event in events:
        try:
            found.append((send(event), state()))
        except RuntimeError:
            found.append(("raised", state()))
    return found


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(charts(), st.lists(st.sampled_from(EVENTS), max_size=12), st.sampled_from(["interp", "compiled"]))
def test_a_statechart_moves_as_the_scxml_algorithm_says(root: Node, events: list[str], backend: str) -> None:
    source = source_of(root)
    note(source)
    model = Model(root)
    expected = [(True, model.text()), *outcomes(model.send, model.text, events)]
    module = load_source(source, "chart_model.wf", backend=backend)

    async def drive() -> tuple[list[tuple[object, str]], list[tuple[str, str, str]]]:
        machine = module.Chart()
        loop = asyncio.get_running_loop()
        found: list[tuple[object, str]] = [(True, machine.state)]
        for event in events:
            try:
                found.append((await machine.send(event), machine.state))
            except RuntimeError:
                found.append(("raised", machine.state))
        assert loop.is_running()
        return found, machine.history

    with Runtime().activate():
        found, history = asyncio.run(drive())
    assert found == expected
    assert history == model.history[-1000:]
