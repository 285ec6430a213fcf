"""One worker at a time runs a durable run: leases, takeover, and a worker that
finds it was replaced (runtime/_ownership.py).

Two runtimes in one process stand for two workers here (each has a token and a
heartbeat of its own); tests/test_ownership_processes.py runs real processes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import backend_handlers
import pytest
from test_cli import wfc

from wfc.api import load_source
from wfc.runtime import ReplayRefused, RunHeld, Runtime, RunUnfinished, SqliteStore, _ownership
from wfc.runtime._ownership import _WORKERS

SOURCE = """
use backend_handlers as h

workflow approve(x) {
    draft = h.double(x)
    decision = receive approval
    return h.double(decision)
}

workflow careful(x) {
    draft = h.double(x)
    decision = receive approval
    try {
        return h.double(decision)
    } catch {
        return "caught"
    }
}

saga book(x) {
    step held = h.double(x) compensate h.double(held)
    ok = receive go
    step paid = h.double(held) compensate h.double(paid)
    return paid
}
"""


@pytest.fixture
def module(backend):
    return load_source(SOURCE, "owned.wf", backend=backend)


def calls() -> list[tuple[str, tuple]]:
    return [call for call in backend_handlers.log if call[0] == "double"]


@pytest.fixture(autouse=True)
def fresh_log():
    backend_handlers.log.clear()
    yield
    backend_handlers.log.clear()


def silence(rt: Runtime) -> None:
    """Make `rt`'s worker stop renewing its lease and look like another process's:
    in this process, a worker that still runs a run is known to be alive."""
    rt.worker._keeper.cancel()
    del _WORKERS[rt.worker.token]


def workers(tmp_path, count: int = 2, lease: float = 0.3) -> list[Runtime]:
    return [Runtime(store=SqliteStore(tmp_path / "s.db"), lease=lease) for _ in range(count)]


async def stalled(rt: Runtime, function, *args, run_id: str):
    """Start a run on `rt`, then let `rt` fall silent past its lease."""
    run = await rt.start(function, *args, run_id=run_id)
    await asyncio.sleep(0.05)
    silence(rt)
    await asyncio.sleep(rt.lease + 0.1)
    return run


def test_a_run_whose_worker_is_alive_is_held_and_recover_leaves_it(module, tmp_path) -> None:
    async def scenario():
        first = Runtime(store=SqliteStore(tmp_path / "s.db"))
        second = Runtime(store=SqliteStore(tmp_path / "s.db"))
        run = await first.start(module.approve, 3, run_id="r-1")
        await asyncio.sleep(0.05)
        with pytest.raises(RunHeld, match="run r-1 is running in another process"):
            await second.resume("r-1")
        recovered = await second.recover()
        await run.signal("approval", 5)
        return recovered, await run.result()

    recovered, value = asyncio.run(scenario())
    assert recovered == []
    assert value == 10
    assert calls() == [("double", (3,)), ("double", (5,))]  # each once: no second worker ran them


def test_a_handle_in_another_runtime_waits_for_the_runs_end(module, tmp_path) -> None:
    async def scenario():
        first, second = workers(tmp_path)
        run = await first.start(module.approve, 3, run_id="r-1")
        elsewhere = await second.start(module.approve, 3, run_id="r-1")  # one run_id, one run
        waiting = asyncio.ensure_future(elsewhere.result())
        await asyncio.sleep(0.3)
        assert not waiting.done()
        await run.signal("approval", 5)
        return await waiting, elsewhere.status

    assert asyncio.run(scenario()) == (10, "completed")
    assert calls() == [("double", (3,)), ("double", (5,))]


def test_a_handle_on_a_run_that_no_live_process_runs_says_to_resume_it(module, tmp_path) -> None:
    async def scenario():
        first, second = workers(tmp_path)
        await stalled(first, module.approve, 3, run_id="r-1")
        with pytest.raises(RunUnfinished, match="no live process runs it: resume it"):
            await (await second.start(module.approve, 3, run_id="r-1")).result()
        run = await second.resume("r-1")
        await run.signal("approval", 5)
        return await run.result()

    assert asyncio.run(scenario()) == 10


def test_a_worker_renews_its_lease_while_its_run_waits(module, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_ownership, "_gone", lambda record: False)  # as on another host

    async def scenario():
        first, second = workers(tmp_path)
        run = await first.start(module.approve, 3, run_id="r-1")
        del _WORKERS[first.worker.token]  # as if it were another process: only its lease tells
        await asyncio.sleep(1.0)  # three leases
        with pytest.raises(RunHeld):
            await second.resume("r-1")
        await run.signal("approval", 5)
        return await run.result()

    assert asyncio.run(scenario()) == 10
    assert calls() == [("double", (3,)), ("double", (5,))]


async def taken_over(tmp_path, function, run_id: str):
    """Start `function(3)` on a worker that falls silent (a stopped VM, say); another
    takes the run over, approves it and ends it. Its value, and the silent worker's handle."""
    first, second = workers(tmp_path)
    silent = await stalled(first, function, 3, run_id=run_id)
    taken = await second.resume(run_id)
    await taken.signal("approval", 5)
    return await taken.result(), silent


def test_a_silent_worker_loses_its_run_and_calls_nothing_more(module, tmp_path) -> None:
    async def scenario():
        value, silent = await taken_over(tmp_path, module.approve, "r-1")
        # The first worker wakes: its run reads the signal too, and would call a handler.
        with pytest.raises(RunHeld, match="moved to another worker"):
            await silent.result()
        return value, silent.status

    value, status = asyncio.run(scenario())
    assert value == 10
    assert status == "running"  # its handle never saw an end: the other worker wrote it
    assert calls() == [("double", (3,)), ("double", (5,))]


def test_no_catch_in_the_worker_that_lost_a_run_sees_it_move(module, tmp_path) -> None:
    async def scenario():
        value, silent = await taken_over(tmp_path, module.careful, "c-1")
        with pytest.raises(RunHeld):  # not "caught": the run's end is the other worker's
            await silent.result()
        return value

    assert asyncio.run(scenario()) == 10
    assert calls() == [("double", (3,)), ("double", (5,))]


def test_a_saga_that_moved_is_not_compensated_by_the_worker_that_lost_it(module, tmp_path) -> None:
    async def scenario():
        first, second = workers(tmp_path)
        silent = await stalled(first, module.book, 3, run_id="b-1")
        taken = await second.resume("b-1")
        await first.worker.renew()  # the first wakes, finds it was replaced, and cancels its run
        with pytest.raises(RunHeld):
            await silent.result()
        await taken.signal("go", True)
        return await taken.result()

    assert asyncio.run(scenario()) == 12
    assert calls() == [("double", (3,)), ("double", (6,))]  # no compensation ran anywhere


def test_a_worker_that_was_only_slow_keeps_the_runs_nobody_took(module, tmp_path) -> None:
    async def scenario():
        first, second = workers(tmp_path)
        kept = await first.start(module.approve, 3, run_id="r-1")
        moved = await stalled(first, module.approve, 4, run_id="r-2")
        taken = await second.resume("r-2")  # declares the first worker dead
        token = first.worker.token
        await kept.signal("approval", 1)
        value = await kept.result()  # its next step renews: a new token, and r-1 claimed again
        await taken.signal("approval", 2)
        with pytest.raises(RunHeld):
            await moved.result()
        return value, await taken.result(), token != first.worker.token

    kept_value, taken_value, new_token = asyncio.run(scenario())
    assert (kept_value, taken_value, new_token) == (2, 4, True)
    assert sorted(calls()) == [("double", (1,)), ("double", (2,)), ("double", (3,)), ("double", (4,))]


def test_of_two_workers_taking_over_one_run_at_once_one_has_it(module, tmp_path) -> None:
    async def scenario():
        first, *takers = workers(tmp_path, 3)
        silent = await stalled(first, module.approve, 3, run_id="r-1")
        outcomes = await asyncio.gather(*(rt.resume("r-1") for rt in takers), return_exceptions=True)
        [taken] = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
        [held] = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        await taken.signal("approval", 5)
        with pytest.raises(RunHeld):
            await silent.result()
        return await taken.result(), held

    value, held = asyncio.run(scenario())
    assert value == 10
    assert isinstance(held, RunHeld)
    assert calls() == [("double", (3,)), ("double", (5,))]


def test_a_process_whose_source_does_not_replay_a_run_leaves_it_to_others(backend, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(_ownership, "_gone", lambda record: False)  # every worker as on another host
    changed = SOURCE.replace("draft = h.double(x)", "draft = h.slow(x)")  # another handler there

    async def scenario():
        first, second, third = workers(tmp_path, 3)
        await stalled(first, load_source(SOURCE, "owned.wf", backend=backend).approve, 3, run_id="r-1")
        load_source(changed, "owned.wf", backend=backend)  # a process with an edited source
        with pytest.raises(ReplayRefused):
            await second.resume("r-1")
        del _WORKERS[second.worker.token]  # and it is another live process from here on
        again = load_source(SOURCE, "owned.wf", backend=backend)  # one with the source it started under
        run = await third.resume("r-1")
        await run.signal("approval", 5)
        return await run.result(), again

    value, _ = asyncio.run(scenario())
    assert value == 10


def test_a_lease_must_be_positive() -> None:
    with pytest.raises(ValueError, match="lease must be a positive number"):
        Runtime(lease=0)


# -- real processes, on SQLite and on Redis ---------------------------------------------

WORKER = Path(__file__).resolve().parent / "owner_worker.py"


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "runs.db")
    url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/4"
    import redis

    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


def worker(mode: str, store_url: str, log: Path, lease: float = 30.0, stall: float = 0.0):
    env = {**os.environ, "OWNER_LOG": str(log), "OWNER_STALL": str(stall)}
    return subprocess.Popen(
        [sys.executable, str(WORKER), mode, store_url, str(lease)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def logged(log: Path) -> list[tuple[int, str, int]]:
    return [(int(pid), name, int(value)) for pid, name, value in (line.split() for line in log.read_text().splitlines())]


def wait_for(log: Path, lines: int) -> None:
    deadline = time.monotonic() + 30
    while not (log.exists() and len(log.read_text().splitlines()) >= lines):
        assert time.monotonic() < deadline, "the worker never got there"
        time.sleep(0.02)


def test_a_second_worker_that_recovers_leaves_a_running_run_alone(store_url, tmp_path) -> None:
    log = tmp_path / "calls.log"
    first = worker("start", store_url, log)
    wait_for(log, 1)  # in its `wait 4s`
    second = worker("recover", store_url, log)
    out, err = second.communicate(timeout=60)
    assert (out, second.returncode) == ("recovered 0\n", 0), err
    out, err = first.communicate(timeout=60)
    assert out == "pay-1 completed 4\n", err
    assert [(name, value) for _, name, value in logged(log)] == [("charge", 1), ("stall", 2), ("charge", 3)]
    assert {pid for pid, _, _ in logged(log)} == {first.pid}


def test_a_crashed_workers_runs_are_recovered_at_once_on_its_host(store_url, tmp_path) -> None:
    log = tmp_path / "calls.log"
    first = worker("start", store_url, log)  # a 30 s lease
    wait_for(log, 1)
    first.kill()
    first.wait()
    shown = wfc("runs", "show", "pay-1", "--store", store_url).stdout
    assert shown.endswith("  running\n  no live process runs it: `wfc runs resume` takes it over\n")
    started = time.monotonic()
    second = worker("recover", store_url, log)
    out, err = second.communicate(timeout=60)
    assert out == "recovered 1\npay-1 completed 4\n", err
    assert time.monotonic() - started < 20  # it did not wait for the lease: the process is gone
    assert [(pid == first.pid, name, value) for pid, name, value in logged(log)] == [
        (True, "charge", 1), (False, "stall", 2), (False, "charge", 3)]


def test_a_worker_silent_past_its_lease_is_replaced_and_calls_nothing_more(store_url, tmp_path) -> None:
    log = tmp_path / "calls.log"
    first = worker("start", store_url, log, lease=1.0, stall=8.0)  # holds its loop in `stall` for 8 s
    wait_for(log, 2)
    time.sleep(1.2)  # its lease lapses while it is stuck
    second = worker("recover", store_url, log, lease=1.0)
    out, err = second.communicate(timeout=60)
    assert out == "recovered 1\npay-1 completed 4\n", err
    out, err = first.communicate(timeout=60)
    assert out == "pay-1 RunHeld run pay-1 moved to another worker, which finishes it\n", err
    calls = [(pid == first.pid, name, value) for pid, name, value in logged(log)]
    # The step in flight when it went silent runs again (at least once); nothing after it does.
    assert calls == [(True, "charge", 1), (True, "stall", 2), (False, "stall", 2), (False, "charge", 3)]


def test_wfc_runs_resume_leaves_a_run_that_a_live_process_runs(store_url, tmp_path) -> None:
    log = tmp_path / "calls.log"
    first = worker("start", store_url, log)
    wait_for(log, 1)
    source = str(WORKER.parent / "durable" / "owner.wf")
    shown = wfc("runs", "show", "pay-1", "--store", store_url).stdout.splitlines()
    assert shown[-2:-1] == ["  running"]
    assert shown[-1].startswith("  run by worker ") and f"(pid {first.pid})" in shown[-1], shown
    named = wfc("runs", "resume", source, "pay-1", "--store", store_url, env={"OWNER_LOG": str(log)})
    assert named.returncode == 1
    assert named.stderr.startswith("error: run pay-1 is running in another process (worker ")
    every = wfc("runs", "resume", source, "--store", store_url, env={"OWNER_LOG": str(log)})
    assert (every.returncode, every.stdout) == (0, "")
    assert every.stderr.startswith("note: run pay-1 is running in another process")
    assert "no unfinished runs" not in every.stderr
    waited = wfc("run", source, "pay", "--arg", "n=1", "--store", store_url, "--run-id", "pay-1",
                 env={"OWNER_LOG": str(log)})
    assert (waited.returncode, waited.stdout) == (0, "4\n"), waited.stderr  # the other's result
    out, err = first.communicate(timeout=60)
    assert out == "pay-1 completed 4\n", err
    assert {pid for pid, _, _ in logged(log)} == {first.pid}
    assert len(logged(log)) == 3
