"""`wfc graph`: Mermaid and DOT diagrams of every construct."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES
from wfc.api import analyze
from wfc.graph import build, render

CASES = sorted(EXAMPLES.glob("*.wf"))


def graphs(source: str, name: str | None = None):
    return build(analyze(source, "g.wf").module, name)


def test_machine_is_a_state_diagram() -> None:
    text = render(graphs((EXAMPLES / "order_machine.wf").read_text(), "Order"), "mermaid")
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    assert '    state "created" as n0' in lines and "    [*] --> n0" in lines
    assert "    n1 --> n2 : process [ctx.payment_verified]" in lines
    assert "    n2 --> n3 : ship / notify.shipped(order_id, ctx.tracking_number)" in lines
    assert "    n5 --> [*]" in lines and "    n6 --> [*]" in lines  # cancelled, refunded


def test_router_is_a_decision_diagram_with_priorities_and_default() -> None:
    text = render(graphs((EXAMPLES / "support.wf").read_text(), "complaints"), "mermaid")
    assert text.startswith("flowchart TD\n    n0{\"router complaints(ticket) first\"}")
    assert '|"urgent: (ticket.severity ?? 0) >= 8 (priority 10)"|' in text
    assert '-.->|"default"|' in text


def test_saga_shows_compensation_edges() -> None:
    text = render(graphs((EXAMPLES / "order_saga.wf").read_text()), "mermaid")
    assert text.count('-.->|"on failure"|') == 4
    assert '("compensate shop.cancel_order(order.order_id)")' in text


def test_workflow_flowchart_has_stages_branches_loops_and_parallel_blocks() -> None:
    source = ("use h\nworkflow w(xs) {\n stage s when xs { a = 1 }\n if a > 1 { b = 2 } else { b = 3 }\n"
              " for x in xs { h.f(x) }\n parallel { c = h.f(1)\n d = h.f(2) }\n"
              " try { h.g() } catch ValueError { e = 1 }\n return b\n}")
    text = render(graphs(source), "mermaid")
    for fragment in ['{"stage s when xs"}', '{"a > 1"}', '-->|"no"|', '{"for x in xs"}',
                     '-.->|"next"|', '{"parallel"}', '("join")', '-.->|"error"|',
                     '("catch ValueError")', '(["return b"])']:
        assert fragment in text, fragment


def test_labels_are_escaped() -> None:
    source = 'router r(x) {\n route q when x == "a\\"b{c}#;é" -> "ü"\n default -> {k: "v"}\n}'
    mermaid = render(graphs(source), "mermaid")
    assert '|"q: x == #quot;a\\#quot;b{c}#35;#59;é#quot;"|' in mermaid
    dot = render(graphs(source), "dot")
    assert 'label="q: x == \\"a\\\\\\"b{c}#;é\\""' in dot


@pytest.mark.parametrize("example", CASES, ids=lambda path: path.stem)
def test_dot_renders_to_svg_with_graphviz(example: Path, tmp_path) -> None:
    assert shutil.which("dot"), "Graphviz is installed by .ci/run"
    out = subprocess.run([sys.executable, "-m", "wfc", "graph", str(example), "--format", "dot"],
                         capture_output=True, text=True, check=True).stdout
    for number, graph in enumerate(out.split("digraph ")[1:]):
        svg = subprocess.run(["dot", "-Tsvg"], input="digraph " + graph, capture_output=True, text=True)
        assert svg.returncode == 0, svg.stderr
        assert svg.stdout.lstrip().startswith("<?xml") and "<svg" in svg.stdout


def test_cli_graph_errors(tmp_path) -> None:
    def wfc(*args):
        return subprocess.run([sys.executable, "-m", "wfc", *args], capture_output=True, text=True)

    assert wfc("graph", str(EXAMPLES / "summary.wf"), "nope").returncode == 2
    bad = tmp_path / "bad.wf"
    bad.write_text("workflow w( {", encoding="utf-8")
    assert wfc("graph", str(bad)).returncode == 1
    assert wfc("graph", str(EXAMPLES / "order_machine.wf"), "Order").stdout.startswith("stateDiagram-v2")


def test_a_docstring_is_not_a_step() -> None:
    text = render(graphs('use h\nworkflow w(x) {\n "Explain w."\n y = h.f(x)\n return y\n}'), "mermaid")
    assert "Explain w." not in text
    assert '["y = h.f(x)"]' in text
