"""Resilience policy options and their pure decision cores (no I/O, no awaits).

Each option object is immutable and built once per call site; the state a
breaker or a limiter needs lives in the store as a small tuple, and the
methods here compute the next state from the last one and a clock reading.
`Guard` (in `_guard.py`) drives them in the fixed order.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from random import Random
from typing import Any

from ._errors import CircuitOpen

# The breaker's modes, as stored.
CLOSED, OPEN, HALF_OPEN = 0, 1, 2
_GRANTED = (True, 0.0)


class Retry:
    """`retry(attempts, backoff, delay, max_delay, factor, jitter, max_time, on)`.

    `attempts` counts the first call too (None: no limit but `max_time`). The delay
    before retry k is `delay*factor**(k-1)` (exponential), `delay*k` (linear) or
    `delay` (fixed), capped at `max_delay`, then multiplied by a draw from
    [1-jitter, 1+jitter]. With `max_time`, a retry that would begin more than
    `max_time` seconds after the first attempt began is not made. `on` is a tuple
    of exception types; None retries every `Exception` but `CircuitOpen`.
    """

    __slots__ = ("attempts", "backoff", "delay", "max_delay", "factor", "jitter", "max_time", "on")

    def __init__(
        self,
        attempts: int | None = 3,
        backoff: str = "exponential",
        delay: float = 1.0,
        max_delay: float = 60.0,
        factor: float = 2.0,
        jitter: float = 0.0,
        max_time: float | None = None,
        on: tuple[type[BaseException], ...] | None = None,
    ) -> None:
        self.attempts = attempts
        self.backoff = backoff
        self.delay = delay
        self.max_delay = max_delay
        self.factor = factor
        self.jitter = jitter
        self.max_time = max_time
        self.on = on

    def retries(self, exc: BaseException) -> bool:
        if not isinstance(exc, Exception):  # a cancellation is never retried
            return False
        if self.on is None:
            return not isinstance(exc, CircuitOpen)
        return isinstance(exc, self.on)

    def delay_after(
        self, attempt: int, exc: BaseException, rng: Random, elapsed: float = 0.0
    ) -> float | None:
        """Seconds to wait before the next attempt, or None to give up with `exc`;
        `attempt` failures of this policy's errors so far, `elapsed` seconds since the
        first attempt began."""
        if (self.attempts is not None and attempt >= self.attempts) or not self.retries(exc):
            return None
        if self.backoff == "exponential":
            try:
                delay = self.delay * float(self.factor) ** (attempt - 1)
            except OverflowError:  # far past any max_delay
                delay = self.max_delay
        elif self.backoff == "linear":
            delay = self.delay * attempt
        else:
            delay = self.delay
        delay = min(delay, self.max_delay)
        if self.jitter:
            delay *= rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        if self.max_time is not None and elapsed + delay > self.max_time:
            return None
        return delay


class Breaker:
    """`breaker(failures, reset, half_open, successes, on)` or `breaker(failure_rate,
    window, min_calls, reset, half_open, successes, on)`: a circuit breaker.

    Closed: consecutive failures are counted and a success resets the count;
    at `failures` it opens. With `failure_rate`, the outcomes of the last `window`
    calls are kept instead (Resilience4j's count-based window), and it opens once
    at least `min_calls` are in the window and the failed share is `failure_rate`
    or more. Open: calls fail with `CircuitOpen` until `reset`
    seconds have passed since it opened; then it is half-open. Half-open: at
    most `half_open` calls in flight; `successes` consecutive successes close
    it, a failure re-opens it. Only exceptions matching `on` (a tuple of types,
    None: every `Exception`) are failures; any other outcome is a success.

    State: `(mode, failures, successes, opened_at, in_flight, epoch)`; `epoch`
    counts transitions, so a call that started before one cannot count after it.
    A closed failure-rate breaker keeps its window in `failures`, one bit per call
    (1: failed, newest lowest) under a leading 1 that marks the window's length,
    and the time of its last call in `opened_at`.
    """

    __slots__ = ("failures", "reset", "half_open", "successes", "on", "failure_rate", "window", "min_calls")

    INITIAL = (CLOSED, 0, 0, 0.0, 0, 0)

    def __init__(
        self,
        failures: int = 5,
        reset: float = 60.0,
        half_open: int = 1,
        successes: int = 1,
        on: tuple[type[BaseException], ...] | None = None,
        failure_rate: float | None = None,
        window: int = 100,
        min_calls: int | None = None,
    ) -> None:
        self.failures = failures
        self.reset = reset
        self.half_open = half_open
        self.successes = successes
        self.on = on
        self.failure_rate = failure_rate
        self.window = window
        self.min_calls = window if min_calls is None else min_calls

    def counts(self, exc: BaseException) -> bool:
        """Whether `exc` is a failure for this breaker."""
        return self.on is None or isinstance(exc, self.on)

    def admit(self, state: Any, now: float) -> tuple[Any, tuple[int, int, str | None]]:
        """Let a call through or not: `(admitted as CLOSED/HALF_OPEN or OPEN if rejected,
        epoch, the transition it caused or None)`."""
        mode, failures, successes, opened_at, in_flight, epoch = state or self.INITIAL
        if mode == CLOSED:
            return state, (CLOSED, epoch, None)
        event = None
        if mode == OPEN:
            if now - opened_at < self.reset:
                return state, (OPEN, epoch, None)
            mode, successes, in_flight, epoch, event = HALF_OPEN, 0, 0, epoch + 1, "breaker.half_open"
        if in_flight >= self.half_open:
            new = (mode, failures, successes, opened_at, in_flight, epoch)
            return (state if event is None else new), (OPEN, epoch, event)
        return (mode, failures, successes, opened_at, in_flight + 1, epoch), (HALF_OPEN, epoch, event)

    def idle_at(self, state: Any) -> float | None:
        """A closed breaker with no failures is as good as none: it may expire at once.
        A closed failure-rate breaker's window is dropped `reset` seconds after its
        last call (a keyed one per user must not stay forever)."""
        if state[0] != CLOSED:
            return None
        if self.failure_rate is not None:
            return state[3] + self.reset if state[1] else float("-inf")
        return float("-inf") if state[1] == 0 else None

    def record(
        self, state: Any, now: float, admitted: int, at_epoch: int, failed: bool | None
    ) -> tuple[Any, str | None]:
        """The outcome of an admitted call: the new state, and the transition made.

        `failed` is None for a call that was cancelled: it frees its half-open slot
        and counts neither way (else a cancelled probe would hold the breaker
        half-open for good).
        """
        # An absent record is a closed breaker with no failures (one that went idle
        # expires): it keeps the epoch the call was admitted in.
        mode, failures, successes, opened_at, in_flight, epoch = state or (CLOSED, 0, 0, 0.0, 0, at_epoch)
        if epoch != at_epoch or mode != admitted:
            return state, None  # the breaker moved on while the call ran
        if failed is None:
            if mode == HALF_OPEN:
                return (HALF_OPEN, failures, successes, opened_at, in_flight - 1, epoch), None
            return state, None
        if mode == CLOSED:
            if self.failure_rate is not None:
                return self._windowed(failures, now, epoch, failed)
            if not failed:
                return (state if failures == 0 else (CLOSED, 0, 0, 0.0, 0, epoch)), None
            if failures + 1 < self.failures:
                return (CLOSED, failures + 1, 0, 0.0, 0, epoch), None
            return (OPEN, failures + 1, 0, now, 0, epoch + 1), "breaker.open"
        if failed:
            return (OPEN, failures, 0, now, 0, epoch + 1), "breaker.open"
        if successes + 1 >= self.successes:
            return (CLOSED, 0, 0, 0.0, 0, epoch + 1), "breaker.close"
        return (HALF_OPEN, failures, successes + 1, opened_at, in_flight - 1, epoch), None

    def _windowed(self, bits: int, now: float, epoch: int, failed: bool) -> tuple[Any, str | None]:
        """A closed failure-rate breaker records an outcome in its window of calls."""
        calls = max(bits.bit_length() - 1, 0)
        outcomes = ((bits ^ (1 << calls) if bits else 0) << 1) | failed
        calls += 1
        if calls > self.window:
            calls, outcomes = self.window, outcomes & ((1 << self.window) - 1)
        failed_calls = outcomes.bit_count()
        if calls >= self.min_calls and failed_calls / calls >= self.failure_rate:  # type: ignore[operator]
            return (OPEN, failed_calls, 0, now, 0, epoch + 1), "breaker.open"
        return (CLOSED, outcomes | (1 << calls), 0, now, 0, epoch), None


class Limit:
    """`limit(rate, burst, algorithm, wait, max_wait)`: a rate limiter.

    `permits` per `period` seconds (`10/s`: 10 per 1s; `600/m`: 600 per 60s).
    token_bucket: tokens refill at the rate up to `burst`; a call takes one.
    leaky_bucket: calls leave one every period/permits; at most `burst` wait.
    fixed_window: at most `permits` per window aligned at multiples of `period`.
    sliding_window: at most `permits` in any `period`-long interval.
    A call that must wait reserves its permit first, so concurrent callers can
    never take more than the algorithm allows, and they go in arrival order.
    """

    __slots__ = (
        "permits",
        "period",
        "burst",
        "algorithm",
        "wait",
        "max_wait",
        "rate",
        "_capacity",
        "acquire",
    )

    def __init__(
        self,
        permits: float,
        period: float = 1.0,
        burst: int | None = None,
        algorithm: str = "token_bucket",
        wait: bool = True,
        max_wait: float | None = None,
    ) -> None:
        self.permits = permits
        self.period = period
        self.burst = burst if burst is not None else max(1, int(permits / period))
        self.algorithm = algorithm
        self.wait = wait
        self.max_wait = max_wait
        self.rate = permits / period  # permits per second
        self._capacity = float(self.burst)
        # `acquire(state, now)` reserves a permit: the new state and `(granted, seconds
        # to wait)`. A refused permit (`wait: false` and a wait due, more than
        # `max_wait`, or a full leaky bucket) leaves the state unchanged.
        self.acquire: Callable[[Any, float], tuple[Any, tuple[bool, float]]] = getattr(self, f"_{algorithm}")

    def idle_at(self, state: Any) -> float:
        """When `state` will be as good as absent (full bucket, windows passed)."""
        algorithm = self.algorithm
        if algorithm == "token_bucket":
            return state[1] + (self._capacity - state[0]) / self.rate
        if algorithm == "leaky_bucket":
            return state[0]
        if algorithm == "fixed_window":
            return (state[0] + math.ceil(state[1] / self.permits)) * self.period
        return state[-1] + self.period

    def _verdict(self, state: Any, new_state: Any, wait: float) -> tuple[Any, tuple[bool, float]]:
        """A permit that must wait, or cannot be had (`new_state` None)."""
        if new_state is None or not self.wait or (self.max_wait is not None and wait > self.max_wait):
            return state, (False, wait)
        return new_state, (True, wait)

    def _token_bucket(self, state: Any, now: float) -> tuple[Any, tuple[bool, float]]:
        if state is None:
            tokens = self._capacity
        else:
            tokens = state[0] + (now - state[1]) * self.rate
            if tokens > self._capacity:
                tokens = self._capacity
        if tokens >= 1.0:
            return (tokens - 1.0, now), _GRANTED
        return self._verdict(state, (tokens - 1.0, now), (1.0 - tokens) / self.rate)

    def _leaky_bucket(self, state: Any, now: float) -> tuple[Any, tuple[bool, float]]:
        spacing = 1.0 / self.rate
        start = max(now, state[0] if state else now)
        if start == now:
            return (start + spacing,), _GRANTED
        ahead = math.ceil((start - now) / spacing - 1e-9)  # calls that leave before this one
        return self._verdict(state, (start + spacing,) if ahead <= self.burst else None, start - now)

    def _fixed_window(self, state: Any, now: float) -> tuple[Any, tuple[bool, float]]:
        window = math.floor(now / self.period)
        first, taken = state or (window, 0)
        if window > first:  # permits taken in windows now past are gone
            taken, first = max(0, taken - int((window - first) * self.permits)), window
        slot = first + int(taken // self.permits)
        wait = slot * self.period - now
        if wait <= 0.0:
            return (first, taken + 1), _GRANTED
        return self._verdict(state, (first, taken + 1), wait)

    def _sliding_window(self, state: Any, now: float) -> tuple[Any, tuple[bool, float]]:
        times = [t for t in (state or ()) if t > now - self.period]
        permits = int(self.permits)
        at = now
        if times:
            at = max(at, times[-1])
            if len(times) >= permits:
                at = max(at, times[-permits] + self.period)
        times.append(at)
        if at == now:
            return tuple(times), _GRANTED
        return self._verdict(state, tuple(times), at - now)


class Idempotent:
    """`idempotent(key, ttl)`: one run per key within `ttl` seconds.

    With no explicit key, the key is a hash of the step's qualified name and
    its arguments.
    """

    __slots__ = ("ttl", "explicit")

    def __init__(self, ttl: float = 3600.0, explicit: bool = False) -> None:
        self.ttl = ttl
        self.explicit = explicit


class Timeout:
    """`timeout(D)`: each attempt is cancelled after `seconds` (raising `TimeoutError`)."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds


class Fallback:
    """`fallback(callable)` or `fallback(value: V)`: what a failed call gives instead;
    with `on` (a tuple of types), only for failures of those types.

    The callable or value is supplied at the call site; `calls` says which. A
    handler's fallback is a step like any call of a handler, named `step`
    (`cache.last_known`): its events, its error's note, journaled in a durable run.
    """

    __slots__ = ("calls", "on", "step")

    def __init__(
        self, calls: bool = True, on: tuple[type[BaseException], ...] | None = None, step: str | None = None
    ) -> None:
        self.calls = calls
        self.on = on
        self.step = step
