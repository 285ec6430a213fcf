"""Benchmark: a 10-stage pipeline of handler calls, three ways, in one run.

    python bench/pipeline.py [--calls N] [--rounds R]

Prints the median time per pipeline run for the hand-written asyncio version,
the wfc-compiled version and the interpreter, and the ratios to hand-written.
Rounds are interleaved so that machine noise hits every contender alike.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_handlers as h  # noqa: E402

import wfc  # noqa: E402

STAGES = ["parse", "validate", "enrich", "score", "tag", "dedupe", "rank", "format_", "store", "notify"]
SOURCE = "use bench_handlers as h\n\nworkflow pipeline(x) {\n" + "".join(
    f"    stage {name} {{\n        x = h.{name}(x)\n    }}\n" for name in STAGES
) + "    return x\n}\n"


async def hand_written(x):
    """What a careful developer writes by hand: ten awaits, nothing else."""
    x = await h.parse(x)
    x = await h.validate(x)
    x = await h.enrich(x)
    x = await h.score(x)
    x = await h.tag(x)
    x = await h.dedupe(x)
    x = await h.rank(x)
    x = await h.format_(x)
    x = await h.store(x)
    x = await h.notify(x)
    return x


async def time_calls(pipeline, calls: int) -> float:
    """Seconds per call of `pipeline`, over `calls` sequential calls."""
    started = time.perf_counter()
    for n in range(calls):
        await pipeline(n)
    return (time.perf_counter() - started) / calls


async def measure(contenders: dict, calls: int, rounds: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for name, pipeline in contenders.items():  # warm up
        await time_calls(pipeline, calls // 10 or 1)
    for _ in range(rounds):
        for name, pipeline in contenders.items():
            samples[name].append(await time_calls(pipeline, calls))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    wf_file = HERE / "pipeline.wf"
    wf_file.write_text(SOURCE, encoding="utf-8")
    compiled = wfc.load(wf_file, backend="compiled")
    interpreted = wfc.load(wf_file, backend="interp")
    contenders = {"hand-written": hand_written, "wfc compiled": compiled.pipeline,
                  "wfc interpreter": interpreted.pipeline}
    results = asyncio.run(measure(contenders, args.calls, args.rounds))
    check = {name: asyncio.run(pipeline(7)) for name, pipeline in contenders.items()}
    assert len(set(check.values())) == 1, check
    base = results["hand-written"]
    print(f"10-stage pipeline, {args.calls} calls x {args.rounds} rounds (median per call)")
    for name, seconds in results.items():
        print(f"  {name:16} {seconds * 1e6:8.2f} us   {seconds / base:5.2f}x hand-written")
    print("target: compiled <= 1.30x hand-written")


if __name__ == "__main__":
    main()
