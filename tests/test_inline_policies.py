"""Compiled code admits a step whose only policies are `breaker` and `limit` in place,
through `Guard.enter` and `Guard.outcome` (codegen/policies.py `admitted_step`); the
interpreter goes through `Guard.run`. These tests pin the two to the same behaviour:
the same results, errors and events at the same virtual times, with a store that
answers synchronously (in memory) and one that must be awaited (SQLite)."""

from __future__ import annotations

import pytest

import backend_handlers as handlers
from conftest import load_both, run
from wfc.api import compile_source
from wfc.runtime import MemoryStore, Runtime, SqliteStore, VirtualClock

SOURCE = """use backend_handlers as h

workflow broken(name) {
    return h.flaky(name, "ok") with breaker(failures: 2, reset: 10s, successes: 1)
}
workflow keyed(user) {
    return h.flaky(user, "ok") with breaker(failures: 1, reset: 5s, key: user)
}
workflow limited(x) {
    return h.double(x) with limit(rate: 2/s, burst: 1)
}
workflow refused(x) {
    return h.double(x) with limit(rate: 1/s, burst: 1, wait: false)
}
workflow both(user) {
    return h.flaky(user, "ok") with limit(rate: 1/s, burst: 2, key: user), breaker(failures: 1, reset: 3s, key: user)
}
workflow rated(name) {
    return h.flaky(name, "ok") with breaker(failure_rate: 0.5, window: 4, min_calls: 2, reset: 10s)
}
workflow rest(seconds) {
    wait seconds
}
"""

# (workflow, argument, failures of `flaky(argument)` to arm first)
SCRIPT = [
    ("broken", "a", 3), ("broken", "a", 0), ("broken", "a", 0), ("rest", 11, 0),
    ("broken", "a", 0), ("broken", "a", 0), ("broken", "b", 0),
    ("keyed", "u1", 1), ("keyed", "u1", 0), ("keyed", "u2", 0), ("rest", 6, 0), ("keyed", "u1", 0),
    ("limited", 1, 0), ("limited", 2, 0), ("limited", 3, 0),
    ("refused", 1, 0), ("refused", 2, 0), ("rest", 1, 0), ("refused", 3, 0),
    ("both", "v", 1), ("both", "v", 0), ("both", "v", 0), ("rest", 4, 0), ("both", "v", 0),
    ("rated", "r0", 0), ("rated", "r1", 1), ("rated", "r0", 0), ("rated", "r2", 1),
    ("rated", "r0", 0), ("rest", 11, 0), ("rated", "r0", 0), ("rated", "r3", 1), ("rated", "r0", 0),
]


def play(module, store) -> list:
    """Every step of SCRIPT on one runtime: what it returned or raised, its events, the time."""
    rt = Runtime(clock=VirtualClock(), seed=1, store=store)
    handlers.failures.clear()
    transcript = []
    for name, argument, failures in SCRIPT:
        if failures:
            handlers.failures[argument] = failures
        outcome = run(module, name, argument, rt=rt)
        error = None if outcome.error is None else (type(outcome.error).__name__, str(outcome.error))
        events = [(e.kind, e.name, e.fields) for e in outcome.events]
        transcript.append((name, outcome.value, error, events, outcome.now))
    return transcript


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_breaker_and_limit_sites_admitted_in_place_behave_as_the_guard(store_kind, tmp_path) -> None:
    # Every guarded step of SOURCE is admitted in place, none through `Guard.run`.
    text = compile_source(SOURCE, "inline.wf")
    assert text.count(".enter(_rt") == 6 and ".run(_rt" not in text
    modules = load_both(SOURCE)

    def store(backend: str):
        return None if store_kind == "memory" else SqliteStore(tmp_path / f"{backend}.db")

    compiled, interpreted = play(modules["compiled"], store("compiled")), play(modules["interp"], store("interp"))
    assert compiled == interpreted
    kinds = [kind for step in compiled for kind, _, _ in step[3]]
    # The script reaches every state: open, rejected, half-open, closed again, a
    # permit waited for and one refused.
    for kind in ("breaker.open", "breaker.reject", "breaker.half_open", "breaker.close", "limit.wait",
                 "limit.reject"):
        assert kind in kinds, kind


def test_keyed_states_of_sites_admitted_in_place_go_when_idle() -> None:
    """Compiled code's in-place admission keeps the runtime's rule that a keyed limiter's
    or breaker's state goes once idle, so memory does not grow with the keys."""
    source = """use backend_handlers as h

workflow each(u) {
    return h.double(1) with limit(rate: 10/s, key: u), breaker(failures: 3, key: u)
}
workflow rest() {
    wait 1s
}
"""
    for backend, module in load_both(source).items():
        store = MemoryStore()
        rt = Runtime(clock=VirtualClock(), store=store)
        for user in range(300):
            assert run(module, "each", f"user{user}", rt=rt).value == 2
        grown = len(store)
        run(module, "rest", rt=rt)  # every bucket is full again
        assert run(module, "each", "last", rt=rt).value == 2
        assert grown >= 300 and len(store) <= 2, (backend, grown, len(store))
