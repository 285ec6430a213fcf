"""The calls of checkout_chart.wf: a card authorization, a label printer and
notifications, recorded so that tests and demos can look at them."""

from __future__ import annotations

import asyncio
from typing import Any

from wfc.runtime import current

log: list[tuple[Any, ...]] = []
DECLINE: set[str] = set()  # orders whose card is declined
SLOW: set[str] = set()  # orders whose authorization never answers


async def authorize(order_id: str, total: float) -> dict[str, Any]:
    log.append(("authorize", order_id, total))
    if order_id in SLOW:
        await current().clock.sleep(3600)
    await asyncio.sleep(0)
    if order_id in DECLINE:
        raise PermissionError(f"card declined for {order_id}")
    return {"charge_id": f"ch_{order_id}", "amount": total}


async def print_label(order_id: str) -> str:
    log.append(("label", order_id))
    await asyncio.sleep(0)
    return f"label for {order_id}"


def notify(order_id: str, what: str) -> None:
    log.append(("notify", order_id, what))
