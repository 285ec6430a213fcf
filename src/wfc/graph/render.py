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
    "history": '(("{}"))',
}
_DOT_SHAPES = {
    "box": "box",
    "decision": "diamond",
    "round": "ellipse",
    "start": "oval",
    "end": "oval",
    "history": "circle",
}
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
    lines = _mermaid_nested(graph, None, prefix, pad)
    if graph.initial:
        lines.append(f"{pad}[*] --> {prefix}{graph.initial}")
    for e in graph.edges:
        label = f" : {mermaid_text(e.label)}" if e.label else ""
        lines.append(f"{pad}{prefix}{e.source} --> {prefix}{e.target}{label}")
    outer = {n.id for n in graph.children(None)}
    lines += [f"{pad}{prefix}{final} --> [*]" for final in graph.finals if final in outer]
    return lines


def _mermaid_nested(graph: Graph, parent: str | None, prefix: str, pad: str) -> list[str]:
    """The states inside `parent`: a compound state as a `state X { }` block with its
    own start and ends, a parallel state's regions separated by `--`."""
    lines: list[str] = []
    for number, n in enumerate(graph.children(parent)):
        if parent is not None and graph.containers.get(parent) == "parallel" and number:
            lines.append(f"{pad}--")
        head = f'{pad}state "{mermaid_text(n.label)}" as {prefix}{n.id}'
        if n.id not in graph.containers:
            lines.append(head)
            continue
        lines.append(head + " {")
        inner = pad + _INDENT
        if n.id in graph.inner_initials:
            lines.append(f"{inner}[*] --> {prefix}{graph.inner_initials[n.id]}")
        lines += _mermaid_nested(graph, n.id, prefix, inner)
        lines += [
            f"{inner}{prefix}{child.id} --> [*]" for child in graph.children(n.id) if child.id in graph.finals
        ]
        lines.append(f"{pad}}}")
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
    if graph.containers:
        lines.append(f"{pad}compound=true;")
    lines += _dot_nodes(graph, None, prefix, pad)
    if graph.kind == "state" and graph.initial:
        lines.append(f'{pad}{prefix}start [label="", shape=point];')
        lines.append(f"{pad}{prefix}start -> {prefix}{_dot_end(graph, graph.initial, prefix)[0]};")
    for e in graph.edges:
        source, tail = _dot_end(graph, e.source, prefix)
        target, head = _dot_end(graph, e.target, prefix)
        attrs = [f"label={dot_text(e.label)}"] if e.label else []
        if e.dashed:
            attrs.append("style=dashed")
        attrs += [f"ltail={tail}"] if tail and e.source != e.target else []
        attrs += [f"lhead={head}"] if head and e.source != e.target else []
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"{pad}{prefix}{source} -> {prefix}{target}{suffix};")
    return lines


def _dot_nodes(graph: Graph, parent: str | None, prefix: str, pad: str) -> list[str]:
    """Nodes, and a cluster per compound or parallel state (a region of a parallel
    state is a dashed cluster), with a point inside that its edges attach to."""
    lines = []
    for n in graph.children(parent):
        if n.id in graph.containers:
            kind = graph.containers[n.id]
            label = f"{n.label} (parallel)" if kind == "parallel" else n.label
            lines.append(f"{pad}subgraph cluster_{prefix}{n.id} {{")
            lines.append(f"{pad}{_INDENT}label={dot_text(label)};")
            if parent is not None and graph.containers.get(parent) == "parallel":
                lines.append(f"{pad}{_INDENT}style=dashed;")
            lines.append(f'{pad}{_INDENT}{prefix}{n.id} [label="", shape=point];')
            if n.id in graph.inner_initials:
                first = _dot_end(graph, graph.inner_initials[n.id], prefix)[0]
                lines.append(f"{pad}{_INDENT}{prefix}{n.id} -> {prefix}{first};")
            lines += _dot_nodes(graph, n.id, prefix, pad + _INDENT)
            lines.append(f"{pad}}}")
            continue
        shape = _DOT_SHAPES[n.shape]
        if graph.kind == "state" and n.shape != "history":
            shape = "doublecircle" if n.id in graph.finals else "ellipse"
        lines.append(f"{pad}{prefix}{n.id} [label={dot_text(n.label)}, shape={shape}];")
    return lines


def _dot_end(graph: Graph, node: str, prefix: str) -> tuple[str, str | None]:
    """Where an edge attaches: a compound state's point, clipped at its cluster."""
    if node in graph.containers:
        return node, f"cluster_{prefix}{node}"
    return node, None
