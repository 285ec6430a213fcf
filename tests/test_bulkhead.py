"""Bulkheads, `limit(concurrent: N, queue: Q)`: at most N calls in flight, shared by
every run using the same named policy (and every process, through a shared store:
tests/test_stores.py), waiters first come, first served."""

from __future__ import annotations

import asyncio

import pytest

import backend_handlers as handlers
from conftest import load_both, run, run_source
from wfc.api import analyze
from wfc.diagnostics import CompileError
from wfc.runtime import Bulkhead, RateLimited, Runtime, SqliteStore, VirtualClock

SOURCE = """use backend_handlers as h
policy pool {
    limit(concurrent: 2, queue: 2)
}
workflow fan(xs) {
    r = parallel for x in xs limit 10 on error skip { yield h.slow(x, 1) with pool }
    return r
}
workflow one(x) {
    return h.slow(x, 1) with pool
}
workflow hurried(xs) {
    r = parallel for x in xs limit 10 on error skip {
        yield h.slow(x, 2) with limit(concurrent: 1, max_wait: 3s)
    }
    return r
}
workflow refusing(xs) {
    r = parallel for x in xs limit 10 on error skip {
        yield h.slow(x, 1) with limit(concurrent: 1, wait: false)
    }
    return r
}
workflow keyed(users) {
    r = parallel for u in users limit 10 { yield h.slow(u, 1) with limit(concurrent: 1, key: u) }
    return r
}
"""


@pytest.fixture(scope="module")
def modules():
    return load_both(SOURCE)


def test_two_in_flight_two_queued_the_rest_refused(backend, modules) -> None:
    handlers.log.clear()
    outcome = run(modules[backend], "fan", [1, 2, 3, 4, 5, 6])
    assert outcome.value == [1, 2, 3, 4] and outcome.now == 2.0
    assert [x for name, (x, _) in handlers.log if name == "slow"] == [1, 2, 3, 4]  # first come, first served
    kinds = [e.kind for e in outcome.events if e.kind.startswith("limit")]
    assert kinds.count("limit.wait") == 2 and kinds.count("limit.reject") == 2


def test_runs_share_a_named_policy(backend, modules) -> None:
    rt = Runtime(clock=VirtualClock(), seed=1)

    async def main():
        with rt.activate():
            return await asyncio.gather(*(modules[backend].one(x) for x in range(4)))

    assert asyncio.run(main()) == [0, 1, 2, 3] and rt.clock.now() == 2.0  # 2 at a time


def test_max_wait_and_wait_false_refuse_with_rate_limited(backend, modules) -> None:
    outcome = run(modules[backend], "hurried", [1, 2, 3])
    assert outcome.value == [1, 2] and outcome.now == 4.0  # the third would wait 4s > 3s
    assert run(modules[backend], "refusing", [1, 2, 3]).value == [1]
    failed = run_source("use backend_handlers as h\nworkflow main() {\n parallel {\n"
                        "  a = h.slow(1, 1) with limit(concurrent: 1, wait: false)\n"
                        "  b = h.slow(2, 1) with limit(concurrent: 1, wait: false)\n }\n}\n", backend)
    assert failed.error is None  # two sites, two bulkheads
    shared = run_source("use backend_handlers as h\npolicy one { limit(concurrent: 1, wait: false) }\n"
                        "workflow main() {\n parallel {\n  a = h.slow(1, 1) with one\n"
                        "  b = h.slow(2, 1) with one\n }\n}\n", backend)
    assert isinstance(shared.error, RateLimited)
    assert str(shared.error) == "concurrency limit of h.slow reached: 1 in flight"


def test_a_keyed_bulkhead_caps_each_key(backend, modules) -> None:
    outcome = run(modules[backend], "keyed", ["a", "b", "a", "b"])
    assert outcome.value == ["a", "b", "a", "b"] and outcome.now == 2.0


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_a_cancelled_caller_leaves_its_slot_or_its_place(store_kind, tmp_path) -> None:
    """Cancelled while holding, the slot is freed; while queued, the next in line moves up;
    either way the state ends empty."""
    store = None if store_kind == "memory" else SqliteStore(tmp_path / "b.db")
    rt = Runtime(clock=VirtualClock(), seed=1, store=store)
    from wfc.runtime import Guard

    guard = Guard("svc", "t.wf:1:1", bulkhead=Bulkhead(1), limit_state="t.pool")

    async def main():
        with rt.activate():
            first = asyncio.ensure_future(guard.run(rt, handlers.slow, (1, 5)))
            second = asyncio.ensure_future(guard.run(rt, handlers.slow, (2, 5)))
            third = asyncio.ensure_future(guard.run(rt, handlers.slow, (3, 1)))
            await rt.clock.sleep(1)
            second.cancel()  # queued
            await rt.clock.sleep(1)
            first.cancel()  # holding
            results = await asyncio.gather(first, second, third, return_exceptions=True)
            return results, rt.clock.now(), await rt.store.get("limit:t.pool", rt.policy_now())

    results, now, left = asyncio.run(main())
    assert isinstance(results[0], asyncio.CancelledError) and isinstance(results[1], asyncio.CancelledError)
    assert results[2] == 3 and now == 3.0  # the third took the slot at t=2
    assert left is None  # nobody holds or waits: the record went


def test_the_decisions_serve_in_order_and_expire_the_dead() -> None:
    bulkhead = Bulkhead(1, queue=1)
    state, held = bulkhead.acquire(None, 0.0, "a")
    assert held is True
    state, held = bulkhead.acquire(state, 0.0, "b")
    assert held is None  # queued
    assert bulkhead.acquire(state, 0.0, "c") == (state, False)  # the queue is full
    state, _ = bulkhead.release(state, 1.0, "a")
    assert bulkhead.acquire(state, 1.0, "c")[1] is False  # a slot is free, but b is first in line
    state, held = bulkhead.acquire(state, 1.0, "b")
    assert held is True
    # b's process dies holding the slot: it is free again after the holder's lease
    assert bulkhead.acquire(state, 1.0 + 301.0, "d")[1] is True


@pytest.mark.parametrize("arguments, message", [
    ("concurrent: 2, rate: 5/s", "`rate` belongs to a rate limit, not to `concurrent` (calls in flight)"),
    ("rate: 5/s, queue: 3", "`queue` belongs to a concurrency limit: add `concurrent`"),
])
def test_bad_bulkheads(arguments, message) -> None:
    with pytest.raises(CompileError) as info:
        analyze(f"use h\nworkflow w() {{\n h.f() with limit({arguments})\n}}", "b.wf")
    assert [(d.code, d.message) for d in info.value.diagnostics] == [("E0199", message)]


def test_a_call_inside_a_call_holding_the_slot_uses_it(backend) -> None:
    """A workflow and a step inside it share a named bulkhead of one slot: the step would
    wait for its own caller forever; it runs in the caller's slot instead."""
    source = ("use backend_handlers as h\npolicy one { limit(concurrent: 1) }\n"
              "workflow inner(x) with one {\n    return h.slow(x, 1) with one\n}\n"
              "workflow main() {\n    parallel {\n        a = inner(1)\n        b = inner(2)\n    }\n"
              "    return [a, b]\n}\n")
    outcome = run_source(source, backend)
    assert outcome.value == [1, 2] and outcome.now == 2.0  # one at a time, no deadlock
