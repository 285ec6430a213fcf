"""Benchmark: `parallel for ... limit 100` against a hand-written pool of 100 workers.

    python bench/fanout.py [--items N] [--rounds R] [--million]

Time: each contender maps a non-suspending handler over `items` numbers, in input
order, 100 at a time (bench/harness.py: interleaved, ratio per round).
Memory: a fresh process maps 1,000,000 numbers from a generator through the
compiled workflow and reports the peak of what the run allocated (tracemalloc)
beyond the result list itself (the list and the numbers it holds): what the
fan-out machinery costs.
Targets: wfc <= 1.5x the hand-written pool per item; memory overhead <= 10 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_handlers as h  # noqa: E402
from harness import Row, interleaved, per_round_ratio, print_rows  # noqa: E402

SOURCE = """use bench_handlers as h

workflow fan(items) {
    results = parallel for item in items limit 100 {
        yield h.work(item)
    }
    return results
}
"""
# The same map with a body of more than its one step, which runs as a function of its
# own per item (shown for comparison, no target): `yield HANDLER(item)` alone is made
# by the pool itself.
WITH_A_BODY = SOURCE.replace("yield h.work(item)", "value = h.work(item)\n        yield value")
MILLION = 1_000_000


async def hand_pool(items, limit: int = 100) -> list:
    """A careful hand-written pool: `limit` workers pulling from one iterator."""
    results: list = []

    def numbered():
        for item in items:
            results.append(None)
            yield len(results) - 1, item

    jobs = numbered()

    async def worker() -> None:
        for position, item in jobs:
            results[position] = await h.work(item)

    await asyncio.gather(*(worker() for _ in range(limit)))
    return results


def timer(loop: asyncio.AbstractEventLoop, fan, items: int):
    data = list(range(items))

    def run() -> float:
        started = time.perf_counter()
        loop.run_until_complete(fan(data))
        return (time.perf_counter() - started) / items

    return run


def memory_child() -> None:
    """In a fresh process: 1,000,000 items from a generator, once timed, once traced;
    print the peak of what the traced run allocated, and what its results hold.

    The peak is tracemalloc's, not the process's peak RSS: memory that compiling the
    module freed is reused without raising RSS, so an RSS rise can come out below the
    results' own size, and says nothing about the run."""
    from wfc.api import load_source
    from wfc.runtime import Runtime

    module = load_source(SOURCE, "fanout_memory.wf", backend="compiled")
    with Runtime().activate():
        started = time.perf_counter()
        results = asyncio.run(module.fan(n + 1000 for n in range(MILLION)))
        seconds = time.perf_counter() - started
        del results
        tracemalloc.start()
        results = asyncio.run(module.fan(n + 1000 for n in range(MILLION)))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    held = sys.getsizeof(results) + sum(sys.getsizeof(value) for value in results)
    assert len(results) == MILLION and results[-1] == MILLION + 999
    print(json.dumps({"peak_mb": peak / 2**20, "held_mb": held / 2**20, "seconds": seconds}))


def memory() -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--memory-child"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def rows(items: int = 10_000, rounds: int = 9, million: bool = True) -> list[Row]:
    from wfc.api import load_source
    from wfc.runtime import Runtime

    module = load_source(SOURCE, "fanout_bench.wf", backend="compiled")
    with_a_body = load_source(WITH_A_BODY, "fanout_body_bench.wf", backend="compiled")
    loop = asyncio.new_event_loop()
    try:
        with Runtime().activate():
            for fan in (module.fan, with_a_body.fan):
                assert loop.run_until_complete(fan([1, 2, 3])) == loop.run_until_complete(hand_pool([1, 2, 3]))
            samples = interleaved({"hand": timer(loop, hand_pool, items), "wfc": timer(loop, module.fan, items),
                                   "body": timer(loop, with_a_body.fan, items)}, rounds)
    finally:
        loop.close()
    result = [Row(f"parallel for, {items:,} items, limit 100: wfc / hand pool",
                  per_round_ratio(samples, "wfc", "hand"), at_most=1.5),
              Row("  the same, the item a body of two statements: wfc / hand pool",
                  per_round_ratio(samples, "body", "hand"))]
    if million:
        figures = memory()
        result.append(Row("parallel for, 1,000,000 items from a generator: memory beyond the results",
                          [figures["peak_mb"] - figures["held_mb"]], unit=" MB", at_most=10,
                          note=f"{figures['seconds']:.2f} s, results {figures['held_mb']:.0f} MB"))
        result.append(Row("parallel for, 1,000,000 items from a generator: seconds", [figures["seconds"]],
                          unit=" s"))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--no-million", action="store_true", help="skip the 1,000,000-item memory run")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child()
        return
    print_rows(f"fan-out, {args.items} items x {args.rounds} rounds",
               rows(args.items, args.rounds, not args.no_million))


if __name__ == "__main__":
    main()
