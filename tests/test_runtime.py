"""The runtime on its own: clocks, deadlines, events, fan-out."""

from __future__ import annotations

import asyncio

import pytest

from wfc.runtime import (MAX_LIMIT, Deadline, Runtime, VirtualClock, attr, current, format_seconds, index,
                         map_items, parallel)


def test_virtual_clock_overlaps_concurrent_waits() -> None:
    clock = VirtualClock()

    async def main():
        async def nap(seconds):
            await clock.sleep(seconds)
            return clock.now()
        return await asyncio.gather(nap(5), nap(5), nap(2))

    assert asyncio.run(main()) == [5.0, 5.0, 2.0]
    assert clock.now() == 5.0 and clock.monotonic() == 5.0


def test_virtual_clock_takes_no_real_time() -> None:
    import time

    clock = VirtualClock(start=10.0)
    started = time.monotonic()
    asyncio.run(clock.sleep(3600))
    assert clock.now() == 3610.0 and time.monotonic() - started < 1.0


def test_deadline_cancels_and_raises_timeout_error() -> None:
    clock = VirtualClock()

    async def main():
        async with Deadline(clock, 1.5):
            await clock.sleep(10)

    with pytest.raises(TimeoutError, match="timed out after 1.5s"):
        asyncio.run(main())
    assert clock.now() == 1.5


def test_deadline_does_not_swallow_outer_cancellation() -> None:
    clock = VirtualClock()

    async def main():
        async def inner():
            async with Deadline(clock, 5):
                await clock.sleep(10)
        task = asyncio.ensure_future(inner())
        await clock.sleep(1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_format_seconds() -> None:
    assert [format_seconds(s) for s in (0.25, 1.5, 2, 120, 3600, 0.0005)] == [
        "250ms", "1.5s", "2s", "2m", "1h", "0.5ms"]


def test_default_runtime_applies_without_activation() -> None:
    assert current() is current()
    rt = Runtime()
    with rt.activate():
        assert current() is rt
    assert current() is not rt


def test_observers_and_unsubscribe() -> None:
    rt = Runtime()
    seen = []
    undo = rt.observe(seen.append)
    rt.event("x", "y", {"a": 1})
    undo()
    rt.event("x", "z")
    assert [tuple(e) for e in seen] == [("x", "y", {"a": 1})]


def test_seeded_uuid_is_reproducible_v4() -> None:
    assert Runtime(seed=5).uuid() == Runtime(seed=5).uuid() != Runtime(seed=6).uuid()
    assert Runtime(seed=5).uuid()[14] == "4"


def test_member_access_and_indexing_rules() -> None:
    class Obj:
        name = "n"
    assert attr({"a": 1}, "a") == 1 and attr({}, "a") is None and attr(Obj(), "name") == "n"
    assert index({"k": 1}, "k") == 1 and index({}, "k") is None and index([1, 2], -1) == 2
    with pytest.raises(IndexError):
        index([], 0)


def test_fan_out_memory_is_bounded_by_limit_not_input() -> None:
    """A generator of a million items: at most `limit` items are ever in flight."""
    total = 1_000_000
    state = {"pulled": 0, "done": 0, "peak": 0}

    def items():
        for n in range(total):
            state["pulled"] += 1
            state["peak"] = max(state["peak"], state["pulled"] - state["done"])
            yield n

    async def body(item):
        state["done"] += 1
        return None

    async def main():
        rt = Runtime(clock=VirtualClock())
        return await map_items(rt, body, items(), concurrent=True, limit=100)

    results = asyncio.run(main())
    assert len(results) == total and state["peak"] <= 100


def test_parallel_limits_concurrency_and_reports_failures() -> None:
    clock = VirtualClock()
    rt = Runtime(clock=clock)
    running = {"now": 0, "peak": 0}

    def branch(seconds, fail=False):
        async def run():
            running["now"] += 1
            running["peak"] = max(running["peak"], running["now"])
            await clock.sleep(seconds)
            running["now"] -= 1
            if fail:
                raise ValueError("x")
        return run

    failed = asyncio.run(parallel(rt, [branch(1), branch(1, True), branch(1), branch(1)],
                                  limit=2, keep_going=True))
    assert failed == [False, True, False, False] and running["peak"] == 2 and clock.now() == 2.0


@pytest.mark.parametrize("limit, shown", [
    (0, "0"), (-3, "-3"), (True, "True"), (2.0, "2.0"), (MAX_LIMIT + 1, "100001"),
    (10**200, "1" + "0" * 36 + "..."),
])
def test_limit_must_be_a_whole_number_in_range(limit, shown) -> None:
    message = f"limit must be a whole number from 1 to 100_000, not {shown}"
    with pytest.raises(ValueError) as info:
        asyncio.run(map_items(Runtime(), lambda x: asyncio.sleep(0), [1], concurrent=True, limit=limit))
    assert str(info.value) == message
    with pytest.raises(ValueError):
        asyncio.run(parallel(Runtime(), [lambda: asyncio.sleep(0)], limit=limit))


@pytest.mark.parametrize("items", [[], [1], [1, 2, 3], list(range(50))])
def test_fan_out_starts_workers_only_as_work_arrives(items) -> None:
    """`limit` is a bound, not a cost: at most one worker per suspended item, plus one."""
    peak = {"tasks": 0}

    async def body(item):
        peak["tasks"] = max(peak["tasks"], len(asyncio.all_tasks()))
        await asyncio.sleep(0)
        return item * 2

    async def main():
        return await map_items(Runtime(), body, iter(items), concurrent=True, limit=MAX_LIMIT)

    assert asyncio.run(main()) == [item * 2 for item in items]
    assert peak["tasks"] <= len(items) + 2  # the workers, the spare one, and main


def test_jobs_that_never_suspend_share_one_worker() -> None:
    seen: set = set()

    async def body(item):
        seen.add(asyncio.current_task())
        return item

    async def main():
        return await map_items(Runtime(), body, range(1000), concurrent=True, limit=100)

    assert asyncio.run(main()) == list(range(1000)) and len(seen) == 1


def test_an_observer_that_raises_is_removed_and_logged_once_and_cannot_change_the_result(
        backend, caplog) -> None:
    from conftest import run_source

    source = ("use backend_handlers as h\n"
              "workflow main() { stage s { a = h.double(2) }\n return h.double(a) }")
    plain = run_source(source, backend, "main")
    seen: list[str] = []

    def broken(event) -> None:
        seen.append(event.kind)
        if event.kind == "step.start":
            raise RuntimeError("observer bug")

    rt = Runtime(clock=VirtualClock())
    rt.observe(broken)
    with caplog.at_level("WARNING", logger="wfc.runtime"):
        watched = run_source(source, backend, "main", rt=rt)
    assert (watched.value, watched.error) == (plain.value, None) == (8, None)
    assert watched.kinds == plain.kinds  # the observer after it saw every event
    assert seen == ["workflow.start", "stage.start", "step.start"]
    warnings = [r for r in caplog.records if r.name == "wfc.runtime"]
    assert len(warnings) == 1 and "RuntimeError: observer bug on a step.start event" in warnings[0].message
    undo = rt.observe(broken)
    undo()
    undo()  # undoing twice, or after removal, is harmless
