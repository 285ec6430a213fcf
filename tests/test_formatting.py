"""The generated module's formatting: black's bytes, by ruff where it is installed.

codegen/formatting.py lets ruff format only because these tests prove the result
byte-identical to black's on what wfc generates; the random programs of
tests/properties/test_fuzz.py prove it again on every run of the slow tier (they
found the one difference known: black 24+ lays out conditional expressions its own
way, so definitions holding one are formatted by black).
"""

from __future__ import annotations

import os
import sys

import black
import pytest

from conftest import EXAMPLES, ROOT
from wfc.api import _generate as generate
from wfc.api import analyze, compile_source
from wfc.codegen import formatting

sys.path.insert(0, str(ROOT / "bench"))
from scale_source import make_source  # noqa: E402

MODE = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)
SOURCES = {path.name: path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.wf"))}
SOURCES["scale_300.wf"] = make_source(300)


def raw_module(source: str, name: str = "same.wf") -> str:
    """The generated module before formatting."""
    return generate(analyze(source, name), formatted=False)


@pytest.fixture(autouse=True)
def ruff_is_installed() -> None:
    if formatting.ruff_binary() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ruff is missing: the test extra installs it")
        pytest.skip("ruff is not installed (pip install -e '.[test]')")


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_formatting_is_black_byte_for_byte(name: str) -> None:
    raw = raw_module(SOURCES[name], name)
    assert formatting.format_python(raw) == black.format_str(raw, mode=MODE)


CONDITIONAL = """
workflow short(a) {
    return [a ?? 0]
}

workflow long(a) {
    return [a.some_rather_long_field_name ?? a.another_rather_long_field_name ?? "a default value"]
}

router pick(a) weighted {
    route one when a > 1 weight 3 -> 1
    route two weight 1 -> 2
}
"""


def test_definitions_with_conditional_expressions_are_formatted_by_black() -> None:
    """Plain ruff lays these out unlike black (a lone list item, a split conditional):
    format_python hands exactly those definitions to black."""
    raw = raw_module(CONDITIONAL, "conditional.wf")
    expected = black.format_str(raw, mode=MODE)
    assert formatting.format_with_ruff(raw) != expected  # the difference is real
    assert formatting.format_python(raw) == expected
    chunks = formatting.top_level_chunks(raw)
    assert [formatting.has_conditional_expression(chunk) for chunk in chunks[1:4]] == [True, True, True]
    assert not formatting.has_conditional_expression(chunks[0])


def test_a_long_condition_deep_in_blocks_is_formatted_by_black() -> None:
    """ruff splits `if a or f(x):` inside the call's brackets where black wraps the
    condition in parentheses (found by the random-program property)."""
    deep = "".join(f"{'    ' * n}if x{n}:\n" for n in range(1, 9))
    raw = (
        "async def f(x1, x2, x3, x4, x5, x6, x7, x8, u0, _wf_coroutine, _wf):\n" + deep
        + "    " * 9 + "if u0.__class__ is _wf_coroutine or _wf.isawaitable(u0):\n"
        + "    " * 10 + "u0 = await u0\n"
    )
    expected = black.format_str(raw, mode=MODE)
    assert formatting.format_with_ruff(raw) != expected  # the difference is real
    assert formatting.format_python(raw) == expected


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_black_per_definition_equals_black_on_the_whole_module(name: str) -> None:
    """format_with_black formats each top-level definition alone: the text must be
    byte for byte what black makes of the whole module."""
    raw = raw_module(SOURCES[name], name)
    assert len(formatting.top_level_chunks(raw)) > 1
    assert formatting.format_with_black(raw) == black.format_str(raw, mode=MODE)


@pytest.mark.slow
def test_a_large_module_is_formatted_as_black_formats_it() -> None:
    raw = raw_module(make_source(10_000))
    assert formatting.format_python(raw) == formatting.format_with_black(raw)


def test_black_is_used_without_ruff_or_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    source = SOURCES["order_saga.wf"]
    expected = compile_source(source, "order_saga.wf")
    calls: list[str] = []
    original = formatting.format_with_black

    def counted(text: str) -> str:
        calls.append("black")
        return original(text)

    monkeypatch.setattr(formatting, "format_with_black", counted)
    monkeypatch.setenv("WFC_FORMATTER", "black")
    assert compile_source(source, "order_saga.wf") == expected
    assert calls == ["black"]
    monkeypatch.delenv("WFC_FORMATTER")
    monkeypatch.setattr(formatting, "ruff_binary", lambda: None)
    assert compile_source(source, "order_saga.wf") == expected
    assert calls == ["black", "black"]


def test_a_failing_ruff_falls_back_to_black(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """A ruff that exits with an error (or cannot run) never leaves the text unformatted."""
    failing = tmp_path / "ruff"
    failing.write_text("#!/bin/sh\nexit 2\n")
    failing.chmod(0o755)
    source = SOURCES["order_saga.wf"]
    expected = compile_source(source, "order_saga.wf")
    monkeypatch.setattr(formatting, "ruff_binary", lambda: str(failing))
    assert compile_source(source, "order_saga.wf") == expected
    monkeypatch.setattr(formatting, "ruff_binary", lambda: str(tmp_path / "missing"))
    assert compile_source(source, "order_saga.wf") == expected


def test_a_line_too_long_for_any_layout_is_formatted_by_black() -> None:
    """Deep in nested blocks, `x = await x` cannot fit: black wraps the value in
    parentheses, ruff leaves the line long (found by the random-program property)."""
    deep = "".join(f"{'    ' * n}if x{n}:\n" for n in range(1, 21))
    raw = ("async def f(" + ", ".join(f"x{n}" for n in range(1, 21)) + ", _wf_r20_long_name):\n" + deep
           + "    " * 21 + "_wf_r20_long_name = await _wf_r20_long_name\n")
    expected = black.format_str(raw, mode=MODE)
    assert formatting.format_with_ruff(raw) != expected  # the difference is real
    assert formatting.format_python(raw) == expected
