"""A crashed and recovered durable run ends as the same run without the crash.

Random programs (the differential generator's: loops, stages, parallel blocks
and maps, try/catch, routers, sagas, machines, policies) run as durable runs
on a virtual clock. The crash comes at a random handler call, before the call:
the event loop stops dead (SystemExit out of the loop, which is then closed
without running anything more), as a SIGKILL would leave it. A new runtime on
the same store resumes the run: in memory, or, for half the examples, on a
SQLite file opened anew (values then go through JSON, and the new runtime
takes the run over from the dead one's worker). Its value or error, its handler calls once
calls with the same step key are counted once, and the events its observers see
(the replay tells the whole run again) equal the uncrashed run's.
Handlers fail as a function of their argument, so both runs meet the same
failures whatever order concurrent calls come in.
Machines here have no `after` timers and no `invoke`: those run as tasks of the
process holding the machine, beside the run and unjournaled (docs/language.md,
"Statecharts"), so a recovered run rightly differs from an uncrashed one there.
"""

from __future__ import annotations

import pytest

import asyncio
from collections import Counter
import os
import sys
import tempfile
import types
import zlib
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, assume, given, note, settings, strategies as st

from wfc.api import load_source
from wfc.runtime import MemoryStore, Runtime, SqliteStore, VirtualClock, current, step_key

from .programs import HANDLERS, Refused, Script, programs, raised

EXAMPLES = max(10, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 3)
MODULE = "wfprop_handlers"


class Crash(SystemExit):
    """Stands for SIGKILL: it is not an Exception, so nothing journals or compensates it."""


# What makes a program's outcome depend on when its calls finish, not only on what they
# return: deadlines, races, and policies whose state changes with time.
TIME_BOUNDED = ("timeout", "max_time", "select {", "parallel first", "parallel quorum",
                "breaker(", "limit(")


class World:
    def __init__(self, scripts: dict[str, Script], crash_at: int | None,
                 time_bounded: bool = False) -> None:
        self.scripts = scripts
        self.crash_at = crash_at
        # A crash loses the calls in flight with it, and the recovered run makes them again
        # later than the uncrashed run did (steps are at-least-once): a time-bounded program
        # may then rightly end differently, so its crash waits for a call that starts with
        # no other in flight.
        self.time_bounded = time_bounded
        self.calls: list[tuple[str, str, str]] = []  # (handler, argument, step key)
        self.events: list[tuple] = []  # (kind, name, fields) of every event, in order
        self.started = 0
        self.in_flight = 0

    def install(self) -> None:
        module = types.ModuleType(MODULE)
        for name in HANDLERS:
            setattr(module, name, self.handler(name, self.scripts[name]))
        module.Refused = Refused  # type: ignore[attr-defined]
        sys.modules[MODULE] = module

    def handler(self, name: str, script: Script):
        def start() -> None:
            """The crash comes as the call starts (before an async handler's delay, so
            the restarted process, whose clock goes on from the crash, spends no time
            that the uncrashed run did not)."""
            self.started += 1
            if self.crash_at is not None and self.started >= self.crash_at:
                if not (self.time_bounded and self.in_flight):
                    raise Crash()

        def effect(arg: Any) -> Any:
            self.calls.append((name, repr(arg), step_key()))
            if zlib.crc32(f"{name}:{arg!r}".encode()) % 6 + 1 in script.fail_on:
                raise raised(script.error)(f"{name} refused {arg!r}")
            return (arg if isinstance(arg, int) else 0) + script.offset

        if not script.is_async:
            def result(arg: Any) -> Any:
                start()
                return effect(arg)

            return result

        async def run(arg: Any) -> Any:
            start()
            self.in_flight += 1
            try:
                if script.delay:
                    await current().clock.sleep(script.delay)
                return effect(arg)
            finally:
                self.in_flight -= 1

        return run


# The tasks of crashed loops, kept alive so that no garbage collection ever closes their
# coroutines: a killed process runs none of their `finally` blocks, and neither may these.
_DEAD: list[Any] = []


def outcome_of(coroutine: Any) -> tuple:
    """Run `coroutine` on a fresh loop; a Crash stops the loop dead, as a kill would."""
    loop = asyncio.new_event_loop()
    try:
        return ("value", repr(loop.run_until_complete(coroutine)))
    except Crash:
        _DEAD.append((coroutine, asyncio.all_tasks(loop)))
        return ("crashed",)
    except Exception as exc:  # noqa: BLE001 - compared between the runs
        return ("error", type(exc).__name__, str(exc))
    except asyncio.CancelledError:  # an outcome to compare too, so Hypothesis can shrink it
        return ("cancelled",)
    finally:
        loop.close()  # no task runs again


def durable_run(source: str, world: World, store: Any, backend: str, resume: bool,
                clock: VirtualClock) -> tuple:
    module = load_source(source, "replay.wf", backend=backend)
    rt = Runtime(clock=clock, store=store, seed=5)
    rt.observe(lambda event: world.events.append(
        (event.kind, event.name, tuple(sorted((k, repr(v)) for k, v in event.fields.items())))))

    async def run() -> Any:
        handle = await (rt.resume("r-1") if resume else rt.start(module.main, run_id="r-1"))
        return await handle.result()

    return outcome_of(run())


def _limit_trail(events: list[tuple]) -> list[tuple]:
    """Each rate-limit decision (a wait, a refusal), with how many steps had started
    before it: where in the run it fell."""
    trail, started = [], 0
    for kind, name, fields in events:
        if kind == "step.start":
            started += 1
        elif kind in ("limit.wait", "limit.reject"):
            trail.append((kind, name, fields, started))
    return trail


def _waited(events: list[tuple]) -> float:
    """The seconds a run was told to wait for rate-limit permits."""
    return sum(float(dict(fields).get("delay", 0)) for kind, _, fields in events if kind == "limit.wait")


def replayed(events: list[tuple]) -> list[tuple]:
    return sorted(event for event in events if not event[0].startswith(("limit.", "breaker.")))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.filter_too_much])
@given(program=programs(timed_machines=False), crash_at=st.integers(1, 12),
       backend=st.sampled_from(["interp", "compiled"]), on_sqlite=st.booleans())
def test_a_crashed_and_recovered_run_equals_an_uncrashed_one(program, crash_at, backend, on_sqlite) -> None:
    with tempfile.TemporaryDirectory() as folder:
        stores = Stores(Path(folder) if on_sqlite else None)
        try:
            crash_and_recover(program, crash_at, backend, stores)
        finally:
            stores.close()


class Stores:
    """The stores of one example: in memory (one object is the store every "process"
    shares) or SQLite files (each process opens the file anew, as a restarted one would;
    on a shared store, the resumed run also takes the run over from the dead worker)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.opened: dict[str, Any] = {}
        self.every: list[Any] = []

    def open(self, name: str) -> Any:
        if self.folder is None:
            return self.opened.setdefault(name, MemoryStore())
        store = SqliteStore(self.folder / f"{name}.db")
        self.every.append(store)
        return store

    def close(self) -> None:
        for store in self.every:
            store.close()


def crash_and_recover(program: tuple, crash_at: int, backend: str, stores: Stores) -> None:
    source, scripts = program
    note(f"wf program:\n{source}\non SQLite: {stores.folder is not None}")
    plain = World(scripts, None)
    plain.install()
    expected = durable_run(source, plain, stores.open("plain"), backend, resume=False,
                           clock=VirtualClock())
    crashed = World(scripts, crash_at, any(word in source for word in TIME_BOUNDED))
    crashed.install()
    store = stores.open("crashed")
    clock = VirtualClock()
    first = durable_run(source, crashed, store, backend, resume=False, clock=clock)
    if first != ("crashed",):
        assert first == expected  # fewer calls than the crash point: it simply finished
        return
    journaled = {key.split(":", 1)[1] for key in asyncio.run(store.items("wfjournal:")) if "|step|" in key}
    called_before = len(crashed.calls)
    waited_before = _waited(crashed.events)
    crashed.crash_at = None
    crashed.events.clear()  # the recovered process replays the run from its start
    # The restarted process's clock goes on from the crash, as a real one would.
    again = durable_run(source, crashed, stores.open("crashed"), backend, resume=True,
                        clock=VirtualClock(clock.now()))
    note(f"uncrashed: {expected}\nrecovered: {again}")
    # a step journaled before the crash never ran again; only ones in flight then may
    assert not {key for _, _, key in crashed.calls[called_before:]} & journaled
    # (A replay makes no limiter decision for a journaled step: only decisions the
    # recovered run made that the first did not, where it made them, say it met the limiter
    # otherwise.)
    if (Counter(_limit_trail(crashed.events)) - Counter(_limit_trail(plain.events))
            or waited_before + _waited(crashed.events) > _waited(plain.events) + 1e-9):
        # The permit the crashed process took for the call in flight stays taken: the
        # recovered run waits for another, longer in all than the first run waited, or
        # is refused (max_wait) where the first was not (and a retry's backoff then moves
        # the later calls to other windows), or a timeout cuts a wait the first run's fit
        # within: from there the two runs rightly differ (docs/language.md, "Replay and
        # policies").
        return
    assert again == expected
    assert sorted(set(crashed.calls)) == sorted(set(plain.calls))  # the same steps
    # The replay tells observers the whole run again, as it went (concurrent branches may
    # interleave differently: compared as a multiset). Rate limits and breakers are the
    # exception: their state is live and shared, and the crashed process really took the
    # permit or failed the call it counted, so the recovered one may wait where it did not.
    if any(word in source for word in ("select {", "parallel first", "parallel quorum")):
        # A race replays its journaled winners alone: what a loser did before it was cut
        # off (a step started, or finished in the same instant as the winner) is not
        # done again, so its events may be missing from the replay, never added.
        assert not Counter(replayed(crashed.events)) - Counter(replayed(plain.events))
    else:
        assert replayed(crashed.events) == replayed(plain.events)


def journal_of(source: str, scripts: dict[str, Script], backend: str) -> tuple[tuple, dict]:
    """The outcome of an uncrashed durable run and its journal, times left out."""
    world = World(scripts, None)
    world.install()
    store = MemoryStore()
    outcome = durable_run(source, world, store, backend, resume=False, clock=VirtualClock())
    entries = asyncio.run(store.items("wf"))
    for entry in entries.values():
        entry.pop("at", None)
    return outcome, entries


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(timed_machines=False))
def test_both_backends_journal_alike(program) -> None:
    """The compiled code and the interpreter write the same journal, entry for entry:
    either backend can resume a run the other started."""
    source, scripts = program
    note(f"wf program:\n{source}")
    interp = journal_of(source, scripts, "interp")
    compiled = journal_of(source, scripts, "compiled")
    assert interp == compiled
