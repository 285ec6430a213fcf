"""The documentation is checked: error pages and README examples must be true."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ROOT
from wfc.api import analyze, compile_source
from wfc.diagnostics import CompileError

ERRORS = ROOT / "src" / "wfc" / "errors"
PAGES = sorted(ERRORS.glob("[EWH]*.md"))


def codes_in_source() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "wfc").rglob("*.py"):
        found.update(re.findall(r'"([EWH]\d{4})"', path.read_text(encoding="utf-8")))
    return found


def wf_blocks(text: str) -> list[str]:
    return re.findall(r"```wf\n(.*?)```", text, re.S)


def test_every_error_code_has_a_page() -> None:
    assert codes_in_source() <= {page.stem for page in PAGES}


# Codes of one compilation target: its examples are compiled for it.
TARGET_CODES = {"E0300": "temporal"}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.stem)
def test_error_page_examples(page: Path) -> None:
    failing, working = wf_blocks(page.read_text(encoding="utf-8"))
    if page.stem in TARGET_CODES:
        with pytest.raises(CompileError) as info:
            compile_source(failing, "example.wf", target=TARGET_CODES[page.stem])
        assert page.stem in {d.code for d in info.value.diagnostics}
        compile_source(working, "example.wf", target=TARGET_CODES[page.stem])
        return
    if page.stem.startswith(("W", "H")):  # warnings and hints
        assert page.stem in {d.code for d in analyze(failing, "example.wf").warnings}
    else:
        with pytest.raises(CompileError) as info:
            analyze(failing, "example.wf")
        assert page.stem in {d.code for d in info.value.diagnostics}
    assert page.stem not in {d.code for d in analyze(working, "example.wf").warnings}


def test_readme_examples_check() -> None:
    for block in wf_blocks((ROOT / "README.md").read_text(encoding="utf-8")):
        analyze(block, "readme.wf")
