"""Bad input is the user's error, said clearly: exit 1 or 2, never an internal error (3).

Each case here once ended in a traceback, an "internal error", invalid JSON or a
hang; the fuzz tests in tests/properties/test_fuzz.py draw the same families.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import run_source
from test_cli import wfc, write
from wfc.api import analyze, load
from wfc.diagnostics import CompileError
from wfc.loading import HandlerImportError

HANDLERS = '''
class Odd(BaseException):
    pass

def cycle():
    a = []
    a.append(a)
    return a

def tuple_keys():
    return {(1, 2): 3}

def nan():
    return float("nan")

def infinite():
    return [float("-inf")]

def surrogate():
    return {"text": "\\ud800 alone"}

def odd():
    raise Odd("not an error")
'''


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write(tmp_path / "odd_results.py", HANDLERS)
    write(tmp_path / "flows.wf", textwrap.dedent("""\
        use odd_results as h
        workflow cycle() { return h.cycle() }
        workflow tuple_keys() { return h.tuple_keys() }
        workflow nan() { return h.nan() }
        workflow infinite() { return h.infinite() }
        workflow surrogate() { return h.surrogate() }
        workflow odd() { return h.odd() }
        workflow echo(x) { return x }
        workflow literal() { return "\\ud800" }
        machine Door() {
            initial shut
            state shut { on open -> opened }
            final state opened
        }
    """))
    return tmp_path


@pytest.mark.parametrize("name, message", [
    ("cycle", "the result of 'cycle' cannot be printed as JSON: Circular reference detected"),
    ("tuple_keys", "the result of 'tuple_keys' cannot be printed as JSON: keys must be str"),
    ("nan", "the result of 'nan' cannot be printed as JSON: Out of range float values"),
    ("infinite", "the result of 'infinite' cannot be printed as JSON: Out of range float values"),
    ("odd", "the workflow raised WorkflowError: handler h.odd raised Odd, a BaseException that is "
            "not an Exception: not an error"),
])
def test_results_and_errors_that_json_cannot_hold_are_user_errors(folder, name, message) -> None:
    result = wfc("run", str(folder / "flows.wf"), name, "--backend", "compiled")
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and "internal error" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("name", ["surrogate", "literal"])
def test_lone_surrogates_print_as_valid_escaped_json(folder, name) -> None:
    result = wfc("run", str(folder / "flows.wf"), name, "--trace")
    assert result.returncode == 0, result.stderr
    value = json.loads(result.stdout)
    assert "\ud800" in (value if isinstance(value, str) else value["text"])
    for line in result.stderr.splitlines():
        json.loads(line)  # every --trace event is JSON too


def test_json_keys_that_are_not_parameter_names_are_usage_errors(folder) -> None:
    result = wfc("run", str(folder / "flows.wf"), "echo", "--json", '{"1x": 2}')
    assert result.returncode == 2 and '"1x" is not a parameter name' in result.stderr


def test_run_on_a_machine_says_how_machines_are_driven(folder) -> None:
    result = wfc("run", str(folder / "flows.wf"), "Door")
    assert result.returncode == 2
    assert "'Door' is a state machine" in result.stderr and "send" in result.stderr


@pytest.mark.parametrize("module, detail", [
    ("def f(:\n", "SyntaxError: "),
    ("raise RuntimeError('cannot start')\n", "RuntimeError: cannot start"),
    ("import no_such_module_anywhere\n", "No module named 'no_such_module_anywhere'"),
])
def test_a_broken_handler_module_is_a_user_error(tmp_path, module, detail) -> None:
    write(tmp_path / "broken_handlers.py", module)
    write(tmp_path / "b.wf", "\nuse broken_handlers\nworkflow w() { return broken_handlers.f() }\n")
    for backend in ("interp", "compiled"):
        result = wfc("run", str(tmp_path / "b.wf"), "w", "--backend", backend)
        assert result.returncode == 1, result.stderr
        assert "error: cannot import 'broken_handlers' (used at b.wf:2:5)" in result.stderr
        assert detail in result.stderr and "Traceback" not in result.stderr
    sys.modules.pop("broken_handlers", None)
    with pytest.raises(HandlerImportError, match="cannot import 'broken_handlers'"):
        load(tmp_path / "b.wf")


def test_a_const_that_fails_as_the_module_loads_is_a_user_error(tmp_path) -> None:
    write(tmp_path / "c.wf", "const X = 1 // 0\nworkflow w() { return X }\n")
    for backend in ("interp", "compiled"):
        result = wfc("run", str(tmp_path / "c.wf"), "w", "--backend", backend)
        assert result.returncode == 1
        assert "error: loading" in result.stderr and "ZeroDivisionError" in result.stderr


@pytest.mark.parametrize("source, code, message", [
    ('const F = f"{1:q}"\nworkflow w() { return F }', "E0124",
     "format spec 'q' does not apply to int 1"),
    ('workflow w() { return f"{null:>5}" }', "E0124", "format spec '>5' does not apply to null"),
    ('const N = 2.5\nworkflow w() { return f"{N:d}" }', "E0124",
     "format spec 'd' does not apply to float 2.5"),
    ('workflow w() { return "\\x4" }', "E0001", "'\\x' must be followed by 2 hex digits"),
    ('workflow w() { return "\\u12" }', "E0001", "'\\u' must be followed by 4 hex digits"),
    ('workflow w() { return "\\N" }', "E0001", "'\\N' must be followed by a character name"),
    ("workflow w() { return " + "7" * 5000 + " }", "E0001",
     "this integer has 5000 digits, more than the 4300 Python allows in a literal"),
    ("workflow w() { return 1e400 }", "E0001", "this number is too large: it would be infinity"),
    ("workflow w() { wait 1e400s }", "E0001", "this number is too large"),
    ("workflow w() { wait 9e307h }", "E0001", "this duration is too long to represent"),
    ("use m\nworkflow w() { return m.f() with retry(attempts: 99999999999999999999) }", "E0163",
     "expected a whole number from 1 to 1_000_000, found 99999999999999999999"),
    ("use m\nworkflow w() { return m.f() with timeout(9000h) }", "E0163",
     "a policy duration is at most 8760h (a year), found 9000h"),
    ("use m\nworkflow w() { return m.f() with breaker(reset: 1e300s) }", "E0163",
     "a policy duration is at most 8760h"),
    ("use m\nworkflow w() { return m.f() with retry(factor: 1e300) }", "E0163",
     "expected a number from 1 to 1000, found 1e+300"),
    ("use m\nworkflow w() { return m.f() with limit(rate: 1e30/s) }", "E0163",
     "a rate's count is at most 1_000_000 per unit"),
    ("use m\nworkflow w() { return m.f() with limit(rate: 5/s, burst: 10000000) }", "E0163",
     "expected a whole number from 1 to 1_000_000"),
    ("router r(x) { route a priority " + "9" * 400 + " -> 1\n default -> 2 }", "E0145",
     "a route's priority must be a number from -1_000_000 to 1_000_000"),
    ("router r(x) weighted { route a weight 1e300 -> 1 }", "E0145",
     "a route's weight must be a number"),
])
def test_big_and_odd_literals_are_diagnostics(source, code, message) -> None:
    with pytest.raises(CompileError) as info:
        analyze(source, "odd.wf")
    found = [(d.code, d.message) for d in info.value.diagnostics]
    assert any(c == code and message in m for c, m in found), found


def test_exponents_in_durations_and_rates_are_accepted(backend) -> None:
    source = ("use backend_handlers as h\n"
              "workflow w() { wait 1e-3s\n return h.double(2) with timeout(2.5e2ms), limit(rate: 1e2/s) }")
    outcome = run_source(source, backend, "w")
    assert outcome.value == 4 and outcome.now == 0.001


def test_long_source_lines_are_cut_around_the_span(tmp_path) -> None:
    path = write(tmp_path / "long.wf", "workflow w() { return " + "7" * 5000 + " }\n")
    result = wfc("check", str(path))
    assert result.returncode == 1
    assert max(len(line) for line in result.stderr.splitlines()) < 200
    assert "... " not in result.stderr.splitlines()[2][:10] and "..." in result.stderr
