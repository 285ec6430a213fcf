"""Durable runs, end to end: start orders, die in the middle, recover them.

    python examples/durable_orders.py

A first process starts three orders (examples/durable_order.wf) on a SQLite
store and is killed with SIGKILL right after the second customer is charged,
before the journal records it. A second process calls `recover()`: the
unfinished orders complete, the charge that was in flight is not made twice
(the payment provider is given `step_key()` as its idempotency key), and the
ledger shows one charge per order.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ORDERS = [("P1", 1, "ann"), ("P1", 2, "bo"), ("P1", 3, "cy")]


async def start(store: str) -> None:
    from wfc import load
    from wfc.runtime import Runtime, SqliteStore

    module = load(HERE / "durable_order.wf")
    rt = Runtime(store=SqliteStore(store))
    for number, order in enumerate(ORDERS, 1):
        run = await rt.start(module.place_order, *order, run_id=f"order-{number}")
        print(f"{run.run_id}: {await run.result()}", flush=True)


async def recover(store: str) -> None:
    from wfc import load
    from wfc.runtime import Runtime, SqliteStore

    load(HERE / "durable_order.wf")  # what the journal names must be loaded to resume
    rt = Runtime(store=SqliteStore(store))
    for run in await rt.recover():
        print(f"{run.run_id}: recovered, {await run.result()} ({run.status})", flush=True)
    module = load(HERE / "durable_order.wf")
    for number, order in enumerate(ORDERS, 1):  # a finished run started again is just returned
        run = await rt.start(module.place_order, *order, run_id=f"order-{number}")
        result = await run.result()
        print(f"{run.run_id}: {run.status}, {result}", flush=True)


def main() -> None:
    if len(sys.argv) == 3:
        asyncio.run({"start": start, "recover": recover}[sys.argv[1]](sys.argv[2]))
        return
    with tempfile.TemporaryDirectory() as folder:
        store, ledger = str(Path(folder) / "orders.db"), Path(folder) / "payments.json"
        env = {**os.environ, "PAYMENTS_LEDGER": str(ledger)}
        first = subprocess.run([sys.executable, __file__, "start", store], text=True,
                               env={**env, "PAYMENTS_CRASH_AFTER": "2"})
        print(f"first process: killed by signal {-first.returncode}" if first.returncode < 0
              else f"first process: exit {first.returncode}", flush=True)
        subprocess.run([sys.executable, __file__, "recover", store], env=env, check=True)
        charges = json.loads(ledger.read_text())
        print(f"charges made: {len(charges)}, one per order: "
              f"{sorted(entry['customer'] for entry in charges.values())}")


if __name__ == "__main__":
    main()
