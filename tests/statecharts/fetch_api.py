"""The request handler of tests/statecharts/fetch.wf: answers, fails or hangs by URL."""

from __future__ import annotations

import asyncio

from wfc.runtime import current

calls: list[str] = []
cancelled: list[str] = []


async def get(url: str) -> dict:
    calls.append(url)
    try:
        if url.startswith("slow"):
            await current().clock.sleep(3600)
        await asyncio.sleep(0)
    except asyncio.CancelledError:
        cancelled.append(url)
        raise
    if url.startswith("bad"):
        raise ConnectionError(f"no route to {url}")
    return {"url": url, "items": [1, 2, 3]}
