"""Who runs a durable run: one worker at a time, under a lease it keeps renewing.

Without this, two processes that share a store (two workers that each call
`recover()` when they start) would both run every unfinished run, and call
each handler the journal does not hold twice.

A *worker* is one runtime on a shared store (SQLite, Redis) that runs durable
runs. It keeps a heartbeat record, `wfworker:TOKEN` (host, pid, and `until`,
the wall-clock time its lease ends), renewed every third of the lease while it
runs any. A run's owner is the worker its start names, or the one its latest
`wfowner:RUN:N` record names. Another worker may take a run over only when
its owner is dead: its lease lapsed, or it was a process on this host that no
longer exists (so a process restarted after a crash resumes its runs at once).
Taking over first marks the dead worker's heartbeat with compare-and-set, so a
worker that was only slow (a stopped VM, a handler that held the event loop)
learns it when it next renews; it then claims each of its runs again under a
new token, and the first worker to append a run's next owner record has it.

Before a run calls a handler, its worker checks, without I/O, that it renewed
within the last two thirds of the lease, and renews first if not; a run that
has moved to another worker stops there (`RunMoved`) without calling anything
or writing its end: the worker that has it finishes it.
"""

from __future__ import annotations

import asyncio
import functools
import os
import time
import uuid
import weakref
from typing import Any

from ._store import Store


class RunHeld(RuntimeError):
    """Resuming a run that a live worker elsewhere is running."""


class RunMoved(BaseException):
    """A run this process was running moved to another worker while this one was
    silent past its lease. A BaseException: no `catch` and no saga may act on it,
    since the run's effects now belong to the other worker."""


@functools.cache
def _host() -> str:
    """This host, and the pid namespace on Linux: pids compare only within one."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    name = os.uname().nodename if hasattr(os, "uname") else os.environ.get("COMPUTERNAME", "")
    return f"{name}/{namespace}" if namespace else name


# The workers of this process, by token: of these we know which runs they run.
_WORKERS: weakref.WeakValueDictionary[str, Worker] = weakref.WeakValueDictionary()


@functools.cache
def _has_proc() -> bool:
    return os.path.exists("/proc/self/stat")


def _started(pid: int) -> str | None:
    """When process `pid` started (Linux: clock ticks since boot), "" where that cannot be
    read, None if it has ended (a zombie has ended too: only its exit status is left)."""
    if not _has_proc():
        return ""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except FileNotFoundError:
        return None
    except (OSError, IndexError):
        return ""
    if fields[0] in (b"Z", b"X"):
        return None
    return fields[19].decode() if len(fields) > 19 else ""


def _gone(record: dict[str, Any]) -> bool:
    """Whether the worker of heartbeat `record` is known dead without waiting for its lease:
    a process of this host (and pid namespace) that has ended, or whose pid another
    process (this one, say, restarted in a container) now has."""
    pid = record.get("pid")
    if record.get("host") != _host() or os.name != "posix" or not isinstance(pid, int):
        return False
    if pid == os.getpid():
        return True  # not one of ours (`Worker._dead` asks those first): an earlier process
    started = _started(pid)
    if started is None:
        return True
    if started and record.get("started") and started != record["started"]:
        return True  # the pid was reused
    try:
        os.kill(pid, 0)  # signal 0: asks whether the process exists, sends nothing
    except ProcessLookupError:
        return True
    except OSError:  # it exists, as another user's process
        return False
    return False


def _live(record: dict[str, Any], now: float) -> bool:
    """Whether heartbeat `record` says its worker lives at `now` (wall clock)."""
    return not record.get("dead") and record.get("until", 0) > now and not _gone(record)


async def owner_of(store: Store, run_id: str, head: dict[str, Any]) -> tuple[int, str | None]:
    """The number of the run's latest owner record (0: its start, `head`) and its worker."""
    records = await store.items(f"wfowner:{run_id}:")
    if not records:
        return 0, head.get("worker")
    latest = max(records)
    return int(latest.rsplit(":", 1)[1]), records[latest]["worker"]


async def holder(store: Store, run_id: str, head: dict[str, Any]) -> dict[str, Any] | None:
    """The heartbeat of the live worker that runs unfinished run `run_id`, or None if no
    live worker does (`wfc runs show`)."""
    _, token = await owner_of(store, run_id, head)
    if token is None:
        return None
    found = await store.get(_heartbeat_key(token), time.time())
    ours = _WORKERS.get(token)
    if ours is not None:  # of this process's workers we know which runs they run
        return found[0] if found is not None and ours.running(run_id) else None
    return found[0] if found is not None and _live(found[0], time.time()) else None


def owner_key(run_id: str, number: int) -> str:
    return f"wfowner:{run_id}:{number:06d}"


def _heartbeat_key(token: str) -> str:
    return f"wfworker:{token}"


class Worker:
    """This runtime as the owner of the durable runs it runs."""

    def __init__(self, store: Store, runs: dict[str, Any], lease: float) -> None:
        self._store = store
        self._runs = runs  # the runtime's runs going on here, by id (Run handles)
        self.lease = lease
        self.token = self._new_token()
        self.valid_until = 0.0  # time.monotonic() until which we need not renew
        self._keeper: asyncio.Task[None] | None = None
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        self._renewed_at = -1.0  # time.monotonic() when our last renewal ended
        self.lost: set[str] = set()  # runs that moved elsewhere while we were silent

    def _new_token(self) -> str:
        token = uuid.uuid4().hex
        _WORKERS[token] = self
        return token

    def running(self, run_id: str) -> bool:
        """Whether `run_id` goes on here: its task has not ended, and its loop runs."""
        task = getattr(self._runs.get(run_id), "_task", None)
        return task is not None and not task.done() and task.get_loop().is_running()

    # -- our heartbeat --------------------------------------------------------
    async def alive(self) -> None:
        """Make sure our lease holds: renew it if two thirds of it have passed."""
        if time.monotonic() >= self.valid_until:
            await self.renew()

    def keep_renewing(self) -> None:
        """A run goes on here from now: renew our lease while any does."""
        if self._keeper is None or self._keeper.done():
            self._keeper = asyncio.get_running_loop().create_task(self._keep())

    async def renew(self) -> None:
        """Extend our lease; if another worker declared us dead, become a new
        worker and claim our runs again (those it took are lost)."""
        asked = time.monotonic()
        async with self._renewal():
            if self._renewed_at >= asked:
                return  # another renewal began and ended while this one waited
            if not await self._beat():
                await self._reclaim()

    def _renewal(self) -> asyncio.Lock:
        """One renewal at a time (the keeper's and a step's may meet): a lock of this loop."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    async def _beat(self) -> bool:
        """Write our heartbeat; False if another worker marked it dead."""
        started = time.monotonic()
        key = _heartbeat_key(self.token)
        while True:
            found = await self._store.get(key, time.time())
            if found is not None and found[0].get("dead"):
                return False
            record = {
                "token": self.token,
                "host": _host(),
                "pid": os.getpid(),
                "started": _started(os.getpid()) or "",
                "until": time.time() + self.lease,
            }
            if await self._store.put(key, record, 0 if found is None else found[1]):
                self.valid_until = started + self.lease * 2 / 3
                self._renewed_at = time.monotonic()
                return True

    async def _reclaim(self) -> None:
        previous = self.token
        _WORKERS.pop(previous, None)
        self.token = self._new_token()
        await self._beat()  # a new token: nobody has marked it
        for run_id, run in list(self._runs.items()):
            # Ours again only if nobody took it meanwhile: one who did may have gone on
            # with it, so what this process holds of it is stale even if they died since.
            number, owner = await owner_of(self._store, run_id, run._head)
            if owner != previous or not await self._claim(run_id, number + 1):
                self.lose(run_id, run)

    def lose(self, run_id: str, run: Any) -> None:
        """`run` now belongs to another worker: stop it here, and forget it."""
        self.lost.add(run_id)
        if self._runs.get(run_id) is run:
            del self._runs[run_id]
        task = getattr(run, "_task", None)
        if task is not None and not task.done():
            task.cancel(f"run {run_id} moved to another worker")

    def _going_on(self) -> bool:
        return any(self.running(run_id) for run_id in self._runs)

    async def _keep(self) -> None:
        """Renew our lease every third of it while runs go on here."""
        while self._going_on():
            await asyncio.sleep(self.lease / 3)
            if not self._going_on():
                return
            try:
                await self.renew()
            except Exception as exc:  # noqa: BLE001 - a store hiccup: the next turn tries again
                import logging  # only then: keep it off import time

                logging.getLogger("wfc.runtime").warning(
                    "could not renew the lease of worker %s: %s", self.token, exc
                )

    # -- runs -----------------------------------------------------------------
    async def take(self, run_id: str, head: dict[str, Any]) -> None:
        """Become the owner of `run_id`, or raise `RunHeld` if a live worker owns it."""
        await self.alive()
        while True:
            number, owner = await owner_of(self._store, run_id, head)
            if owner == self.token:
                self.lost.discard(run_id)
                return
            if owner is not None and not await self._dead(owner, run_id):
                raise RunHeld(
                    f"run {run_id} is running in another process (worker {owner}); "
                    f"it can be resumed here once that process stops or its lease of "
                    f"{self.lease:g}s lapses"
                )
            if await self._claim(run_id, number + 1):
                return

    async def release(self, run_id: str, head: dict[str, Any]) -> None:
        """Give up `run_id`, which this process will not run (its source does not replay
        the journal): any process may take it at once, not only once this one ends."""
        number, owner = await owner_of(self._store, run_id, head)
        if owner == self.token:
            await self._store.append(owner_key(run_id, number + 1), {"worker": None, "at": time.time()})

    async def _claim(self, run_id: str, number: int) -> bool:
        """Append the run's owner record `number`, naming us; whether we were first."""
        claim = {"worker": self.token, "host": _host(), "pid": os.getpid(), "at": time.time()}
        if not await self._store.append(owner_key(run_id, number), claim):
            return False
        self.lost.discard(run_id)
        return True

    async def _dead(self, token: str, run_id: str) -> bool:
        """Whether worker `token` is dead, or, if it is one of this process's, no longer
        runs `run_id`. A dead worker's heartbeat is marked so (with compare-and-set:
        a worker that renews in between is alive after all)."""
        ours = _WORKERS.get(token)
        if ours is not None:
            return not ours.running(run_id)
        key = _heartbeat_key(token)
        while True:
            now = time.time()
            found = await self._store.get(key, now)
            record, version = ({}, 0) if found is None else found
            if record.get("dead"):
                return True
            if found is not None and _live(record, now):
                return False
            if await self._store.put(key, {**record, "dead": True}, version):
                return True

    async def confirm(self, run_id: str) -> None:
        """Before a run acts: raise `RunMoved` if it is no longer ours."""
        if run_id not in self.lost and time.monotonic() >= self.valid_until:
            await self.renew()
        if run_id in self.lost:
            raise RunMoved(
                f"run {run_id} moved to another worker while this process was silent past its lease"
            )
