"""Durable and shared stores: the same compare-and-set contract on memory, SQLite and a real
Redis, JSON values only, and policy state that several processes really share."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import ROOT, run_source
from wfc.api import load_source
from wfc.runtime import (MemoryStore, NotStorable, RedisStore, Runtime, SqliteStore, VirtualClock,
                         WorkflowError, open_store)

WORKER = ROOT / "tests" / "store_worker.py"
_prefixes = iter(range(1_000_000))


@pytest.fixture(params=["memory", "sqlite", "redis"])
def make_store(request, tmp_path):
    """A factory of empty stores of one kind (each Redis store under a fresh prefix)."""
    if request.param == "memory":
        return MemoryStore
    if request.param == "sqlite":
        return lambda: SqliteStore(tmp_path / f"s{next(_prefixes)}.db")
    url = request.getfixturevalue("redis_url")
    return lambda: RedisStore(url, prefix=f"t{next(_prefixes)}:")


def test_compare_and_set_expiry_and_fresh_versions(make_store) -> None:
    async def scenario():
        store = make_store()
        first = await store.put("k", "a", 0)
        assert first and not await store.put("k", "b", 0)  # not absent any more
        assert await store.get("k", 0.0) == ("a", first)
        second = await store.put("k", "b", first)
        assert second and not await store.put("k", "c", first)  # a stale version loses
        assert not await store.delete("k", first) and await store.delete("k", second)
        assert await store.get("k", 0.0) is None
        third = await store.put("k", "d", 0, expires=5.0)
        assert third not in (first, second)  # never reused, so a stale writer cannot win
        assert await store.get("k", 4.9) == ("d", third)
        assert await store.get("k", 5.0) is None
        assert await store.put("k", "e", 0)  # an expired record is absent for writers too
        assert await store.put("gone", 1, 0, expires=float("-inf"))
        assert await store.get("gone", -1e300) is None

    asyncio.run(scenario())


@pytest.mark.parametrize("count", [2, 450])
def test_append_all_writes_each_absent_key_once_and_keeps_present_ones(make_store, count) -> None:
    from wfc.runtime._store import Encoded, append_all

    async def scenario():
        store = make_store()
        assert await store.append("k1", {"first": True})
        items = [(f"k{n}", {"n": n}) for n in range(count)] + [("text", Encoded('{"n":-1}'))]
        await append_all(store, items)
        found = await store.items("k")
        assert found["k1"] == {"first": True}  # written once, never changed
        assert len(found) == count and found["k0"] == {"n": 0}
        assert (await store.items("text"))["text"] in ({"n": -1}, '{"n":-1}')  # as JSON, or kept as given in memory

    asyncio.run(scenario())


def test_values_are_json_and_come_back_equal(make_store) -> None:
    value = {"order": "o-1", "lines": [[1, 2.5, None, True, "é"]], "nested": {"a": []}}

    async def scenario():
        store = make_store()
        version = await store.put("v", value, 0)
        return await store.get("v", 0.0), version

    (found, version_read), version = asyncio.run(scenario())
    assert found == value and version_read == version


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
@pytest.mark.parametrize("value, reason", [
    (object(), "Object of type object is not JSON serializable"),
    ({1, 2}, "Object of type set is not JSON serializable"),
    (float("nan"), "Out of range float values are not JSON compliant"),
    (b"raw", "Object of type bytes is not JSON serializable"),
    ({1: "a"}, "a map key must be text, not 1, an int"),
    ([{"ok": (1, {None: 2})}], "a map key must be text, not None, a NoneType"),
])
def test_a_value_that_is_not_json_is_a_clear_error(kind, value, reason, tmp_path, request) -> None:
    store = (SqliteStore(tmp_path / "x.db") if kind == "sqlite"
             else RedisStore(request.getfixturevalue("redis_url"), prefix="notjson:"))
    with pytest.raises(NotStorable) as info:
        asyncio.run(store.put("k", value, 0))
    assert str(info.value).startswith(f"the store holds JSON values only ({reason}")


def test_a_step_result_whose_map_keys_are_not_text_fails_the_step_instead_of_changing_on_replay(
    backend, tmp_path
) -> None:
    source = """
use backend_handlers as h
workflow main() { return h.numbered("a", "b") }
"""
    rt = Runtime(clock=VirtualClock(), store=SqliteStore(tmp_path / "r.db"))

    async def durable():
        module = load_source(source, "numbered.wf", backend=backend)
        return await (await rt.start(module.main, run_id="n-1")).result()

    with pytest.raises(WorkflowError) as info:
        asyncio.run(durable())
    assert str(info.value) == ("the result of step h.numbered, a dict, cannot be journaled: the store "
                               "holds JSON values only (a map key must be text, not 0, an int)")


def test_the_first_caller_of_an_idempotent_step_gets_what_the_later_ones_read(backend, tmp_path) -> None:
    source = """
use backend_handlers as h
workflow main() {
    first = h.pair(1, 2) with idempotent(key: "p")
    second = h.pair(1, 2) with idempotent(key: "p")
    return [first == second, first == [1, 2]]
}
"""
    rt = Runtime(clock=VirtualClock(), store=SqliteStore(tmp_path / "r.db"))
    outcome = run_source(source, backend, "main", rt=rt)
    assert outcome.value == [True, True]


def test_a_result_the_store_cannot_hold_fails_the_step_by_name(backend, tmp_path) -> None:
    source = """
use backend_handlers as h
workflow main() { return h.make(box=h.Box(1)) with idempotent(key: "k1") }
"""
    rt = Runtime(clock=VirtualClock(), store=SqliteStore(tmp_path / "r.db"))
    outcome = run_source(source, backend, "main", rt=rt)
    assert isinstance(outcome.error, WorkflowError)
    assert str(outcome.error) == ("the result of idempotent step h.make, a dict, cannot be stored: "
                                  "the store holds JSON values only (Object of type Box is not "
                                  "JSON serializable)")
    assert asyncio.run(rt.store.get("idempotent:k1", 0.0)) is None  # nothing half-written stays


def test_shared_stores_measure_on_the_wall_clock(tmp_path) -> None:
    clock = VirtualClock(start=1000.0)
    assert Runtime(clock=clock).policy_now == clock.monotonic
    assert Runtime(clock=clock, store=SqliteStore(tmp_path / "c.db")).policy_now == clock.now
    assert Runtime(store=open_store(str(tmp_path / "d.db"))).policy_now() == pytest.approx(time.time(), abs=5)


def test_open_store_reads_a_url(tmp_path, redis_url) -> None:
    assert isinstance(open_store(str(tmp_path / "a.db")), SqliteStore)
    assert isinstance(open_store(f"sqlite://{tmp_path / 'b.db'}"), SqliteStore)
    assert isinstance(open_store(redis_url), RedisStore)
    assert isinstance(open_store("memory:"), MemoryStore)


def test_the_runtime_still_imports_no_third_party_module() -> None:
    code = ("import sys, wfc.runtime; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('redis', 'lark', 'black', 'click', 'sqlite3')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- several processes, one store ------------------------------------------------------
def run_workers(scenario: str, url: str, log: Path, count: int = 4) -> list[dict]:
    start_at = time.time() + 1.5  # every process imported and connected by then
    workers = [subprocess.Popen([sys.executable, str(WORKER), scenario, url, str(start_at), str(log)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(count)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    return results


def shared_url(kind: str, tmp_path: Path, request) -> str:
    if kind == "redis":
        return request.getfixturevalue("redis_url").replace("/0", "/1")
    return str(tmp_path / "shared.db")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_four_processes_share_one_limiter(kind, tmp_path, request) -> None:
    results = run_workers("limiter", shared_url(kind, tmp_path, request), tmp_path / "calls.log")
    granted = sum(r["granted"] for r in results)
    span = max(r["ended"] for r in results) - min(r["started"] for r in results)
    assert all(r["granted"] > 0 and r["refused"] > 0 for r in results)  # everyone took part
    # 20/s with a burst of 5 for all four together; one bucket each would allow four times that
    assert granted <= 5 + 20 * span + 1, (granted, span)
    assert granted >= 20 * 1.0  # and the bucket did refill for them


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_four_processes_share_one_breaker(kind, tmp_path, request) -> None:
    log = tmp_path / "calls.log"
    results = run_workers("breaker", shared_url(kind, tmp_path, request), log)
    calls = log.read_text().splitlines()
    # three failures open it for everyone: at most one more call in flight per other process
    assert 3 <= len(calls) <= 3 + 3, calls
    assert all(r["seen"][-1] == "open" for r in results)
    assert sum(r["seen"].count("open") for r in results) >= 40 - len(calls)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_four_processes_share_one_bulkhead(kind, tmp_path, request) -> None:
    log = tmp_path / "calls.log"
    results = run_workers("bulkhead", shared_url(kind, tmp_path, request), log)
    assert all(r["done"] == 3 for r in results)
    events = sorted((float(at), tag) for tag, _, at in (line.split() for line in log.read_text().splitlines()))
    in_flight = peak = 0
    for _, tag in events:
        in_flight += 1 if tag == "start" else -1
        peak = max(peak, in_flight)
    assert len(events) == 24 and peak == 2  # 12 calls, never more than 2 at once across processes


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_four_processes_one_idempotency_key_one_execution(kind, tmp_path, request) -> None:
    log = tmp_path / "calls.log"
    results = run_workers("idempotent", shared_url(kind, tmp_path, request), log)
    assert len(log.read_text().splitlines()) == 1
    first = results[0]["result"]
    assert first["order"] == 42 and all(r["result"] == first for r in results)


def test_appended_entries_are_written_once_and_listed_by_prefix(make_store) -> None:
    async def scenario():
        store = make_store()
        await asyncio.gather(*[store.append(f"j:run1:{n}", {"n": n}) for n in range(50)])
        await store.append("j:run1:0", {"n": "overwritten?"})
        await store.append("j:run2:0", {"n": 0})
        await store.put("other", 1, 0)
        return await store.items("j:run1:"), await store.items("j:")

    first, every = asyncio.run(scenario())
    assert first == {f"j:run1:{n}": {"n": n} for n in range(50)}
    assert len(every) == 51


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_four_processes_share_one_machine_and_never_step_from_the_same_state(kind, tmp_path, request) -> None:
    url = shared_url(kind, tmp_path, request)
    results = run_workers("machine", url, tmp_path / "calls.log")
    assert sum(r["taken"] for r in results) == 40
    history = asyncio.run(open_store(url).get("machine:ring-1", 0.0))[0]["history"]
    assert len(history) == 40
    assert all(before[2] == after[0] for before, after in zip(history, history[1:]))  # one chain
    assert history[-1][2] == "abc"[40 % 3]


def test_an_opened_machine_sees_what_another_instance_saved(backend, tmp_path) -> None:
    from wfc.api import load_source

    source = "machine Door(id) {\n initial shut\n state shut { on open -> ajar }\n final state ajar }"
    door = load_source(source, "door.wf", backend=backend).Door

    async def scenario():
        store = SqliteStore(tmp_path / "m.db")
        first = await door.open(store, "door-1", "front")
        second = await door.open(store, "door-1", "ignored: it exists")
        assert await first.send("open") and first.state == "ajar"
        refused = await second.send("open")  # reloads: already ajar, no transition from shut
        third = await door.open(store, "door-1")
        return refused, second.state, third.state, third.params, third.history

    refused, state, reopened, params, history = asyncio.run(scenario())
    assert (refused, state, reopened) == (False, "ajar", "ajar")
    assert params == {"id": "front"} and history == [("shut", "open", "ajar")]


def test_a_durable_run_journals_and_resumes_on_every_store(make_store) -> None:
    from wfc.api import load_source
    from wfc.runtime._durable import journal_entries, stored_runs

    source = """use backend_handlers as h
workflow w(x) {
    a = h.double(x)
    ys = parallel for y in [a, a + 1] { yield h.double(y) }
    return a
}
"""
    module = load_source(source, "every_store.wf")

    async def scenario():
        store = make_store()
        rt = Runtime(store=store)
        run = await rt.start(module.w, 2, run_id="e-1")
        value = await run.result()
        entries = await journal_entries(store, "e-1")
        # an unfinished run (its start, and the first step journaled) resumes from there
        head = dict((await store.get("wfrun:e-1", 0.0))[0])
        await store.append("wfrun:e-2", head)
        await store.append("wfjournal:e-2:|step|every_store.wf:3:9|1",
                           {"ok": True, "value": 40, "step": "h.double"})
        resumed = await Runtime(store=store).recover()
        return value, run.status, entries, [await r.result() for r in resumed], await stored_runs(store)

    value, status, entries, resumed, runs = asyncio.run(scenario())
    assert (value, status) == (4, "completed")
    assert sorted(key.split("|")[0] for key in entries if "|step|" in key) == ["", "0", "1"]
    assert resumed == [40]  # the journaled first step was not run again
    assert {run_id: run["status"] for run_id, run in runs.items()} == {"e-1": "completed",
                                                                       "e-2": "completed"}
