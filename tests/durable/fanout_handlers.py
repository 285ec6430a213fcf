"""The handler of fanout.wf: a short wait, then the item doubled."""

import asyncio


async def work(x: int) -> int:
    await asyncio.sleep(0.01 * (x % 3))
    return x * 2
