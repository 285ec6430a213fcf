"""Durable runs: journaled on SQLite, killed with SIGKILL anywhere, recovered by a new process.

tests/durable_worker.py runs the order saga of examples/order_saga.wf and a
fan-out (tests/durable/fanout.wf) on one SQLite file and logs every handler
call; here it is killed at a chosen call (before its effect, inside it, or
after it returned but before the journal recorded it) and a second process
recovers. Every run must end as an uncrashed run ends, and the log proves
that no journaled step ran twice: only the call in flight at the crash may
repeat.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import shop
from conftest import EXAMPLES, ROOT
from wfc.api import load
from wfc.runtime import Run, Runtime, SagaFailed, SqliteStore, VirtualClock, step_key

WORKER = ROOT / "tests" / "durable_worker.py"
COMPLETED = {
    "order-1": {"value": {"order_id": "O-1", "product_id": "P1", "quantity": 2}, "status": "completed"},
    "fan-1": {"value": {"doubled": [2, 4, 6, 8, 10, 12], "total": 42}, "status": "completed"},
}


def worker(mode: str, backend: str, folder: Path, kill: str = "", fail: str = "") -> tuple[int, dict]:
    env = {**os.environ, "SHOP_FAIL": fail}
    args = [sys.executable, str(WORKER), mode, backend, str(folder / "runs.db"), str(folder / "calls.log")]
    out = subprocess.run(args + ([kill] if kill else []), capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode in (0, -9), out.stderr
    return out.returncode, (json.loads(out.stdout) if out.returncode == 0 else {})


def calls(folder: Path) -> list[tuple[str, str, str]]:
    """(name, phase, step key) of every logged handler call, in order."""
    lines = (folder / "calls.log").read_text().splitlines()
    return [(line.split(" ")[0], line.split(" ")[-2], line.split(" ")[-1]) for line in lines]


def journaled_steps(folder: Path) -> set[str]:
    """The step keys whose outcome the journal holds now."""
    entries = asyncio.run(SqliteStore(folder / "runs.db").items("wfjournal:"))
    return {key.removeprefix("wfjournal:") for key in entries if "|step|" in key}


def assert_no_journaled_step_ran_again(folder: Path, before_restart: set[str], kill: str) -> None:
    """Only steps in flight at the crash (entered, not journaled) may run twice, and a
    call killed before its effect had none: its effect happens once."""
    log = calls(folder)
    entered = Counter(key for _, phase, key in log if phase == "enter")
    effects = Counter(key for _, phase, key in log if phase == "effect")
    repeated = {key for key, count in entered.items() if count > 1}
    assert not repeated & before_restart, repeated & before_restart
    assert all(count <= (2 if key in repeated else 1) for key, count in effects.items()), effects
    name, number, when = kill.split(":")
    killed = [key for logged, phase, key in log if logged == name and phase == "enter"][int(number) - 1]
    if when == "before":
        assert effects[killed] == 1, killed
    assert journaled_steps(folder) == set(entered)  # and every step is journaled in the end


KILLS = [
    ("validate_inventory:1:before", "interp"), ("validate_inventory:1:after", "compiled"),
    ("create_order:1:inside", "interp"), ("create_order:1:after", "interp"),
    ("deduct_inventory:1:before", "compiled"), ("deduct_inventory:1:inside", "compiled"),
    ("send_notification:1:after", "interp"), ("send_notification:1:inside", "compiled"),
    ("work:2:inside", "interp"), ("work:5:after", "compiled"), ("work:1:before", "compiled"),
]


@pytest.mark.slow
@pytest.mark.parametrize("kill, backend", KILLS)
def test_a_run_killed_anywhere_is_recovered_and_no_journaled_step_runs_twice(kill, backend, tmp_path) -> None:
    code, _ = worker("start", backend, tmp_path, kill)
    assert code == -9  # the kill point was reached
    before_restart = journaled_steps(tmp_path)
    code, recovered = worker("recover", backend, tmp_path)
    assert code == 0
    _, finished = worker("start", backend, tmp_path)  # started again: the same runs, done
    assert finished == COMPLETED
    assert all(outcome == COMPLETED[run_id] for run_id, outcome in recovered.items())
    assert_no_journaled_step_ran_again(tmp_path, before_restart, kill)


@pytest.mark.slow
@pytest.mark.parametrize("kill, backend", [("release_hold:1:inside", "interp"),
                                           ("cancel_order:1:after", "compiled"),
                                           ("restock:1:before", "interp")])
def test_a_saga_killed_while_unwinding_finishes_unwinding(kill, backend, tmp_path) -> None:
    code, _ = worker("start", backend, tmp_path, kill, fail="send_notification")
    assert code == -9
    before_restart = journaled_steps(tmp_path)
    code, recovered = worker("recover", backend, tmp_path, fail="send_notification")
    assert code == 0 and recovered["order-1"]["status"] == "compensated"
    assert recovered["order-1"]["error"] == "SagaFailed"
    undone = [name for name, phase, _ in calls(tmp_path)
              if phase == "effect" and name in ("restock", "cancel_order", "release_hold")]
    assert sorted(set(undone)) == ["cancel_order", "release_hold", "restock"]
    assert_no_journaled_step_ran_again(tmp_path, before_restart, kill)


# ---- in one process ---------------------------------------------------------------------
@pytest.fixture(autouse=True)
def fresh_shop():
    shop.FAIL.clear()
    shop.STOCK.update({"P1": 10, "P2": 0})
    yield
    shop.FAIL.clear()


def test_start_result_status_and_one_run_per_id(backend, tmp_path) -> None:
    module = load(EXAMPLES / "order_saga.wf", backend=backend)

    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "r.db"))
        run = await rt.start(module.place_order, "P1", 2, "Ann", run_id="order-7")
        again = await rt.start(module.place_order, "P1", 2, "Ann", run_id="order-7")
        value = await run.result()
        other = Runtime(store=SqliteStore(tmp_path / "r.db"))  # another process, in effect
        seen = await other.start(module.place_order, "P9", 1, "Bo", run_id="order-7")
        # a finished run is no longer held in memory; the store answers for it
        later = await rt.start(module.place_order, "P9", 1, "Bo", run_id="order-7")
        return run, again, value, seen, await seen.result(), rt.runs, await later.result()

    run, again, value, seen, value_seen, held, value_later = asyncio.run(scenario())
    assert isinstance(run, Run) and again is run and run.status == "completed"
    assert value["order_id"].startswith("O-") and value_seen == value and seen.status == "completed"
    assert held == {} and value_later == value


def test_a_failed_saga_is_compensated_and_its_error_comes_back(backend, tmp_path) -> None:
    module = load(EXAMPLES / "order_saga.wf", backend=backend)
    shop.FAIL.add("send_notification")

    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "r.db"))
        run = await rt.start(module.place_order, "P1", 2, "Ann", run_id="order-8")
        with pytest.raises(SagaFailed):
            await run.result()
        later = Runtime(store=SqliteStore(tmp_path / "r.db"))
        handle = await later.resume("order-8")
        with pytest.raises(SagaFailed, match="ConnectionError: send_notification failed"):
            await handle.result()
        return run, handle

    run, handle = asyncio.run(scenario())
    assert run.status == handle.status == "compensated"


def test_a_finished_sagas_error_read_back_from_the_journal_keeps_every_field(backend, tmp_path) -> None:
    from wfc.api import load_source

    source = """use backend_handlers as h
saga book(n) unwind(stop_on_error: true) {
    step a = h.double(n) compensate h.note("a", a)
    step b = h.double(a) compensate h.explode("undo b")
    step c = h.explode("c fails")
}
"""
    module = load_source(source, "unwound.wf", backend=backend)

    def fields(error: SagaFailed) -> list:
        return [error.message, error.step, error.compensated, error.uncompensated,
                [(step, str(exc)) for step, exc in error.compensation_errors], repr(error.error)]

    async def scenario():
        run = await Runtime(store=SqliteStore(tmp_path / "r.db")).start(module.book, 1, run_id="b-1")
        with pytest.raises(SagaFailed) as live:
            await run.result()
        handle = await Runtime(store=SqliteStore(tmp_path / "r.db")).resume("b-1")
        with pytest.raises(SagaFailed) as read_back:
            await handle.result()
        return live.value, read_back.value

    live, read_back = asyncio.run(scenario())
    assert fields(read_back) == fields(live) == [
        "saga book failed at step c: ValueError: c fails", "c", [], ["a"], [("b", "undo b")],
        "ValueError('c fails')",
    ]


def test_a_saga_error_journaled_without_uncompensated_reads_back_with_none_left() -> None:
    from wfc.runtime._durable import error_entry, rebuilt_error

    entry = error_entry(SagaFailed("saga s failed", "b", ValueError("no"), ["a"], [], ["z"]))
    del entry["saga"]["uncompensated"]  # as journals written before it was kept
    read_back = rebuilt_error(entry)
    assert isinstance(read_back, SagaFailed) and read_back.uncompensated == []
    assert (read_back.step, read_back.compensated, repr(read_back.error)) == ("b", ["a"], "ValueError('no')")


def test_values_and_timers_replay_as_journaled(backend, tmp_path) -> None:
    from wfc.api import load_source

    source = """
use backend_handlers as h
workflow w() {
    started = now()
    id = uuid()
    wait 2s
    return [started, id, h.double(1)]
}
"""
    module = load_source(source, "values.wf", backend=backend)

    async def scenario():
        clock = VirtualClock(start=100.0)
        rt = Runtime(clock=clock, store=SqliteStore(tmp_path / "v.db"), seed=3)
        first = await (await rt.start(module.w, run_id="v-1")).result()
        # replay the finished journal as if the run had crashed just before its end
        replay = Runtime(clock=VirtualClock(start=500.0), store=SqliteStore(tmp_path / "v.db"), seed=9)
        await replay.store.put("wfrun:v-1", {**(await replay.store.get("wfrun:v-1", 0))[0],
                                             "status": "running"},
                               (await replay.store.get("wfrun:v-1", 0))[1])
        again = await (await replay.resume("v-1")).result()
        return first, again, replay.clock.now()

    first, again, now = asyncio.run(scenario())
    assert first == again and first[0] == 100.0
    assert now == 500.0  # the 2s timer's deadline (t=102) had passed: no wait on replay


def test_step_key_is_only_known_inside_a_durable_step() -> None:
    with pytest.raises(LookupError, match="only known inside a handler called by a durable run"):
        step_key()


def test_a_run_with_nothing_journaled_resumes_under_a_changed_source(tmp_path) -> None:
    from wfc.api import load_source

    new = load_source("use backend_handlers as h\nworkflow w() { return h.double(2) }", "same.wf")

    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "s.db"))
        await rt.store.put("wfrun:s-1", {"file": "same.wf", "declaration": "w", "source": "0" * 16,
                                         "wfc": "0", "args": [], "kwargs": {}, "status": "running",
                                         "seed": 1}, 0)
        run = await rt.resume("s-1")
        return await run.result(), run.status

    assert new.w.__wf_source__[1] != "0" * 16
    # an empty journal is replayed by any program: it runs under the new source
    assert asyncio.run(scenario()) == (4, "completed")


def test_the_durable_orders_demo_charges_each_order_once() -> None:
    out = subprocess.run([sys.executable, str(EXAMPLES / "durable_orders.py")], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "order-1: {'customer': 'ann', 'charge': 'ch-1', 'amount': 25}"
    assert lines[1] == "first process: killed by signal 9"
    assert lines[2] == "order-2: recovered, {'customer': 'bo', 'charge': 'ch-2', 'amount': 50} (completed)"
    assert lines[-1] == "charges made: 3, one per order: ['ann', 'bo', 'cy']"
