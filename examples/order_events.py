"""Notifications sent by order_machine.wf's actions (recorded, for tests and demos)."""

from __future__ import annotations

import asyncio
from typing import Any

sent: list[tuple[Any, ...]] = []
FAIL: set[str] = set()


def _send(kind: str, *args: object) -> None:
    sent.append((kind, *args))
    if kind in FAIL:
        raise ConnectionError(f"could not send {kind}")


async def paid(order_id: str) -> None:
    await asyncio.sleep(0)
    _send("paid", order_id)


async def shipped(order_id: str, tracking_number: str) -> None:
    _send("shipped", order_id, tracking_number)


def refunded(order_id: str, amount: float) -> None:
    _send("refunded", order_id, amount)


def cancelled(order_id: str) -> None:
    _send("cancelled", order_id)
