"""A flow graph of another tool's nodes, and the walk that writes it as structured wf.

n8n and Dify store a workflow as nodes and edges; wf has blocks. The walk follows the
edges from a start node and, at a node with several outgoing paths, writes one block per
path down to where they meet again: the nearest node every path from it reaches (its
immediate post-dominator), where the walk goes on. A path that reaches no such node ends
the workflow there. Loops come from the source's loop nodes; any other edge back to an
earlier node is dropped with a warning, since wf has no `goto`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._output import Names

EXIT = "\0exit"  # the virtual node after every end of the flow


@dataclass(slots=True)
class Node:
    key: str  # the source's id for the node
    name: str  # the name its author gave it
    kind: str  # the source's node type
    params: dict[str, Any]
    var: str = ""  # the wf variable that holds its output where it is being written
    home: str = ""  # its variable outside every loop


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    port: str  # which output of the source: "0", "true", a case id
    target: str


@dataclass(frozen=True, slots=True)
class Plain:
    """Statements, then on to every successor; `output` is what the node passes on."""

    lines: tuple[str, ...]
    output: str | None = None
    ends: bool = False  # the node returns: nothing after it runs


@dataclass(frozen=True, slots=True)
class Branch:
    """One arm per `(condition, port)`; a `None` condition is the `else`."""

    lines: tuple[str, ...]
    arms: tuple[tuple[str | None, str], ...]


@dataclass(frozen=True, slots=True)
class Loop:
    """`out = for item in items { body from the node's `body_port`; yield ... }`."""

    items: str
    item: str
    body_port: str
    result: str  # the variable that collects what the items yield
    yielded: Callable[[str], str | None]  # from the body's last value, what to yield
    after_port: str | None  # the port that carries on once every item is done
    parallel: int = 0  # run up to this many items at once (0: one after another)


Emitted = Plain | Branch | Loop


class Translator:
    """What one source's node types mean in wf; the walk asks it node by node.

    A subclass sets `warnings` (what it reports) and `var_names` (the names it uses)."""

    implicit_input = False  # does a node read what the previous one passed on?
    warnings: list[str]
    var_names: Names

    def emit(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        """`node`'s statements; `returns`: whether ending the workflow there is allowed."""
        raise NotImplementedError

    def ending(self, last_var: str | None) -> str | None:
        """The statement that ends the workflow at the end of a path, or None."""
        return f"return {last_var}" if last_var else None

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def fresh(self, text: str) -> str:
        """A new variable name, unlike every other the import writes."""
        return self.var_names.fresh(text)

    def save(self) -> object:
        """What `restore` needs to forget the variables a loop's body sets: they are the
        item's own, unseen after the loop."""
        return None

    def restore(self, saved: object, loop: Node, result: str) -> None:
        """Back to what `save` gave, after `loop`'s body; its results are in `result`."""


@dataclass
class Graph:
    nodes: dict[str, Node]
    edges: list[Edge]
    loop_kinds: frozenset[str] = frozenset()  # node types whose back edges close a loop
    body_ports: dict[str, str] = field(default_factory=dict)  # loop node type -> its body's port
    dropped: list[Edge] = field(default_factory=list)

    def outgoing(self, key: str) -> list[Edge]:
        return [edge for edge in self.edges if edge.source == key]

    def targets(self, key: str, port: str) -> list[str]:
        return [edge.target for edge in self.edges if edge.source == key and edge.port == port]


def loop_end(key: str) -> str:
    """The node an edge back into loop node `key` leads to: the end of one item's body."""
    return f"\0end:{key}"


def cut_back_edges(graph: Graph, roots: Iterable[str]) -> None:
    """Make the graph acyclic: an edge back into a loop node ends that loop's body; any
    other edge back to a node already on the path is dropped (and reported)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    kept: list[Edge] = []
    by_source: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        by_source.setdefault(edge.source, []).append(edge)

    def visit(key: str) -> None:
        state[key] = 1
        for edge in by_source.get(key, []):
            if state.get(edge.target) == 1:
                if graph.nodes[edge.target].kind in graph.loop_kinds:
                    kept.append(Edge(edge.source, edge.port, loop_end(edge.target)))
                else:
                    graph.dropped.append(edge)
                continue
            kept.append(edge)
            if edge.target not in state:
                visit(edge.target)
        state[key] = 2

    for root in roots:
        if root not in state:
            visit(root)
    graph.edges = kept


class Walk:
    """Writes the statements of a graph made acyclic by `cut_back_edges`.

    `returns` says whether a path that ends there ends the workflow: not inside a loop's
    body (the item is done) nor in a fan-out arm before the last (the next arm runs).
    """

    def __init__(self, graph: Graph, translator: Translator, ports: Callable[[Node], list[str]]) -> None:
        self.graph = graph
        self.translator = translator
        self.ports = ports  # every output a node has, connected or not
        self._post: dict[str, frozenset[str]] = {}
        self._loops: list[str] = []  # the loops whose bodies are being written, outermost first
        self._scoped: dict[tuple[str, ...], str] = {}
        self._claimed: set[str] = set()
        for node in graph.nodes.values():
            node.home = node.home or node.var

    def block(self, start: str | None, input_var: str | None, stop: str = EXIT, returns: bool = True) -> Path:
        """The statements from `start` up to (not including) `stop`."""
        path = Path([], input_var)
        key = start
        while key is not None and key != stop and not key.startswith("\0"):
            key = self._step(self.graph.nodes[key], path, returns)
        if key is not None and (key == stop or key.startswith("\0")):
            path.reached = True
        elif returns and not path.returned:
            path.lines.append(self.translator.ending(path.last) or "return")
            path.returned = True
        return path

    def _step(self, node: Node, path: Path, returns: bool) -> str | None:
        node.var = self._scoped_var(node.key, node.home, fixed=node.home)
        emitted = self.translator.emit(node, path.last, returns)
        if isinstance(emitted, Loop):
            return self._loop(node, emitted, path)
        path.lines.extend(emitted.lines)
        if isinstance(emitted, Branch):
            arms = [(condition, self._port_target(node, port)) for condition, port in emitted.arms]
            return self._arms(arms, node.key, path, returns, all_run=False)
        if emitted.output is not None:
            path.last = emitted.output
        if emitted.ends:
            path.returned = True
            return None
        targets = _unique(edge.target for edge in self.graph.outgoing(node.key))
        if len(targets) <= 1:
            return targets[0] if targets else None
        return self._arms([(None, target) for target in targets], node.key, path, returns, all_run=True)

    def _port_target(self, node: Node, port: str) -> str | None:
        targets = self.graph.targets(node.key, port)
        if len(targets) > 1:
            self.translator.warn(
                f"'{node.name}': output {port} goes to {len(targets)} nodes; wf follows the first"
            )
        return targets[0] if targets else None

    def _arms(
        self, arms: list[tuple[str | None, str | None]], key: str, path: Path, returns: bool, all_run: bool
    ) -> str | None:
        """Blocks for the paths out of `key`, up to where they meet again; on from there.
        `all_run`: each path runs in turn (a fan-out), else one is chosen (a branch)."""
        join = self.meeting_point(key)
        join_var = self._join_var(join)
        blocks = []
        for index, (condition, target) in enumerate(arms):
            arm_returns = returns and (not all_run or index == len(arms) - 1)
            if target is None:
                arm = Path([], path.last)
                if arm_returns:
                    arm.lines.append(self.translator.ending(path.last) or "return")
                    arm.returned = True
            else:
                arm = self.block(target, path.last, join, arm_returns)
            if arm.reached and join_var:
                arm.lines.append(f"{join_var} = {arm.last or 'null'}")
            blocks.append((condition, arm))
        if all_run:
            for _, arm in blocks:
                path.lines.extend(arm.lines)
        else:
            path.lines.extend(_if_chain(blocks))
        if join == EXIT:
            path.returned = returns
            return None
        if join_var:
            path.last = join_var
        return join

    def _join_var(self, join: str) -> str | None:
        if not self.translator.implicit_input or join == EXIT:
            return None
        ends_loop = join.startswith("\0end:")
        node = self.graph.nodes[join[5:] if ends_loop else join]
        return self._scoped_var(f"{join}\0join", f"{node.home} {'result' if ends_loop else 'input'}")

    def _scoped_var(self, key: str, base: str, fixed: str | None = None) -> str:
        """The variable for `key` in the loop bodies being written. A variable assigned in
        a loop's body belongs to the item, so what is written both in a body and outside
        it (or in two bodies) gets a name of its own in each; the first gets `fixed`."""
        scope = (key, *self._loops)
        if scope not in self._scoped:
            free = fixed is not None and fixed not in self._claimed
            self._scoped[scope] = fixed if free and fixed else self.translator.fresh(base)
            self._claimed.add(self._scoped[scope])
        return self._scoped[scope]

    def _loop(self, node: Node, loop: Loop, path: Path) -> str | None:
        head = self._port_target(node, loop.body_port)
        saved = self.translator.save()
        self._loops.append(node.key)
        try:
            body = self.block(head, loop.item, loop_end(node.key), returns=False)
            yielded = loop.yielded(body.last or "null")
        finally:
            self._loops.pop()
        self.translator.restore(saved, node, loop.result)
        opener = (
            f"parallel for {loop.item} in {loop.items} limit {loop.parallel}"
            if loop.parallel
            else f"for {loop.item} in {loop.items}"
        )
        lines = [f"{loop.result} = {opener} {{", *_indent(body.lines)]
        if yielded is not None:
            lines.append(f"    yield {yielded}")
        lines.append("}")
        path.lines.extend(lines)
        path.last = loop.result
        return self._port_target(node, loop.after_port) if loop.after_port is not None else None

    def meeting_point(self, key: str) -> str:
        """`key`'s immediate post-dominator: the nearest node all its paths go through."""
        after = self.post_dominators(key) - {key}
        return max(after, key=lambda other: len(self.post_dominators(other)))

    def post_dominators(self, key: str) -> frozenset[str]:
        found = self._post.get(key)
        if found is not None:
            return found
        if key == EXIT:
            found = frozenset([EXIT])
        elif key.startswith("\0"):
            found = frozenset([key, EXIT])
        else:
            node = self.graph.nodes[key]
            body = self.graph.body_ports.get(node.kind)  # a loop's body ends inside the loop
            successors = _unique(edge.target for edge in self.graph.outgoing(key) if edge.port != body)
            if not successors or any(not self.graph.targets(key, port) for port in self.ports(node)):
                successors.append(EXIT)
            found = frozenset.intersection(*(self.post_dominators(s) for s in successors)) | {key}
        self._post[key] = found
        return found


@dataclass
class Path:
    lines: list[str]
    last: str | None  # the value the last node passed on
    reached: bool = False  # the path got to its stop node
    returned: bool = False  # every way along it returns


def _if_chain(blocks: list[tuple[str | None, Path]]) -> list[str]:
    lines: list[str] = []
    conditional = [(condition, arm) for condition, arm in blocks if condition is not None]
    fallback = [arm for condition, arm in blocks if condition is None]
    for index, (condition, arm) in enumerate(conditional):
        opener = "if" if index == 0 else "} elif"
        lines.append(f"{opener} {condition} {{")
        lines.extend(_indent(arm.lines) or ["    # nothing to do"])
    if fallback and fallback[0].lines:
        lines.append("} else {" if conditional else "if true {")
        lines.extend(_indent(fallback[0].lines))
    if conditional or (fallback and fallback[0].lines):
        lines.append("}")
    return lines


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line if line else line for line in lines]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
