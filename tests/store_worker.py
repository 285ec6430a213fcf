"""One of several processes sharing a store (tests/test_stores.py starts them).

    python tests/store_worker.py SCENARIO STORE_URL START_AT LOG

Waits until the wall-clock time START_AT so that all processes run at once,
plays SCENARIO through a `Guard` on the shared store with the real clock, and
prints what it saw as JSON. Handler calls are appended to LOG, one line each.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from wfc.runtime import (
    Breaker,
    Bulkhead,
    CircuitOpen,
    Guard,
    Idempotent,
    Limit,
    RateLimited,
    Runtime,
    open_store,
)


def main() -> None:
    scenario, url, start_at, log = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]

    def record(tag: str) -> None:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{tag} {os.getpid()} {time.time():.6f}\n")

    async def run() -> dict:
        rt = Runtime(store=open_store(url))
        await asyncio.sleep(max(0.0, start_at - time.time()))
        return await SCENARIOS[scenario](rt, record)

    print(json.dumps(asyncio.run(run())))


async def limiter(rt: Runtime, record) -> dict:
    """Take permits from 20/s, burst 5, without waiting, for 1.5 s."""
    guard = Guard("svc.call", "w.wf:1:1", limit=Limit(20, 1.0, burst=5, wait=False),
                  qualname="shared.limit", limit_state="shared.limit")
    granted = refused = 0
    started, end = time.time(), time.time() + 1.5
    while time.time() < end:
        try:
            await guard.run(rt, lambda: record("permit"))
            granted += 1
        except RateLimited:
            refused += 1
        await asyncio.sleep(0.002)
    return {"granted": granted, "refused": refused, "started": started, "ended": time.time()}


async def breaker(rt: Runtime, record) -> dict:
    """Call a failing service ten times behind one breaker (3 failures open it)."""
    guard = Guard("svc.call", "w.wf:1:1", breaker=Breaker(failures=3, reset=60.0),
                  qualname="shared.breaker", breaker_state="shared.breaker")

    async def failing() -> None:
        record("call")
        await asyncio.sleep(0.05)
        raise ConnectionError("down")

    seen = []
    for _ in range(10):
        try:
            await guard.run(rt, failing)
        except CircuitOpen:
            seen.append("open")
        except ConnectionError:
            seen.append("failed")
        await asyncio.sleep(0.02)
    return {"seen": seen}


async def idempotent(rt: Runtime, record) -> dict:
    """Everyone charges order 42 at once; the charge must happen once."""
    guard = Guard("pay.charge", "w.wf:1:1", idempotent=Idempotent(ttl=60.0, explicit=True))

    async def charge(order: int) -> dict:
        record("charge")
        await asyncio.sleep(0.5)
        return {"order": order, "charged_by": os.getpid()}

    return {"result": await guard.run(rt, charge, (42,), key="order-42")}


async def bulkhead(rt: Runtime, record) -> dict:
    """Three calls each, at once, through one bulkhead of 2 slots shared by every process."""
    guard = Guard("svc.call", "w.wf:1:1", bulkhead=Bulkhead(2), limit_state="shared.bulkhead")

    async def call() -> None:
        record("start")
        await asyncio.sleep(0.2)
        record("end")

    await asyncio.gather(*(guard.run(rt, call) for _ in range(3)))
    return {"done": 3}


RING = """
machine Ring(name) {
    initial a
    state a { on go -> b }
    state b { on go -> c }
    state c { on go -> a }
}
"""


async def machine(rt: Runtime, record) -> dict:
    """Everyone turns one shared ring machine ten times."""
    from wfc.api import load_source

    ring = load_source(RING, "ring.wf", backend="compiled").Ring
    with rt.activate():
        instance = await ring.open(rt.store, "ring-1", "shared")
        taken = 0
        for _ in range(10):
            taken += await instance.send("go")
            record("go")
    return {"taken": taken}


SCENARIOS = {"limiter": limiter, "breaker": breaker, "idempotent": idempotent, "machine": machine,
             "bulkhead": bulkhead}

if __name__ == "__main__":
    main()
