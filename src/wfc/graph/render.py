"""Graph -> Mermaid (`flowchart` / `stateDiagram-v2`) or Graphviz DOT text.

One declaration is drawn as a diagram of its own. Several make one document:
in DOT a cluster per declaration; in Mermaid a composite state per machine
when all are machines, else a flowchart with a subgraph per declaration (a
machine drawn as a flowchart there). Node ids are prefixed per declaration,
so they never collide.
"""

from __future__ import annotations

from .model import Graph

_MERMAID_SHAPES = {
    "box": '["{}"]',
    "decision": '{{"{}"}}',
    "round": '("{}")',
    "start": '(["{}"])',
    "end": '(["{}"])',
}
_DOT_SHAPES = {"box": "box", "decision": "diamond", "round": "ellipse", "start": "oval", "end": "oval"}
_INDENT = "    "


def render(graphs: list[Graph], fmt: str, title: str = "wf") -> str:
    """One document drawing `graphs` (`title` names it when there are several)."""
    if fmt == "dot":
        return dot(graphs[0]) if len(graphs) == 1 else dot_document(graphs, title)
    return mermaid(graphs[0]) if len(graphs) == 1 else mermaid_document(graphs)


_MERMAID_ESCAPES = str.maketrans({"#": "#35;", '"': "#quot;", ";": "#59;", "\n": " ", "\r": " "})


def mermaid_text(text: str) -> str:
    """Label text safe inside a Mermaid quoted label: entity codes, one line, one pass."""
    return text.translate(_MERMAID_ESCAPES)


def mermaid(graph: Graph) -> str:
    if graph.kind == "state":
        return "\n".join(["stateDiagram-v2", *_mermaid_states(graph, "", _INDENT)]) + "\n"
    return "\n".join(["flowchart TD", *_mermaid_flow(graph, "", _INDENT)]) + "\n"


def mermaid_document(graphs: list[Graph]) -> str:
    if all(graph.kind == "state" for graph in graphs):
        lines = ["stateDiagram-v2"]
        for number, graph in enumerate(graphs):
            lines.append(f'{_INDENT}state "{mermaid_text(graph.name)}" as g{number} {{')
            lines += _mermaid_states(graph, f"g{number}_", _INDENT * 2)
            lines.append(f"{_INDENT}}}")
        return "\n".join(lines) + "\n"
    lines = ["flowchart TD"]
    for number, graph in enumerate(graphs):
        lines.append(f'{_INDENT}subgraph g{number}["{mermaid_text(_title(graph))}"]')
        draw = _mermaid_flow if graph.kind == "flow" else _mermaid_machine_flow
        lines += draw(graph, f"g{number}_", _INDENT * 2)
        lines.append(f"{_INDENT}end")
    return "\n".join(lines) + "\n"


def _mermaid_states(graph: Graph, prefix: str, pad: str) -> list[str]:
    lines = [f'{pad}state "{mermaid_text(n.label)}" as {prefix}{n.id}' for n in graph.nodes]
    if graph.initial:
        lines.append(f"{pad}[*] --> {prefix}{graph.initial}")
    for e in graph.edges:
        label = f" : {mermaid_text(e.label)}" if e.label else ""
        lines.append(f"{pad}{prefix}{e.source} --> {prefix}{e.target}{label}")
    lines += [f"{pad}{prefix}{final} --> [*]" for final in graph.finals]
    return lines


def _mermaid_flow(graph: Graph, prefix: str, pad: str) -> list[str]:
    lines = [
        f"{pad}{prefix}{n.id}{_MERMAID_SHAPES[n.shape].format(mermaid_text(n.label))}" for n in graph.nodes
    ]
    for e in graph.edges:
        arrow = "-.->" if e.dashed else "-->"
        label = f'|"{mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"{pad}{prefix}{e.source} {arrow}{label} {prefix}{e.target}")
    return lines


def _mermaid_machine_flow(graph: Graph, prefix: str, pad: str) -> list[str]:
    """A machine inside a flowchart: states as rounded nodes, start and end as circles."""
    lines = _mermaid_flow(graph, prefix, pad)
    if graph.initial:
        lines.append(f'{pad}{prefix}start((" ")) --> {prefix}{graph.initial}')
    lines += [
        f'{pad}{prefix}{final} --> {prefix}end{number}((("done")))'
        for number, final in enumerate(graph.finals)
    ]
    return lines


def _title(graph: Graph) -> str:
    return f"machine {graph.name}" if graph.kind == "state" else graph.name


def dot_text(text: str) -> str:
    """A DOT string literal."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{out}"'


def dot(graph: Graph) -> str:
    lines = [f"digraph {dot_text(graph.name)} {{", f'{_INDENT}node [fontname="Helvetica"];']
    lines += _dot_body(graph, "", _INDENT)
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_document(graphs: list[Graph], title: str) -> str:
    lines = [f"digraph {dot_text(title)} {{", f'{_INDENT}node [fontname="Helvetica"];']
    for number, graph in enumerate(graphs):
        lines.append(f"{_INDENT}subgraph cluster_{number} {{")
        lines.append(f"{_INDENT * 2}label={dot_text(_title(graph))};")
        lines += _dot_body(graph, f"g{number}_", _INDENT * 2)
        lines.append(f"{_INDENT}}}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_body(graph: Graph, prefix: str, pad: str) -> list[str]:
    lines = []
    for n in graph.nodes:
        shape = _DOT_SHAPES[n.shape]
        if graph.kind == "state":
            shape = "doublecircle" if n.id in graph.finals else "ellipse"
        lines.append(f"{pad}{prefix}{n.id} [label={dot_text(n.label)}, shape={shape}];")
    if graph.kind == "state" and graph.initial:
        lines.append(f'{pad}{prefix}start [label="", shape=point];')
        lines.append(f"{pad}{prefix}start -> {prefix}{graph.initial};")
    for e in graph.edges:
        attrs = [f"label={dot_text(e.label)}"] if e.label else []
        if e.dashed:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"{pad}{prefix}{e.source} -> {prefix}{e.target}{suffix};")
    return lines
