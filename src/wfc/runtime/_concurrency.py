"""Fan-out: parallel blocks and `for` maps on a bounded pool of worker tasks.

A pool of `limit` workers pulls jobs from one shared iterator, so memory grows
with `limit`, not with the input: a generator of millions of items works.
"""

from __future__ import annotations

import asyncio
from typing import Any, Awaitable, Callable, Iterable, Iterator, Sequence, TypeVar

from ._runtime import Runtime

Job = TypeVar("Job")
DEFAULT_MAP_LIMIT = 10
_SKIPPED: Any = object()


async def parallel(
    rt: Runtime,
    branches: Sequence[Callable[[], Awaitable[Any]]],
    limit: int | None = None,
    timeout: float | None = None,
    keep_going: bool = False,
) -> list[bool]:
    """Run `branches` concurrently; return which of them failed.

    By default the first failure cancels the other branches and propagates.
    With `keep_going` (`on error continue`) failures are swallowed and reported
    in the returned flags, so the caller can null the branch's variables.
    """
    failed = [False] * len(branches)

    async def run(position: int, branch: Callable[[], Awaitable[Any]]) -> None:
        if not keep_going:
            await branch()
            return
        try:
            await branch()
        except Exception:
            failed[position] = True

    width = len(branches) if limit is None else min(_check_limit(limit), len(branches))
    await _bounded(rt, enumerate(branches), width, run, timeout)
    return failed


async def map_items(
    rt: Runtime,
    body: Callable[[Any], Awaitable[Any]],
    iterable: Iterable[Any],
    concurrent: bool = False,
    limit: int | None = None,
    timeout: float | None = None,
    skip_errors: bool = False,
) -> list[Any]:
    """The values of `body(item)` for every item, in input order.

    `timeout` bounds each item; with `skip_errors` failed items are left out.
    """
    results: list[Any] = []

    async def run(position: int, item: Any) -> None:
        try:
            if timeout is None:
                value = await body(item)
            else:
                async with rt.timeout(timeout):
                    value = await body(item)
        except Exception:
            if not skip_errors:
                raise
            value = _SKIPPED
        results[position] = value

    def numbered() -> Iterator[tuple[int, Any]]:
        for item in iterable:
            results.append(None)
            yield len(results) - 1, item

    if concurrent:
        width = DEFAULT_MAP_LIMIT if limit is None else _check_limit(limit)
        await _bounded(rt, numbered(), width, run, None)
    else:
        for position, item in numbered():
            await run(position, item)
    if skip_errors:
        return [value for value in results if value is not _SKIPPED]
    return results


def _check_limit(limit: Any) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be a positive integer, not {limit!r}")
    return limit


async def _bounded(
    rt: Runtime,
    jobs: Iterator[tuple[int, Job]],
    width: int,
    run: Callable[[int, Job], Awaitable[None]],
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
    run: Callable[[int, Job], Awaitable[None]],
) -> None:
    async def worker() -> None:
        for position, job in jobs:
            await run(position, job)

    if width <= 0:
        return
    loop = asyncio.get_running_loop()
    workers = [loop.create_task(worker()) for _ in range(width)]
    try:
        await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError:
        await _cancel_all(workers)
        raise
    # The first failed worker in creation order wins, so the error is deterministic.
    for task in workers:
        if task.done() and not task.cancelled() and task.exception() is not None:
            await _cancel_all(workers)
            raise task.exception()  # type: ignore[misc]


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
