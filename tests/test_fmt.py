"""`wfc fmt`: canonical, idempotent, meaning-preserving, and it keeps comments."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from conftest import EXAMPLES
from properties.programs import programs
from wfc.api import format_text
from wfc.diagnostics import CompileError
from wfc.syntax.ast import dump
from wfc.syntax.parser import parse

CASES = sorted(EXAMPLES.glob("*.wf"))


def comments(text: str) -> list[str]:
    return [line.strip() for line in re.findall(r"#[^\n]*", text)]


def assert_good_format(source: str) -> str:
    formatted = format_text(source, "t.wf")
    assert format_text(formatted, "t.wf") == formatted  # a fixed point
    assert dump(parse(formatted)[0]) == dump(parse(source)[0])  # same AST, spans aside
    return formatted


@pytest.mark.parametrize("example", CASES, ids=lambda path: path.stem)
def test_examples_are_already_formatted(example: Path) -> None:
    source = example.read_text(encoding="utf-8")
    assert format_text(source, example.name) == source


def test_layout_is_canonical() -> None:
    messy = ('use  a.b  as c\nconst X=1\nconst Y = [1,2]\nworkflow w( p:int=X ) {\n'
             '  if p>1{ r = -(-p) }\n  else { r=p??0 }   # keep me\n\n\n'
             '  t = parallel for i in range(3)  where i>0 limit 2 { yield f"{ {k: i} }" }\n  return r\n}')
    assert assert_good_format(messy) == (
        "use a.b as c\n\nconst X = 1\nconst Y = [1, 2]\n\n"
        "workflow w(p: int = X) {\n"
        "    if p > 1 {\n        r = --p\n    } else {\n        r = p ?? 0  # keep me\n    }\n\n"
        "    t = parallel for i in range(3) where i > 0 limit 2 {\n        yield f\"{ {k: i} }\"\n    }\n"
        "    return r\n}\n"
    )


def test_comments_are_kept_in_order() -> None:
    source = ("# head\nuse m  # why m\n\n# the workflow\nworkflow w() {\n    # first\n"
              "    x = 1  # one\n    if x {\n        # inside\n    }\n    # last\n}\n# tail\n")
    formatted = assert_good_format(source)
    assert comments(formatted) == comments(source)
    assert formatted == source


def test_saga_unwind_options_are_kept() -> None:
    messy = "use h\nsaga s(a)  unwind( failed_step:true,stop_on_error: false ) with retry() {\n step h.f() compensate h.g()\n}\n"
    assert assert_good_format(messy) == (
        "use h\n\nsaga s(a) unwind(failed_step: true, stop_on_error: false) with retry() {\n"
        "    step h.f()\n        compensate h.g()\n}\n"
    )


def test_strings_and_fstrings_round_trip() -> None:
    source = 'workflow w(n) {\n    a = "q\\"\\n\\t\\\\ é \\x01"\n    b = f"{n:>4} {{x}} {\'in\'}"\n}\n'
    assert assert_good_format(source) == source


def test_require_keeps_its_condition_as_written() -> None:
    source = "workflow w(x) {\n    require len( x )>0\n}\n"
    assert assert_good_format(source) == source


def test_long_lines_wrap_inside_brackets_with_trailing_commas() -> None:
    source = (
        "use api\n"
        "workflow w(first_parameter, second_parameter, third_parameter, fourth_parameter, fifth_parameter_x) {\n"
        '    x = api.get("a, (b", [1, 2]) with retry(attempts: 3, delay: 1s, backoff: linear, '
        "max_delay: 2s, jitter: 0.5)\n"
        "    emit topic(" + "a" * 100 + ")\n"
        "}\n"
    )
    formatted = assert_good_format(source)
    assert formatted == (
        "use api\n\n"
        "workflow w(\n"
        "    first_parameter,\n    second_parameter,\n    third_parameter,\n    fourth_parameter,\n"
        "    fifth_parameter_x,\n"
        ") {\n"
        '    x = api.get("a, (b", [1, 2]) with retry(\n'
        "        attempts: 3,\n        delay: 1s,\n        backoff: linear,\n        max_delay: 2s,\n"
        "        jitter: 0.5,\n"
        "    )\n"
        "    emit topic(" + "a" * 100 + ")\n"  # one item: nothing to split
        "}\n"
    )


def test_syntax_errors_are_reported() -> None:
    with pytest.raises(CompileError):
        format_text("workflow w( {", "bad.wf")


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_every_generated_program_round_trips(program) -> None:
    assert_good_format(program[0])


def wfc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wfc", *args], capture_output=True, text=True)


def test_cli_fmt_rewrites_and_checks(tmp_path) -> None:
    path = tmp_path / "a.wf"
    path.write_text("workflow w(){x=1}", encoding="utf-8")
    check = wfc("fmt", "--check", str(path))
    assert check.returncode == 1 and "would be reformatted" in check.stderr
    assert path.read_text() == "workflow w(){x=1}"
    assert wfc("fmt", str(path)).returncode == 0
    assert path.read_text() == "workflow w() {\n    x = 1\n}\n"
    assert wfc("fmt", "--check", str(path)).returncode == 0
    assert wfc("fmt", "--check", *map(str, CASES)).returncode == 0
    bad = tmp_path / "b.wf"
    bad.write_text("workflow w( {", encoding="utf-8")
    result = wfc("fmt", str(bad))
    assert result.returncode == 1 and "error[E0001]" in result.stderr
    assert bad.read_text() == "workflow w( {"


def test_a_deep_require_is_never_wrapped_so_its_message_stays() -> None:
    """Found by the round-trip property: wrapping a long `require` changed its condition's
    text, which is its default error message, so fmt refused to write."""
    from wfc.api import format_text

    deep = "if x {\n" * 6 + "require [len(f'{ null }-{str(null):>3}'), min(0 ?? 0, 0 ?? 1), 123456789][1]\n"
    source = "workflow w(x) {\n" + deep + "}\n" * 7
    formatted = format_text(source)
    assert max(len(line) for line in formatted.splitlines()) > 100
    assert format_text(formatted) == formatted
