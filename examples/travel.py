"""A fake travel provider for travel_booking.wf: flights, hotels, cars and a card.

Everything is kept in memory, and `SCENARIO` says how the provider misbehaves, so the
example (and its tests) can show each path: a busy provider answering "too many
requests" a few times, a full flight, a declined card.
"""

from __future__ import annotations

import itertools
from typing import Any


class Throttled(Exception):
    """The provider's "429 Too Many Requests": worth retrying after a pause."""


SCENARIO = {"throttled": 0, "full_flights": set(), "declined_cards": set()}
BOOKINGS: dict[str, dict] = {}  # booking id -> what it holds, while it stands
LOG: list[str] = []
_ids = itertools.count(1)


def reset() -> None:
    global _ids
    _ids = itertools.count(1)
    SCENARIO.update(throttled=0, full_flights=set(), declined_cards=set())
    BOOKINGS.clear()
    LOG.clear()


def _book(kind: str, what: str, price: int) -> dict[str, Any]:
    if SCENARIO["throttled"] > 0:
        SCENARIO["throttled"] -= 1
        LOG.append(f"throttled {kind}")
        raise Throttled(f"{kind}: too many requests")
    booking = f"{kind[0].upper()}{next(_ids)}"
    BOOKINGS[booking] = {"kind": kind, "what": what, "price": price}
    LOG.append(f"book {booking} {what}")
    return {"booking": booking, "price": price, "confirmed": True}


def reserve_flight(flight: str, traveller: str) -> dict[str, Any]:
    if flight in SCENARIO["full_flights"]:
        LOG.append(f"full {flight}")
        return {"booking": None, "price": 0, "confirmed": False}
    return _book("flight", f"{flight} for {traveller}", 420)


def book_hotel(hotel: str, nights: int) -> dict[str, Any]:
    return _book("hotel", f"{hotel} x{nights}", 90 * nights)


def rent_car(city: str, nights: int) -> dict[str, Any]:
    return _book("car", f"car in {city} x{nights}", 35 * nights)


def charge(card: str, amount: int) -> dict[str, Any]:
    if card in SCENARIO["declined_cards"]:
        LOG.append(f"declined {card}")
        return {"ok": False, "reason": "card declined by issuer", "code": 402, "amount": amount}
    LOG.append(f"charge {card} {amount}")
    return {"ok": True, "reason": None, "code": 200, "amount": amount}


def cancel(booking: str | None) -> None:
    if booking is not None:
        BOOKINGS.pop(booking, None)
        LOG.append(f"cancel {booking}")
