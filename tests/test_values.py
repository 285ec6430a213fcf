"""Small things that blocked ports: slicing, glob and regular-expression matching."""

from __future__ import annotations

import pytest

from conftest import run_source
from wfc.api import format_text

SOURCE = """workflow main(xs, s) {
    return [xs[1:], xs[:2], xs[1:-1], xs[:], s[:3], s[2:], s[-3:]]
}
workflow patterns(s) {
    return [matches(s, "*.csv"), matches(s, "report-??.csv"), regex(s, "[0-9]+"), regex(s, "([a-z]+)-([0-9]+)")]
}
"""


def test_slicing_lists_and_strings(backend) -> None:
    outcome = run_source(SOURCE, backend, "main", [1, 2, 3, 4], "report-07.csv")
    assert outcome.value == [[2, 3, 4], [1, 2], [2, 3], [1, 2, 3, 4], "rep", "port-07.csv", "csv"]


def test_slicing_anything_else_is_a_type_error(backend) -> None:
    outcome = run_source(SOURCE, backend, "main", {"a": 1}, "x")
    assert isinstance(outcome.error, TypeError) and "only a list or a string can be sliced" in str(outcome.error)


def test_glob_and_regex(backend) -> None:
    outcome = run_source(SOURCE, backend, "patterns", "report-07.csv")
    assert outcome.value == [True, True, ["07"], [["report", "07"]]]
    assert run_source(SOURCE, backend, "patterns", "REPORT-07.CSV").value[:2] == [False, False]  # case counts


@pytest.mark.parametrize("text", ["x[1:]", "x[:2]", "x[a:b]", "x[:]", "f(x)[1:][0]"])
def test_fmt_keeps_slices(text) -> None:
    source = f"workflow w(x, a, b, f) {{\n    return {text}\n}}\n"
    assert format_text(source, "t.wf") == source
