"""Durable runs: a journal of each run in the store, and replay to resume after a crash.

A run executes under a runtime of its own (`RunRuntime`) that shares the
parent's store and observers but journals everything that is not a pure
function of the source: each step's outcome, each `now()`, each random draw
(`uuid()`, weighted routes, retry jitter) and each timer's deadline. An entry
is known by its *identity*: the fan-out path of the task it ran in (one index
per `parallel` branch or `parallel for` item), its kind and site, and how
many times that site ran before on that path. Replay (`Runtime.resume`) runs
the declaration again from the start: a step with a journaled outcome returns
it (or raises its error) without calling the handler, a timer sleeps only what
is left of its deadline, values come back as they were; then the run goes on
live. The step in flight at a crash runs again (at-least-once); a journaled
step never does. A saga cut off while unwinding replays its failure and
finishes unwinding.

Store keys, each written once (`Store.append`): `wfrun:ID` the run's start
(declaration, arguments, source hash, wfc version); `wfjournal:ID:IDENTITY` one
journal entry each; `wfjournal:ID:~end` its end (status, result or error). A run with
a start and no end is unfinished.
"""

from __future__ import annotations

import asyncio
import builtins
import contextvars
import functools
import random
import time
import uuid as _uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from inspect import isawaitable
from typing import Any

from ._clock import format_seconds, settle
from ._errors import ERROR_TYPES, SagaFailed, WorkflowError, imported_error_class, without_init
from ._ownership import RunHeld, RunMoved, Worker, holder
from ._runtime import Runtime, cancels_run, stray_error
from ._store import (
    Encoded,
    NotStorable,
    append_all,
    check_keys,
    decode,
    described,
    encode,
    is_scalar,
    update,
)

# The fan-out path as identities write it: "" at the top, "2.0" in branch 0 of item 2.
_PATH: contextvars.ContextVar[str] = contextvars.ContextVar("wfc_path", default="")
_STEP_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("wfc_step_key", default=None)

# Every workflow, router and saga that a loaded module declares, by (source file, name):
# what `recover` runs a journaled run with. Both backends register here when a module loads.
_DECLARATIONS: dict[tuple[str, str], tuple[Callable[..., Any], str]] = {}

RUNNING, COMPLETED, FAILED, COMPENSATED = "running", "completed", "failed", "compensated"


def declare(source: tuple[str, str], *functions: Callable[..., Any]) -> None:
    """Register a module's declarations (`source` is its file name and source hash)."""
    filename, digest = source
    for function in functions:
        function.__wf_source__ = source  # type: ignore[attr-defined]
        _DECLARATIONS[(filename, function.__name__)] = (function, digest)


def step_key() -> str:
    """A key for the step being run, the same every time the run replays it.

    Pass it to a payment or email API as its idempotency key to make the step's
    effect happen once even though the step itself may run again after a crash.
    Only inside a handler called as a step of a durable run.
    """
    key = _STEP_KEY.get()
    if key is None:
        raise LookupError("step_key() is only known inside a handler called by a durable run")
    return key


@contextmanager
def step_keyed(key: str) -> Iterator[None]:
    """Run a handler with `step_key()` answering `key`: for an engine that journals steps
    itself (Temporal: the workflow id and the activity id) and calls handlers."""
    token = _STEP_KEY.set(key)
    try:
        yield
    finally:
        _STEP_KEY.reset(token)


def branch(position: int | str) -> contextvars.Token[str]:
    """Enter fan-out branch `position` (a parallel branch or item) of the current path."""
    path = _PATH.get()
    return _PATH.set(f"{path}.{position}" if path else str(position))


def leave_branch(token: contextvars.Token[str]) -> None:
    _PATH.reset(token)


class Journal:
    """One run's entries: read once when it resumes, written as the run goes."""

    def __init__(self, rt: Runtime, run_id: str, entries: dict[str, Any], seed: int) -> None:
        self._rt = rt
        self.run_id = run_id
        self.seed = seed
        self._entries = entries
        self._counts: dict[tuple[str, str], int] = {}
        self._pending: list[tuple[str, Any]] = []  # entries written before the next effect
        self._encodes = getattr(rt.store, "encodes", False)  # whether it keeps JSON text
        self._received: dict[str, int] = {}  # receives of each signal so far, replayed ones too
        self._waiters: list[asyncio.Future[None]] = []  # receives waiting: a signal here wakes them
        self._polls = 0  # looks at the store since the last wake: the next look waits longer
        self._overdue: list[Overdue] = []  # replayed timeouts whose deadline has passed
        self.check: ReplayCheck | None = None  # while a changed source replays the journal
        self.root: asyncio.Task[Any] | None = None  # the task that runs the declaration
        self.owner: Worker | None = None  # on a shared store: this process, as the run's owner

    def identity(self, kind: str, site: str = "") -> str:
        path = _PATH.get()
        count = self._counts[path, kind + site] = self._counts.get((path, kind + site), 0) + 1
        return f"{path}|{kind}|{site}|{count}"

    def race(self, kind: str, site: str) -> tuple[str, Any, str]:
        """A race or `select` (`kind`) beginning at `site`: its identity, the winners the
        journal holds for it (None before they are known), and its arms' branch prefix,
        `N-` for the N-th race on this path. A replay runs only a race's journaled
        winners, so the losers' steps and timers are not made again; were the arms of
        every race on a path the same branches, a later race's arm would count on from
        fewer entries and take an earlier loser's (its timer's deadline, say)."""
        identity = self.identity(kind, site)
        entry = self.recorded(identity)
        number = self.identity("~arms").rsplit("|", 1)[1]
        return identity, None if entry is None else entry["won"], f"{number}-"

    def _key(self, identity: str) -> str:
        return f"wfjournal:{self.run_id}:{identity}"

    async def write(self, identity: str, entry: dict[str, Any]) -> None:
        """Journal `entry` now (with whatever waits to be written)."""
        self.write_later(identity, entry)
        await self.flush()

    def write_later(self, identity: str, entry: dict[str, Any], user_value: Any = None) -> Any:
        """Journal `entry` before the run's next effect: the next step's handler, timer,
        signal wait or event to a subscriber, or its end (whose commit it shares).
        Nothing outside the run can tell the difference, and a crash before then is a
        crash in the step, which runs again. Raises `NotStorable` here, not later.
        `user_value` is the value in `entry` that came from outside the runtime (a step's
        result), whose map keys must be text; every other part of an entry is the
        runtime's own, or was checked when it was made (`error_entry`) or read from
        the store. Returns what the store will hold: the entry, or its JSON text."""
        entry["at"] = time.time()  # for the timeline of `wfc runs show`
        if not self._encodes:
            stored: Any = entry
        else:
            stored = Encoded(encode(entry, keys_checked=True))
            if not is_scalar(user_value):
                check_keys(user_value)
        self._pending.append((self._key(identity), stored))
        return stored

    async def flush(self, *last: tuple[str, Any]) -> None:
        """Write what waits to be written, and `last` (a run's end), in one commit
        where the store can."""
        pending, self._pending = self._pending, []
        pending.extend(last)
        if len(pending) == 1:
            # Entries of a fan-out (a non-empty path) may share a commit with their siblings'.
            await self._rt.store.append(*pending[0], batched=bool(_PATH.get()))
        elif pending:
            await append_all(self._rt.store, pending)

    def _next(self, kind: str, site: str = "") -> str:
        """The identity the next `kind` at `site` (on this path) will have (`identity`
        gives it, and counts it, when it comes)."""
        path = _PATH.get()
        count = self._counts.get((path, kind + site), 0) + 1
        return f"{path}|{kind}|{site}|{count}"

    def replays(self, site: str) -> bool:
        """Whether the next step at `site` (on this path) has a journaled outcome."""
        return self._key(self._next("step", site)) in self._entries

    def cuts_next_timeout(self) -> bool:
        """Whether the next timeout on this path replays a deadline that cut the first
        run: an attempt under it was admitted, and cut, then; a replay cuts it again
        (`cut_overdue`), so no breaker or limiter may admit it or count it twice."""
        identity = self._next("timeout")
        entry = self._entries.get(self._key(identity))
        if entry is None or self._key(_ended(identity)) in self._entries:
            return False
        return bool(entry["deadline"] <= self._clock().now())

    def next_step_key(self, site: str) -> str:
        """The `step_key()` the next step at `site` (on this path) will have."""
        return f"{self.run_id}:{self._next('step', site)}"

    def recorded(self, identity: str) -> Any:
        entry = self._entries.get(self._key(identity))
        if entry is not None and self.check is not None:
            self.check.replayed(identity)
        return entry

    def live(self) -> None:
        """Before doing what the journal has not recorded (a changed source must have
        replayed all of it on this path first)."""
        if self.check is not None:
            self.check.going_live(_PATH.get())

    async def _before_handler(self) -> None:
        """What must hold, and be written, before a step calls its handler live."""
        if self.check is not None:
            self.live()
        owner = self.owner
        if owner is not None and (owner.lost or time.monotonic() >= owner.valid_until):
            await owner.confirm(self.run_id)  # raises RunMoved if another worker has the run now
        if self._overdue:
            await self.cut_overdue(self._clock().now())
        if self._pending:
            await self.flush()

    async def step(
        self, target: str, site: str, function: Callable[..., Any], *args: Any, **kwargs: Any
    ) -> Any:
        """Call `function` as the step at `site`, or replay its journaled outcome."""
        identity = self.identity("step", site)
        entry = self._entries.get(self._key(identity))
        if entry is not None:
            if self.check is not None:  # the handler first: replaying the last entry ends the check
                self.check.same_step(identity, entry.get("step"), target)
                self.check.replayed(identity)
            if entry["ok"]:
                return entry["value"]
            raise rebuilt_error(entry["error"])
        await self._before_handler()
        token = _STEP_KEY.set(f"{self.run_id}:{identity}")
        try:
            result = function(*args, **kwargs)
            if isawaitable(result):
                result = await result
        except BaseException as exc:
            if isinstance(exc, Exception) or not cancels_run(exc):
                # A stray BaseException is this step's error too (`Runtime.step_failed`
                # raises it as a WorkflowError): journaled as that, so it is not run again.
                error = exc if isinstance(exc, Exception) else stray_error(exc, target)
                self.write_later(identity, {"ok": False, "error": error_entry(error), "step": target})
            raise
        finally:
            _STEP_KEY.reset(token)
        try:
            stored = self.write_later(identity, {"ok": True, "value": result, "step": target}, result)
        except NotStorable as exc:
            raise WorkflowError(
                f"the result of step {target}, {described(result)}, cannot be journaled: {exc}"
            ) from exc
        if self._encodes and not is_scalar(result):
            # What a replay will read (a tuple as a list), not the handler's own object.
            return decode(stored)["value"]
        return result

    async def receive(self, signal: str, timeout: float | None) -> Any:
        """The value of the N-th signal named `signal` sent to the run, for the N-th
        receive of it; its journaled deadline bounds the wait across restarts."""
        identity = self.identity("receive", signal)
        number = self._received[signal] = self._received.get(signal, 0) + 1
        entry = self.recorded(identity)
        if entry is None:
            try:
                entry = await self._awaited_signal(identity, signal, number, timeout)
            except asyncio.CancelledError:  # a `select` arm that lost took no signal
                self._received[signal] -= 1
                raise
        if self._rt.observers:
            self._rt.event("receive", signal, {"timeout": "timeout" in entry})
        if "timeout" in entry:
            raise TimeoutError(f"no signal '{signal}' within {format_seconds(entry['timeout'])}")
        return entry["value"]

    async def _awaited_signal(
        self, identity: str, signal: str, number: int, timeout: float | None
    ) -> dict[str, Any]:
        """Wait (live) for the signal a receive has not journaled yet, and journal it."""
        deadline = None if timeout is None else await self._deadline(signal, timeout)
        if self.check is not None:
            self.live()
        if self._pending:
            await self.flush()  # the wait may be long: what the run did is journaled first
        if self._overdue:
            await self.cut_overdue(self._clock().now())
        while True:
            sent = await self._rt.store.items(f"wfsignal:{self.run_id}:")
            matching = [value for _, value in sorted(sent.items()) if value["name"] == signal]
            if len(matching) >= number:
                entry = {"value": matching[number - 1]["value"]}
            elif deadline is not None and self._clock().now() >= deadline:
                entry = {"timeout": timeout}
            else:
                await self._wait_for_signal(deadline)
                continue
            await self.write(identity, entry)
            return entry

    async def _deadline(self, signal: str, timeout: float) -> float:
        """A receive's deadline, journaled the first time so a restart keeps it."""
        deadline_id = self.identity("deadline", signal)
        recorded = self.recorded(deadline_id)
        if recorded is not None:
            return float(recorded["deadline"])
        deadline = self._clock().now() + timeout
        await self.write(deadline_id, {"deadline": deadline})
        return deadline

    def _clock(self) -> Any:
        clock = self._rt.clock
        return getattr(clock, "live", clock)  # the real clock behind the journaled one

    async def _wait_for_signal(self, deadline: float | None) -> None:
        """Until a signal is sent here, the deadline, or the next look at the store
        (signals from other processes arrive there: looked at every 0.05s to 5s)."""
        clock = self._clock()
        self._polls += 1
        delay = min(5.0, 0.05 * 2 ** min(self._polls, 7))
        if deadline is not None:
            delay = max(0.0, min(delay, deadline - clock.now()))
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        timer = clock.call_later(delay, lambda: settle(waiter))
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiters.remove(waiter)

    def overdue(self, deadline: float, callback: Callable[[], Any]) -> Overdue:
        """A replayed timeout whose deadline has passed: it fires at the first action
        under it that the first run had not done by then (`cut_overdue`)."""
        timer = Overdue(self._overdue, _PATH.get(), deadline, callback)
        self._overdue.append(timer)
        return timer

    async def cut_overdue(self, at: float) -> None:
        """Before an action at time `at` (now, or a replayed timer's deadline): fire each
        overdue timeout around it whose deadline is not after `at`, and let its
        cancellation arrive, so the action is cut where the first run was cut. Steps
        the journal replays are never cut: they finished before any deadline."""
        path = _PATH.get()
        due = [timer for timer in self._overdue if timer.deadline <= at and _within(path, timer.path)]
        for timer in due:
            timer.fire()
        if due:
            # The timeout may be an enclosing task's: its cancellation reaches this
            # task through the fan-out that waits for it, a few loop turns later.
            for _ in range(100):
                await asyncio.sleep(0)

    def wake(self) -> None:
        self._polls = 0
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    def value(self, kind: str, make: Callable[[], Any]) -> Any:
        identity = self.identity(kind)
        entry = self.recorded(identity)
        if entry is not None:
            return entry["value"]
        if self.check is not None:
            self.live()
        value = make()
        self.write_later(identity, {"value": value})
        return value


class ReplayRefused(RuntimeError):
    """A run's journal does not fit the changed source it was resumed under."""


class ReplayCheck:
    """Resuming a run under a source that changed since it started: accepted when the
    new program replays the whole journal, the same step at each journaled identity,
    before it does anything new on any path that still has journaled entries.

    Identities hold `file:line:col` sites, so an edit below the code the run has
    reached (or in a declaration it has not called) passes, and one that moves or
    replaces a journaled step is refused. Until the check ends, every action the
    journal has not recorded on such a path refuses the run instead, so nothing new
    happens: the run stays unfinished in the store, for the source it started under.
    """

    def __init__(self, identities: list[str], refusal: str) -> None:
        self._left = set(identities)
        self._refusal = refusal  # the message's start: the run, both hashes
        self.refused: ReplayRefused | None = None
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not self._left:
            self.done.set_result(None)

    def replayed(self, identity: str) -> None:
        self._left.discard(identity)
        if not self._left and not self.done.done():
            self.done.set_result(None)

    def same_step(self, identity: str, journaled: str | None, target: str) -> None:
        if journaled is not None and journaled != target:
            self.refuse(f"the step at {_site(identity)} calls {target}, where the journal has {journaled}")

    def going_live(self, path: str) -> None:
        if self.refused is not None:
            raise self.refused
        left = sorted(identity for identity in self._left if _within(identity.split("|", 1)[0], path))
        if left:
            self.refuse(f"it does something new where the journal has {_described(left[0])}")

    def finished(self) -> None:
        """The run ended: what the journal holds must all have been replayed."""
        if self.refused is None and self._left:
            self.refuse(f"it ended where the journal has {_described(min(self._left))}")
        if self.refused is not None:
            raise self.refused
        if not self.done.done():
            self.done.set_result(None)

    def refuse(self, reason: str) -> None:
        if self.refused is None:
            self.refused = ReplayRefused(
                f"{self._refusal}: {reason}; it is not resumed (resume it with the source it started under)"
            )
            if not self.done.done():
                self.done.set_exception(self.refused)
        raise self.refused


def _within(path: str, prefix: str) -> bool:
    """Whether the fan-out path `path` is `prefix` or a branch under it."""
    return not prefix or path == prefix or path.startswith(prefix + ".")


def _site(identity: str) -> str:
    return identity.split("|")[2]


def _described(identity: str) -> str:
    """`the step at f.wf:3:5` (and its branch), for refusals."""
    path, kind, site, count = identity.split("|")
    where = f" at {site}" if site else ""
    branch = f" in branch {path}" if path else ""
    return f"the {kind}{where}{branch} (number {count})"


class Overdue:
    """The timer of a replayed timeout that is already due (see `Journal.overdue`)."""

    __slots__ = ("_timers", "path", "deadline", "_callback")

    def __init__(
        self, timers: list[Overdue], path: str, deadline: float, callback: Callable[[], Any]
    ) -> None:
        self._timers = timers
        self.path = path
        self.deadline = deadline
        self._callback = callback

    def fire(self) -> None:
        self.cancel()
        self._callback()

    def cancel(self) -> None:
        if self in self._timers:
            self._timers.remove(self)


class ScopeTimer:
    """A timeout's timer in a run. Its deadline is journaled as it starts; a scope that
    the run itself ends before the deadline (its body returned or failed, or a sibling's
    failure, a race or an outer timeout cancelled it) is journaled as ended, so that a
    replay reaching it after the deadline never cuts what the first run finished.

    A scope left because the whole run is being cancelled from outside is not marked:
    its deadline still bounds what a resumed run does there."""

    __slots__ = ("_journal", "_identity", "_callback", "_timer", "_done")

    PASSED: Any  # the timer of a replayed scope that ended before its deadline

    def __init__(
        self,
        journal: Journal,
        identity: str,
        clock: Any,
        deadline: float,
        left: float,
        callback: Callable[[], Any],
    ) -> None:
        self._journal = journal
        self._identity = identity
        self._callback = callback
        self._done = False
        self._timer = (
            clock.call_later(left, self._fire) if left > 0 else journal.overdue(deadline, self._fire)
        )

    def _fire(self) -> None:
        self._done = True
        self._callback()

    def cancel(self) -> None:
        self._timer.cancel()
        if self._done:
            return
        self._done = True  # journaled once, however often it is cancelled
        root = self._journal.root
        if root is None or not root.cancelling():
            self._journal.write_later(_ended(self._identity), {})


class _Passed:
    __slots__ = ()

    def cancel(self) -> None:
        pass


ScopeTimer.PASSED = _Passed()


def _ended(identity: str) -> str:
    """The identity that marks the timeout scope `identity` ended before its deadline."""
    return identity.replace("|timeout|", "|ended|", 1)


class JournaledClock:
    """The run's clock: `now()` and timers are journaled, the rest is the real clock's."""

    __slots__ = ("_clock", "_journal", "monotonic", "live")

    def __init__(self, clock: Any, journal: Journal) -> None:
        self._clock = clock
        self._journal = journal
        self.monotonic = clock.monotonic
        self.live = clock  # for waits a restart decides again (rate-limit permits)

    # Inside a handler (a step key is set) time is the handler's own business, not
    # the workflow's: a replayed step never calls its handler, so what the handler
    # did must not take identities from the journal.

    def now(self) -> float:
        if _STEP_KEY.get() is not None:
            return self._clock.now()
        return self._journal.value("now", self._clock.now)

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> Any:
        """A timeout's timer (the one user of `call_later` in a run): its deadline is
        journaled, so a replay times out where the first run would have, however
        quickly the journaled steps inside it come back."""
        if _STEP_KEY.get() is not None:
            return self._clock.call_later(seconds, callback)
        journal = self._journal
        identity = journal.identity("timeout")
        entry = journal.recorded(identity)
        if entry is None:
            journal.live()
            deadline = self._clock.now() + seconds
            journal.write_later(identity, {"deadline": deadline})
            return ScopeTimer(journal, identity, self._clock, deadline, seconds, callback)
        if journal.recorded(_ended(identity)) is not None:
            # The first run left the scope before its deadline: whatever cut it short
            # happens again, and the deadline never fires, however late the replay is.
            return ScopeTimer.PASSED
        deadline = entry["deadline"]
        left = deadline - self._clock.now()
        return ScopeTimer(journal, identity, self._clock, deadline, left, callback)

    async def sleep(self, seconds: float) -> None:
        """Sleep until the journaled deadline: after a restart, only what is left."""
        if _STEP_KEY.get() is not None:
            return await self._clock.sleep(seconds)
        journal = self._journal
        identity = journal.identity("timer")
        entry = journal.recorded(identity)
        if entry is None:
            journal.live()
            if journal._overdue:
                await journal.cut_overdue(self._clock.now())
            deadline = self._clock.now() + seconds
            await journal.write(identity, {"deadline": deadline})
        else:
            deadline = entry["deadline"]
            if journal._overdue:  # a timeout due before this timer ended cuts it here
                await journal.cut_overdue(deadline)
        await self._clock.sleep(max(0.0, deadline - self._clock.now()))


class JournaledRandom:
    """The run's random source: each draw is a function of the run's seed (recorded
    with its start) and the draw's identity, so a replay draws the same values
    whether or not the process died before they were used."""

    __slots__ = ("_seed", "_journal", "_live")

    def __init__(self, seed: int, journal: Journal, live: Any) -> None:
        self._seed = seed
        self._journal = journal
        self._live = live  # a handler's draws (see JournaledClock): the parent's source

    def _source(self) -> Any:
        if _STEP_KEY.get() is not None:
            return self._live
        return random.Random(f"{self._seed}:{self._journal.identity('random')}")

    def random(self) -> float:
        return self._source().random()

    def uniform(self, low: float, high: float) -> float:
        return self._source().uniform(low, high)

    def getrandbits(self, bits: int) -> int:
        return self._source().getrandbits(bits)


def error_entry(exc: BaseException) -> dict[str, Any]:
    kind = type(exc)
    entry: dict[str, Any] = {
        "type": kind.__name__,
        "module": kind.__module__,
        "class": kind.__qualname__,
        "message": str(exc),
        "notes": list(getattr(exc, "__notes__", ())),
    }
    try:  # the arguments rebuild it exactly (str(KeyError("k")) is "'k'", not "k")
        encode(list(exc.args))
        entry["args"] = list(exc.args)
    except NotStorable:
        pass
    attributes = _storable_attributes(exc)
    if attributes:
        entry["attributes"] = attributes
    if isinstance(exc, SagaFailed):
        entry["saga"] = {
            "step": exc.step,
            "compensated": exc.compensated,
            "error": None if exc.error is None else error_entry(exc.error),
            "compensation_errors": [[name, error_entry(error)] for name, error in exc.compensation_errors],
            "uncompensated": exc.uncompensated,
        }
    return entry


def _storable_attributes(exc: BaseException) -> dict[str, Any]:
    """The error's own attributes that a store can hold (a declared error's fields, a
    handler error's `status`): a replayed `catch` reads them as the first run did."""
    attributes: dict[str, Any] = {}
    if isinstance(exc, SagaFailed):
        return attributes  # its fields are journaled on their own
    for name, value in getattr(exc, "__dict__", {}).items():
        if name == "__notes__":
            continue  # kept on their own
        try:
            encode(value)
        except NotStorable:
            continue
        attributes[name] = value
    return attributes


def rebuilt_error(entry: dict[str, Any]) -> Exception:
    """The journaled error, as near to the original as can be rebuilt: the same class
    (a builtin, a runtime error, or one of a module this process has imported, such
    as a handler module's or a compiled workflow's) with its arguments and storable
    attributes; else a `WorkflowError` naming it. A replayed step thus raises what
    its `catch`, `retry(on: ...)` and `fallback(on: ...)` matched the first time."""
    saga = entry.get("saga")
    if saga is not None:
        cause = None if saga["error"] is None else rebuilt_error(saga["error"])
        failed = SagaFailed(
            entry["message"],
            step=saga["step"],
            error=cause,
            compensated=saga["compensated"],
            compensation_errors=[(name, rebuilt_error(error)) for name, error in saga["compensation_errors"]],
            uncompensated=saga.get("uncompensated", []),  # older journals lack it
        )
        failed.__cause__ = cause
        return failed
    error = _same_class(entry) or WorkflowError(f"{entry['type']}: {entry['message']}")
    for note in entry["notes"]:
        error.add_note(note)
    return error


def _same_class(entry: dict[str, Any]) -> Exception | None:
    """The journaled error rebuilt in its own class, or None if that class is unknown here."""
    module, name, args = entry["module"], entry["type"], entry.get("args", [entry["message"]])
    ours = module == "builtins" or module.startswith("wfc.")
    kind = _our_class(module, name) if ours else imported_error_class(module, entry.get("class", name))
    if kind is None or kind is SagaFailed:
        return None
    try:  # our constructors take what `args` holds; an application's may not, or may act
        error = kind(*args) if ours else without_init(kind, args)
    except Exception:  # noqa: BLE001 - a constructor that wants more
        return None
    vars(error).update(entry.get("attributes", {}))  # every exception has a __dict__
    return error


def _our_class(module: str, name: str) -> type[Exception] | None:
    """A builtin or runtime error class by name."""
    kind = getattr(builtins, name, None) if module == "builtins" else ERROR_TYPES.get(name)
    return kind if isinstance(kind, type) and issubclass(kind, Exception) else None


def _next_number(count: Any, now: float) -> tuple[int, int]:
    number = (count or 0) + 1
    return number, number


def new_run_id() -> str:
    return str(_uuid.uuid4())


class RunUnfinished(RuntimeError):
    """`Run.result()` of a run with no end that no live process runs: resume it."""


class Run:
    """A handle on one durable run: its id, its status, and its outcome."""

    def __init__(
        self, rt: Runtime, run_id: str, head: dict[str, Any], task: asyncio.Task[Any] | None = None
    ) -> None:
        self._rt = rt
        self.run_id = run_id
        self._head = head
        self._task = task
        self._journal: Journal | None = None  # while it runs in this process

    @property
    def status(self) -> str:
        """`running`, `completed`, `failed` or `compensated`."""
        return self._head["status"]

    async def result(self) -> Any:
        """The run's value, or raise its error; waits while it runs, in this process
        or in another live one that shares the store."""
        if self._task is not None:
            try:
                return await asyncio.shield(self._task)
            except (RunMoved, asyncio.CancelledError):
                worker = self._rt.worker
                if worker is None or self.run_id not in worker.lost:
                    raise
                raise RunHeld(f"run {self.run_id} moved to another worker, which finishes it") from None
        if self.status == RUNNING:
            await self._end_elsewhere()
        if self.status == COMPLETED:
            return self._head["result"]
        raise rebuilt_error(self._head["error"])

    async def _end_elsewhere(self) -> None:
        """Wait for the end of this run, which another process runs: the store is
        looked at every 0.05 s, doubling to 5 s, for as long as a live worker runs it."""
        looks = 0
        shared = getattr(self._rt.store, "shared", False)
        while True:
            head = await _stored_run(self._rt, self.run_id)
            if head is not None and head["status"] != RUNNING:
                self._head = head
                return
            if not shared or await holder(self._rt.store, self.run_id, self._head) is None:
                raise RunUnfinished(
                    f"run {self.run_id} is unfinished and no live process runs it: "
                    "resume it (Runtime.resume, or wfc runs resume)"
                )
            await asyncio.sleep(min(5.0, 0.05 * 2**looks))
            looks = min(looks + 1, 7)

    async def signal(self, name: str, value: Any = None) -> None:
        """Send the run a signal: the next `receive NAME` gets `value` (a JSON value).

        Signals are journaled in arrival order, so a run waiting for days survives
        restarts; a run in another process sees them within five seconds.
        """
        seq = await update(self._rt.store, f"wfsigseq:{self.run_id}", self._rt.policy_now(), _next_number)
        await self._rt.store.append(
            f"wfsignal:{self.run_id}:{seq:012d}", {"name": name, "value": value, "at": time.time()}
        )
        if self._journal is not None:
            self._journal.wake()

    def __repr__(self) -> str:
        return f"<Run {self.run_id} {self.status}>"


def run_runtime(parent: Runtime, journal: Journal) -> Runtime:
    """The runtime a run executes under: the parent's store, observers and bus,
    with the journaled clock and random source."""
    return parent.for_run(
        JournaledClock(parent.clock, journal), JournaledRandom(journal.seed, journal, parent.random), journal
    )


async def start(
    rt: Runtime,
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    run_id: str | None,
) -> Run:
    run_id = run_id or new_run_id()
    known = rt.runs.get(run_id)
    if known is not None:
        return known
    filename, digest = source_of(function)
    worker = worker_of(rt)
    if worker is not None:
        await worker.alive()
    head = {
        "file": filename,
        "declaration": function.__name__,
        "source": digest,
        "wfc": _wfc_version(),
        "args": list(args),
        "kwargs": kwargs,
        "status": RUNNING,
        "seed": rt.random.getrandbits(64),
    }
    if worker is not None:
        head["worker"] = worker.token  # the run's first owner
    try:
        written = await rt.store.append(f"wfrun:{run_id}", head)
    except NotStorable as exc:
        raise TypeError(f"the arguments of a durable run must be JSON values: {exc}") from None
    if not written:  # one run_id is one run: the existing one
        return rt.runs.get(run_id) or Run(rt, run_id, await _stored_run(rt, run_id) or head)
    return launch(rt, run_id, function, head, {})


def end_key(run_id: str) -> str:
    """Where a run's end is kept: after its journal entries (no identity starts with
    `~`), so the last step's entry and the end share one page of a SQLite file."""
    return f"wfjournal:{run_id}:~end"


async def _stored_run(rt: Runtime, run_id: str) -> dict[str, Any] | None:
    """The run's start merged with its end (status, result or error), if stored."""
    found = await rt.store.get(f"wfrun:{run_id}", rt.policy_now())
    if found is None:
        return None
    end = await rt.store.get(end_key(run_id), rt.policy_now())
    return {**found[0], **(end[0] if end else {})}


async def stored_runs(store: Any) -> dict[str, dict[str, Any]]:
    """Every run in `store` by id: its start merged with its end, if it has one."""
    runs = {}
    for key, head in sorted((await store.items("wfrun:")).items()):
        run_id = key.removeprefix("wfrun:")
        end = await store.get(end_key(run_id), 0.0)  # records that never expire
        runs[run_id] = {**head, **(end[0] if end else {})}
    return runs


async def journal_entries(store: Any, run_id: str) -> dict[str, Any]:
    """A run's journal entries by identity (its end left out)."""
    prefix = f"wfjournal:{run_id}:"
    return {
        key.removeprefix(prefix): entry
        for key, entry in (await store.items(prefix)).items()
        if key != end_key(run_id)
    }


async def resume(rt: Runtime, run_id: str) -> Run:
    known = rt.runs.get(run_id)
    if known is not None:
        return known
    head = await _stored_run(rt, run_id)
    if head is None:
        raise LookupError(f"no run {run_id!r} in the store")
    if head["status"] != RUNNING:
        return Run(rt, run_id, head)
    registered = _DECLARATIONS.get((head["file"], head["declaration"]))
    if registered is None:
        raise LookupError(
            f"run {run_id} runs {head['declaration']} of {head['file']}, which no "
            f"loaded module declares: load or import it before resuming"
        )
    function, digest = registered
    worker = worker_of(rt)
    if worker is not None:
        await worker.take(run_id, head)  # raises RunHeld if a live worker elsewhere runs it
    entries = await rt.store.items(f"wfjournal:{run_id}:")  # an unfinished run: no end among them
    if digest == head["source"]:
        return launch(rt, run_id, function, head, entries)
    check = ReplayCheck(
        [key.removeprefix(f"wfjournal:{run_id}:") for key in entries],
        f"run {run_id} started under source {head['source']} of {head['file']}, "
        f"and the loaded source {digest} does not replay its journal",
    )
    run = launch(rt, run_id, function, head, entries, check)
    try:
        await check.done  # the journal replayed: the run goes on under the new source
    except ReplayRefused:
        del rt.runs[run_id]
        assert run._task is not None
        run._task.cancel()  # it can do nothing new: every such action refuses
        run._task.add_done_callback(lambda task: task.cancelled() or task.exception())
        if worker is not None:
            await worker.release(run_id, head)  # a process with the source it started under may take it
        raise
    if run._journal is not None:
        run._journal.check = None
    return run


async def recover(rt: Runtime, held: list[RunHeld] | None = None) -> list[Run]:
    """Resume every unfinished run in the store that no live worker elsewhere runs;
    their handles, in run id order. The refusals of the others go to `held`."""
    resumed = []
    for run_id, run in (await stored_runs(rt.store)).items():
        if run["status"] != RUNNING:
            continue
        try:
            resumed.append(await resume(rt, run_id))
        except RunHeld as refusal:  # a live worker elsewhere runs it
            if held is not None:
                held.append(refusal)
    return resumed


def worker_of(rt: Runtime) -> Worker | None:
    """This runtime as an owner of runs, on a store other processes share; else None."""
    if rt.worker is None and getattr(rt.store, "shared", False):
        rt.worker = Worker(rt.store, rt.runs, rt.lease)
    return rt.worker


def launch(
    rt: Runtime,
    run_id: str,
    function: Callable[..., Any],
    head: dict[str, Any],
    entries: dict[str, Any],
    check: ReplayCheck | None = None,
) -> Run:
    journal = Journal(rt, run_id, entries, head["seed"])
    journal.check = check
    journal.owner = rt.worker
    child = run_runtime(rt, journal)

    async def execute() -> Any:
        journal.root = asyncio.current_task()
        with child.activate():
            try:
                value = await function(*head["args"], **head["kwargs"])
            except Exception as exc:
                if journal.check is not None:
                    journal.check.finished()  # a refused replay ends nothing
                await finish(
                    rt, run, journal, COMPENSATED if isinstance(exc, SagaFailed) else FAILED, error=exc
                )
                raise
            if journal.check is not None:
                journal.check.finished()
            return await finish(rt, run, journal, COMPLETED, value=value)

    run = Run(rt, run_id, dict(head))
    run._journal = journal
    rt.runs[run_id] = run
    run._task = asyncio.get_running_loop().create_task(execute(), context=contextvars.Context())
    if journal.owner is not None:
        journal.owner.keep_renewing()
    return run


async def finish(
    rt: Runtime,
    run: Run,
    journal: Journal,
    status: str,
    value: Any = None,
    error: BaseException | None = None,
) -> Any:
    """Write the run's end, in one commit with the entries not yet written. Returns
    the run's value as the store gives it back (as `Run.result` will in any process
    from now on), or raises the error a value the store cannot hold becomes."""
    if journal.owner is not None:
        await journal.owner.confirm(run.run_id)  # the end is the owner's to write
    end: dict[str, Any] = {"status": status}
    if error is None:
        end["result"] = value
    else:
        end["error"] = error_entry(error)
    unstorable = None
    try:
        stored = Encoded(encode(end)) if journal._encodes else end
    except NotStorable as exc:
        unstorable = WorkflowError(f"the result, {described(value)}, cannot be stored: {exc}")
        end = {"status": FAILED, "error": error_entry(unstorable)}
        stored = Encoded(encode(end)) if journal._encodes else end
    await journal.flush((end_key(run.run_id), stored))
    run._head.update(end)
    # The store answers for a finished run from now on: a long-lived runtime keeps
    # only the runs still going (a handle already given out keeps its outcome).
    if rt.runs.get(run.run_id) is run:
        del rt.runs[run.run_id]
    run._journal = None
    if unstorable is not None:
        raise unstorable
    if isinstance(stored, Encoded) and not is_scalar(value):
        return decode(stored)["result"]
    return value


def source_of(function: Callable[..., Any]) -> tuple[str, str]:
    source = getattr(function, "__wf_source__", None)
    if source is None:
        raise TypeError(f"{function!r} is not a workflow, router or saga of a wf module")
    return source


@functools.cache
def _wfc_version() -> str:
    try:
        from importlib.metadata import version

        return version("wfc-lang")
    except Exception:  # noqa: BLE001 - not installed as a distribution
        return "unknown"
