"""Handlers for support.wf: the desks that answer tickets (fakes)."""

from __future__ import annotations

from typing import Any


def escalate(ticket: dict[str, Any], team: str) -> dict[str, Any]:
    return {"team": team, "escalated": True, "customer": ticket.get("customer")}


def reply(ticket: dict[str, Any], team: str) -> dict[str, Any]:
    return {"team": team, "reply": f"Thanks {ticket.get('customer', 'there')}, we are on it."}


async def search_docs(text: str) -> dict[str, Any]:
    return {"team": "docs", "articles": [f"faq: {text[:20]}"]}


async def order_status(order_id: str) -> dict[str, Any]:
    return {"team": "orders", "order_id": order_id, "status": "shipped"}


def cancel_order(order_id: str) -> dict[str, Any]:
    return {"team": "orders", "cancelled": order_id}


def change_order(order_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    return {"team": "orders", "changed": order_id, "changes": changes}
