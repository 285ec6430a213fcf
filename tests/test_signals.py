"""Signals: `receive` waits for a value sent to a durable run, journaled, with a timeout."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from test_cli import wfc, write
from wfc.api import load_source
from wfc.runtime import Runtime, SqliteStore, VirtualClock, WorkflowError

APPROVE = """
use backend_handlers as h

workflow approve(x) {
    draft = h.double(x)
    decision = receive approval timeout 1h
    if decision.ok {
        return h.double(draft)
    }
    return "rejected"
}

workflow patient(x) {
    try {
        receive approval timeout 30m
    } catch TimeoutError as e {
        return str(e)
    }
    return "approved"
}

workflow twice() {
    first = receive vote
    second = receive vote
    return [first, second]
}
"""


def durable(tmp_path, name: str = "s.db") -> Runtime:
    return Runtime(clock=VirtualClock(start=1000.0), store=SqliteStore(tmp_path / name))


def test_a_signal_wakes_the_receive_and_its_value_is_used(backend, tmp_path) -> None:
    module = load_source(APPROVE, "approve.wf", backend=backend)

    async def scenario():
        rt = durable(tmp_path)
        run = await rt.start(module.approve, 3, run_id="a-1")
        await rt.clock.sleep(600)  # ten minutes later, someone approves
        await run.signal("approval", {"ok": True, "by": "ann"})
        return await run.result(), rt.clock.now(), run.status

    assert asyncio.run(scenario()) == (12, 1600.0, "completed")


def test_no_signal_before_the_timeout_raises_a_catchable_timeout(backend, tmp_path) -> None:
    module = load_source(APPROVE, "approve.wf", backend=backend)

    async def scenario():
        rt = durable(tmp_path)
        run = await rt.start(module.patient, 1, run_id="p-1")
        return await run.result(), rt.clock.now()

    assert asyncio.run(scenario()) == ("no signal 'approval' within 30m", 1000.0 + 1800)


def test_signals_arrive_in_order_and_each_is_received_once(backend, tmp_path) -> None:
    module = load_source(APPROVE, "approve.wf", backend=backend)

    async def scenario():
        rt = durable(tmp_path)
        run = await rt.start(module.twice, run_id="t-1")
        await run.signal("vote", "yes")
        await run.signal("other", "ignored")
        await run.signal("vote", "no")
        return await run.result()

    assert asyncio.run(scenario()) == ["yes", "no"]


def test_receive_outside_a_durable_run_says_why(backend) -> None:
    module = load_source(APPROVE, "approve.wf", backend=backend)
    with pytest.raises(WorkflowError, match="only a durable run can be sent signals"):
        asyncio.run(module.twice())


def test_a_run_waiting_for_a_signal_survives_a_restart(tmp_path) -> None:
    """Started and killed while waiting; the signal is sent from the CLI; a new process
    resumes the run, which receives it and finishes (the first step is not run again)."""
    wf = write(tmp_path / "approve.wf", APPROVE)
    store = str(tmp_path / "runs.db")
    script = write(tmp_path / "waiter.py", f"""
import asyncio, sys
sys.path.insert(0, {str(ROOT / 'tests')!r})
import backend_handlers
from wfc import load
from wfc.runtime import Runtime, SqliteStore

async def main():
    module = load({str(wf)!r}, backend=sys.argv[1])
    rt = Runtime(store=SqliteStore({store!r}))
    run = await rt.start(module.approve, 5, run_id="wait-1")
    print("waiting", flush=True)
    await run.result()

asyncio.run(main())
""")
    waiter = subprocess.Popen([sys.executable, str(script), "interp"], stdout=subprocess.PIPE, text=True)
    assert waiter.stdout.readline() == "waiting\n"
    time.sleep(0.5)  # it is inside `receive` by now
    waiter.kill()
    waiter.wait()
    sent = wfc("runs", "signal", "wait-1", "approval", "--json", '{"ok": true}', "--store", store)
    assert sent.returncode == 0, sent.stderr
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests")}
    resumed = wfc("runs", "resume", str(wf), "wait-1", "--store", store, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout == "wait-1\tcompleted\t20\n"
    shown = wfc("runs", "show", "wait-1", "--store", store).stdout
    assert shown.count("step ") == 2 and "receive approval#1: {\"ok\": true}" in shown
    assert "deadline approval#1" in shown
