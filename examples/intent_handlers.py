"""Handlers for intent_router.wf: search back ends and a complaints desk (fakes)."""

from __future__ import annotations

import asyncio
from typing import Any


async def vip_search(query: str) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"action": "search", "tier": "vip", "query": query}


async def search(query: str) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"action": "search", "tier": "standard", "query": query}


def severity(text: str) -> int:
    """1 (mild) to 3 (angry), from a few telling words."""
    words = text.lower()
    return 3 if "never" in words or "!" in text else 2 if "late" in words else 1


def open_case(customer: str, level: int) -> dict[str, Any]:
    return {"action": "open_case", "customer": customer, "level": level}
