"""Which branch each input takes, decided before running: E0146, W0147, W0148, W0142,
W0149, W0158.

Each finding has a program where it fires and programs where it must not (a warning
that fires on correct code is a bug); witnesses are run on both backends."""

from __future__ import annotations

import asyncio
import json

import pytest

from conftest import EXAMPLES, run_source
from wfc.api import analyze, load_source
from wfc.diagnostics import CompileError, Diagnostic

CODES = {"E0146", "W0147", "W0148", "W0142", "W0149", "W0158"}


def findings(source: str) -> list[Diagnostic]:
    try:
        found = list(analyze(source, "cover.wf").warnings)
    except CompileError as error:
        found = error.diagnostics
    return [d for d in found if d.code in CODES]


def codes(source: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in findings(source)]


def router(*routes: str, default: str | None = '"d"', params: str = "x") -> str:
    body = "".join(f"    {route}\n" for route in routes)
    tail = f"    default -> {default}\n" if default else ""
    return f'const KINDS = ["a", "b"]\nrouter r({params}) {{\n{body}{tail}}}\n'


# ---- routes that can never be chosen (E0146) -------------------------------------------
def test_a_route_covered_by_the_routes_before_it_is_an_error_naming_them() -> None:
    source = router('route big when x > 100 -> 1', 'route medium when x > 10 -> 2',
                    'route large when x > 50 -> 3')
    [found] = [d for d in findings(source) if d.code == "E0146"]
    assert (found.severity, found.line, found.message) == ("error", 5, "route 'large' can never be chosen")
    assert "routes 'big', 'medium' before it take every input it matches" in found.notes[0]
    assert [(label.span.line, label.message) for label in found.labels] == [(3, "tried first"), (4, "tried first")]
    witness = json.loads(found.witness)
    assert 50 < witness["x"] and (witness["x"] > 100 or witness["x"] > 10)


@pytest.mark.parametrize("routes, dead", [
    (('route a when x.kind == "a" and x.kind == "b" -> 1',), "a"),  # never holds
    (('route a when x.kind in KINDS -> 1', 'route b when x.kind == "a" -> 2'), "b"),
    (('route a when (x.tier ?? "basic") == "basic" -> 1', 'route b when x.tier == null -> 2'), "b"),
    (('route a when not x.vip -> 1', 'route b when x.vip -> 2', 'route c when x.kind == "z" -> 3'), "c"),
    (('route a when x == 1 -> 1', 'route b when x == true -> 2'), "b"),  # true == 1, as in Python
    (('route a when x.kind == "a" -> 1', 'route b when x == null -> 2'), "b"),  # null.kind fails
    (('route a when x.a.b == 1 -> 1', 'route b when x.a == null -> 2'), "b"),
    (('route a when x > 10 -> 1', 'route b when x > 5 priority 1 -> 2'), "a"),  # by priority
    (('route a -> 1', 'route b when x -> 2'), "b"),  # after a route without `when`
    (('route a when x >= "m" -> 1', 'route b when x < "m" -> 2', 'route c when x == "q" -> 3'), "c"),
])
def test_routes_that_can_never_be_chosen(routes, dead) -> None:
    found = [d for d in findings(router(*routes)) if d.code == "E0146"]
    assert [d.message for d in found] == [f"route '{dead}' can never be chosen"]


@pytest.mark.parametrize("routes", [
    ('route a when x > 10 -> 1', 'route b when x > 5 -> 2'),
    ('route a when x?.kind == "a" -> 1', 'route b when x == null -> 2'),  # `?.` reads null
    ('route a when len(x) > 3 -> 1', 'route b when len(x) > 5 -> 2'),  # opaque: no claim
    ('route a when x.kind == "a" -> 1', 'route b when x.tier == "a" -> 2'),  # other fields
    ('route a when x == 1 -> 1', 'route b when x == 1.5 -> 2'),
    ('route a when x.n <= 1 or x.n >= 2 -> 1', 'route b when x.n > 1 -> 2'),  # 1.5 goes to b
    ('route a when x >= "n" or x <= "m" -> 1', 'route b when x > "m" -> 2'),  # "ma" goes to b
    ('route a when not x -> 1', 'route b when x.kind == null -> 2'),  # an empty map is falsy
    ('route a when x.a?.b == 1 -> 1', 'route b when x.a == null -> 2'),
    ('route a when x == y -> 1', 'route b when x == 1 -> 2'),  # two paths: no claim
    ('route a when x == "abc" -> 1', 'route b when x in "abc" -> 2'),  # "a" is in "abc"
    ('route a when not y -> 1', 'route b when "a" in y -> 2'),  # y may be a list
], ids=str)
def test_routes_that_can_be_chosen_are_not_reported(routes) -> None:
    assert "E0146" not in [code for code, _ in codes(router(*routes, params="x, y"))]


def test_a_condition_that_never_holds_in_an_all_router() -> None:
    source = 'router r(x) all {\n    route a when x > 3 and x < 2 -> 1\n    route b when x -> 2\n}\n'
    [found] = findings(source)
    assert (found.code, found.notes) == ("E0146", ("its condition never holds",))


# ---- overlapping routes at one priority (W0147) -----------------------------------------
def test_overlapping_routes_at_the_same_priority_warn_with_an_input_both_match(backend) -> None:
    source = router('route urgent when x.severity >= 3 -> "page"', 'route vip when x.vip -> "queue"')
    [found] = findings(source)
    assert (found.code, found.line) == ("W0147", 4)
    assert found.message.startswith("routes 'urgent' and 'vip' both match ")
    witness = json.loads(found.witness)
    assert run_source(source, backend, "r", witness["x"]).value == "page"


@pytest.mark.parametrize("routes", [
    ('route urgent when x.severity >= 3 priority 1 -> 1', 'route vip when x.vip -> 2'),
    ('route a when x == "a" -> 1', 'route b when x == "b" -> 2'),
    ('route a when x == "a" -> 1', 'route rest -> 2'),  # a route without `when` is a catch-all
    ('route a when len(x) > 3 -> 1', 'route b when len(x) > 1 -> 2'),  # opaque: no claim
])
def test_exclusive_or_ranked_routes_do_not_warn(routes) -> None:
    assert "W0147" not in [code for code, _ in codes(router(*routes))]


# ---- defaults and inputs no route takes (W0148, W0142) ----------------------------------
def test_a_default_that_can_never_run_warns() -> None:
    [found] = findings(router('route low when x < 5 -> 1', 'route high when x >= 5 -> 2'))
    assert (found.code, found.line, found.message) == (
        "W0148", 5, "the default of router 'r' can never run")


def test_a_router_without_default_shows_an_input_no_route_takes(backend) -> None:
    source = router('route low when x < 5 -> 1', 'route high when x > 7 -> 2', default=None)
    [found] = findings(source)
    assert found.code == "W0142" and "no route takes x = 6" in found.notes[0]
    assert json.loads(found.witness) == {"x": 6}
    assert run_source(source, backend, "r", 6).value is None


@pytest.mark.parametrize("routes", [
    ('route low when x < 5 -> 1', 'route high when x >= 5 -> 2'),
    ('route a when x.vip -> 1', 'route b when not x.vip -> 2'),
    ('route a when x < "m" -> 1', 'route b when x >= "m" -> 2'),
])
def test_a_router_whose_routes_cover_every_input_needs_no_default(routes) -> None:
    assert codes(router(*routes, default=None)) == []


def test_a_router_over_opaque_conditions_still_asks_for_a_default() -> None:
    [found] = findings(router('route a when len(x) > 3 -> 1', default=None))
    assert found.code == "W0142" and found.witness is None


# ---- if chains (W0149, W0148) -----------------------------------------------------------
def chain(*branches: str, orelse: bool = True) -> str:
    text = " elif ".join(f"{test} {{\n        return {n}\n    }}" for n, test in enumerate(branches))
    tail = " else {\n        return -1\n    }" if orelse else ""
    return f"workflow w(n, m) {{\n    if {text}{tail}\n    return 0\n}}\n"


def test_an_elif_the_branches_before_it_cover_is_never_taken() -> None:
    assert codes(chain("n > 3", "n > 5")) == [("W0149", 4)]
    assert codes(chain("n > 3 and n < 2")) == [("W0149", 2)]


def test_an_else_that_never_runs() -> None:
    assert codes(chain("n", "not n")) == [("W0148", 7)]
    assert codes(chain("n == null", "n != null")) == [("W0148", 7)]


@pytest.mark.parametrize("branches", [
    ("n > 5", "n > 3"), ("n", "m"), ("n == 1", "n == 2"), ("check(n)", "check(n)"),
])
def test_if_chains_that_can_take_every_branch_are_quiet(branches) -> None:
    assert codes(chain(*branches).replace("workflow", "use check\nworkflow", 1)) == []


def test_locals_are_treated_as_any_value() -> None:
    source = "workflow w(n) {\n    k = n * 2\n    if k > 3 {\n        return 1\n    } elif k > 1 {\n" \
             "        return 2\n    }\n    return 0\n}\n"
    assert codes(source) == []


# ---- machine guards (W0158, W0147) ------------------------------------------------------
def machine(*transitions: str) -> str:
    body = "".join(f"        {t}\n" for t in transitions)
    return f"machine M(limit) {{\n    initial a\n    state a {{\n{body}    }}\n" \
           "    final state b\n    final state c\n}\n"


def test_a_transition_the_guards_before_it_cover_is_never_taken() -> None:
    source = machine("on go -> b when ctx.amount > 100", "on go -> c when ctx.amount > 500")
    [found] = findings(source)
    assert (found.code, found.line) == ("W0158", 5)
    assert found.notes == ("the transition on line 4 before it takes every `send` it would",)
    assert [(label.span.line, label.message) for label in found.labels] == [(4, "tried first")]


def test_guarded_transitions_that_overlap_warn_with_a_context(backend) -> None:
    source = machine("on go -> b when ctx.amount > 100", "on go -> c when ctx.vip")
    [found] = findings(source)
    assert found.code == "W0147"
    witness = json.loads(found.witness)
    instance = load_source(source, f"machine_{backend}.wf", backend=backend).M(None)
    assert asyncio.run(instance.send("go", witness["ctx"])) and instance.state == "b"


@pytest.mark.parametrize("transitions", [
    ("on go -> b when ctx.amount > 100", "on go -> c"),
    ("on go -> b when ctx.amount > limit", "on go -> c when ctx.amount > 100"),  # limit unknown
    ("on go -> b when ctx.amount > 100", "on go -> c when ctx.amount <= 100"),
])
def test_transitions_that_can_each_be_taken_are_quiet(transitions) -> None:
    assert codes(machine(*transitions)) == []


# ---- the examples, and the solver's budget -----------------------------------------------
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.wf")), ids=lambda p: p.stem)
def test_the_examples_have_no_route_findings(path) -> None:
    assert codes(path.read_text(encoding="utf-8")) == []


def test_a_question_over_budget_claims_nothing(monkeypatch) -> None:
    import wfc.check.solver as solver

    dead = router('route big when x > 100 -> 1', 'route medium when x > 10 -> 2',
                  'route large when x > 50 -> 3', default=None)
    assert "E0146" in [code for code, _ in codes(dead)]
    monkeypatch.setattr(solver, "BUDGET", 3)
    found = codes(dead)
    assert "E0146" not in [code for code, _ in found]  # it gave up: no claim either way
    assert found == [("W0142", 2)]  # and says no more than it did without the analysis


def test_an_all_router_evaluates_every_condition_so_a_failing_one_hides_the_rest() -> None:
    source = 'router r(x) all {\n    route a when x == null -> 1\n    route b when x < 3 -> 2\n}\n'
    [found] = [d for d in findings(source) if d.code == "E0146"]
    assert found.message == "route 'a' can never be chosen"  # null < 3 fails whenever x is null
    assert "another route's fails with an error" in found.notes[0]
