"""Benchmark: a 10-stage pipeline and a loop, hand-written, compiled and interpreted.

    python bench/pipeline.py [--calls N] [--rounds R]

Each round runs `calls` sequential calls of every contender (bench/harness.py:
interleaved, order reversed every other round, ratios per round).
Targets: compiled <= 1.3x hand-written on the pipeline; the interpreter <= 8x
compiled on the pipeline and on the loop; a handler call inside an expression
costs what the same call costs as a statement (ratio <= 1.1x).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_handlers as h  # noqa: E402
from harness import Row, async_timer, interleaved, per_round_ratio, print_rows  # noqa: E402

from wfc.api import load_source  # noqa: E402

STAGES = ["parse", "validate", "enrich", "score", "tag", "dedupe", "rank", "format_", "store", "notify"]
SOURCE = (
    "use bench_handlers as h\n\nworkflow pipeline(x) {\n"
    + "".join(f"    stage {name} {{\n        x = h.{name}(x)\n    }}\n" for name in STAGES)
    + "    return x\n}\n"
    + """
workflow loop(n) {
    total = 0
    for i in range(20) {
        if i % 4 == 0 {
            total = total + h.work(i)
        } elif i % 4 == 1 {
            continue
        } else {
            total = total + i * 2
        }
    }
    return total + n
}

workflow in_statement(x) {
    y = h.work(x)
    z = h.work(1 + y)
    return 1 + z
}

workflow in_expression(x) {
    return 1 + h.work(1 + h.work(x))
}
"""
)


async def hand_pipeline(x):
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


async def hand_loop(n):
    total = 0
    for i in range(20):
        if i % 4 == 0:
            total = total + await h.work(i)
        elif i % 4 == 1:
            continue
        else:
            total = total + i * 2
    return total + n


def rows(calls: int = 20_000, rounds: int = 7) -> list[Row]:
    compiled = load_source(SOURCE, "pipeline_bench.wf", backend="compiled")
    interpreted = load_source(SOURCE, "pipeline_bench.wf", backend="interp")
    contenders = {
        "hand pipeline": hand_pipeline,
        "compiled pipeline": compiled.pipeline,
        "interpreted pipeline": interpreted.pipeline,
        "hand loop": hand_loop,
        "compiled loop": compiled.loop,
        "interpreted loop": interpreted.loop,
        "call in statement": compiled.in_statement,
        "call in expression": compiled.in_expression,
    }
    loop = asyncio.new_event_loop()
    try:
        for kind in ("pipeline", "loop"):
            results = {loop.run_until_complete(contenders[f"{who} {kind}"](7)) for who in
                       ("hand", "compiled", "interpreted")}
            assert len(results) == 1, (kind, results)
        timers = {name: async_timer(loop, function, calls) for name, function in contenders.items()}
        samples = interleaved(timers, rounds)
    finally:
        loop.close()
    return [
        Row("pipeline: compiled / hand-written", per_round_ratio(samples, "compiled pipeline", "hand pipeline"),
            at_most=1.3),
        Row("pipeline: interpreter / compiled",
            per_round_ratio(samples, "interpreted pipeline", "compiled pipeline"), at_most=8),
        Row("loop: compiled / hand-written", per_round_ratio(samples, "compiled loop", "hand loop"), at_most=1.3),
        Row("loop: interpreter / compiled", per_round_ratio(samples, "interpreted loop", "compiled loop"),
            at_most=8),
        Row("two calls in expressions / the same in statements",
            per_round_ratio(samples, "call in expression", "call in statement"), at_most=1.1),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print_rows(f"pipeline and loop, {args.calls} calls x {args.rounds} rounds", rows(args.calls, args.rounds))


if __name__ == "__main__":
    main()
