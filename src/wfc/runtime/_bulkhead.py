"""`limit(concurrent: N, queue: Q)`: a bulkhead, at most N calls in flight.

The state lives in the store, so every run that uses the same named policy shares
it, and every process does through a shared store: `[holders, waiting]`, each a
list of `[token, expires]`, `waiting` in arrival order. A caller takes a slot when
fewer than N hold one and nobody waits ahead of it; otherwise it queues (at most Q
waiting) and tries again when a slot is freed in this process, or after `_POLL`
seconds (for a slot freed by another process). Entries expire, so a process that
died frees its slots: a holder's after `_HOLD` seconds, a waiter's after `_QUEUED`
seconds (a live waiter renews its entry each time it tries again).
"""

from __future__ import annotations

import asyncio
import itertools
import os
from contextvars import ContextVar
from typing import Any

from ._clock import format_seconds, settle
from ._errors import RateLimited
from ._runtime import Runtime
from ._store import update

_POLL = 0.25  # seconds between a waiter's tries, besides being woken in-process
_HOLD = 300.0  # a holder that never released (its process died) frees its slot after this
_QUEUED = 5.0  # a waiter that stopped trying (its process died) leaves the queue after this
_TOKENS = itertools.count()
# The bulkheads (by store name) whose slot the current task holds, branches inheriting.
HOLDING: ContextVar[frozenset[str]] = ContextVar("wfc_bulkhead_holding", default=frozenset())
_PROCESS = os.urandom(4).hex()  # tokens from different processes never collide


class Bulkhead:
    """`limit(concurrent, queue, wait, max_wait)`: at most `concurrent` calls at once.

    `queue` bounds the callers waiting (None: no bound); `wait: false` refuses at
    once when every slot is taken; `max_wait` bounds each caller's wait. A refused
    or timed-out caller raises `RateLimited`. Waiters are served first come, first
    served.
    """

    __slots__ = ("concurrent", "queue", "wait", "max_wait")

    def __init__(
        self, concurrent: int, queue: int | None = None, wait: bool = True, max_wait: float | None = None
    ) -> None:
        self.concurrent = concurrent
        self.queue = queue
        self.wait = wait
        self.max_wait = max_wait

    def acquire(self, state: Any, now: float, token: str) -> tuple[Any, bool | None]:
        """Take a slot for `token`: True, held; None, queued (try again later); False,
        refused (the queue is full, or waiting is not allowed)."""
        holders, waiting = _live(state, now)
        for holder in holders:
            if holder[0] == token:  # a resumed durable run's step: the slot it held before the crash
                holder[1] = now + _HOLD
                return [holders, waiting], True
        queued = [entry[0] for entry in waiting]
        ahead = queued.index(token) if token in queued else len(queued)
        if len(holders) < self.concurrent and ahead == 0:
            holders.append([token, now + _HOLD])
            return [holders, waiting[1:] if queued else waiting], True
        if token in queued:
            waiting[ahead] = [token, now + _QUEUED]
            return [holders, waiting], None
        if not self.wait or (self.queue is not None and len(waiting) >= self.queue):
            return state, False
        waiting.append([token, now + _QUEUED])
        return [holders, waiting], None

    @staticmethod
    def release(state: Any, now: float, token: str) -> tuple[Any, None]:
        """`token` leaves: its slot, or its place in the queue."""
        holders, waiting = _live(state, now)
        return [[h for h in holders if h[0] != token], [w for w in waiting if w[0] != token]], None

    @staticmethod
    def idle_at(state: Any) -> float | None:
        """Nobody holding or waiting is as good as no record."""
        return float("-inf") if not state[0] and not state[1] else None


def _live(state: Any, now: float) -> tuple[list[Any], list[Any]]:
    if not state:
        return [], []
    return [h for h in state[0] if h[1] > now], [w for w in state[1] if w[1] > now]


async def hold_slot(rt: Runtime, bulkhead: Bulkhead, key: str, target: str, site: str) -> str:
    """Wait for a slot of `key` (the state's store name); its token, to free it with.
    In a durable run the token is the step's key, so a run resumed after a crash takes
    back the slot its step held instead of waiting for the dead holder's lease."""
    journal = rt.journal
    token = f"{_PROCESS}:{next(_TOKENS)}" if journal is None else journal.next_step_key(site)
    started = rt.policy_now()
    announced = False
    try:
        while True:
            now = rt.policy_now()
            held = await _decide(rt, key, now, bulkhead.acquire, token)
            if held:
                return token
            left = None if bulkhead.max_wait is None else started + bulkhead.max_wait - now
            if held is False or (left is not None and left <= 0):
                if rt.observers:
                    rt.event("limit.reject", target, {"concurrent": bulkhead.concurrent})
                reason = (
                    f"{bulkhead.concurrent} in flight"
                    if held is False
                    else f"no slot within max_wait {format_seconds(bulkhead.max_wait)}"  # type: ignore[arg-type]
                )
                raise RateLimited(f"concurrency limit of {target} reached: {reason}")
            if not announced and rt.observers:
                rt.event("limit.wait", target, {"concurrent": bulkhead.concurrent})
            announced = True
            await _freed(rt, key, _POLL if left is None else min(_POLL, left))
    except BaseException:
        await free_slot(rt, key, token)  # queued, not holding: leave the queue
        raise


async def free_slot(rt: Runtime, key: str, token: str) -> None:
    """Give the slot (or the place in the queue) back, and wake who waits here."""
    await _decide(rt, key, rt.policy_now(), Bulkhead.release, token)
    for waiter in rt.slot_waiters.pop(key, ()):
        settle(waiter)


async def _decide(rt: Runtime, key: str, now: float, decide: Any, token: str) -> Any:
    update_now = rt.update_now
    if update_now is not None:
        return update_now(key, now, decide, token, idle_at=Bulkhead.idle_at)
    return await update(rt.store, key, now, decide, token, idle_at=Bulkhead.idle_at)


async def _freed(rt: Runtime, key: str, seconds: float) -> None:
    """Until a slot of `key` is freed in this process, or `seconds` have passed."""
    freed = asyncio.get_running_loop().create_future()
    waiters = rt.slot_waiters.setdefault(key, [])
    waiters.append(freed)
    clock = getattr(rt.clock, "live", rt.clock)  # not journaled: the store decides again
    timer = clock.call_later(seconds, lambda: settle(freed))
    try:
        await freed
    finally:
        timer.cancel()
        if freed in waiters:
            waiters.remove(freed)
