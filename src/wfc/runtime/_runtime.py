"""The runtime in force: clock, random source, observers and the event bus."""

from __future__ import annotations

import asyncio
import contextvars
import random
import uuid as _uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._clock import Clock, Deadline, RealClock
from ._errors import WorkflowError
from ._events import Event, error_fields
from ._ownership import RunMoved
from ._store import MemoryStore, Store

Observer = Callable[[Event], Any]


class Runtime:
    """Everything a running workflow reads from its environment.

    `Runtime(clock=VirtualClock(), seed=7)` makes runs reproducible: waits,
    backoff and timeouts follow the clock, and jitter, weighted routes and
    `uuid()` draw from the seeded random source. On a store that processes share,
    `lease` is how many seconds the others wait for this runtime's heartbeat before
    they may take over the durable runs it runs (runtime/_ownership.py).
    """

    __slots__ = (
        "clock",
        "random",
        "store",
        "observers",
        "in_flight",
        "policy_now",
        "peek",
        "update_now",
        "journal",
        "runs",
        "lease",
        "worker",
        "slot_waiters",
        "_subscribers",
    )

    def __init__(
        self,
        clock: Clock | None = None,
        seed: int | None = None,
        store: Store | None = None,
        lease: float = 30.0,
    ) -> None:
        if not lease > 0:
            raise ValueError(f"lease must be a positive number of seconds, not {lease!r}")
        self.clock: Clock = clock if clock is not None else RealClock()
        self.random = random.Random(seed)
        self.store: Store = store if store is not None else MemoryStore()
        # What breakers, limiters and idempotency records measure time with: the
        # monotonic clock in one process; with a store shared by processes (one
        # that says `shared = True`), the wall clock, which they all agree on.
        self.policy_now = self.clock.now if getattr(self.store, "shared", False) else self.clock.monotonic
        # The store's synchronous operations, where it has them (an in-process store),
        # else None: looked up once, as breakers and limiters ask on every call.
        self.peek: Callable[[str], Any] | None = getattr(self.store, "peek", None)
        self.update_now: Callable[..., Any] | None = getattr(self.store, "update_now", None)
        self.observers: list[Observer] = []
        # Idempotent calls running in this process, by store key: callers with
        # the same key await the running call instead of duplicating it.
        self.in_flight: dict[str, Any] = {}
        # Callers waiting for a bulkhead's slot here, by its store name: woken when
        # one is freed in this process (runtime/_bulkhead.py).
        self.slot_waiters: dict[str, list[Any]] = {}
        self._subscribers: dict[str, list[Callable[[Any], Any]]] = {}
        # Inside a durable run: its journal (steps consult it); None everywhere else.
        self.journal: Any = None
        self.runs: dict[str, Any] = {}  # durable runs started or resumed here, by id
        # How long another process waits for this one's heartbeat before it may take over
        # its runs (runtime/_ownership.py); the worker is made with the first run.
        self.lease = lease
        self.worker: Any = None

    def for_run(self, clock: Clock, random_source: Any, journal: Any) -> Runtime:
        """The runtime one durable run executes under: this one's store, observers,
        bus and runs, with the run's own (journaled) clock and random source."""
        child = Runtime.__new__(Runtime)  # not __init__: it would make a clock, a source, a store
        child.clock = clock
        child.random = random_source
        child.store = self.store
        child.policy_now = self.policy_now
        child.peek = self.peek
        child.update_now = self.update_now
        child.observers = self.observers
        child.in_flight = self.in_flight
        child.slot_waiters = self.slot_waiters
        child._subscribers = self._subscribers
        child.journal = journal
        child.runs = self.runs
        child.lease = self.lease
        child.worker = self.worker
        return child

    # -- observation -------------------------------------------------------
    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call `observer(event)` for every lifecycle event; returns an undo.

        An observer that raises is removed, with one warning logged (logger
        `wfc.runtime`): watching a run never changes its result.
        """
        self.observers.append(observer)
        return lambda: self._forget(observer)

    def event(self, kind: str, name: str, fields: dict[str, Any] | None = None) -> None:
        """Hand one event to every observer (callers check `observers` first)."""
        record = Event(kind, name, {} if fields is None else fields)
        failed = None
        for observer in self.observers:
            try:
                observer(record)
            except Exception as exc:  # an observer's bug is not the workflow's failure
                failed = [*(failed or ()), (observer, exc)]
        if failed:
            self._drop(failed, record)

    def _drop(self, failed: list[tuple[Observer, Exception]], record: Event) -> None:
        import logging  # only when an observer fails: keep it off import time

        for observer, exc in failed:
            self._forget(observer)
            logging.getLogger("wfc.runtime").warning(
                "observer %r raised %s: %s on a %s event; it was removed and sees no more events",
                observer,
                type(exc).__name__,
                exc,
                record.kind,
            )

    def _forget(self, observer: Observer) -> None:
        if observer in self.observers:
            self.observers.remove(observer)

    def step_failed(self, exc: BaseException, target: str, location: str) -> BaseException:
        """Record that the step `target` at `location` raised `exc`; what to raise.

        A real cancellation of the run (and KeyboardInterrupt, SystemExit,
        GeneratorExit) goes on untouched. Any other BaseException - a handler's
        own `CancelledError`, a `BaseException` subclass - is an error of this
        step, raised as `WorkflowError` from it, so no caller can mistake it for
        a cancellation and drop work silently.
        """
        if not isinstance(exc, Exception):
            if cancels_run(exc):
                return exc
            exc = stray_error(exc, target)
        exc.add_note(f"{location}: in step {target}")
        if self.observers:
            self.event("step.error", target, error_fields(exc))
        return exc

    def failed(self, kind: str, name: str, exc: BaseException) -> None:
        """Emit a `*.error` event for `exc` if anyone is observing."""
        if self.observers:
            self.event(kind, name, error_fields(exc))

    # -- durable runs --------------------------------------------------------
    async def start(
        self, function: Callable[..., Any], *args: Any, run_id: str | None = None, **kwargs: Any
    ) -> Any:
        """Start `function(*args, **kwargs)` (a workflow, router or saga) as a durable
        run journaled in this runtime's store; its `Run`. A `run_id` already in use
        gives the existing run, never a second one."""
        from . import _durable

        return await _durable.start(self, function, args, kwargs, run_id)

    async def resume(self, run_id: str) -> Any:
        """Resume the unfinished run `run_id` by replaying its journal; its `Run`."""
        from . import _durable

        return await _durable.resume(self, run_id)

    async def receive(self, signal: str, timeout: float | None = None) -> Any:
        """`receive SIGNAL [timeout D]`: the value of the next signal of that name sent
        to the durable run; `TimeoutError` when none comes within `timeout` seconds."""
        if self.journal is None:
            raise WorkflowError(
                f"receive {signal}: only a durable run can be sent signals; start "
                f"the workflow with Runtime.start (or wfc run --store)"
            )
        return await self.journal.receive(signal, timeout)

    async def recover(self) -> list[Any]:
        """Resume every unfinished run in the store; their `Run`s."""
        from . import _durable

        return await _durable.recover(self)

    # -- the event bus of `emit` -------------------------------------------
    def subscribe(self, topic: str, handler: Callable[[Any], Any]) -> Callable[[], None]:
        """Call `handler(value)` for every `emit topic(value)`; returns an undo."""
        handlers = self._subscribers.setdefault(topic, [])
        handlers.append(handler)
        return lambda: handlers.remove(handler)

    async def publish(self, topic: str, value: Any) -> None:
        """Deliver `value` to the subscribers of `topic`, in subscription order."""
        if self.observers:
            self.event("emit", topic, {"value": value})
        handlers = self._subscribers.get(topic)
        if handlers and self.journal is not None:
            await self.journal.flush()  # a subscriber is an effect: the journal first
        for handler in list(handlers or ()):
            result = handler(value)
            if hasattr(result, "__await__"):
                await result

    # -- time and randomness -----------------------------------------------
    async def sleep(self, seconds: float) -> None:
        """A `wait` statement (or a `select`'s timer arm): a `wait` event, then the sleep."""
        if self.observers:
            self.event("wait", "", {"seconds": seconds})
        await self.clock.sleep(seconds)

    def timeout(self, seconds: float) -> Deadline:
        """An async context manager that raises `TimeoutError` after `seconds`."""
        return Deadline(self.clock, seconds)

    def uuid(self) -> str:
        """A version-4 UUID drawn from the runtime's random source."""
        return str(_uuid.UUID(int=self.random.getrandbits(128), version=4))

    # -- activation --------------------------------------------------------
    @contextmanager
    def activate(self) -> Iterator[Runtime]:
        """Make this the runtime in force for the current context."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


def cancels_run(exc: BaseException) -> bool:
    """Whether `exc`, raised through wf code, must propagate as it is: a
    cancellation requested for the running task, a process-level exit, or a
    durable run that another worker now runs."""
    if isinstance(exc, asyncio.CancelledError):
        task = asyncio.current_task()
        return task is not None and task.cancelling() > 0
    return isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit, RunMoved))


def stray_error(exc: BaseException, target: str) -> WorkflowError:
    """The error of a step whose handler raised a BaseException that is not a
    cancellation of the run (`exc` becomes its `__cause__`)."""
    name = type(exc).__name__
    if isinstance(exc, asyncio.CancelledError):
        reason = "raised CancelledError, but the run was not cancelled"
    else:
        reason = f"raised {name}, a BaseException that is not an Exception"
    error = WorkflowError(f"handler {target} {reason}" + (f": {exc}" if str(exc) else ""))
    error.__cause__ = exc
    return error


# With nothing activated, a process-wide default applies (real clock, in-memory).
_ACTIVE: contextvars.ContextVar[Runtime] = contextvars.ContextVar("wfc_runtime", default=Runtime())  # noqa: B039 - one shared default runtime, by design

current: Callable[[], Runtime] = _ACTIVE.get
"""The runtime in force: the activated one, else the process-wide default.

It is the context variable's own `get`: generated code calls it once per
workflow call, so it is kept to a single C call.
"""
