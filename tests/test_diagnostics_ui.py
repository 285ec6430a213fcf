"""Diagnostic UI tests, as rustc's: `#~ CODE` marks the line each diagnostic is on, and
`NAME.stderr` is the rendered output, compared byte for byte (`--update-golden` rewrites it)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT
from wfc.api import analyze
from wfc.diagnostics import CompileError, render_text

CASES = sorted((ROOT / "tests" / "diagnostics").glob("*.wf"))


def expected_markers(source: str) -> list[tuple[int, str]]:
    return [(number, code) for number, line in enumerate(source.splitlines(), 1)
            for code in re.findall(r"#~ ([EW]\d{4})", line)]


@pytest.mark.parametrize("case", CASES, ids=lambda path: path.stem)
def test_diagnostics_match_markers_and_snapshot(case: Path, update_golden: bool) -> None:
    source = case.read_text(encoding="utf-8")
    try:
        diagnostics = list(analyze(source, case.name).warnings)
    except CompileError as error:
        diagnostics = error.diagnostics
    found = sorted((d.line, d.code) for d in diagnostics)
    assert found == sorted(expected_markers(source))
    rendered = render_text(diagnostics, source, case.name)
    snapshot = case.with_suffix(".stderr")
    if update_golden:
        snapshot.write_text(rendered, encoding="utf-8")
    assert rendered == snapshot.read_text(encoding="utf-8")


def test_labels_and_notes_are_data_in_json() -> None:
    import json

    from wfc.diagnostics import render_json

    source = "router r(x) {\n    route a -> 1\n    route b when x -> 2\n}\n"
    try:
        analyze(source, "r.wf")
    except CompileError as error:
        found = error.diagnostics
    [shown] = json.loads(render_json(found, "r.wf"))
    assert shown["code"] == "E0146"
    assert shown["labels"] == [{"line": 2, "column": 5, "end_line": 2, "end_column": 17, "message": "tried first"}]
    assert shown["notes"] == ["route 'a' before it takes every input it matches (x = true goes to 'a')"]
