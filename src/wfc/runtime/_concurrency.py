"""Fan-out: parallel blocks and `for` maps on a bounded pool of worker tasks.

Workers pull jobs from one shared iterator, so memory grows with `limit`, not
with the input: a generator of millions of items works. A worker is started
only when a job is pulled while every started worker is busy, so the pool
never holds more than `min(limit, jobs + 1)` tasks: `limit 100000` over three
items costs three workers, and jobs that never suspend share one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence, Sized
from inspect import isawaitable
from types import CoroutineType
from typing import Any, TypeVar

from ._bounds import MAX_LIMIT
from ._durable import branch as enter_branch
from ._durable import leave_branch
from ._errors import BranchesFailed, WorkflowError
from ._runtime import Runtime
from ._steps import step

Job = TypeVar("Job")
DEFAULT_MAP_LIMIT = 10
LEFT_OUT: Any = object()
"""What an item's body returns for an item its loop's `where` leaves out."""


async def parallel(
    rt: Runtime,
    branches: Sequence[Callable[[], Awaitable[Any]]],
    limit: int | None = None,
    timeout: float | None = None,
    keep_going: bool = False,
    need: int | None = None,
    site: str = "",
    after: Sequence[Sequence[int]] | None = None,
) -> list[bool]:
    """Run `branches` concurrently; return which of them failed (or, with `need`,
    which did not win): the caller nulls those branches' variables.

    By default the first failure cancels the other branches and propagates.
    With `keep_going` (`on error continue`) failures are swallowed and reported
    in the returned flags. With `need` (`parallel first`: 1, `parallel quorum K`:
    K), the block ends as soon as `need` branches have succeeded, cancelling the
    rest (`_race`). With `after` (a dataflow block: for each branch, the branches
    whose variables it reads), a branch starts its work once those have finished;
    one whose input failed (under `on error continue`) is skipped, as if failed.
    """
    if need is not None:
        return await _race(rt, branches, need, limit, timeout, site)
    failed = [False] * len(branches)
    # A dataflow block: each branch's outcome (True: it succeeded), for the ones it feeds.
    finished = None if after is None else [asyncio.get_running_loop().create_future() for _ in branches]

    async def attempt(position: int, branch: Callable[[], Awaitable[Any]]) -> bool:
        token = None if rt.journal is None else enter_branch(position)
        try:
            await branch()
            return True
        except Exception:
            if not keep_going:
                raise
            failed[position] = True
            return False
        finally:
            if token is not None:
                leave_branch(token)

    async def waiting(position: int, branch: Callable[[], Awaitable[Any]]) -> None:
        assert finished is not None and after is not None
        ok = False
        try:
            for needed in after[position]:
                if not await finished[needed]:  # an input failed or was skipped: skip this one
                    failed[position] = True
                    return
            ok = await attempt(position, branch)
        finally:
            if not finished[position].done():
                finished[position].set_result(ok)

    # Each branch after its inputs: with any `limit`, a waiting branch only ever waits
    # for one already started (the checker made sure they never wait in a circle).
    order = range(len(branches)) if after is None else _after_inputs(after)
    width = len(branches) if limit is None else min(_check_limit(limit), len(branches))
    run = attempt if finished is None else waiting  # a plain block: one coroutine per branch
    await _bounded(rt, ((position, branches[position]) for position in order), width, run, timeout)
    return failed


def _after_inputs(after: Sequence[Sequence[int]]) -> list[int]:
    """The branches in source order, except that each comes after every branch it reads."""
    placed: list[int] = []
    seen: set[int] = set()

    def place(position: int) -> None:
        if position not in seen:
            seen.add(position)
            for needed in sorted(after[position]):
                place(needed)
            placed.append(position)

    for position in range(len(after)):
        place(position)
    return placed


class _Enough(Exception):
    """Ends a race's pool once enough branches have won: not an error."""


async def _race(
    rt: Runtime,
    branches: Sequence[Callable[[], Awaitable[Any]]],
    need: int,
    limit: int | None,
    timeout: float | None,
    site: str,
) -> list[bool]:
    """`parallel first` / `parallel quorum K`: the first `need` branches to succeed
    win and the others are cancelled (their cancellation unwinds them: a saga in one
    compensates). Fails with `BranchesFailed`, every error attached, once `need`
    can no longer be reached. A durable run journals the winners, so a replay runs
    them again, and only them, whatever finishes first this time."""
    count = len(branches)
    if isinstance(need, bool) or not isinstance(need, int) or not 1 <= need <= count:
        raise ValueError(f"a quorum must be a whole number from 1 to {count} (the branches), not {need!r}")
    journal, identity, arms = rt.journal, None, ""
    chosen: list[int] | None = None
    if journal is not None:
        identity, chosen, arms = journal.race("race", site)
    won: list[int] = []
    errors: dict[int, BaseException] = {}

    async def run(position: int, branch: Callable[[], Awaitable[Any]]) -> None:
        token = None if journal is None else enter_branch(f"{arms}{position}")
        try:
            await branch()
        except Exception as exc:
            errors[position] = exc
            if len(errors) > count - need:
                failed = [errors[p] for p in sorted(errors)]
                raise BranchesFailed(_race_failure(need, count, failed), failed) from failed[0]
            return
        finally:
            if token is not None:
                leave_branch(token)
        if len(won) == need:  # finished in the same instant as the last winner: too late
            return
        won.append(position)
        if len(won) == need:
            raise _Enough

    jobs = [(p, branches[p]) for p in (range(count) if chosen is None else chosen)]
    width = len(jobs) if limit is None else min(_check_limit(limit), len(jobs))
    with contextlib.suppress(_Enough):  # enough winners: the pool has cancelled the rest
        await _bounded(rt, iter(jobs), width, run, timeout)
    if journal is not None and chosen is None:
        journal.write_later(identity, {"won": sorted(won)})
    return [position not in won for position in range(count)]


async def select(
    rt: Runtime, arms: Sequence[Callable[[], Awaitable[Any]]], site: str = ""
) -> tuple[int, Any]:
    """`select`: start every arm (a timer, a signal wait, a call) at once; the first
    to finish wins, with its value or its error, and the others are cancelled. Arms
    that finish in the same step go by position, so the lowest wins. Returns the
    winner's position and value, or raises its error. A durable run journals the
    winner, so a replay runs that arm alone, whatever would finish first this time."""
    journal, identity, chosen, prefix = rt.journal, None, None, ""
    if journal is not None:
        identity, chosen, prefix = journal.race("select", site)
    finished: list[tuple[int, Any, BaseException | None]] = []

    async def run(position: int, arm: Callable[[], Awaitable[Any]]) -> None:
        token = None if journal is None else enter_branch(f"{prefix}{position}")
        try:
            finished.append((position, await arm(), None))
        except Exception as exc:
            finished.append((position, None, exc))
        finally:
            if token is not None:
                leave_branch(token)
        raise _Enough

    jobs = [(p, arms[p]) for p in (range(len(arms)) if chosen is None else [chosen])]
    with contextlib.suppress(_Enough):  # one finished: the pool has cancelled the rest
        await _pool(iter(jobs), len(jobs), run)
    position, value, error = min(finished, key=lambda outcome: outcome[0])
    finished.clear()
    if journal is not None and chosen is None:
        journal.write_later(identity, {"won": position})
    if error is not None:
        try:
            raise error
        finally:
            del error  # the traceback holds this frame: no cycle through it
    return position, value


def _race_failure(need: int, count: int, errors: list[BaseException]) -> str:
    reasons = "; ".join(f"{type(error).__name__}: {error}" for error in errors)
    if need == 1:
        return f"every branch of a `parallel first` failed: {reasons}"
    return f"{len(errors)} of {count} branches failed, so {need} cannot succeed: {reasons}"


async def map_items(
    rt: Runtime,
    body: Callable[[Any], Awaitable[Any]],
    iterable: Iterable[Any],
    concurrent: bool = False,
    limit: int | None = None,
    timeout: float | None = None,
    skip_errors: bool = False,
    filtered: bool = False,
    name: str = "",
) -> list[Any]:
    """The values of `body(item)` for every item, in input order.

    `timeout` bounds each item; with `skip_errors` failed items are left out, and
    with `filtered` those whose body returned `LEFT_OUT` (a `where` was false).
    Observers see `map.start` (`total`: the input's length, None if it has none) and a
    `map.item` as each item ends (`done`: how many have), named `name` (the loop variable).
    """
    if rt.observers:
        body = _counted(rt, body, iterable, name, concurrent)
    results: list[Any] = []

    async def run(position: int, item: Any) -> None:
        # In a durable run each item is a branch of its own: its steps' identities say which.
        token = None if rt.journal is None else enter_branch(position)
        try:
            if timeout is None:
                value = await body(item)
            else:
                async with rt.timeout(timeout):
                    value = await body(item)
        except Exception:
            if not skip_errors:
                raise
            value = LEFT_OUT
        finally:
            if token is not None:
                leave_branch(token)
        results[position] = value

    if concurrent:
        width = _map_width(limit)
        if rt.journal is None and timeout is None and not skip_errors:
            await _pool(_numbered(iterable, results), width, body, store=results)  # nothing around the body
        else:
            await _bounded(rt, _numbered(iterable, results), width, run, None)
    else:
        for position, item in _numbered(iterable, results):
            await run(position, item)
    if skip_errors or filtered:
        return [value for value in results if value is not LEFT_OUT]
    return results


async def map_calls(
    rt: Runtime,
    target: str,
    location: str,
    lookup: Callable[[], Any],
    iterable: Iterable[Any],
    concurrent: bool = False,
    limit: int | None = None,
    timeout: float | None = None,
    skip_errors: bool = False,
    name: str = "",
) -> list[Any]:
    """`map_items` whose body is one step, `yield HANDLER(item)`: the step `target` at
    `location` calls `lookup()(item)` for every item, with everything a step does
    (events, the journal, the error's note). Concurrent, in a run with no journal and
    no observers, the pool makes each call itself: no coroutine of the item's own."""
    if concurrent and not rt.observers and rt.journal is None and timeout is None and not skip_errors:
        results: list[Any] = []
        await _pool(
            _numbered(iterable, results),
            _map_width(limit),
            lookup,
            store=results,
            step=(rt, target, location),
        )
        return results
    return await map_items(
        rt,
        lambda item: step(rt, target, location, lookup, item),
        iterable,
        concurrent=concurrent,
        limit=limit,
        timeout=timeout,
        skip_errors=skip_errors,
        name=name,
    )


def _counted(
    rt: Runtime, body: Callable[[Any], Awaitable[Any]], iterable: Iterable[Any], name: str, concurrent: bool
) -> Callable[[Any], Awaitable[Any]]:
    """`body`, telling observers how many items have ended (for progress displays)."""
    total = len(iterable) if isinstance(iterable, Sized) else None
    rt.event("map.start", name, {"total": total, "concurrent": concurrent})
    done = 0

    def ended() -> None:
        nonlocal done
        done += 1
        if rt.observers:
            rt.event("map.item", name, {"done": done, "total": total})

    async def counted(item: Any) -> Any:
        try:
            value = await body(item)
        except Exception:  # failed (a cancelled item did not end: it counts for nothing)
            ended()
            raise
        ended()
        return value

    return counted


def _numbered(iterable: Iterable[Any], results: list[Any]) -> Iterator[tuple[int, Any]]:
    """Each item with its position, as `results` gains the slot its value goes in."""
    append = results.append
    for position, item in enumerate(iterable):
        append(None)
        yield position, item


def _map_width(limit: Any) -> int:
    return DEFAULT_MAP_LIMIT if limit is None else _check_limit(limit)


def _check_limit(limit: Any) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        shown = repr(limit) if len(repr(limit)) <= 40 else f"{repr(limit)[:37]}..."
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT:_}, not {shown}")
    return limit


async def _bounded(
    rt: Runtime,
    jobs: Iterator[tuple[int, Job]],
    width: int,
    run: Callable[[int, Job], Awaitable[Any]],
    timeout: float | None,
) -> None:
    if timeout is None:
        await _pool(jobs, width, run)
    else:
        async with rt.timeout(timeout):
            await _pool(jobs, width, run)


async def _pool(
    jobs: Iterator[tuple[int, Job]],
    width: int,
    run: Callable[..., Any],
    store: list[Any] | None = None,
    step: tuple[Runtime, str, str] | None = None,
) -> None:
    """Run `run(position, job)` for every job, at most `width` at a time; with `store`,
    `store[position] = await run(job)` instead; with `step` too, `(rt, target,
    location)`, each job is that step of the handler `run()` looks up (`map_calls`).
    Workers start only as the running ones wait: jobs that never wait run on one
    worker, with no task per job."""
    if width <= 0:
        return
    loop = asyncio.get_running_loop()
    if step is not None:
        rt, target, location = step
    workers: list[asyncio.Task[None]] = []
    settled = loop.create_future()  # every worker ended, or one failed
    idle = running = 0

    def start() -> None:
        nonlocal idle, running
        idle += 1
        running += 1
        task = loop.create_task(worker())
        task.add_done_callback(ended)
        workers.append(task)

    async def worker() -> None:
        nonlocal idle
        for position, job in jobs:
            idle -= 1
            if idle == 0 and len(workers) < width:
                start()  # every worker is busy: one more may take the next job
            if store is None:
                await run(position, job)
            elif step is None:
                store[position] = await run(job)
            else:  # `runtime.step`, written out: one coroutine less per item
                if rt.observers:  # an observer that came after the map began
                    rt.event("step.start", target)
                try:
                    value = run()(job)
                    if value.__class__ is CoroutineType or isawaitable(value):
                        value = await value
                except BaseException as exc:
                    raise rt.step_failed(exc, target, location)
                if rt.observers:
                    rt.event("step.end", target)
                store[position] = value
            idle += 1
        idle -= 1

    def ended(task: asyncio.Task[None]) -> None:
        nonlocal running
        running -= 1
        if not settled.done() and (running == 0 or task.cancelled() or task.exception()):
            settled.set_result(None)

    start()
    try:
        await settled
    except asyncio.CancelledError:
        await _cancel_all(workers)
        raise
    # The first failed worker in creation order wins, so the error is deterministic.
    for task in workers:
        if task.done() and (task.cancelled() or task.exception() is not None):
            await _cancel_all(workers)
            if task.cancelled():  # nobody cancelled it: never let that drop the rest silently
                raise WorkflowError("a fan-out worker was cancelled, but the run was not")
            raise task.exception()  # type: ignore[misc]


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
