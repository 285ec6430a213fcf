"""Handlers of tests/durable/owner.wf: each call is logged as `PID NAME ARG` to $OWNER_LOG."""

from __future__ import annotations

import os
import time


def _log(name: str, value: int) -> None:
    with open(os.environ["OWNER_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()} {name} {value}\n")


def charge(n: int) -> int:
    _log("charge", n)
    return n + 1


def stall(n: int) -> int:
    """Holds the event loop for $OWNER_STALL seconds (0 by default): a worker gone silent."""
    _log("stall", n)
    time.sleep(float(os.environ.get("OWNER_STALL", "0")))
    return n + 1
