"""Fake search back ends for aggregate.wf: each answers after a small delay.

`forums` is down (it raises), to show `on error skip`; `papers` is slow.
"""

from __future__ import annotations

import asyncio
from typing import Any

from wfc.runtime import current

LATENCY = {"web": 0.02, "news": 0.03, "papers": 0.05, "forums": 0.01, "wiki": 0.01}
in_flight = 0
peak_in_flight = 0


async def search(source: str, query: str) -> list[dict[str, Any]]:
    """Three hits from `source` for `query`, scored by source and position."""
    global in_flight, peak_in_flight
    in_flight += 1
    peak_in_flight = max(peak_in_flight, in_flight)
    try:
        await current().clock.sleep(LATENCY[source])
        if source == "forums":
            raise ConnectionError("forums are down")
        weight = {"web": 3, "news": 2, "papers": 4, "wiki": 1}[source]
        return [
            {"title": f"{query} — {source} result {rank}", "source": source,
             "score": weight * 10 - rank}
            for rank in range(1, 4)
        ]
    finally:
        in_flight -= 1


def rank(hits: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    """The `top` hits by score, best first; ties keep their order."""
    return sorted(hits, key=lambda hit: -hit["score"])[:top]
