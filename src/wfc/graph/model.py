"""A small graph model that both renderers (Mermaid and DOT) draw."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class GraphNode:
    id: str
    label: str
    shape: str = "box"  # box, decision, round, start, end


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

    def node(self, label: str, shape: str = "box") -> str:
        node_id = f"n{len(self.nodes)}"
        self.nodes.append(GraphNode(node_id, label, shape))
        return node_id

    def connect(self, sources: list[str], target: str, label: str = "", dashed: bool = False) -> None:
        for source in sources:
            self.edges.append(GraphEdge(source, target, label, dashed))
            label = ""  # label the first edge only
