"""Price sources for quorum.wf: each answers after its own delay, or fails.

`DELAYS` (seconds) and `DOWN` (sources that fail) let the example and its tests show
each path; the delays run on the runtime's clock, so a virtual clock makes them instant.
"""

from __future__ import annotations

from wfc.runtime import current

DELAYS = {"north": 0.3, "south": 0.1, "east": 0.2}
PRICES = {"north": 105, "south": 99, "east": 101}
DOWN: set[str] = set()
ASKED: list[str] = []


async def ask(source: str, item: str) -> int:
    ASKED.append(source)
    await current().clock.sleep(DELAYS[source])
    if source in DOWN:
        raise ConnectionError(f"{source} is down")
    return PRICES[source] + len(item)
