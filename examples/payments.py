"""A payment provider for durable_order.wf, kept in a JSON file like a real ledger.

`charge` passes `step_key()` as the provider's idempotency key: if the process
dies after the provider charged but before the journal recorded it, the step
runs again after recovery, and the provider answers with the first charge
instead of charging twice. That is how a durable run makes effects exactly once.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

from wfc.runtime import step_key

LEDGER = Path(os.environ.get("PAYMENTS_LEDGER", "payments.json"))
# For the demo: SIGKILL this process right after the N-th charge has been made.
CRASH_AFTER_CHARGE = int(os.environ.get("PAYMENTS_CRASH_AFTER", "0"))
_charges_here = 0


def _ledger() -> dict[str, Any]:
    return json.loads(LEDGER.read_text()) if LEDGER.exists() else {}


def charge(customer: str, amount: int) -> dict[str, Any]:
    global _charges_here
    ledger = _ledger()
    key = step_key()
    if key not in ledger:  # the provider's own idempotency: one charge per key
        ledger[key] = {"charge_id": f"ch-{len(ledger) + 1}", "customer": customer, "amount": amount,
                       "refunded": False}
        LEDGER.write_text(json.dumps(ledger, indent=2))
        _charges_here += 1
        if _charges_here == CRASH_AFTER_CHARGE:
            os.kill(os.getpid(), signal.SIGKILL)
    return ledger[key]


def refund(charge_id: str) -> None:
    ledger = _ledger()
    for entry in ledger.values():
        if entry["charge_id"] == charge_id:
            entry["refunded"] = True
    LEDGER.write_text(json.dumps(ledger, indent=2))
