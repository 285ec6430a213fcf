"""The checker: every diagnostic it reports, with its code, position and help."""

from __future__ import annotations

import pytest

from wfc.api import analyze
from wfc.check import CallKind, Kind
from wfc.diagnostics import CompileError, render_json, render_text


def errors(source: str) -> list[tuple[str, str, int, int, str | None]]:
    with pytest.raises(CompileError) as info:
        analyze(source, "t.wf")
    return [(d.code, d.message, d.line, d.column, d.help) for d in info.value.diagnostics]


def check_errors(source: str) -> list:
    with pytest.raises(CompileError) as info:
        analyze(source, "t.wf")
    return info.value.diagnostics


def ok(source: str):
    return analyze(source, "t.wf")


def test_unknown_name_with_did_you_mean() -> None:
    assert errors("workflow w(summary) {\n  return summry\n}") == [
        ("E0101", "unknown name 'summry'", 2, 10, "did you mean 'summary'?")
    ]


def test_all_errors_are_reported_sorted_by_position() -> None:
    found = errors("workflow w() {\n  b = nope2\n  a = nope1\n  break\n}")
    assert [(code, line) for code, _, line, _, _ in found] == [("E0101", 2), ("E0101", 3), ("E0104", 4)]


def test_duplicate_declarations() -> None:
    assert errors("const A = 1\nworkflow A() { }") == [("E0102", "'A' is declared twice", 2, 10, "rename one of them")]
    [found] = check_errors("const A = 1\nworkflow A() { }")
    [label] = found.labels
    assert (label.span.line, label.span.column, label.message) == (1, 7, "first declared here")


def test_recursion_through_the_call_graph() -> None:
    found = errors("workflow a() { b() }\nworkflow b() { c() }\nworkflow c() { a() }")
    assert found == [("E0103", "recursive call: a -> b -> c -> a", 3, 16,
                      "wf has no recursion; use a loop instead")]
    assert errors("workflow a() { a() }")[0][1] == "recursive call: a -> a"


@pytest.mark.parametrize("source, code, message", [
    ("workflow w() { break }", "E0104", "`break` outside a loop"),
    ("workflow w() { continue }", "E0105", "`continue` outside a loop"),
    ("workflow w() { while true { parallel { break } } }", "E0104", "`break` cannot leave a parallel block"),
    ("workflow w(xs) { r = for x in xs { break } }", "E0104", "`break` cannot end a parallel or assigned `for`"),
    ("workflow w() { yield 1 }", "E0106", "`yield` outside a `for` whose result is assigned"),
    ("workflow w(xs) { for x in xs { yield 1 } }", "E0106", "`yield` outside a `for` whose result is assigned"),
    ("workflow w() { parallel { return 1 } }", "E0107", "`return` inside a parallel block"),
    ("workflow w(xs) { r = for x in xs { return 1 } }", "E0107",
     "`return` inside the body of a parallel or assigned `for`"),
    ("workflow w(xs) { y = 0\n r = for x in xs { y = x } }", "E0108", "cannot assign to 'y' of the enclosing scope here"),
    ("workflow w() { x = 1 + 2 with retry() }", "E0109", "`with` policies apply to a call"),
    ("const C = 1\nworkflow w() { C = 2 }", "E0111", "cannot assign to const 'C'"),
    ("workflow v() { }\nworkflow w() { v = 2 }", "E0111", "cannot assign to declaration 'v'"),
    ("workflow w(a, a) { }", "E0112", "duplicate parameter 'a'"),
    ("workflow w(a = 1, b) { }", "E0115", "parameter 'b' without a default follows one with a default"),
    ("workflow w(a = len(x)) { }", "E0113", "this must be a constant expression"),
    ("const A = B\nconst B = 1", "E0116", "const 'B' is used before its declaration"),
    ("workflow w() { try { } catch ValueEror { } }", "E0117", "unknown exception type 'ValueEror'"),
    ("workflow w(a: strr) { }", "E0118", "unknown type 'strr'"),
    ("workflow v(a) { }\nworkflow w() { v(1, 2) }", "E0119", "'v' takes 1 argument(s), but 2 were given"),
    ("workflow v(a) { }\nworkflow w() { v(b=1) }", "E0119", "'v' has no parameter 'b'"),
    ("workflow v(a) { }\nworkflow w() { v() }", "E0119", "missing argument 'a' in call to 'v'"),
    ("workflow w() { f(a=1, a=2) }", "E0120", "keyword argument 'a' is given twice"),
    ("use a.class.b\nworkflow w() { }", "E0122", "cannot import 'a.class.b': 'class' is a Python keyword"),
    ("workflow w(xs) { for x in xs limit 2 { } }", "E0114", "`limit` applies only to a parallel `for`"),
    ("workflow w(xs) { r = parallel for x in xs limit 0 { yield x } }", "E0123",
     "`limit` must be a whole number from 1 to 100_000"),
    ("workflow w(xs) { parallel limit 99999999999999999999 { a = 1 } }", "E0123",
     "`limit` must be a whole number from 1 to 100_000"),
    ("const L = 2.5\nworkflow w(xs) { r = parallel for x in xs limit L { yield x } }", "E0123",
     "`limit` must be a whole number from 1 to 100_000"),
])
def test_each_diagnostic(source: str, code: str, message: str) -> None:
    assert (code, message) in [(c, m) for c, m, *_ in errors(source)]


def test_valid_module_resolves_names_and_calls() -> None:
    checked = ok("use shop.inv as inv\nconst N = 2\nworkflow h(x) { return x }\n"
                 "workflow w(a) {\n  b = inv.reserve(a, N)\n  c = h(b)\n  d = len(c)\n"
                 "  e = b.total()\n  try { } catch inv.OutOfStock, ValidationError, KeyError { }\n}")
    res = checked.resolution
    kinds = {name.id: kind for name, kind in res.names.items()}
    assert kinds == {"inv": Kind.USE, "x": Kind.LOCAL, "a": Kind.LOCAL, "N": Kind.CONST, "h": Kind.DECL,
                     "b": Kind.LOCAL, "len": Kind.BUILTIN, "c": Kind.LOCAL}
    assert sorted(k.value for k in res.calls.values()) == sorted(
        [CallKind.STEP.value, CallKind.DECL.value, CallKind.BUILTIN.value, CallKind.DYNAMIC.value])
    assert list(res.step_targets.values()) == ["inv.reserve"]


def test_item_scope_locals_are_separate() -> None:
    checked = ok("workflow w(xs) {\n  t = 1\n  r = parallel for x in xs { u = x + t\n yield u }\n}")
    scopes = {type(owner).__name__: names for owner, names in checked.resolution.scope_locals.items()}
    assert scopes == {"Workflow": ("t", "r"), "For": ("u",)}
    # `t` is read from the item's parent scope; `x` and `u` are the item's own
    outer = sorted(name.id for name in checked.resolution.outer_locals)
    assert outer == ["t"]


def test_params_may_shadow_builtins_and_soft_keywords_are_names() -> None:
    ok("workflow w(len, limit) { max = limit\n return len + max }")


def test_rendering_text_and_json() -> None:
    source = "workflow w(summary) {\n    return summry\n}"
    with pytest.raises(CompileError) as info:
        analyze(source, "t.wf")
    text = render_text(info.value.diagnostics, source, "t.wf")
    assert text == (
        "t.wf:2:12: error[E0101]: unknown name 'summry'\n"
        "   |\n"
        " 2 |     return summry\n"
        "   |            ^^^^^^\n"
        "   = help: did you mean 'summary'?\n"
    )
    assert '"code": "E0101"' in render_json(info.value.diagnostics, "t.wf")
