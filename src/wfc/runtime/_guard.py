"""`Guard`: the policies of one call site, applied in the language's fixed order.

idempotent -> fallback -> retry -> breaker -> limit -> timeout -> call, whatever
order the source wrote them in. Generated code and the interpreter both build
one `Guard` per site and call `run`, so the semantics exist once, here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from inspect import isawaitable
from types import CoroutineType
from typing import Any

from ._bulkhead import HOLDING, Bulkhead, free_slot, hold_slot
from ._clock import format_seconds
from ._durable import error_entry, rebuilt_error
from ._errors import CircuitOpen, RateLimited, WorkflowError
from ._events import error_fields
from ._policies import _GRANTED, CLOSED, OPEN, Breaker, Fallback, Idempotent, Limit, Retry, Timeout
from ._runtime import Runtime
from ._steps import ATTEMPT, step
from ._store import NotStorable, as_stored, described, update

# Idempotency records: (PENDING, holder) while the call runs, (DONE, result) after; the
# holder is the step key of a durable run's step, else None.
PENDING, DONE = 0, 1
_POLL = 0.05  # how often a caller polls a key that another process is running
_NO_KEYWORDS: dict[str, Any] = {}  # never mutated: `**` copies it
_UNKNOWN = object()  # a store that cannot be peeked at


class Guard:
    """The policies around one call, a stage body or a declaration body.

    `target` names the site in events (`inventory.reserve`, a stage, a
    workflow); `step` says whether each attempt is a handler step (with
    `step.*` events and an error note at `location`). `breaker_state` and
    `limit_state` name the stored state: a named policy's, shared by every
    site, or the site's own. A default idempotency key hashes `qualname`
    (`module.target`) with the arguments.
    """

    __slots__ = (
        "target",
        "location",
        "step",
        "idempotent",
        "fallback",
        "retry",
        "breaker",
        "limit",
        "bulkhead",
        "timeout",
        "breaker_state",
        "limit_state",
        "_idem_prefix",
        "_fresh",
        "run",
    )

    def __init__(
        self,
        target: str,
        location: str,
        *,
        step: bool = True,
        idempotent: Idempotent | None = None,
        fallback: Fallback | None = None,
        retry: Retry | tuple[Retry, ...] | None = None,
        breaker: Breaker | None = None,
        limit: Limit | None = None,
        bulkhead: Bulkhead | None = None,
        timeout: Timeout | float | None = None,
        qualname: str = "",
        breaker_state: str = "",
        limit_state: str = "",
    ) -> None:
        self.target = target
        self.location = location
        self.step = step
        self.idempotent = idempotent
        self.fallback = fallback
        # Several retries on one site govern disjoint errors (the checker made sure).
        self.retry = (retry,) if isinstance(retry, Retry) else retry
        self.breaker = breaker
        self.limit = limit
        self.bulkhead = bulkhead  # `limit(concurrent: N)`: its state is `limit_state`'s
        # Seconds: the hot path reads a number (a bare number is accepted too).
        self.timeout = timeout.seconds if isinstance(timeout, Timeout) else timeout
        self.breaker_state = "breaker:" + (breaker_state or location)
        self.limit_state = "limit:" + (limit_state or location)
        # A breaker that never failed admits with nothing to write after a success; not
        # a failure-rate breaker, whose window counts successes too.
        quiet = None if breaker is None or breaker.failure_rate is None else _UNKNOWN
        self._fresh: _Admission = (self.breaker_state, CLOSED, 0, quiet)
        self._idem_prefix = f"idempotent:{qualname or target}:"
        # `run` is the outermost layer this site has: one coroutine less per call.
        self.run = (
            self._run
            if idempotent is not None or fallback is not None
            else self._retried
            if retry is not None
            else self._attempt
        )

    async def _run(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        key: Any = None,
        breaker_key: Any = None,
        limit_key: Any = None,
        fallback: Any = None,
    ) -> Any:
        """`run`: call `fn(*args, **kwargs)` under every policy of this site.

        `key` is an explicit idempotency key, `breaker_key` and `limit_key` the
        values of keyed breakers and limiters, `fallback` the fallback callable
        (or a function giving the fallback value): all evaluated at the call site.
        Sites without idempotency or a fallback start further in (`__init__`).
        """
        if kwargs is None:
            kwargs = _NO_KEYWORDS
        if self.idempotent is not None:
            return await self._once(rt, fn, args, kwargs, key, breaker_key, limit_key, fallback)
        return await self._or_fallback(rt, fn, args, kwargs, breaker_key, limit_key, fallback)

    # ---- idempotent ------------------------------------------------------
    async def _once(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict,
        key: Any,
        breaker_key: Any,
        limit_key: Any,
        fallback: Any,
    ) -> Any:
        if rt.journal is not None:
            return await self._journaled_once(rt, fn, args, kwargs, key, breaker_key, limit_key, fallback)
        store_key = self._store_key(key, args, kwargs)
        claim = await self._claim(rt, store_key, None)
        if isinstance(claim, tuple):
            return claim[0]
        return await self._run_once(rt, fn, args, kwargs, store_key, claim, breaker_key, limit_key, fallback)

    async def _claim(self, rt: Runtime, store_key: str, owner: str | None) -> tuple[Any] | int:
        """The key's result, as a 1-tuple, when it is stored or comes from the call in
        flight; else the version of this call's claim (`owner`'s) on the key."""
        assert self.idempotent is not None
        while True:
            record = await rt.store.get(store_key, rt.policy_now())
            if record is None:
                ttl_end = rt.policy_now() + self.idempotent.ttl
                version = await rt.store.put(store_key, (PENDING, owner), 0, ttl_end)
                if version:
                    return version
                continue
            (state, value), version = record
            if state == DONE:
                self._hit(rt, store_key)
                return (value,)
            if owner is not None and value == owner and store_key not in rt.in_flight:
                return version
            outcome = await self._await_other(rt, store_key)
            if outcome is not None:
                return outcome

    def _store_key(self, key: Any, args: tuple[Any, ...], kwargs: dict) -> str:
        assert self.idempotent is not None
        if self.idempotent.explicit:
            return "idempotent:" + str(key)
        return self._idem_prefix + _digest(args, kwargs)

    async def _journaled_once(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict,
        key: Any,
        breaker_key: Any,
        limit_key: Any,
        fallback: Any,
    ) -> Any:
        """An idempotent call in a durable run. Whether it ran or found the key's result
        is journaled, so a replay repeats that decision instead of asking the store
        again (which the first run has since changed): a call that ran runs again,
        and the journal replays its steps, timeouts and fallback. A step's own outcome
        is not enough to go by: a step its timeout cut has none, yet its fallback's
        value went to the store."""
        journal = rt.journal
        identity = journal.identity("idempotent", self.location)
        entry = journal.recorded(identity)
        if entry is not None:
            if entry["hit"]:
                self._hit(rt, self._store_key(key, args, kwargs))
                return entry["value"]
            return await self._or_fallback(rt, fn, args, kwargs, breaker_key, limit_key, fallback)
        if self.step and journal.replays(self.location):
            # journaled by a version before step sites had `idempotent` entries
            return await self._or_fallback(rt, fn, args, kwargs, breaker_key, limit_key, fallback)
        # A step holds the key under its step key: when the process died with the call in
        # flight, the resumed run finds its own claim and takes it over.
        owner = journal.next_step_key(self.location) if self.step else f"{journal.run_id}:{identity}"
        store_key = self._store_key(key, args, kwargs)
        claim = await self._claim(rt, store_key, owner)
        if isinstance(claim, tuple):
            journal.write_later(identity, {"hit": True, "value": claim[0]})
            return claim[0]
        value = await self._run_once(rt, fn, args, kwargs, store_key, claim, breaker_key, limit_key, fallback)
        journal.write_later(identity, {"hit": False, "value": None})
        return value

    async def _await_other(self, rt: Runtime, store_key: str) -> tuple[Any] | None:
        """Wait for the run of `store_key` in flight; its result, or None to look again."""
        future = rt.in_flight.get(store_key)
        if future is None:  # run by another process sharing the store: poll
            await _live(rt.clock).sleep(min(_POLL, self.idempotent.ttl))  # type: ignore[union-attr]
            return None
        ok, value = await asyncio.shield(future)
        if ok is None:
            return None  # that run was cancelled: try to run it here
        if not ok:
            raise value  # the call this one waited for failed: so does this one
        self._hit(rt, store_key)
        return (value,)

    async def _run_once(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict,
        store_key: str,
        version: int,
        breaker_key: Any,
        limit_key: Any,
        fallback: Any,
    ) -> Any:
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        rt.in_flight[store_key] = future
        outcome: tuple[bool | None, Any] = (None, None)
        try:
            if self.fallback is not None:
                result = await self._or_fallback(rt, fn, args, kwargs, breaker_key, limit_key, fallback)
            else:
                result = await self._retried(
                    rt, fn, args, kwargs, breaker_key=breaker_key, limit_key=limit_key
                )
            outcome = (True, result)
        except Exception as exc:
            outcome = (False, exc)
            raise
        finally:
            del rt.in_flight[store_key]
            try:
                outcome = await self._settle(rt, store_key, version, outcome)
            finally:
                future.set_result(outcome)
        if not outcome[0]:
            raise outcome[1]
        return outcome[1]

    async def _settle(
        self, rt: Runtime, store_key: str, version: int, outcome: tuple[bool | None, Any]
    ) -> tuple[bool | None, Any]:
        """Store a success for later callers; a failure, or a cancellation, stores
        nothing, so a later call runs again. A result the store cannot hold fails
        the call (with an error naming the step), never silently."""
        if outcome[0]:
            ttl_end = rt.policy_now() + self.idempotent.ttl  # type: ignore[union-attr]
            try:
                await rt.store.put(store_key, (DONE, outcome[1]), version, ttl_end)
                # What the later callers will read from the store, the first one gets too.
                return (True, as_stored(outcome[1])) if getattr(rt.store, "encodes", False) else outcome
            except NotStorable as exc:
                error = WorkflowError(
                    f"the result of idempotent step {self.target}, "
                    f"{described(outcome[1])}, cannot be stored: {exc}"
                )
                error.__cause__ = exc
                outcome = (False, error)
        await rt.store.delete(store_key, version)
        return outcome

    def _hit(self, rt: Runtime, store_key: str) -> None:
        if rt.observers:
            rt.event("idempotent.hit", self.target, {"key": store_key})

    # ---- fallback --------------------------------------------------------
    async def _or_fallback(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict,
        breaker_key: Any,
        limit_key: Any,
        fallback: Any,
    ) -> Any:
        try:
            return await self._retried(rt, fn, args, kwargs, breaker_key=breaker_key, limit_key=limit_key)
        except Exception as exc:
            if self.fallback is None:  # an idempotent site's replay comes here too
                raise
            only = self.fallback.on
            if only is not None and not isinstance(exc, only):
                raise
            if rt.observers:
                rt.event("fallback", self.target, error_fields(exc))
            calls, handler = self.fallback.calls, self.fallback.step
        # A value fallback comes as a thunk, so it is computed only when needed.
        if handler is not None:
            return await step(rt, handler, self.location, lambda: fallback, *args, **kwargs)
        result = fallback(*args, **kwargs) if calls else fallback()
        return await result if isawaitable(result) else result

    # ---- retry -----------------------------------------------------------
    async def _retried(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        breaker_key: Any = None,
        limit_key: Any = None,
        **_: Any,
    ) -> Any:
        retries = self.retry
        if retries is None:
            return await self._attempt(rt, fn, args, kwargs, breaker_key=breaker_key, limit_key=limit_key)
        attempt = 1
        tally = [0] * len(retries) if len(retries) > 1 else None
        started = rt.clock.now() if any(policy.max_time is not None for policy in retries) else None
        while True:
            try:
                if attempt == 1:
                    return await self._attempt(
                        rt, fn, args, kwargs, breaker_key=breaker_key, limit_key=limit_key
                    )
                token = ATTEMPT.set(attempt)  # what `attempt()` says inside this one
                try:
                    return await self._attempt(
                        rt, fn, args, kwargs, breaker_key=breaker_key, limit_key=limit_key
                    )
                finally:
                    ATTEMPT.reset(token)
            except Exception as exc:
                delay = self.retry_delay(rt, exc, attempt, tally, started)
                if delay is None:
                    raise
            if delay > 0:
                await rt.clock.sleep(delay)
            attempt += 1

    def retry_delay(
        self,
        rt: Runtime,
        exc: BaseException,
        attempt: int,
        tally: list[int] | None = None,
        started: float | None = None,
    ) -> float | None:
        """After attempt number `attempt` failed with `exc`: the seconds to wait
        before the next (announced with a `retry` event), or None to give up.

        With several retry policies, the one whose `on` matches `exc` decides, by
        its own count of failures (`tally`, one count per policy, kept by the
        caller); with `max_time`, `started` is when the first attempt began.
        Compiled code that inlines the retry loop of a step (one policy, no
        `max_time`) calls this too.
        """
        retries = self.retry
        assert retries is not None
        if tally is None:
            policy, count = retries[0], attempt
        else:
            index = next((i for i, policy in enumerate(retries) if policy.retries(exc)), None)
            if index is None:
                return None
            tally[index] += 1
            policy, count = retries[index], tally[index]
        elapsed = 0.0 if started is None else rt.clock.now() - started
        delay = policy.delay_after(count, exc, rt.random, elapsed)
        if delay is not None and rt.observers:
            rt.event("retry", self.target, {"attempt": attempt, "delay": delay})
        return delay

    # ---- one attempt: breaker, limit, timeout, the call ------------------
    async def _attempt(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: dict[str, Any] | None = None,
        *,
        breaker_key: Any = None,
        limit_key: Any = None,
        counted: bool = False,
        **_: Any,
    ) -> Any:
        """One attempt: admission by the breaker, a permit from the limiter, the call
        (within the timeout), and the outcome recorded for the breaker. The store's
        synchronous operations, where it has them, keep awaits off this hot path.

        Its complexity (radon: above 15) is the price of one coroutine per attempt:
        each part is a helper, but the awaits that join them must stay in this frame,
        as an async helper per part would add a coroutine to every guarded call."""
        if kwargs is None:
            kwargs = _NO_KEYWORDS
        journal = rt.journal
        if journal is not None and (counted_once := self._counted_in(journal, counted)) is not None:
            if counted_once:
                return await self._counted_once(rt, fn, args, kwargs, breaker_key, limit_key)
            return await self._replayed(rt, fn, args, kwargs)
        admission = None
        if self.breaker is not None or self.limit is not None:  # no call for a timeout-only attempt
            admission = self.enter(rt, breaker_key, limit_key)
            if admission.__class__ is CoroutineType:
                admission = await admission
        try:
            if self.bulkhead is not None:
                result = await self._in_slot(rt, fn, args, kwargs, limit_key)
            elif self.timeout is not None:
                result = await self._invoke_within(rt, fn, args, kwargs, self.timeout)
            else:  # `runtime.step` (for a step), written out: this is the hot path
                result = self._call(rt, fn, args, kwargs)
                if result.__class__ is CoroutineType or isawaitable(result):
                    try:
                        result = await result
                    except BaseException as exc:
                        raise self._failed(rt, exc)
                if rt.observers:
                    self._ended(rt)
        except BaseException as exc:
            if admission is not None and (pending := self.outcome(rt, admission, exc)) is not None:
                await pending
            raise
        if admission is not None and (pending := self.outcome(rt, admission, None, breaker_key)) is not None:
            await pending
        return result

    # ---- admission and outcome: also called by compiled code, in place ----
    def enter(self, rt: Runtime, breaker_key: Any = None, limit_key: Any = None) -> Any:
        """Before an attempt: the breaker's admission (None without a breaker), then
        the limiter's permit. It raises `CircuitOpen` or `RateLimited` on refusal.

        Synchronous where the store answers without awaiting and no permit must be
        waited for; otherwise a coroutine giving the admission, to be awaited. A
        step the journal of a durable run replays is admitted without either (the
        call it stands for was admitted once already). Compiled code calls this in
        place for a step whose only policies are `breaker` and `limit`."""
        journal = rt.journal
        if (
            journal is not None
            and self.step
            and (journal.replays(self.location) or (self.timeout is not None and journal.cuts_next_timeout()))
        ):
            return None
        admission = None
        if self.breaker is not None:
            admission = self._admit_now(rt, breaker_key)
            if admission is None:
                return self._enter(rt, None, None, breaker_key, limit_key)
        if self.limit is not None:
            update_now = rt.update_now
            if update_now is None:
                return self._enter(rt, admission, None, breaker_key, limit_key)
            if limit_key is None:  # the common case, without `_limit_state`'s call
                permit = update_now(self.limit_state, rt.policy_now(), self.limit.acquire)
            else:
                state, idle_at = self._limit_state(limit_key)
                permit = update_now(state, rt.policy_now(), self.limit.acquire, idle_at=idle_at)
            if permit is not _GRANTED and (permit[1] > 0 or not permit[0]):
                return self._enter(rt, admission, permit, breaker_key, limit_key)
        return admission

    async def _enter(
        self,
        rt: Runtime,
        admission: _Admission | None,
        permit: tuple[bool, float] | None,
        breaker_key: Any,
        limit_key: Any,
    ) -> _Admission | None:
        """`enter`, where something must be awaited: the store, or a permit's wait."""
        if admission is None and self.breaker is not None:
            admission = await self._admit(rt, breaker_key)
        if self.limit is not None:
            # No permit yet means the store has no synchronous update (`enter`).
            granted, wait = permit or await self._permit(rt, limit_key)
            if wait > 0 or not granted:
                await self._wait_or_refuse(rt, self.limit, granted, wait)
        return admission

    def outcome(
        self, rt: Runtime, admission: _Admission | None, exc: BaseException | None, breaker_key: Any = None
    ) -> Any:
        """After an admitted attempt: count its success (`exc` None) or its failure for
        the breaker. None when done; a coroutine to await when the store must be.
        A success that leaves a quiet breaker's record as it was is not written."""
        if admission is None:
            return None
        if exc is None:
            # A quiet breaker's record still the one peeked at: nothing to write. A
            # known record (not _UNKNOWN) was peeked at, so the store has `peek`.
            record = admission[3]
            if record is not _UNKNOWN and rt.peek(admission[0]) is record:  # type: ignore[misc]
                return None
            failed: bool | None = False
        else:
            failed = self._counts(exc)
        return self._record(rt, admission, failed, breaker_key)

    def _counted_in(self, journal: Any, counted: bool) -> bool | None:
        """How a durable run's journal takes this attempt: True, as a guarded workflow's
        or stage's counted attempt; False, as a step it replays; None, not at all."""
        if not self.step and not counted and (self.breaker is not None or self.limit is not None):
            return True
        if self.step and journal.replays(self.location):
            return False
        return None

    def _call(self, rt: Runtime, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
        """Start the call (a step's `step.start` first); its result may be awaitable."""
        if self.step and rt.observers:
            rt.event("step.start", self.target)
        try:
            if rt.journal is None or not self.step:
                return fn(*args, **kwargs)
            return rt.journal.step(self.target, self.location, fn, *args, **kwargs)
        except BaseException as exc:
            raise self._failed(rt, exc)

    def _ended(self, rt: Runtime) -> None:
        if self.step:
            rt.event("step.end", self.target)

    def _failed(self, rt: Runtime, exc: BaseException) -> BaseException:
        """What a failed call raises: for a step, the error with its note."""
        return rt.step_failed(exc, self.target, self.location) if self.step else exc

    def _counts(self, exc: BaseException) -> bool | None:
        """Whether a failure counts for the breaker; None for a cancellation."""
        return self.breaker.counts(exc) if isinstance(exc, Exception) else None  # type: ignore[union-attr]

    async def _replayed(
        self, rt: Runtime, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict
    ) -> Any:
        """A journaled attempt: it takes no permit and counts for no breaker a second
        time (the call it stands for was admitted once already). Its timeout is entered
        all the same, as the journal counts timeouts, and its events are sent again:
        observers of a resumed run see the whole run."""
        return await self._invoke(rt, fn, args, kwargs)

    def _admit_now(self, rt: Runtime, breaker_key: Any) -> _Admission | None:
        """The breaker's admission, when the store answers without awaiting (else None).
        Closed with no failures, admitting (and recording a success) changes nothing,
        which an in-process store lets be seen without calling them."""
        peek = rt.peek
        if breaker_key is None:
            key = self.breaker_state
            if peek is not None:
                record = peek(key)
                if record is None:  # never failed: the usual case, with a tuple made once
                    return self._fresh
        else:
            key = f"{self.breaker_state}:{breaker_key}"
            record = peek(key) if peek is not None else _UNKNOWN
            if record is None:
                return key, CLOSED, 0, self._fresh[3]
        if peek is not None and record[0][0] == CLOSED and record[0][1] == 0 and self._fresh[3] is None:
            return key, CLOSED, record[0][5], record
        update_now = rt.update_now
        if update_now is None:
            return None
        return self._admitted(rt, key, update_now(key, rt.policy_now(), self.breaker.admit))  # type: ignore[union-attr]

    async def _admit(self, rt: Runtime, breaker_key: Any) -> _Admission:
        key = self.breaker_state if breaker_key is None else f"{self.breaker_state}:{breaker_key}"
        return self._admitted(rt, key, await update(rt.store, key, rt.policy_now(), self.breaker.admit))  # type: ignore[union-attr]

    def _admitted(self, rt: Runtime, key: str, decision: tuple[int, int, str | None]) -> _Admission:
        admitted, epoch, event = decision
        if event is not None:
            self._breaker_event(rt, event, key)
        if admitted == OPEN:
            if rt.observers:
                rt.event("breaker.reject", self.target, {"breaker": key})
            raise CircuitOpen(f"circuit breaker of {self.target} is open")
        return key, admitted, epoch, _UNKNOWN

    async def _permit(self, rt: Runtime, limit_key: Any) -> tuple[bool, float]:
        state, idle_at = self._limit_state(limit_key)
        return await update(rt.store, state, rt.policy_now(), self.limit.acquire, idle_at=idle_at)  # type: ignore[union-attr]

    def _limit_state(self, limit_key: Any) -> tuple[str, Callable[[Any], float | None] | None]:
        """The limiter's stored name; a keyed one may expire once idle (one per user
        must not stay forever)."""
        if limit_key is None:
            return self.limit_state, None
        return f"{self.limit_state}:{limit_key}", self.limit.idle_at  # type: ignore[union-attr]

    async def _counted_once(
        self,
        rt: Runtime,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict | None,
        breaker_key: Any,
        limit_key: Any,
    ) -> Any:
        """An attempt of a guarded workflow or stage in a durable run. Its end is
        journaled, so a replay that meets an attempt the first run finished (and so
        admitted and counted) runs its body again, whose steps the journal replays,
        without taking a permit or counting for the breaker a second time. The
        attempt in flight at a crash is admitted and counted again, as its step is."""
        journal = rt.journal
        identity = journal.identity("attempt", self.location)
        entry = journal.recorded(identity)
        if entry is not None:
            if "refused" in entry:  # the breaker or the limiter refused it: no body ran
                raise rebuilt_error(entry["refused"])
            return await self._invoke(rt, fn, args, kwargs or _NO_KEYWORDS)
        body = _Watched(fn)
        try:
            result = await self._attempt(
                rt, body, args, kwargs, breaker_key=breaker_key, limit_key=limit_key, counted=True
            )
        except Exception as exc:
            journal.write_later(identity, {"ok": False} if body.called else {"refused": error_entry(exc)})
            raise
        journal.write_later(identity, {"ok": True})
        return result

    def _record(self, rt: Runtime, admission: _Admission, failed: bool | None, breaker_key: Any) -> Any:
        """Count an attempt's outcome for the breaker: a success (`failed` False), a
        failure, or a cancellation (None). None when done; else a coroutine."""
        breaker = self.breaker
        assert breaker is not None
        key, admitted, epoch, _ = admission
        windowed = breaker.failure_rate is not None
        idle_at = breaker.idle_at if breaker_key is not None and (failed is False or windowed) else None
        update_now = rt.update_now
        if update_now is None:
            return self._record_later(
                rt,
                key,
                update(
                    rt.store, key, rt.policy_now(), breaker.record, admitted, epoch, failed, idle_at=idle_at
                ),
            )
        event = update_now(key, rt.policy_now(), breaker.record, admitted, epoch, failed, idle_at=idle_at)
        if event is not None:
            self._breaker_event(rt, event, key)
        return None

    async def _record_later(self, rt: Runtime, key: str, updating: Any) -> None:
        event = await updating
        if event is not None:
            self._breaker_event(rt, event, key)

    def _breaker_event(self, rt: Runtime, event: str, key: str) -> None:
        if rt.observers:
            rt.event(event, self.target, {"breaker": key})

    async def _wait_or_refuse(self, rt: Runtime, limit: Limit, granted: bool, wait: float) -> None:
        if not granted:
            if rt.observers:
                rt.event("limit.reject", self.target, {"delay": wait})
            raise RateLimited(_refusal(self.target, limit, wait))
        if rt.observers:
            rt.event("limit.wait", self.target, {"delay": wait})
        await _live(rt.clock).sleep(wait)

    async def _in_slot(
        self, rt: Runtime, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict, limit_key: Any
    ) -> Any:
        """The call (within the timeout), holding one of the bulkhead's slots. A call
        made while this task already holds a slot of the same bulkhead (a workflow
        and a step inside it sharing a named policy) uses that one: it would wait
        for itself."""
        key = self.limit_state if limit_key is None else f"{self.limit_state}:{limit_key}"
        held = HOLDING.get()
        if key in held:
            return await self._invoke(rt, fn, args, kwargs)
        token = await hold_slot(rt, self.bulkhead, key, self.target, self.location)  # type: ignore[arg-type]
        holding = HOLDING.set(held | {key})
        try:
            return await self._invoke(rt, fn, args, kwargs)
        finally:
            HOLDING.reset(holding)
            await free_slot(rt, key, token)

    async def _invoke(self, rt: Runtime, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict) -> Any:
        """The call within the timeout, as a step or not: no breaker, no limiter."""
        if self.timeout is not None:
            return await self._invoke_within(rt, fn, args, kwargs, self.timeout)
        if self.step:
            return await step(rt, self.target, self.location, lambda: fn, *args, **kwargs)
        result = fn(*args, **kwargs)
        return await result if isawaitable(result) else result

    async def _invoke_within(
        self, rt: Runtime, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict, seconds: float
    ) -> Any:
        deadline = rt.timeout(seconds)
        try:
            async with deadline:
                if self.step:
                    return await step(rt, self.target, self.location, lambda: fn, *args, **kwargs)
                result = fn(*args, **kwargs)
                return await result if isawaitable(result) else result
        except TimeoutError:
            if deadline.fired and rt.observers:
                rt.event("timeout", self.target, {"seconds": seconds})
            raise


_Admission = tuple[str, int, int, Any]
"""A breaker's admission: its stored name, the state and epoch it admitted in, and
the record peeked at when it was quiet (else _UNKNOWN)."""


class _Watched:
    """`fn`, noting whether it was called: a journaled refusal of a guarded workflow
    or stage is an attempt whose body never ran."""

    __slots__ = ("_fn", "called")

    def __init__(self, fn: Callable[..., Any]) -> None:
        self._fn = fn
        self.called = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.called = True
        return self._fn(*args, **kwargs)


def _live(clock: Any) -> Any:
    """The clock to wait on for a decision the store makes again after a restart (a
    permit, a key held elsewhere): in a durable run such waits are not journaled."""
    return getattr(clock, "live", clock)


def _refusal(target: str, limit: Limit, wait: float) -> str:
    if not limit.wait or limit.max_wait is None:
        return f"rate limit of {target} reached"
    return (
        f"rate limit of {target} reached: a permit is {format_seconds(round(wait, 3))} away, "
        f"more than max_wait {format_seconds(limit.max_wait)}"
    )


def _digest(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A stable hash of a call's arguments (JSON where possible, else `repr`)."""
    import hashlib  # only default idempotency keys need these: keep them off import time
    import json

    text = json.dumps([list(args), kwargs], sort_keys=True, default=repr, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
