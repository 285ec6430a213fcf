"""Graph -> Mermaid (`flowchart` / `stateDiagram-v2`) or Graphviz DOT text."""

from __future__ import annotations

from .model import Graph

_MERMAID_SHAPES = {"box": '["{}"]', "decision": '{{"{}"}}', "round": '("{}")',
                   "start": '(["{}"])', "end": '(["{}"])'}
_DOT_SHAPES = {"box": "box", "decision": "diamond", "round": "ellipse", "start": "oval", "end": "oval"}


def render(graphs: list[Graph], fmt: str) -> str:
    return "\n".join(mermaid(g) if fmt == "mermaid" else dot(g) for g in graphs)


_MERMAID_ESCAPES = str.maketrans({"#": "#35;", '"': "#quot;", ";": "#59;", "\n": " ", "\r": " "})


def mermaid_text(text: str) -> str:
    """Label text safe inside a Mermaid quoted label: entity codes, one line, one pass."""
    return text.translate(_MERMAID_ESCAPES)


def mermaid(graph: Graph) -> str:
    if graph.kind == "state":
        lines = ["stateDiagram-v2"]
        lines += [f'    state "{mermaid_text(n.label)}" as {n.id}' for n in graph.nodes]
        if graph.initial:
            lines.append(f"    [*] --> {graph.initial}")
        for e in graph.edges:
            label = f" : {mermaid_text(e.label)}" if e.label else ""
            lines.append(f"    {e.source} --> {e.target}{label}")
        lines += [f"    {final} --> [*]" for final in graph.finals]
        return "\n".join(lines) + "\n"
    lines = ["flowchart TD"]
    lines += [f"    {n.id}{_MERMAID_SHAPES[n.shape].format(mermaid_text(n.label))}" for n in graph.nodes]
    for e in graph.edges:
        arrow = "-.->" if e.dashed else "-->"
        label = f'|"{mermaid_text(e.label)}"|' if e.label else ""
        lines.append(f"    {e.source} {arrow}{label} {e.target}")
    return "\n".join(lines) + "\n"


def dot_text(text: str) -> str:
    """A DOT string literal."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{out}"'


def dot(graph: Graph) -> str:
    lines = [f"digraph {dot_text(graph.name)} {{", '    node [fontname="Helvetica"];']
    for n in graph.nodes:
        shape = _DOT_SHAPES[n.shape]
        if graph.kind == "state":
            shape = "doublecircle" if n.id in graph.finals else "ellipse"
        lines.append(f"    {n.id} [label={dot_text(n.label)}, shape={shape}];")
    if graph.kind == "state" and graph.initial:
        lines.append('    start [label="", shape=point];')
        lines.append(f"    start -> {graph.initial};")
    for e in graph.edges:
        attrs = [f"label={dot_text(e.label)}"] if e.label else []
        if e.dashed:
            attrs.append("style=dashed")
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"    {e.source} -> {e.target}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"
