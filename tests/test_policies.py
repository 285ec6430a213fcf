"""The runtime's policies on a VirtualClock: exact delays, transitions and permits."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
import random

import pytest

from wfc.runtime import (SqliteStore, 
    Breaker, CircuitOpen, Fallback, Guard, Idempotent, Limit, MemoryStore, RateLimited, Retry,
    Runtime, VirtualClock, update,
)


class Flaky:
    """A handler failing its first `failures` calls with `error`, optionally slow."""

    def __init__(self, failures: int = 0, error: type[Exception] = ConnectionError,
                 delay: float = 0.0) -> None:
        self.failures = failures
        self.error = error
        self.delay = delay
        self.calls: list[float] = []

    async def __call__(self, value: int = 1, **options: object) -> int:
        rt_now = _RT.clock.now()
        self.calls.append(rt_now)
        if self.delay:
            await _RT.clock.sleep(self.delay)
        if len(self.calls) <= self.failures:
            raise self.error(f"call {len(self.calls)} failed")
        return value * 10


_RT: Runtime  # the runtime of the running test, for handlers


def run(rt: Runtime, main):
    global _RT
    _RT = rt

    async def wrapped():
        with rt.activate():
            return await main()

    return asyncio.run(wrapped())


def runtime(seed: int | None = 0) -> tuple[Runtime, list[tuple]]:
    rt = Runtime(clock=VirtualClock(), seed=seed)
    events: list[tuple] = []
    rt.observe(lambda e: events.append((e.kind, e.fields, rt.clock.now())))
    return rt, events


class PlainStore:
    """Only the `Store` protocol (no `update_now`, no `peek`), as a remote store has it:
    every decision goes through the awaited compare-and-set loop."""

    def __init__(self) -> None:
        self._inner = MemoryStore()

    async def get(self, key, now):
        await asyncio.sleep(0)  # a round trip: other tasks run in between
        return await self._inner.get(key, now)

    async def put(self, key, value, version, expires=None):
        await asyncio.sleep(0)
        return await self._inner.put(key, value, version, expires)

    async def delete(self, key, version):
        await asyncio.sleep(0)
        return await self._inner.delete(key, version)


def sqlite_store() -> SqliteStore:
    """A fresh SQLite file: the durable store, under the same concurrency tests."""
    return SqliteStore(Path(tempfile.mkdtemp(prefix="wfc-policies-")) / "policies.db")


STORES = [MemoryStore, PlainStore, sqlite_store]


def kinds(events: list[tuple], prefix: str) -> list[tuple[str, float]]:
    return [(kind, at) for kind, _, at in events if kind.startswith(prefix)]


# ---- retry -------------------------------------------------------------------------
@pytest.mark.parametrize("backoff, delays", [
    ("exponential", [0.5, 1.0, 2.0, 4.0, 5.0]),  # capped at max_delay 5s
    ("linear", [0.5, 1.0, 1.5, 2.0, 2.5]),
    ("fixed", [0.5, 0.5, 0.5, 0.5, 0.5]),
])
def test_retry_waits_exactly_the_backoff(backoff, delays) -> None:
    rt, events = runtime()
    handler = Flaky(failures=5)
    guard = Guard("api.get", "t.wf:1:1", retry=Retry(attempts=6, backoff=backoff, delay=0.5, max_delay=5.0))
    assert run(rt, lambda: guard.run(rt, handler, (4,))) == 40
    waited = [b - a for a, b in zip(handler.calls, handler.calls[1:])]
    assert waited == pytest.approx(delays)
    retries = [fields for kind, fields, _ in events if kind == "retry"]
    assert [r["attempt"] for r in retries] == [1, 2, 3, 4, 5]
    assert [r["delay"] for r in retries] == pytest.approx(delays)


def test_huge_backoff_is_capped_not_an_overflow() -> None:
    retry = Retry(attempts=5000, delay=1.0, factor=1e308, max_delay=30.0)
    assert retry.delay_after(4000, ConnectionError(), random.Random(0)) == 30.0


def test_retry_jitter_draws_from_the_seeded_source() -> None:
    rt, _ = runtime(seed=42)
    handler = Flaky(failures=3)
    guard = Guard("api.get", "t.wf:1:1", retry=Retry(attempts=4, delay=1.0, factor=3.0, jitter=0.5))
    run(rt, lambda: guard.run(rt, handler))
    draws = random.Random(42)
    expected = [1.0 * draws.uniform(0.5, 1.5), 3.0 * draws.uniform(0.5, 1.5), 9.0 * draws.uniform(0.5, 1.5)]
    waited = [b - a for a, b in zip(handler.calls, handler.calls[1:])]
    assert waited == pytest.approx(expected)


def test_retry_gives_up_with_the_last_error_and_filters_by_on() -> None:
    rt, _ = runtime()
    handler = Flaky(failures=10)
    guard = Guard("api.get", "t.wf:1:1", retry=Retry(attempts=3, delay=0.0))
    with pytest.raises(ConnectionError, match="call 3 failed"):
        run(rt, lambda: guard.run(rt, handler))
    assert len(handler.calls) == 3
    only_timeouts = Guard("api.get", "t.wf:1:1", retry=Retry(attempts=3, on=(TimeoutError,)))
    other = Flaky(failures=10, error=ValueError)
    with pytest.raises(ValueError):
        run(rt, lambda: only_timeouts.run(rt, other))
    assert len(other.calls) == 1


def test_zero_delay_retries_never_sleep() -> None:
    slept: list[float] = []

    class Spy(VirtualClock):
        async def sleep(self, seconds: float) -> None:
            slept.append(seconds)
            await super().sleep(seconds)

    rt = Runtime(clock=Spy())
    guard = Guard("api.get", "t.wf:1:1", retry=Retry(attempts=4, delay=0.0))
    assert run(rt, lambda: guard.run(rt, Flaky(failures=3))) == 10
    assert slept == []


def test_circuit_open_is_retried_only_when_listed() -> None:
    rt, _ = runtime()
    opened = Flaky(failures=5, error=CircuitOpen)
    with pytest.raises(CircuitOpen):
        run(rt, lambda: Guard("a", "t.wf:1:1", retry=Retry(attempts=3, delay=0.0)).run(rt, opened))
    assert len(opened.calls) == 1
    listed = Guard("a", "t.wf:1:1", retry=Retry(attempts=3, delay=0.0, on=(CircuitOpen,)))
    with pytest.raises(CircuitOpen):
        run(rt, lambda: listed.run(rt, opened))
    assert len(opened.calls) == 4


# ---- timeout -----------------------------------------------------------------------
def test_timeout_cancels_each_attempt() -> None:
    rt, events = runtime()
    slow = Flaky(delay=5.0)
    guard = Guard("api.get", "t.wf:1:1", retry=Retry(attempts=3, delay=1.0, backoff="fixed"), timeout=2.0)
    with pytest.raises(TimeoutError, match="timed out after 2s"):
        run(rt, lambda: guard.run(rt, slow))
    assert slow.calls == [0.0, 3.0, 6.0]
    assert rt.clock.now() == 8.0
    assert [at for kind, at in kinds(events, "timeout")] == [2.0, 5.0, 8.0]


def test_a_handlers_own_timeout_error_is_not_a_timeout_event() -> None:
    rt, events = runtime()
    guard = Guard("api.get", "t.wf:1:1", timeout=2.0)
    with pytest.raises(TimeoutError):
        run(rt, lambda: guard.run(rt, Flaky(failures=1, error=TimeoutError)))
    assert kinds(events, "timeout") == []


# ---- breaker -----------------------------------------------------------------------
async def outcomes(rt: Runtime, guard: Guard, handlers) -> list:
    results = []
    for handler in handlers:
        try:
            results.append(await guard.run(rt, handler))
        except Exception as exc:
            results.append(type(exc).__name__)
    return results


async def ok() -> str:
    return "ok"


async def bad() -> str:
    raise ConnectionError("down")


def test_breaker_opens_at_consecutive_failures_and_a_success_resets_the_count() -> None:
    rt, events = runtime()
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=3, reset=10.0))
    got = run(rt, lambda: outcomes(rt, guard, [bad, bad, ok, bad, bad, bad, ok]))
    assert got == ["ConnectionError", "ConnectionError", "ok", "ConnectionError",
                   "ConnectionError", "ConnectionError", "CircuitOpen"]
    assert kinds(events, "breaker") == [("breaker.open", 0.0), ("breaker.reject", 0.0)]


@pytest.mark.parametrize("store", STORES)
def test_breaker_half_opens_after_reset_and_closes_after_successes(store) -> None:
    rt = Runtime(clock=VirtualClock(), seed=0, store=store())
    events: list[tuple] = []
    rt.observe(lambda e: events.append((e.kind, e.fields, rt.clock.now())))
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=1, reset=10.0, successes=2))

    async def scenario():
        first = await outcomes(rt, guard, [bad, ok])  # opens, then rejects
        await rt.clock.sleep(9.9)
        early = await outcomes(rt, guard, [ok])  # still open
        await rt.clock.sleep(0.1)
        probe = await outcomes(rt, guard, [ok, bad])  # half-open: 1 success, then a failure re-opens
        await rt.clock.sleep(5.0)
        reopened = await outcomes(rt, guard, [ok])  # reset counts from the re-opening
        await rt.clock.sleep(5.0)
        closing = await outcomes(rt, guard, [ok, ok, bad])
        return first, early, probe, reopened, closing

    first, early, probe, reopened, closing = run(rt, scenario)
    assert first == ["ConnectionError", "CircuitOpen"]
    assert early == ["CircuitOpen"]
    assert probe == ["ok", "ConnectionError"]
    assert reopened == ["CircuitOpen"]
    assert closing == ["ok", "ok", "ConnectionError"]  # closed again: one failure opens it
    assert kinds(events, "breaker") == [
        ("breaker.open", 0.0), ("breaker.reject", 0.0), ("breaker.reject", 9.9),
        ("breaker.half_open", 10.0), ("breaker.open", 10.0), ("breaker.reject", 15.0),
        ("breaker.half_open", 20.0), ("breaker.close", 20.0), ("breaker.open", 20.0),
    ]


@pytest.mark.parametrize("store", STORES)
def test_half_open_admits_at_most_half_open_calls_in_flight(store) -> None:
    rt = Runtime(clock=VirtualClock(), store=store())
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=1, reset=1.0, half_open=3, successes=3))
    slow = Flaky(delay=2.0)

    async def scenario():
        await outcomes(rt, guard, [bad])
        await rt.clock.sleep(1.0)
        calls = [guard.run(rt, slow) for _ in range(300)]
        return await asyncio.gather(*calls, return_exceptions=True)

    results = run(rt, scenario)
    assert sum(result == 10 for result in results) == 3
    assert sum(isinstance(result, CircuitOpen) for result in results) == 297
    assert len(slow.calls) == 3


def test_a_cancelled_half_open_probe_frees_its_slot() -> None:
    rt, events = runtime()
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=1, reset=1.0))
    slow = Flaky(delay=10.0)

    async def scenario():
        await outcomes(rt, guard, [bad])
        await rt.clock.sleep(1.0)
        probe = asyncio.ensure_future(guard.run(rt, slow))
        await rt.clock.sleep(0.5)
        probe.cancel()  # e.g. a parallel sibling failed
        await asyncio.gather(probe, return_exceptions=True)
        return await outcomes(rt, guard, [ok])

    assert run(rt, scenario) == ["ok"]  # the next probe is let through, and closes it
    assert [kind for kind, _ in kinds(events, "breaker")] == ["breaker.open", "breaker.half_open", "breaker.close"]


def test_breaker_on_filters_failures_and_late_outcomes_do_not_count() -> None:
    rt, _ = runtime()
    only_connection = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=1, on=(ConnectionError,)))

    async def value_error():
        raise ValueError("bad request")

    got = run(rt, lambda: outcomes(rt, only_connection, [value_error, value_error, ok]))
    assert got == ["ValueError", "ValueError", "ok"]  # a ValueError is an answer, not an outage
    # 100 slow calls admitted while closed; when the first fails the breaker opens, and the
    # other 99 failures, which started before, must not re-open it or count towards anything.
    rt, events = runtime()
    guard = Guard("svc", "t.wf:2:1", breaker=Breaker(failures=1, reset=1.0))
    slow_bad = Flaky(failures=1000, delay=0.5)

    async def scenario():
        await asyncio.gather(*[guard.run(rt, slow_bad) for _ in range(100)], return_exceptions=True)
        await rt.clock.sleep(1.0)
        return await guard.run(rt, ok)

    assert run(rt, scenario) == "ok"
    assert [kind for kind, _ in kinds(events, "breaker")] == ["breaker.open", "breaker.half_open", "breaker.close"]


def test_named_state_is_shared_and_keys_split_it() -> None:
    rt, _ = runtime()
    first = Guard("a.x", "t.wf:1:1", breaker=Breaker(failures=1), breaker_state="mod.api")
    second = Guard("a.y", "t.wf:9:1", breaker=Breaker(failures=1), breaker_state="mod.api")
    got = run(rt, lambda: outcomes(rt, first, [bad]))
    assert got == ["ConnectionError"]
    assert run(rt, lambda: outcomes(rt, second, [ok])) == ["CircuitOpen"]
    keyed = Guard("a.z", "t.wf:5:1", breaker=Breaker(failures=1))

    async def per_user():
        results = []
        for user, handler in (("u1", bad), ("u1", ok), ("u2", ok)):
            try:
                results.append(await keyed.run(rt, handler, breaker_key=user))
            except Exception as exc:
                results.append(type(exc).__name__)
        return results

    assert run(rt, per_user) == ["ConnectionError", "CircuitOpen", "ok"]


# ---- limit -------------------------------------------------------------------------


def permit_times(limit: Limit, arrivals: list[float], store=MemoryStore) -> list[float | None]:
    """When each caller (arriving at the given virtual times) got its permit; None: refused."""
    rt = Runtime(clock=VirtualClock(), seed=0, store=store())
    guard = Guard("svc", "t.wf:1:1", limit=limit)
    times: list[float | None] = [None] * len(arrivals)

    async def caller(number: int, at: float) -> None:
        await rt.clock.sleep(at)
        try:
            await guard.run(rt, ok)
        except RateLimited:
            return
        times[number] = rt.clock.now()

    async def scenario():
        await asyncio.gather(*[caller(n, at) for n, at in enumerate(arrivals)])

    run(rt, scenario)
    return times


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    times = permit_times(Limit(2, 1.0, burst=3), [0.0] * 6 + [10.0] * 4)
    assert times == pytest.approx([0, 0, 0, 0.5, 1.0, 1.5, 10, 10, 10, 10.5])


def test_leaky_bucket_spaces_calls_and_overflows_past_burst() -> None:
    times = permit_times(Limit(4, 1.0, burst=2, algorithm="leaky_bucket"), [0.0] * 5)
    assert times == pytest.approx([0, 0.25, 0.5, None, None])


def test_fixed_window_counts_per_aligned_window() -> None:
    times = permit_times(Limit(3, 60.0, algorithm="fixed_window"), [50.0] * 7)
    assert times == pytest.approx([50, 50, 50, 60, 60, 60, 120])


def test_sliding_window_allows_permits_in_any_period() -> None:
    times = permit_times(Limit(2, 10.0, algorithm="sliding_window"), [0.0, 6.0, 7.0, 8.0, 17.0])
    assert times == pytest.approx([0, 6, 10, 16, 20])


def test_limit_rejects_without_wait_or_past_max_wait() -> None:
    times = permit_times(Limit(1, 1.0, wait=False), [0.0, 0.0, 0.5, 1.0])
    assert times == [0.0, None, None, 1.0]
    times = permit_times(Limit(1, 1.0, max_wait=1.5), [0.0] * 4)
    assert times == pytest.approx([0, 1, None, None])  # the third would wait 2s


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("algorithm", ["token_bucket", "leaky_bucket", "fixed_window", "sliding_window"])
def test_hundreds_of_concurrent_callers_never_exceed_the_algorithm(algorithm, store) -> None:
    limit = Limit(5, 1.0, algorithm=algorithm)
    arrivals = [random.Random(n).uniform(0, 20) for n in range(400)]
    times = sorted(t for t in permit_times(limit, arrivals, store) if t is not None)
    assert_within(limit, times)
    if algorithm != "leaky_bucket":
        assert len(times) == 400  # everyone waits their turn


def assert_within(limit: Limit, times: list[float]) -> None:
    eps = 1e-9
    if limit.algorithm == "token_bucket":
        for i, start in enumerate(times):  # in any interval, at most burst + rate*length
            for j in range(i, len(times)):
                assert j - i + 1 <= limit.burst + limit.rate * (times[j] - start) + eps
    elif limit.algorithm == "leaky_bucket":
        assert all(b - a >= 1 / limit.rate - eps for a, b in zip(times, times[1:]))
    elif limit.algorithm == "fixed_window":
        windows: dict[int, int] = {}
        for t in times:
            windows[int((t + eps) // limit.period)] = windows.get(int((t + eps) // limit.period), 0) + 1
        assert max(windows.values()) <= limit.permits
    else:
        permits = int(limit.permits)
        assert all(b - a >= limit.period - eps for a, b in zip(times, times[permits:]))


# ---- idempotent --------------------------------------------------------------------
def test_idempotent_runs_once_within_ttl_and_again_after() -> None:
    rt, events = runtime()
    handler = Flaky()
    guard = Guard("pay.charge", "t.wf:1:1", idempotent=Idempotent(ttl=60.0), qualname="m.pay.charge")

    async def scenario():
        results = [await guard.run(rt, handler, (1,)), await guard.run(rt, handler, (1,)),
                   await guard.run(rt, handler, (2,))]
        await rt.clock.sleep(60.0)
        results.append(await guard.run(rt, handler, (1,)))
        return results

    assert run(rt, scenario) == [10, 10, 20, 10]
    assert handler.calls == [0.0, 0.0, 60.0]  # (1,) twice within the ttl, (2,), then (1,) again
    assert len([e for e in events if e[0] == "idempotent.hit"]) == 1


@pytest.mark.parametrize("store", STORES)
def test_concurrent_callers_with_one_key_share_one_call(store) -> None:
    rt = Runtime(clock=VirtualClock(), store=store())
    handler = Flaky(delay=3.0)
    guard = Guard("pay.charge", "t.wf:1:1", idempotent=Idempotent(explicit=True))

    async def scenario():
        return await asyncio.gather(*[guard.run(rt, handler, (7,), key="order-1") for _ in range(300)])

    assert run(rt, scenario) == [70] * 300
    assert handler.calls == [0.0]
    assert rt.clock.now() == 3.0
    assert len(rt.in_flight) == 0


def test_a_failed_call_stores_nothing_and_waiters_share_its_error() -> None:
    rt, _ = runtime()
    handler = Flaky(failures=1, delay=1.0)
    guard = Guard("pay.charge", "t.wf:1:1", idempotent=Idempotent(explicit=True))

    async def scenario():
        first = await asyncio.gather(*[guard.run(rt, handler, key="k") for _ in range(50)],
                                     return_exceptions=True)
        return first, await guard.run(rt, handler, key="k")

    first, again = run(rt, scenario)
    assert all(isinstance(result, ConnectionError) for result in first)
    assert again == 10
    assert len(handler.calls) == 2


# ---- fallback ----------------------------------------------------------------------
def test_fallback_gets_the_same_arguments_after_retries_or_an_open_breaker() -> None:
    rt, events = runtime()
    seen: list[tuple] = []

    def cached(*args, **kwargs):
        seen.append((args, kwargs))
        return "cached"

    guard = Guard("api.get", "t.wf:1:1", fallback=Fallback(), retry=Retry(attempts=2, delay=0.0),
                  breaker=Breaker(failures=2))
    handler = Flaky(failures=100)

    async def scenario():
        return [await guard.run(rt, handler, (3,), {"q": "x"}, fallback=cached) for _ in range(2)]

    assert run(rt, scenario) == ["cached", "cached"]
    assert seen == [((3,), {"q": "x"})] * 2
    assert len(handler.calls) == 2  # the second run meets the open breaker
    assert [fields["error"] for kind, fields, _ in events if kind == "fallback"] == ["ConnectionError", "CircuitOpen"]
    value = Guard("api.get", "t.wf:1:1", fallback=Fallback(calls=False))
    assert run(rt, lambda: value.run(rt, Flaky(failures=1), fallback=lambda: {"stale": True})) == {"stale": True}


# ---- the store ---------------------------------------------------------------------
def test_memory_store_compare_and_set_expiry_and_fresh_versions() -> None:
    store = MemoryStore()

    async def scenario():
        first = await store.put("k", "a", 0)
        assert first and not await store.put("k", "b", 0)  # not absent any more
        assert await store.get("k", 0.0) == ("a", first)
        second = await store.put("k", "b", first)
        assert second and not await store.put("k", "c", first)  # a stale version loses
        assert await store.delete("k", second)
        third = await store.put("k", "d", 0, expires=5.0)
        assert third not in (first, second)  # never reused, so a stale writer cannot win
        assert await store.get("k", 4.9) == ("d", third)
        assert await store.get("k", 5.0) is None

    asyncio.run(scenario())


def test_update_retries_when_another_writer_gets_in_between() -> None:
    class Contended(MemoryStore):
        raced = False

        async def put(self, key, value, version, expires=None):
            if not self.raced:  # someone else writes first
                self.raced = True
                await MemoryStore.put(self, key, 100, version)
                return 0
            return await MemoryStore.put(self, key, value, version, expires)

    store = Contended()
    seen: list = []

    def increment(state, now):
        seen.append(state)
        return (state or 0) + 1, "done"

    assert asyncio.run(update(store, "n", 0.0, increment)) == "done"
    assert seen == [None, 100]
    assert asyncio.run(store.get("n", 0.0))[0] == 101


def test_keyed_states_go_when_idle_so_memory_does_not_grow_with_keys() -> None:
    store = MemoryStore()
    rt = Runtime(clock=VirtualClock(), store=store)
    limited = Guard("svc", "t.wf:1:1", limit=Limit(10, 1.0))
    broken = Guard("svc", "t.wf:2:1", breaker=Breaker(failures=3))

    async def scenario():
        for user in range(1000):
            await limited.run(rt, ok, limit_key=user)
            await broken.run(rt, ok, breaker_key=user)
        await rt.clock.sleep(1.0)  # every bucket is full again
        await limited.run(rt, ok, limit_key="last")
        failing = [await outcomes(rt, broken, [bad]) for _ in range(2)]
        return failing

    assert run(rt, scenario) == [["ConnectionError"], ["ConnectionError"]]
    assert len(store) <= 2  # the last user's bucket, and the breaker counting 2 failures


# ---- found by tools/mutate.py: behaviour no test pinned ------------------------------
@pytest.mark.parametrize("algorithm", ["token_bucket", "leaky_bucket", "fixed_window", "sliding_window"])
def test_a_keyed_limit_keeps_its_state_while_it_matters_and_drops_it_after(algorithm) -> None:
    """Each algorithm's `idle_at`: a key that used its permits is still limited a moment
    later (its state was not dropped too early), and once its permits are all back the
    state is gone, so memory does not grow with the keys."""
    store = MemoryStore()
    rt = Runtime(clock=VirtualClock(), store=store)
    guard = Guard("svc", "t.wf:1:1", limit=Limit(2, 1.0, algorithm=algorithm, wait=False))

    async def scenario():
        await rt.clock.sleep(10.0)  # so that times and counts in a state differ
        refused_at_once = []
        for user in range(20):
            refused_at_once.append(await outcomes_keyed(rt, guard, user, 3))
            await outcomes_keyed(rt, guard, f"once-{user}", 1)
        await rt.clock.sleep(0.25)
        still_limited = await outcomes_keyed(rt, guard, 0, 1)
        kept = len(store)
        await rt.clock.sleep(0.75)  # 1 s on: every key's permits are back, no sooner
        fresh = await outcomes_keyed(rt, guard, "new", 1)
        return refused_at_once, still_limited, kept, fresh, len(store)

    refused_at_once, still_limited, kept, fresh, left = run(rt, scenario)
    assert all(results[-1] == "RateLimited" for results in refused_at_once)
    assert still_limited == ["RateLimited"] and kept >= 20
    assert fresh == ["ok"] and left == 1  # only the new key's state


async def outcomes_keyed(rt: Runtime, guard: Guard, key, calls: int) -> list:
    results = []
    for _ in range(calls):
        try:
            results.append(await guard.run(rt, ok, limit_key=key))
        except RateLimited:
            results.append("RateLimited")
    return results


def test_a_success_after_a_single_failure_resets_the_count() -> None:
    rt, _ = runtime()
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=2, reset=10.0))
    got = run(rt, lambda: outcomes(rt, guard, [bad, ok, bad, ok]))
    assert got == ["ConnectionError", "ok", "ConnectionError", "ok"]  # never two in a row


def test_a_failure_from_before_the_breaker_reopened_and_closed_does_not_count() -> None:
    """A call admitted while closed, at epoch 0, fails after the breaker opened, half-opened
    and closed again (epoch 3): the state is closed as when it was admitted, but it moved
    on since, so the late failure must not open it."""
    rt, events = runtime()
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=1, reset=1.0, successes=1))
    slow_bad = Flaky(failures=1, delay=5.0)

    async def scenario():
        slow = asyncio.ensure_future(guard.run(rt, slow_bad))
        await rt.clock.sleep(0.1)
        first = await outcomes(rt, guard, [bad])  # opens
        await rt.clock.sleep(1.0)
        probe = await outcomes(rt, guard, [ok])  # half-open, then closed
        late = await asyncio.gather(slow, return_exceptions=True)
        after = await outcomes(rt, guard, [ok])
        return first, probe, [type(e).__name__ for e in late], after

    first, probe, late, after = run(rt, scenario)
    assert (first, probe, late, after) == (["ConnectionError"], ["ok"], ["ConnectionError"], ["ok"])
    assert [kind for kind, _ in kinds(events, "breaker")] == [
        "breaker.open", "breaker.half_open", "breaker.close"]


def test_a_cancelled_half_open_probe_frees_only_its_slot() -> None:
    rt, _ = runtime()
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=1, reset=1.0, half_open=2, successes=5))
    hanging = Flaky(failures=0, delay=100.0)

    async def scenario():
        await outcomes(rt, guard, [bad])  # open
        await rt.clock.sleep(1.0)
        probes = [asyncio.ensure_future(guard.run(rt, hanging)) for _ in range(2)]  # both slots
        await rt.clock.sleep(0.1)
        probes[0].cancel()
        await asyncio.gather(probes[0], return_exceptions=True)
        third = asyncio.ensure_future(guard.run(rt, hanging))  # takes the freed slot
        await rt.clock.sleep(0.1)
        fourth = await outcomes(rt, guard, [ok])  # both slots held again: rejected
        for task in (probes[1], third):
            task.cancel()
        await asyncio.gather(probes[1], third, return_exceptions=True)
        return third.cancelled(), fourth

    assert run(rt, scenario) == (True, ["CircuitOpen"])


def test_a_keyed_breaker_keeps_its_failures_while_idle() -> None:
    rt, _ = runtime()
    guard = Guard("svc", "t.wf:1:1", breaker=Breaker(failures=2, reset=10.0))

    async def scenario():
        results = []
        for _ in range(3):
            try:
                results.append(await guard.run(rt, bad, breaker_key="user-1"))
            except Exception as exc:  # noqa: BLE001 - the outcome is what is compared
                results.append(type(exc).__name__)
            await rt.clock.sleep(1.0)
        return results

    assert run(rt, scenario) == ["ConnectionError", "ConnectionError", "CircuitOpen"]


def test_a_wait_of_exactly_max_wait_is_waited_and_a_full_leaky_bucket_takes_exactly_burst() -> None:
    """Boundaries the mutation run found unpinned: `max_wait` is the longest wait allowed
    (not one less), and a leaky bucket queues `burst` calls behind the one leaving."""
    times = permit_times(Limit(1, 1.0, max_wait=1.0), [0.0] * 3)
    assert times == pytest.approx([0, 1, None])  # the second waits exactly 1s
    times = permit_times(Limit(1, 1.0, burst=1, algorithm="leaky_bucket"), [0.0] * 3)
    assert times == pytest.approx([0, 1, None])  # one leaving, one queued: the third overflows
