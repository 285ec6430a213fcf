"""Benchmark: one machine `send`, a three-state cycle, against hand-written and transitions.

    python bench/machine.py [--sends N] [--rounds R]      (transitions: pip install -e '.[bench]')

Contenders send `go` round a three-state cycle (a -> b -> c -> a): the wfc-compiled
machine, a hand-written async dict dispatch (what a careful developer writes in
place: one dict lookup, one assignment) and the `transitions` library's asyncio
machine. Rounds interleaved, ratios per round (bench/harness.py).
Targets: wfc <= 2.5x hand-written; transitions / wfc >= 50x.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row, interleaved, per_round_ratio, print_rows  # noqa: E402

from wfc.api import load_source  # noqa: E402
from wfc.runtime import Runtime  # noqa: E402

SOURCE = """
machine Cycle() {
    initial a
    state a {
        on go -> b
    }
    state b {
        on go -> c
    }
    state c {
        on go -> a
    }
}
"""


class HandMachine:
    """Hand-written async dispatch: the floor."""

    table = {("a", "go"): "b", ("b", "go"): "c", ("c", "go"): "a"}

    def __init__(self) -> None:
        self.state = "a"

    async def send(self, event: str) -> bool:
        target = self.table.get((self.state, event))
        if target is None:
            return False
        self.state = target
        return True


def transitions_machine():
    try:
        from transitions.extensions.asyncio import AsyncMachine
    except ImportError:
        return None

    class Model:
        pass

    model = Model()
    AsyncMachine(model=model, states=["a", "b", "c"], initial="a",
                 transitions=[["go", "a", "b"], ["go", "b", "c"], ["go", "c", "a"]])
    return model


def timer(loop: asyncio.AbstractEventLoop, send, sends: int):
    async def run() -> float:
        started = time.perf_counter()
        for _ in range(sends):
            await send("go")
        return (time.perf_counter() - started) / sends

    return lambda: loop.run_until_complete(run())


def rows(sends: int = 30_000, rounds: int = 9) -> list[Row]:
    module = load_source(SOURCE, "machine_bench.wf", backend="compiled")
    loop = asyncio.new_event_loop()
    rt = Runtime()
    try:
        with rt.activate():
            wfc_machine, hand = module.Cycle(), HandMachine()
            timers = {"hand": timer(loop, hand.send, sends), "wfc": timer(loop, wfc_machine.send, sends)}
            model = transitions_machine()
            if model is not None:
                timers["transitions"] = timer(loop, lambda event: model.trigger(event), max(sends // 50, 100))
            samples = interleaved(timers, rounds)
            assert wfc_machine.state in "abc"
    finally:
        loop.close()
    result = [Row("machine send: wfc / hand-written dict dispatch", per_round_ratio(samples, "wfc", "hand"),
                  at_most=2.5),
              Row("machine send: wfc sends per second", [1 / seconds for seconds in samples["wfc"]], unit="/s")]
    if "transitions" in samples:
        result.append(Row("machine send: transitions asyncio / wfc", per_round_ratio(samples, "transitions", "wfc"),
                          at_least=50))
    else:
        result.append(Row("machine send: transitions not installed (pip install -e '.[bench]')", [float("nan")],
                          at_least=50))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=30_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print_rows(f"machine send, {args.sends} sends x {args.rounds} rounds", rows(args.sends, args.rounds))


if __name__ == "__main__":
    main()
