"""Clocks: the real one, and a virtual one that makes waiting free in tests."""

from __future__ import annotations

import asyncio
import heapq
import time
from collections.abc import Callable
from typing import Any, Protocol


class TimerHandle(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the runtime needs from a clock."""

    def now(self) -> float: ...
    def monotonic(self) -> float: ...
    async def sleep(self, seconds: float) -> None: ...
    def call_later(self, seconds: float, callback: Callable[[], Any]) -> TimerHandle: ...


class RealClock:
    """Wall-clock time and asyncio's own timers."""

    __slots__ = ()

    # The C functions themselves: policies read the clock on every call.
    now = staticmethod(time.time)
    monotonic = staticmethod(time.monotonic)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> TimerHandle:
        return asyncio.get_running_loop().call_later(seconds, callback)


class _VirtualTimer:
    __slots__ = ("when", "seq", "callback", "cancelled")

    def __init__(self, when: float, seq: int, callback: Callable[[], Any]) -> None:
        self.when = when
        self.seq = seq
        self.callback = callback
        self.cancelled = False

    def __lt__(self, other: _VirtualTimer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def cancel(self) -> None:
        self.cancelled = True


class VirtualClock:
    """A clock whose time only moves when every task is waiting on it.

    When no task can run, time jumps to the earliest pending deadline, so two
    concurrent `wait 5s` both finish at t=5 and a test never waits for real.
    Use it for tests and simulations, not with real I/O: time may jump while a
    socket is still busy.
    """

    __slots__ = ("_now", "_timers", "_seq", "_driver")

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)
        self._timers: list[_VirtualTimer] = []
        self._seq = 0
        self._driver: asyncio.Task[None] | None = None

    def now(self) -> float:
        return self._now

    monotonic = now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        future = asyncio.get_running_loop().create_future()
        timer = self.call_later(seconds, lambda: settle(future))
        try:
            await future
        finally:
            timer.cancel()

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> _VirtualTimer:
        self._seq += 1
        timer = _VirtualTimer(self._now + max(seconds, 0.0), self._seq, callback)
        heapq.heappush(self._timers, timer)
        if self._driver is None or self._driver.done():
            self._driver = asyncio.get_running_loop().create_task(self._drive())
        return timer

    async def _drive(self) -> None:
        loop = asyncio.get_running_loop()
        while self._timers:
            await _until_idle(loop)
            self._fire_earliest()

    def _fire_earliest(self) -> None:
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        if not self._timers:
            return
        when = self._timers[0].when
        self._now = max(self._now, when)
        while self._timers and self._timers[0].when == when:
            timer = heapq.heappop(self._timers)
            if not timer.cancelled:
                timer.callback()


async def _until_idle(loop: asyncio.AbstractEventLoop) -> None:
    """Return once no other callback is ready to run on `loop`."""
    await asyncio.sleep(0)
    ready = getattr(loop, "_ready", None)
    if ready is None:  # a loop without CPython's ready queue: settle a few rounds
        for _ in range(20):
            await asyncio.sleep(0)
        return
    while ready:
        await asyncio.sleep(0)


class Deadline:
    """`async with Deadline(clock, seconds):` cancels the body after `seconds`.

    Works like `asyncio.timeout` but on any `Clock`, and raises a
    `TimeoutError` that says how long it waited. It cancels the task that runs
    the body.
    """

    __slots__ = ("_clock", "_seconds", "_task", "_timer", "_fired")

    def __init__(self, clock: Clock, seconds: float) -> None:
        self._clock = clock
        self._seconds = seconds
        self._fired = False

    async def __aenter__(self) -> Deadline:
        task = asyncio.current_task()
        assert task is not None, "a deadline needs a running task"
        self._task = task
        self._timer = self._clock.call_later(self._seconds, self._fire)
        return self

    def _fire(self) -> None:
        self._fired = True
        self._task.cancel()

    @property
    def fired(self) -> bool:
        """Whether the deadline passed (and so cancelled the body)."""
        return self._fired

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self._timer.cancel()
        if self._fired and exc_type is asyncio.CancelledError and self._task.uncancel() == 0:
            raise TimeoutError(f"timed out after {format_seconds(self._seconds)}") from exc


def format_seconds(seconds: float) -> str:
    """Render a duration the way wf source writes it: 250ms, 1.5s, 2m, 1h."""
    for unit, size in (("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size and (seconds / size) == int(seconds / size):
            return f"{int(seconds / size)}{unit}"
    if seconds < 1:
        millis = seconds * 1000
        return f"{int(millis)}ms" if millis == int(millis) else f"{millis:g}ms"
    return f"{seconds:g}s"


def settle(future: asyncio.Future[None]) -> None:
    """Wake a sleeper (once: a cancelled or woken one is left alone)."""
    if not future.done():
        future.set_result(None)
