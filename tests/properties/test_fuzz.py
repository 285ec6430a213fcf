"""Robustness: any input ends in diagnostics or a successful compile, never a crash."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import wfc
from wfc.api import analyze
from wfc.cli import main as cli_main
from wfc.diagnostics import CompileError, render_json, render_text

from .programs import programs

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
SOURCES = [path.read_text(encoding="utf-8") for path in sorted(EXAMPLES_DIR.glob("*.wf"))]
BUDGET = int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150"))
TOKENS = ["{", "}", "(", ")", "[", "]", ",", ":", "=", "==", "\n", ";", "??", "?.", ".", "->",
          "workflow", "stage", "if", "else", "for", "in", "parallel", "yield", "return", "with",
          "try", "catch", "use", "const", "limit", "max", "on error skip", '"s"', "f'{x}'",
          "1s", "10/s", "x", "1", "#c", "{{", "}}", "\\", "'", '"', "é", "\t", "break"]


def compile_or_diagnose(source: str) -> None:
    """The property: CompileError with positioned diagnostics, or valid Python."""
    try:
        checked = analyze(source, "fuzz.wf")
    except CompileError as error:
        assert error.diagnostics
        for diagnostic in error.diagnostics:
            assert diagnostic.line >= 1 and diagnostic.column >= 1
            assert diagnostic.code[0] in "EW" and diagnostic.code[1:].isdigit()
        render_text(error.diagnostics, source, "fuzz.wf")
        render_json(error.diagnostics, "fuzz.wf")
        return
    text = wfc.compile_source(source, "fuzz.wf")
    compile(text, "fuzz_wf.py", "exec")  # stricter than ast.parse: symbol tables too
    assert checked.module is not None


fuzz_settings = settings(max_examples=BUDGET, deadline=None,
                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@fuzz_settings
@given(st.text(max_size=200))
def test_random_text(source: str) -> None:
    compile_or_diagnose(source)


@fuzz_settings
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_random_token_soup(source: str) -> None:
    compile_or_diagnose(source)


@st.composite
def mutated_examples(draw) -> str:
    source = draw(st.sampled_from(SOURCES))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(source)))
        action = draw(st.sampled_from(["delete", "insert", "duplicate"]))
        if action == "delete":
            source = source[:position] + source[position + draw(st.integers(1, 20)):]
        elif action == "insert":
            source = source[:position] + draw(st.sampled_from(TOKENS)) + source[position:]
        else:
            end = min(len(source), position + draw(st.integers(1, 40)))
            source = source[:end] + source[position:end] + source[end:]
    return source


@fuzz_settings
@given(mutated_examples())
def test_mutated_examples(source: str) -> None:
    compile_or_diagnose(source)


@settings(max_examples=max(20, BUDGET // 5), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=100), mutated_examples().map(str.encode)),
       command=st.sampled_from(["check", "compile"]))
def test_cli_never_crashes(tmp_path_factory, capsys, data: bytes, command: str) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / "input.wf"
    path.write_bytes(data)
    with pytest.raises(SystemExit) as info:
        cli_main([command, str(path)])
    captured = capsys.readouterr()
    assert info.value.code in (0, 1), captured.err
    assert "Traceback" not in captured.err and "internal error" not in captured.err


@st.composite
def hostile_literals(draw) -> str:
    """A small valid module with one hostile literal put where literals go."""
    digits = st.integers(1, 6000).map(lambda n: "9" * n)
    fragment = draw(st.one_of(
        digits,                                                        # huge integers
        st.integers(200, 400).map(lambda n: f"1e{n}"),                 # floats near infinity
        st.tuples(digits, st.sampled_from(["ms", "s", "m", "h"])).map("".join),
        st.tuples(st.integers(300, 400), st.sampled_from(["s", "h"])).map(lambda t: f"1e{t[0]}{t[1]}"),
        st.text("0123456789abcdefgxyzDd", max_size=9).map(lambda t: f'"\\u{t}"'),  # odd escapes
        st.text("0123456789abcdef", max_size=3).map(lambda t: f'"\\x{t}"'),
        st.sampled_from(['"\\ud800"', '"\\udfff x"', '"\\U0010ffff"', '"\\U00110000"',
                         '"\\N{NO SUCH NAME}"', '"\\N{BULLET}"', '"\\N"']),  # surrogates, names
        st.tuples(st.sampled_from(["1", "2.5", "null", "true", '"s"', "1s"]),
                  st.text("<>^=+-#0123456789,._bcdeEfFgGnosxX%q", max_size=6))
            .map(lambda t: f'f"{{{t[0]}:{t[1]}}}"'),                     # constant format specs
    ))
    place = draw(st.sampled_from([
        "workflow w() {{ return {0} }}",
        "const C = {0}\nworkflow w() {{ return C }}",
        "use h\nworkflow w() {{ return h.f() with retry(attempts: {0}) }}",
        "use h\nworkflow w() {{ return h.f() with timeout({0}), limit(rate: {0}/s) }}",
        "use h\nworkflow w() {{ return h.f() with breaker(failures: {0}, reset: {0}) }}",
        "router r(x) {{ route a when x priority {0} -> 1\n default -> 2 }}",
        "router r(x) weighted {{ route a weight {0} -> 1 }}",
        "workflow w(xs) {{ r = parallel for x in xs limit {0} {{ yield x }}\n return r }}",
        "workflow w() {{ wait {0} }}",
    ]))
    return place.format(fragment)


@fuzz_settings
@given(hostile_literals())
def test_hostile_literals_are_diagnostics_or_valid_programs(source: str) -> None:
    compile_or_diagnose(source)


@pytest.mark.parametrize("source", [
    "workflow w() { x = f\"{\" }",  # unclosed field
    "workflow w() {\n" + "\n" * 5000 + "x = f\"{ 1 }\"\n}",  # once backtracked exponentially
    "workflow w() { x = {a: 1}\n{b: 2} }",
    "workflow w() { }\n}",
    "use a.b\nuse a.b",
    "workflow w() { yield }",
    "\ufeffworkflow w() { }",
    "workflow w(x = f\"{y}\") { }",
])
def test_regressions(source: str) -> None:
    compile_or_diagnose(source)


@pytest.mark.parametrize("source", [
    "workflow w() { x = " + "-" * 3000 + "1 }",
    "workflow w() { x = " + "(1 + " * 400 + "1" + ")" * 400 + " }",
    "workflow w() {" + " if true {" * 400 + "}" * 400 + " }",
    "workflow w() { x = " + "[" * 400 + "]" * 400 + " }",
])
def test_deep_nesting_is_a_diagnostic(source: str) -> None:
    with pytest.raises(CompileError) as info:
        analyze(source, "deep.wf")
    assert [d.code for d in info.value.diagnostics] == ["E0003"]


def test_nesting_below_the_limit_compiles() -> None:
    compile_or_diagnose("workflow w() { x = " + "(1 + " * 60 + "1" + ")" * 60 + "\n return x }")


@pytest.mark.slow
@settings(max_examples=max(20, BUDGET // 3), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_generated_modules_are_valid_and_black_stable(program) -> None:
    """Valid Python, black-stable, and what format_python makes of it (ruff, with black
    where the two differ) is black's byte for byte."""
    from wfc.api import analyze
    from wfc.api import _generate as generate
    from wfc.codegen.formatting import format_python, format_with_black

    raw = generate(analyze(program[0], "prop.wf"), formatted=False)
    text = format_with_black(raw)
    compile(text, "prop_wf.py", "exec")
    assert format_with_black(text) == text
    assert format_python(raw) == text
