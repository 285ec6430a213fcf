"""A pretend weather service for resilient_api.wf, with faults you can script.

`configure(failure_rate=0.8, seed=1)` makes 80% of calls fail (drawn from its
own seeded source, so runs repeat); `configure(down=True)` fails every call.
Calls take `latency` seconds on the runtime's clock. `calls` logs every call.
"""

from __future__ import annotations

import random
from typing import Any

from wfc.runtime import current


class Faults:
    failure_rate = 0.0
    down = False
    latency = 0.05
    draws = random.Random(0)


calls: list[tuple[str, str, float]] = []
_last_known: dict[str, dict] = {}
_bookings: dict[str, dict] = {}


def configure(failure_rate: float = 0.0, down: bool = False, latency: float = 0.05,
              seed: int = 0) -> None:
    """Set the faults to come, and forget earlier calls, forecasts and bookings."""
    Faults.failure_rate, Faults.down, Faults.latency = failure_rate, down, latency
    Faults.draws = random.Random(seed)
    calls.clear()
    _last_known.clear()
    _bookings.clear()


async def _answer(operation: str, subject: str) -> None:
    clock = current().clock
    calls.append((operation, subject, clock.now()))
    await clock.sleep(Faults.latency)
    if Faults.down or Faults.draws.random() < Faults.failure_rate:
        raise ConnectionError(f"weather service unavailable ({operation} {subject})")


async def forecast(city: str) -> dict[str, Any]:
    await _answer("forecast", city)
    report = {"summary": f"clear skies over {city}", "source": "live"}
    _last_known[city] = report
    return report


def last_known(city: str) -> dict[str, Any]:
    """The fallback: the last live forecast for `city`, marked as cached."""
    report = _last_known.get(city)
    summary = report["summary"] if report else "no forecast yet"
    return {"summary": summary, "source": "cache"}


async def book(trip_id: str, city: str) -> dict[str, Any]:
    await _answer("book", trip_id)
    booking = {"trip": trip_id, "city": city, "number": len(_bookings) + 1}
    _bookings[trip_id] = booking
    return booking
