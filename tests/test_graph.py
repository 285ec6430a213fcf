"""`wfc graph`: Mermaid and DOT diagrams of every construct."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES, require_tool
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
def test_dot_of_a_whole_file_is_one_graph_that_graphviz_renders_to_one_svg(example: Path) -> None:
    dot = require_tool("dot", "apt-get install graphviz")
    out = subprocess.run([sys.executable, "-m", "wfc", "graph", str(example), "--format", "dot"],
                         capture_output=True, text=True, check=True).stdout
    assert out.count("digraph ") == 1
    svg = subprocess.run([dot, "-Tsvg"], input=out, capture_output=True, text=True)
    assert svg.returncode == 0 and svg.stderr == "", svg.stderr
    assert svg.stdout.lstrip().startswith("<?xml") and svg.stdout.count("<svg") == 1
    drawn = graphs(example.read_text(encoding="utf-8"))
    compound_states = sum(len(graph.containers) for graph in drawn)  # a cluster each, too
    assert svg.stdout.count('class="cluster"') == (len(drawn) if len(drawn) > 1 else 0) + compound_states


@pytest.mark.parametrize("example", CASES, ids=lambda path: path.stem)
def test_mermaid_of_a_whole_file_is_one_diagram_with_unique_ids(example: Path) -> None:
    text = render(graphs(example.read_text(encoding="utf-8")), "mermaid", example.stem)
    lines = text.splitlines()
    headers = [line for line in lines if line in ("flowchart TD", "stateDiagram-v2")]
    assert headers == [lines[0]]
    opened = sum(1 for line in lines if line.lstrip().startswith("subgraph "))
    assert opened == sum(1 for line in lines if line.strip() == "end")
    ids = re.findall(r"^\s+(g\d+_\w+|n\d+)[\[{(\"]", text, re.M)
    assert len(ids) == len(set(ids))


def test_mixed_machines_and_workflows_make_one_flowchart() -> None:
    source = ("machine M() { initial a\n state a { on go -> b }\n final state b }\n"
              "workflow w() { return 1 }")
    text = render(graphs(source), "mermaid", "mixed")
    assert text.startswith("flowchart TD\n    subgraph g0[\"machine M\"]")
    assert 'g0_start((" ")) --> g0_n0' in text and 'g0_n1 --> g0_end0((("done")))' in text
    machines = render(graphs(source.replace("workflow w() { return 1 }", "machine N() { initial x\n final state x }")),
                      "mermaid")
    assert machines.startswith('stateDiagram-v2\n    state "M" as g0 {') and "g1_n0 --> [*]" in machines


def test_graph_output_folder_writes_one_file_per_declaration_and_keeps_other_files(tmp_path) -> None:
    def wfc(*args):
        return subprocess.run([sys.executable, "-m", "wfc", "graph", *args], capture_output=True, text=True)

    folder = tmp_path / "diagrams"
    result = wfc(str(EXAMPLES / "support.wf"), "--format", "dot", "-o", str(folder))
    assert result.returncode == 0, result.stderr
    names = sorted(path.name for path in folder.iterdir())
    assert names == sorted(f"{g.name}.dot" for g in graphs((EXAMPLES / "support.wf").read_text()))
    assert (folder / "triage.dot").read_text().startswith("// @generated by wfc")
    assert wfc(str(EXAMPLES / "support.wf"), "--format", "dot", "-o", str(folder)).returncode == 0
    (folder / "triage.dot").write_text("mine", encoding="utf-8")
    refused = wfc(str(EXAMPLES / "support.wf"), "--format", "dot", "-o", str(folder))
    assert refused.returncode == 2 and "was not generated by wfc" in refused.stderr
    assert (folder / "triage.dot").read_text() == "mine"


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


def test_a_dataflow_block_is_drawn_as_its_dag() -> None:
    checked = analyze((EXAMPLES / "pipeline_dag.wf").read_text(), "pipeline_dag.wf")
    text = render(build(checked.module, "release", checked.resolution.branch_deps), "mermaid")
    ids = {label.strip('"').split("=")[0].strip(): node for node, label in
           (line.strip().split("[", 1) for line in text.splitlines() if '["' in line)}
    edges = {tuple(line.strip().split(" --> ")) for line in text.splitlines() if " --> " in line}
    node = {name: ids[name] for name in ("source", "artifact", "tested", "docs", "published")}
    # build and docs after the checkout; test after the build; publish after build, test and docs
    for before, after in [("source", "artifact"), ("source", "docs"), ("artifact", "tested"),
                          ("artifact", "published"), ("tested", "published"), ("docs", "published")]:
        assert (node[before], node[after]) in edges, (before, after)
    assert (node["source"], node["tested"]) not in edges
    plain = render(build(checked.module, "release"), "mermaid")  # without the checker's facts:
    assert plain.count("n1 --> ") == 5  # every branch from the fork


CHART = """
use api

machine Light() {
    initial green
    state green {
        on TIMER -> red
        after 1m -> red
    }
    state red {
        initial walk
        state walk {
            on PED -> waiting
        }
        state waiting {
            invoke api.wait_for_button() {
                done -> walk
            }
        }
        history h
        on TIMER -> green
    }
    parallel state night {
        region cars {
            state blink
        }
        region walkers {
            state dark
        }
        on DAY -> red.h
    }
}
"""


def test_a_statechart_is_drawn_as_nested_blocks_in_mermaid() -> None:
    text = render(graphs(CHART), "mermaid")
    assert 'state "red" as n1 {\n        [*] --> n2\n        state "walk" as n2\n' in text
    assert 'state "H" as n4' in text
    night = text[text.index('state "night" as n5 {'):]
    assert night.splitlines()[1:6] == [
        '        state "cars" as n6 {', '            [*] --> n7', '            state "blink" as n7', '        }', '        --']
    assert "n0 --> n1 : after 1m" in text and "n3 --> n2 : done of api.wait_for_button()" in text
    assert "n5 --> n4 : DAY" in text  # to red's history state


def test_a_statechart_is_drawn_as_clusters_in_dot_and_graphviz_renders_it(tmp_path) -> None:
    dot = render(graphs(CHART), "dot")
    assert "compound=true;" in dot and "subgraph cluster_n1 {" in dot and "subgraph cluster_n5 {" in dot
    assert 'label="night (parallel)";' in dot and dot.count("style=dashed;") == 2
    assert 'n0 -> n1 [label="TIMER", lhead=cluster_n1];' in dot
    assert 'n1 -> n0 [label="TIMER", ltail=cluster_n1];' in dot
    assert 'n4 [label="H", shape=circle];' in dot
    tool = require_tool("dot", "apt-get install graphviz")
    svg = subprocess.run([tool, "-Tsvg"], input=dot, capture_output=True, text=True)
    assert svg.returncode == 0 and svg.stderr == "", svg.stderr
    assert svg.stdout.count('class="cluster"') == 4  # red, night and its two regions
