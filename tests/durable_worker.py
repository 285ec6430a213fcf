"""A process that runs durable workflows and may be killed mid-way (tests/test_durable.py).

    python tests/durable_worker.py start|recover BACKEND STORE LOG [KILL]

`start` starts the runs the test names (order saga runs and a fan-out run) on
a SqliteStore; `recover` resumes every unfinished one. Every handler call is
appended to LOG as `NAME ARGS PHASE` (phase `enter`, then `effect` once the
call has had its effect). KILL, `NAME:N:WHEN`, sends this process SIGKILL at
the N-th call of handler NAME: `before` it has any effect, `inside` after its
effect, or `after` it returned but before the journal records it. The
outcome of every run is printed as JSON.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))
sys.path.insert(0, str(HERE / "durable"))

import shop  # noqa: E402

from wfc.api import load  # noqa: E402
from wfc.runtime import Runtime, SqliteStore, _durable, step_key  # noqa: E402

FANOUT = HERE / "durable" / "fanout.wf"
mode, backend, store_path, log_path = sys.argv[1:5]
kill = sys.argv[5] if len(sys.argv) > 5 else ""
kill_name, kill_count, kill_when = (kill.split(":") + ["", "", ""])[:3] if kill else ("", "0", "")
counts: dict[str, int] = {}


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def logged(name: str, function):
    async def handler(*args):
        counts[name] = counts.get(name, 0) + 1
        dying = name == kill_name and counts[name] == int(kill_count)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{name} {json.dumps(args)} enter {step_key()}\n")
        if dying and kill_when == "before":
            die()
        result = function(*args)
        if inspect.isawaitable(result):
            result = await result
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{name} {json.dumps(args)} effect {step_key()}\n")
        if dying and kill_when == "inside":
            die()
        if dying and kill_when == "after":
            handler.dying = True  # type: ignore[attr-defined]
            die_on_next_write[0] = True
        return result
    return handler


die_on_next_write = [False]
original_flush = _durable.Journal.flush


async def flush(self, *last):
    """Die just before the journal writes a step's entry (the step has returned)."""
    if die_on_next_write[0] and any("|step|" in key for key, _ in self._pending):
        die()
    await original_flush(self, *last)

_durable.Journal.flush = flush  # type: ignore[method-assign]

for name in ("validate_inventory", "release_hold", "create_order", "cancel_order", "deduct_inventory",
             "restock", "send_notification", "send_apology"):
    setattr(shop, name, logged(name, getattr(shop, name)))
shop.FAIL.update(filter(None, os.environ.get("SHOP_FAIL", "").split(",")))

import fanout_handlers  # noqa: E402

fanout_handlers.work = logged("work", fanout_handlers.work)

orders = load(HERE.parent / "examples" / "order_saga.wf", backend=backend)
fanout = load(FANOUT, backend=backend)


async def main() -> None:
    rt = Runtime(store=SqliteStore(store_path))
    if mode == "start":
        runs = [await rt.start(orders.place_order, "P1", 2, "Ann", run_id="order-1"),
                await rt.start(fanout.spread, [1, 2, 3, 4, 5, 6], run_id="fan-1")]
    else:
        runs = await rt.recover()
    outcomes = {}
    for run in runs:
        try:
            outcomes[run.run_id] = {"value": await run.result()}
        except Exception as exc:  # noqa: BLE001 - reported to the test
            outcomes[run.run_id] = {"error": type(exc).__name__, "message": str(exc)}
        outcomes[run.run_id]["status"] = run.status
    print(json.dumps(outcomes))


asyncio.run(main())
