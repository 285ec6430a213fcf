"""Routers (first, all, weighted) and their checks, on both backends."""

from __future__ import annotations

from collections import Counter

import pytest

import wfc
from conftest import EXAMPLES, run, run_source
from wfc.api import analyze
from wfc.diagnostics import CompileError
from wfc.runtime import Runtime, VirtualClock


def routes_taken(outcome) -> list[str]:
    return [e.fields["route"] for e in outcome.events if e.kind == "route"]


ROUTER = """
router pick(x) {
    route small when x < 10 -> "small"
    route when x == 5 priority 5 -> "five"
    route big when x >= 10 -> "big"
    route five_or_six when x == 5 or x == 6 priority 5 -> "five or six"
}
"""


@pytest.mark.parametrize("x, value, route", [(5, "five", "route_1"), (3, "small", "small"),
                                             (6, "five or six", "five_or_six"),
                                             (50, "big", "big"), (None, None, None)])
def test_first_router_priority_ties_and_names(backend, x, value, route) -> None:
    source = ROUTER if x is not None else ROUTER.replace("x < 10", "x != null and x < 10").replace(
        "x >= 10", "x != null and x >= 10")
    outcome = run_source(source, backend, "pick", x)
    assert outcome.value == value
    assert routes_taken(outcome) == ([route] if route else [])


def test_default_route_and_do_blocks(backend) -> None:
    source = """
router r(n) {
    route double when n > 0 do {
        d = n * 2
        if d > 10 { return "large" }
        return d
    }
    route nothing when n == 0 do { m = 1 }
    default -> "negative"
}"""
    assert [run_source(source, backend, "r", n).value for n in (3, 9, 0, -1)] == [6, "large", None, "negative"]
    assert routes_taken(run_source(source, backend, "r", -1)) == ["default"]


def test_all_router_evaluates_every_condition_then_targets(backend) -> None:
    source = """
use backend_handlers as h
router every(n) all {
    route a when h.double(n) > 2 -> h.double(10)
    route b when n > 5 -> "b"
    route c -> "c"
}
router some(n) all {
    route a when n > 1 -> "a"
    default -> "d"
}"""
    import backend_handlers
    backend_handlers.log.clear()
    outcome = run_source(source, backend, "every", 2)
    assert outcome.value == [20, "c"] and routes_taken(outcome) == ["a", "c"]
    assert backend_handlers.log == [("double", (2,)), ("double", (10,))]
    assert run_source(source, backend, "some", 0).value == ["d"]
    assert run_source(source, backend, "some", 2).value == ["a"]


def test_weighted_router_draws_from_the_seeded_random_source(backend) -> None:
    module = wfc.load(EXAMPLES / "support.wf", backend=backend)
    picks = Counter(run(module, "greeting", "Ann", rt=Runtime(clock=VirtualClock(), seed=s)).value
                    for s in range(400))
    assert set(picks) == {"Dear Ann,", "Hi Ann!"}
    assert 0.7 < picks["Dear Ann,"] / 400 < 0.9
    first = [run(module, "greeting", "Bo", rt=Runtime(seed=7)).value for _ in range(3)]
    assert len(set(first)) == 1


def test_weighted_router_skips_routes_that_do_not_match(backend) -> None:
    source = """
router w(vip) weighted {
    route a when vip weight 1 -> "a"
    route b when not vip weight 3 -> "b"
}
router none(x) weighted {
    route a when x > 1 -> 1
    default -> "d"
}"""
    assert {run_source(source, backend, "w", True, rt=Runtime(seed=s)).value for s in range(20)} == {"a"}
    assert run_source(source, backend, "none", 1).value == "d"


@pytest.mark.parametrize("ticket, expected, route", [
    ({"intent": "query", "is_vip": True, "query": "q"}, {"action": "search", "tier": "vip", "query": "q"}, "vip"),
    ({"intent": "query", "is_vip": False, "query": "q"}, {"action": "search", "tier": "standard", "query": "q"}, "query"),
    ({"intent": "order", "order_data": {"sku": 1}}, {"action": "create_order", "params": {"sku": 1}}, "order"),
    ({"intent": "complaint", "text": "It was late", "customer": "Ann"},
     {"action": "open_case", "customer": "Ann", "level": 2}, "complaint"),
    ({"intent": "chitchat"}, {"action": "fallback", "message": "无法理解您的请求"}, "default"),
])
def test_intent_router_example(backend, ticket, expected, route) -> None:
    outcome = run(wfc.load(EXAMPLES / "intent_router.wf", backend=backend), "intent", ticket)
    assert outcome.value == expected and routes_taken(outcome) == [route]


@pytest.mark.parametrize("ticket, expected, routes", [
    ({"kind": "complaint", "text": "I want a REFUND", "customer": "A"},
     {"team": "billing", "escalated": True, "customer": "A"}, ["complaint", "refund"]),
    ({"kind": "complaint", "text": "refund now", "severity": 9, "customer": "A"},
     {"team": "urgent", "escalated": True, "customer": "A"}, ["complaint", "urgent"]),
    ({"kind": "complaint", "text": "meh", "customer": "A"},
     {"team": "complaints", "reply": "Thanks A, we are on it."}, ["complaint", "default"]),
    ({"kind": "inquiry", "text": "How do I pay?", "order_id": "O-1"},
     [{"team": "docs", "articles": ["faq: How do I pay?"]},
      {"team": "orders", "order_id": "O-1", "status": "shipped"}], ["inquiry", "docs", "status"]),
    ({"kind": "inquiry", "text": "hello"}, [{"team": "inquiries", "reply": "Thanks there, we are on it."}],
     ["inquiry", "default"]),
    ({"kind": "order", "action": "cancel", "order_id": "O-2"}, {"team": "orders", "cancelled": "O-2"},
     ["order", "cancel"]),
    ({"kind": "order", "action": "change", "order_id": "O-3", "changes": {"qty": 2}},
     {"team": "orders", "changed": "O-3", "changes": {"qty": 2}}, ["order", "change"]),
    ({"kind": "order", "action": "?"}, {"team": "orders", "reply": "Thanks there, we are on it."},
     ["order", "default"]),
    ({"kind": "spam"}, {"team": "general", "reply": "We will get back to you."}, ["default"]),
])
def test_support_example_multi_level(backend, ticket, expected, routes) -> None:
    outcome = run(wfc.load(EXAMPLES / "support.wf", backend=backend), "triage", ticket)
    assert outcome.value == expected and routes_taken(outcome) == routes


def diagnostics(source: str) -> list[tuple[str, str, str]]:
    try:
        checked = analyze(source, "r.wf")
    except CompileError as error:
        return [(d.severity, d.code, d.message) for d in error.diagnostics]
    return [(d.severity, d.code, d.message) for d in checked.warnings]


@pytest.mark.parametrize("source, expected", [
    ("router r(x) { route a -> 1\n route a when x -> 2\n default -> 3 }",
     ("error", "E0132", "duplicate route name 'a'")),
    ("router r(x) { route a -> 1\n route b when x -> 2 }", ("error", "E0146", "route 'b' can never be chosen")),
    ("router r(x) { route a when x -> 1 }", ("warning", "W0142", "router 'r' has no default")),
    ("router r(x) { route a weight 2 -> 1\n default -> 0 }", ("error", "E0143", "`weight` applies only in a weighted router")),
    ("router r(x) weighted { route a weight 0 -> 1 }", ("error", "E0144", "a route's weight must be positive")),
    ("router r(x) { route a when x priority x -> 1\n default -> 0 }", ("error", "E0145", "a route's priority must be a number from -1_000_000 to 1_000_000")),
])
def test_router_checks(source, expected) -> None:
    assert expected in diagnostics(source)


def test_warnings_do_not_stop_compilation() -> None:
    text = wfc.compile_source("router r(x) { route a when x -> 1 }", "r.wf")
    assert "async def r(x: _wf.Value) -> int | None:" in text
