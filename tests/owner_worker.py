"""A worker process for tests/test_ownership.py: starts or recovers durable runs of
tests/durable/owner.wf on a shared store.

    python tests/owner_worker.py start|recover STORE_URL LEASE [RUN_ID]

`start` starts run RUN_ID (`pay-1`); `recover` resumes whatever no live worker runs. Each
run's outcome is printed as a line `RUN_ID STATUS-OR-ERROR VALUE`, and `recover`
first prints `recovered N`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "durable"))

from wfc.api import load  # noqa: E402
from wfc.runtime import Runtime, open_store  # noqa: E402

mode, store_url, lease = sys.argv[1], sys.argv[2], float(sys.argv[3])
run_id = sys.argv[4] if len(sys.argv) > 4 else "pay-1"
module = load(HERE / "durable" / "owner.wf")


async def main() -> None:
    rt = Runtime(store=open_store(store_url), lease=lease)
    if mode == "start":
        runs = [await rt.start(module.pay, 1, run_id=run_id)]
    else:
        runs = await rt.recover()
        print("recovered", len(runs), flush=True)
    for run in runs:
        try:
            value = await run.result()
        except Exception as exc:  # noqa: BLE001 - printed for the test to read
            print(run.run_id, type(exc).__name__, exc, flush=True)
        else:
            print(run.run_id, run.status, value, flush=True)


asyncio.run(main())
