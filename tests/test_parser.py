"""The grammar, postlexer and AST builder: shapes, spans and syntax diagnostics."""

from __future__ import annotations

import pytest

from wfc.syntax import ast
from wfc.syntax.ast import dump
from wfc.syntax.parser import parse


def parse_ok(source: str) -> ast.Module:
    module, diagnostics = parse(source)
    assert not diagnostics, diagnostics
    assert module is not None
    return module


def body(source: str) -> tuple[ast.Stmt, ...]:
    module = parse_ok(f"workflow w() {{\n{source}\n}}")
    decl = module.decls[0]
    assert isinstance(decl, ast.Workflow)
    return decl.body


def expr(source: str) -> str:
    (stmt,) = body(f"x = {source}")
    assert isinstance(stmt, ast.Assign)
    return dump(stmt.value)


def syntax_error(source: str) -> tuple[str, str | None, int, int]:
    module, diagnostics = parse(source)
    assert module is None and len(diagnostics) == 1
    d = diagnostics[0]
    return d.message, d.help, d.line, d.column


def test_precedence_lowest_first() -> None:
    assert expr("a ?? b or c and not d == e + f * -g") == (
        "Logical(op='??', left=Name(id='a'), right=Logical(op='or', left=Name(id='b'), "
        "right=Logical(op='and', left=Name(id='c'), right=Not(operand=Compare(left=Name(id='d'), "
        "ops=['=='], comparators=[BinOp(op='+', left=Name(id='e'), right=BinOp(op='*', "
        "left=Name(id='f'), right=Neg(operand=Name(id='g'))))])))))"
    )


def test_comparison_chains_and_not_in() -> None:
    assert expr("a < b <= c not in d") == (
        "Compare(left=Name(id='a'), ops=['<', '<=', 'not in'], "
        "comparators=[Name(id='b'), Name(id='c'), Name(id='d')])"
    )


def test_postfix_and_literals() -> None:
    assert expr("f(1, k=2.5)?.x[0].y") == (
        "Attr(value=Index(value=Attr(value=Call(func=Name(id='f'), args=[Literal(value=1)], "
        "keywords=[Keyword(name='k', value=Literal(value=2.5))]), name='x', safe=True), "
        "index=Literal(value=0)), name='y', safe=False)"
    )
    assert expr("[1_000, 1e-3, true, false, null]") == (
        "ListExpr(items=[Literal(value=1000), Literal(value=0.001), Literal(value=True), "
        "Literal(value=False), Literal(value=None)])"
    )


def test_durations_are_float_seconds() -> None:
    values = [s.value.seconds for s in body("a = 250ms\nb = 1.5s\nc = 2m\nd = 1h")]
    assert values == [0.25, 1.5, 120.0, 3600.0]


def test_map_keys_are_names_or_strings_and_span_lines() -> None:
    assert expr('{key: 1,\n   "k-2": [2,\n 3],\n}') == (
        "MapExpr(keys=['key', 'k-2'], values=[Literal(value=1), "
        "ListExpr(items=[Literal(value=2), Literal(value=3)])])"
    )


def test_strings_use_python_escapes() -> None:
    (stmt,) = body(r'x = "a\tb\u00e9\N{BULLET}\x41\'\d"')
    assert stmt.value.value == "a\tbé•A'\\d"
    (stmt,) = body("x = 'say \"hi\"'")
    assert stmt.value.value == 'say "hi"'


def test_fstrings_split_into_parts_with_specs() -> None:
    assert expr('f"Hi {user.name}! {{x}} {n:>4}"') == (
        "FString(parts=['Hi ', FormattedValue(value=Attr(value=Name(id='user'), name='name', "
        "safe=False), spec=''), '! {x} ', FormattedValue(value=Name(id='n'), spec='>4')])"
    )


def test_fstring_fields_have_source_positions() -> None:
    (stmt,) = body('x = f"ab {long_name}"')
    field = stmt.value.parts[1]
    assert (field.value.span.line, field.value.span.column) == (2, 11)


def test_soft_keywords_are_names_elsewhere() -> None:
    stmts = body("limit = 3\ndefault = max(limit, 2)\ntimeout = 2s\nretry = skip")
    assert [s.target.id for s in stmts] == ["limit", "default", "timeout", "retry"]


def test_on_route_state_and_step_are_names_where_no_keyword_can_stand() -> None:
    """They start a transition, a route, a state and a step statement; anywhere else they
    are names. `step = x` assigns (a step statement never has `=` after `step`)."""
    stmts = body("on = 1\nroute = on\nstate = {on: route, step: 2}\nstep = state.step\n"
                 "step x = h.f(step)\nstep on = h.g(on)")
    assert [type(s).__name__ for s in stmts] == ["Assign"] * 4 + ["Step"] * 2
    assert [s.target.id for s in stmts[:4]] == ["on", "route", "state", "step"]
    assert [s.name.id for s in stmts[4:]] == ["x", "on"]
    # still keywords where they are expected
    parse_ok("machine M() { initial step\n state step { on on -> state }\n final state state }")
    parse_ok("router r(route) { route step when route > 1 -> 1\n default -> 2 }")


def test_spans_start_at_the_right_line() -> None:
    module = parse_ok("\n\nworkflow w(a) {\n    x = (a +\n      1)\n}")
    decl = module.decls[0]
    assert (decl.span.line, decl.span.column) == (3, 1)
    assign = decl.body[0]
    assert (assign.span.line, assign.span.column, assign.span.end_line) == (4, 5, 5)


def test_statements_all_parse() -> None:
    stmts = body("""
stage s with p when a { b = 1 }
if a { } elif b { } else { }
for x in xs timeout 1s { break }
r = parallel for x in xs limit 3 timeout 1s on error skip { yield x }
while a max 3 timeout 1s { continue }
repeat max 2 { } until a
parallel limit 2 timeout 1s on error continue { a = 1; b = 2 }
try { } catch ValueError, m.Err as e { } catch { }
return
fail "x"
require a else "m"
emit order.placed(a)
emit ping()
wait 1s
""")
    kinds = [type(s).__name__ for s in stmts]
    assert kinds == ["Stage", "If", "For", "For", "While", "Repeat", "Parallel", "Try",
                     "Return", "Fail", "Require", "Emit", "Emit", "Wait"]
    loop = stmts[3]
    assert loop.concurrent and loop.skip_errors and loop.into.id == "r"


def test_newline_before_else_catch_and_until_continues_the_statement() -> None:
    stmts = body("if a {\n}\n# note\nelse {\n}\ntry {\n}\ncatch {\n}\nrepeat {\n}\nuntil a")
    assert [type(s).__name__ for s in stmts] == ["If", "Try", "Repeat"]
    assert stmts[0].orelse == ()


def test_semicolons_separate_statements() -> None:
    assert len(body("a = 1; b = 2;; c = 3")) == 3


def test_require_keeps_the_condition_source() -> None:
    (stmt,) = body('require len(x)  > 0')
    assert stmt.source == "len(x)  > 0"


def test_identifiers_are_unicode_and_nfkc_normalised() -> None:
    (stmt,) = body("验证 = ﬁle")
    assert stmt.target.id == "验证" and stmt.value.id == "file"


def test_declarations() -> None:
    module = parse_ok('use a.b.c as d\nuse json\nconst X = 1\npolicy p { retry(attempts: 3) }\n'
                      'workflow w(a, b: int = X, c: m.T) with timeout(2s) { }')
    use, plain, const, policy, workflow = module.decls
    assert use.path.parts == ("a", "b", "c") and use.bound == "d" and plain.bound == "json"
    assert policy.policies[0].args[0].name == "attempts"
    assert [p.name.id for p in workflow.params] == ["a", "b", "c"]
    assert workflow.policies[0].name.id == "timeout"


def test_rates_in_policy_arguments() -> None:
    module = parse_ok("policy p { limit(rate: 10/s, burst: 600/m) }")
    args = module.decls[0].policies[0].args
    assert [a.value.per_second for a in args] == [10.0, 10.0]


@pytest.mark.parametrize("source, message, help_, line, column", [
    ("workflow w() { x = }", "unexpected '}'", "expected an expression", 1, 20),
    ("workflow w() {", "unexpected end of file", "expected a statement, an expression or '}'", 1, 15),
    ("x = 1", "unexpected name 'x'", "expected a declaration", 1, 1),
    ('workflow w() {\n  x = "abc\n}', "unterminated string", "close the string on the same line", 2, 7),
    ("workflow w() { x = $ }", "unexpected character '$'", None, 1, 20),
    ("workflow w() { if = 1 }", "unexpected '='", "expected an expression", 1, 19),
    ("workflow w() { x = while }", "'while' is a reserved word and cannot be used as a name",
     "choose another name, such as 'while_'", 1, 20),
    ("workflow w() { f(a=1, 2) }", "positional argument after a keyword argument",
     "move the positional arguments before the keyword arguments", 1, 23),
    ('workflow w() { x = f"{a" }', "unclosed '{' in f-string", None, 1, 22),
    (r'workflow w() { x = "\N{NO SUCH}" }', "unknown character name 'NO SUCH'", None, 1, 21),
])
def test_syntax_errors_in_human_words(source, message, help_, line, column) -> None:
    assert syntax_error(source) == (message, help_, line, column)


def test_reserved_words_cannot_be_used_as_names() -> None:
    message, *_ = syntax_error("workflow w() { x = router }")
    assert "reserved" in message


# ---- several syntax errors in one file -------------------------------------------------
def test_each_broken_declaration_gets_its_own_syntax_error() -> None:
    from wfc.syntax.parser import parse, recover

    source = ("workflow a() {\n    return (1\n}\n\nworkflow b() {\n    x = = 2\n}\n\n"
              "workflow c() {\n    return 3\n}\n\nrouter r(x) {\n    route when -> 1\n}\n")
    module, diagnostics = parse(source)
    assert module is None
    assert [(d.code, d.line, d.column) for d in diagnostics] == [
        ("E0001", 3, 1), ("E0001", 6, 9), ("E0001", 14, 17)]
    partial, again = recover(source)
    assert again == diagnostics and [d.name.id for d in partial.decls] == ["c"]  # what parses


def test_error_recovery_stops_at_its_limit_and_never_repeats_itself() -> None:
    from wfc.syntax.parser import MAX_SYNTAX_ERRORS, parse

    many = "".join(f"workflow w{n}() {{\n    x = = {n}\n}}\n" for n in range(30))
    _, diagnostics = parse(many)
    assert len(diagnostics) == MAX_SYNTAX_ERRORS
    assert len({(d.line, d.column) for d in diagnostics}) == MAX_SYNTAX_ERRORS
    _, unclosed = parse("workflow a() {\n    return 1\n\nworkflow b() {\n    return 2\n")
    assert [d.line for d in unclosed] == sorted({d.line for d in unclosed})  # forward only


def test_every_terminal_has_a_name() -> None:
    """Messages name what was expected; lark's `__ANON_n` names would leak into them."""
    from wfc.syntax.parser import _lark

    assert [t.name for t in _lark().terminals if t.name.startswith("__ANON")] == []


@pytest.mark.parametrize("text", ["a", "order_id", "a.b", "x.step.true", "_p.q1", "true", "null", "not",
                                  "a.b + c", "name "])
def test_f_string_fields_built_directly_equal_parsed_ones(text: str) -> None:
    """parse_field builds `name` and `name.attr` fields without a parse of their own:
    the tree (spans included) must be what parsing the field gives, or the same error."""
    from wfc.syntax.parser import _SyntaxFailure, parse_expression, parse_field

    try:
        expected = repr(parse_expression.__wrapped__(text))
    except _SyntaxFailure as failure:
        with pytest.raises(_SyntaxFailure) as raised:
            parse_field(text)
        assert str(raised.value) == str(failure)
        return
    assert repr(parse_field(text)) == expected


def _node_classes() -> list[type[ast.Node]]:
    return [ast.Node, *ast.node_classes()]


def test_nodes_are_frozen_slotted_and_hash_by_identity() -> None:
    import dataclasses

    module, _ = parse("workflow main(x) {\n    return x + 1\n}\n")
    assert module is not None
    workflow = module.decls[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        workflow.name = workflow.name  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del workflow.body  # type: ignore[misc]
    twin = dataclasses.replace(workflow)
    assert twin != workflow and len({twin, workflow}) == 2
    for cls in _node_classes():
        assert dataclasses.is_dataclass(cls) and "__slots__" in vars(cls), cls.__name__


def test_nodes_show_as_dataclasses_do_and_each_class_says_what_it_is() -> None:
    name = ast.Name(span=ast.Span(0, 1, 1, 1, 1, 2), id="x")
    assert repr(name) == f"Name(span={name.span!r}, id='x')"
    call = ast.Call(span=name.span, func=name, args=(), keywords=())
    assert repr(call) == f"Call(span={name.span!r}, func={name!r}, args=(), keywords=())"
    # A class without a docstring gets one built from its signature at import: slower start-up.
    for cls in _node_classes():
        assert "__doc__" in vars(cls) and not cls.__doc__.startswith(f"{cls.__name__}("), cls.__name__
