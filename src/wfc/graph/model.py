"""A small graph model that both renderers (Mermaid and DOT) draw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class GraphNode:
    id: str
    label: str
    shape: str = "box"  # box, decision, round, start, end
    parent: str | None = None  # in a state diagram: the compound or parallel state around it


@dataclass(slots=True)
class GraphEdge:
    source: str
    target: str
    label: str = ""
    dashed: bool = False


@dataclass(slots=True)
class Graph:
    name: str
    kind: str  # "flow" or "state"
    nodes: list[GraphNode] = field(default_factory=list)
    edges: list[GraphEdge] = field(default_factory=list)
    initial: str | None = None  # state diagrams
    finals: list[str] = field(default_factory=list)
    # A statechart's compound states: node -> "compound" or "parallel", and the
    # child each compound state starts in.
    containers: dict[str, str] = field(default_factory=dict)
    inner_initials: dict[str, str] = field(default_factory=dict)

    def node(self, label: str, shape: str = "box", parent: str | None = None) -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(GraphNode(node_id, label, shape, parent))
        return node_id

    def children(self, parent: str | None) -> list[GraphNode]:
        return [node for node in self.nodes if node.parent == parent]

    def connect(self, sources: list[str], target: str, label: str = "", dashed: bool = False) -> None:
        for source in sources:
            self.edges.append(GraphEdge(source, target, label, dashed))
            label = ""  # label the first edge only
