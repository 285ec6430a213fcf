"""Handlers for expense_approval.wf: an in-memory review service, budget and bank."""

from __future__ import annotations

from typing import Any

from wfc.runtime import current

log: list[tuple[Any, ...]] = []
FAIL_TRANSFER = False  # the bank fails after taking the money: a partial effect
in_flight = 0
peak_in_flight = 0


async def check_line(line: dict[str, Any]) -> dict[str, Any]:
    """The review service: a second per line; two at a time is all it takes."""
    global in_flight, peak_in_flight
    in_flight += 1
    peak_in_flight = max(peak_in_flight, in_flight)
    try:
        await current().clock.sleep(1)
        log.append(("check", line["item"]))
        return {"item": line["item"], "ok": line["amount"] < 5000}
    finally:
        in_flight -= 1


def hold_budget(team: str, total: float) -> dict[str, Any]:
    log.append(("hold", team, total))
    return {"id": f"hold-{team}"}


def release_budget(hold_id: str) -> None:
    log.append(("release", hold_id))


def transfer(employee: str, total: float) -> dict[str, Any]:
    log.append(("transfer", employee, total))
    if FAIL_TRANSFER:
        raise ConnectionError("the bank dropped the connection after the debit")
    return {"id": f"tx-{employee}"}


def reverse(employee: str, total: float) -> None:
    log.append(("reverse", employee, total))
