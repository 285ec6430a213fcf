"""Failure-rate breakers (Resilience4j's count-based sliding window), beside the
consecutive-failures breaker: the pure decisions, and both backends on the stores."""

from __future__ import annotations

import pytest

import backend_handlers as handlers
from conftest import load_both, run
from wfc.api import analyze
from wfc.diagnostics import CompileError
from wfc.runtime import Breaker, Runtime, SqliteStore, VirtualClock
from wfc.runtime._policies import CLOSED, OPEN


def record_all(breaker: Breaker, outcomes: str) -> tuple:
    """Record `F`ailures and `S`uccesses on a closed breaker; the state and the transitions."""
    state, events = None, []
    for now, outcome in enumerate(outcomes):
        epoch = (state or breaker.INITIAL)[5]
        state, event = breaker.record(state, float(now), CLOSED, epoch, outcome == "F")
        events.append(event)
        if state[0] == OPEN:
            break
    return state, events


def test_it_opens_when_the_failed_share_of_the_window_reaches_the_rate() -> None:
    breaker = Breaker(failure_rate=0.5, window=4, min_calls=4)
    state, events = record_all(breaker, "FSSF")
    assert state[0] == OPEN and events == [None, None, None, "breaker.open"]


def test_min_calls_come_first_then_only_the_last_window_counts() -> None:
    breaker = Breaker(failure_rate=0.5, window=4, min_calls=3)
    assert record_all(breaker, "FF")[0][0] == CLOSED  # 2/2 failed, but fewer than 3 calls
    # F S S S S F: when the last F comes, the window holds S S S F (the first F slid out)
    state, _ = record_all(breaker, "FSSSSF")
    assert state[0] == CLOSED
    assert state[1] == 0b1_0001  # the window, newest lowest, under its length marker
    assert record_all(breaker, "SSSSFF")[0][0] == OPEN  # S S F F: a half failed


def test_a_rate_that_is_not_a_binary_fraction_opens_exactly_at_it() -> None:
    breaker = Breaker(failure_rate=0.3, window=10, min_calls=10)
    assert record_all(breaker, "SSSSSSSFFF")[0][0] == OPEN  # 3/10, though 0.3 * 10 > 3


def test_a_cancelled_call_does_not_count_and_closing_empties_the_window() -> None:
    breaker = Breaker(failure_rate=0.5, window=4, min_calls=2)
    state, _ = breaker.record(None, 0.0, CLOSED, 0, True)
    assert breaker.record(state, 1.0, CLOSED, 0, None)[0] is state
    half_open = (2, state[1], 0, 0.0, 1, 1)
    closed, event = breaker.record(half_open, 2.0, 2, 1, False)
    assert event == "breaker.close" and closed[1] == 0


def test_an_idle_window_expires_after_reset() -> None:
    breaker = Breaker(failure_rate=0.5, window=4, reset=30.0)
    state, _ = breaker.record(None, 5.0, CLOSED, 0, True)
    assert breaker.idle_at(state) == 35.0
    assert breaker.idle_at(breaker.INITIAL) == float("-inf")
    assert Breaker(failures=3).idle_at((CLOSED, 1, 0, 0.0, 0, 0)) is None


SOURCE = """use backend_handlers as h
policy shared {
    breaker(failure_rate: 0.5, window: 4, min_calls: 4, reset: 10s)
}
workflow call(name) {
    return h.flaky(name, "ok") with retry(attempts: 1), shared
}
workflow keyed(user, name) {
    return h.flaky(name, "ok") with breaker(failure_rate: 1, window: 2, reset: 10s, key: user)
}
workflow rest(seconds) {
    wait seconds
}
"""


def play(module, store, script) -> list:
    rt = Runtime(clock=VirtualClock(), seed=1, store=store)
    handlers.failures.clear()
    seen = []
    for name, *args in script:
        if name != "rest" and args[-1].startswith("bad"):
            handlers.failures[args[-1]] = 1
        outcome = run(module, name, *args, rt=rt)
        seen.append(outcome.value if outcome.error is None else type(outcome.error).__name__)
    return seen


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_both_backends_open_and_close_it_on_both_stores(store_kind, tmp_path) -> None:
    modules = load_both(SOURCE)
    script = [("call", "ok1"), ("call", "bad1"), ("call", "ok2"), ("call", "bad2"), ("call", "ok3"),
              ("rest", 11), ("call", "ok4"), ("call", "bad3"), ("call", "ok5"),
              ("keyed", "u1", "bad4"), ("keyed", "u1", "bad5"), ("keyed", "u1", "x"), ("keyed", "u2", "x")]
    results = {
        backend: play(module, None if store_kind == "memory" else SqliteStore(tmp_path / f"{backend}.db"), script)
        for backend, module in modules.items()
    }
    assert results["compiled"] == results["interp"] == [
        "ok", "ConnectionError", "ok", "ConnectionError", "CircuitOpen",  # 2 of 4 failed: open
        None, "ok", "ConnectionError", "ok",  # half-open, a success closes it; a new window
        "ConnectionError", "ConnectionError", "CircuitOpen", "ok",  # one window per user
    ]


@pytest.mark.parametrize("arguments, message", [
    ("failures: 3, failure_rate: 0.5", "a breaker counts `failures` in a row or a `failure_rate`, not both"),
    ("failure_rate: 0", "`failure_rate` must be above 0 (at 0 every call would open it)"),
    ("failure_rate: 0.5, window: 5, min_calls: 6", "`min_calls` cannot exceed the `window` of calls it is counted in"),
    ("window: 10", "`window` and `min_calls` belong to a failure-rate breaker: add `failure_rate`"),
])
def test_bad_failure_rate_breakers(arguments, message) -> None:
    with pytest.raises(CompileError) as info:
        analyze(f"use h\nworkflow w() {{\n h.f() with breaker({arguments})\n}}", "b.wf")
    assert [(d.code, d.message) for d in info.value.diagnostics] == [("E0198", message)]
