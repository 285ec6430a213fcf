"""An in-memory shop for order_saga.wf, with failures you can switch on.

`FAIL` holds the names of operations that should raise; tests and demos set
it, e.g. `shop.FAIL.add("deduct_inventory")`. `log` records every call.
"""

from __future__ import annotations

import asyncio
from typing import Any

STOCK = {"P1": 10, "P2": 0}
FAIL: set[str] = set()
log: list[tuple[Any, ...]] = []
_orders = {"next": 1}


class OutOfStock(Exception):
    pass


def _call(name: str, *args: object) -> None:
    log.append((name, *args))
    if name in FAIL:
        raise ConnectionError(f"{name} failed")


async def validate_inventory(product_id: str, quantity: int) -> dict[str, Any]:
    _call("validate_inventory", product_id, quantity)
    if STOCK.get(product_id, 0) < quantity:
        raise OutOfStock(f"{product_id}: only {STOCK.get(product_id, 0)} left")
    return {"hold_id": f"H-{product_id}-{quantity}"}


async def release_hold(hold_id: str) -> None:
    _call("release_hold", hold_id)


async def create_order(product_id: str, quantity: int, customer: str) -> dict[str, Any]:
    _call("create_order", product_id, quantity, customer)
    await asyncio.sleep(0)
    order_id = f"O-{_orders['next']}"
    _orders["next"] += 1
    return {"order_id": order_id, "product_id": product_id, "quantity": quantity}


async def cancel_order(order_id: str) -> None:
    _call("cancel_order", order_id)


def deduct_inventory(product_id: str, quantity: int) -> int:
    _call("deduct_inventory", product_id, quantity)
    STOCK[product_id] -= quantity
    return STOCK[product_id]


def restock(product_id: str, quantity: int) -> None:
    _call("restock", product_id, quantity)
    STOCK[product_id] += quantity


async def send_notification(customer: str, order_id: str) -> None:
    _call("send_notification", customer, order_id)


async def send_apology(customer: str, order_id: str) -> None:
    _call("send_apology", customer, order_id)
