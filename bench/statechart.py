"""Benchmark: `send` on a nested machine (a statechart), against a hand-written
dispatch with XState's semantics and against python-statemachine 3.x.

    python bench/statechart.py [--cycles N] [--rounds R]   (pip install -e '.[bench]')

The machine is XState's pedestrian light: green -> yellow -> red, where red holds
walk -> waiting -> stop and TIMER, handled by red itself, leaves from any of them.
Each cycle sends TIMER, TIMER, PED, PED, TIMER (five sends, one of them bubbling
from a child to its parent). Contenders: the wfc-compiled machine; a hand-written
async dispatch that looks up (state, event) from the leaf outwards, as XState
does, and assigns the target's leaf (the floor); python-statemachine's StateChart,
with compound states, on its async engine (awaited, as wfc's `send` is) and on its
sync engine. Rounds interleaved, ratios per round (bench/harness.py).
A second pair runs the same light with a guard on PED and an action on leaving red
(wfc's full step, not a table lookup) against python-statemachine with the same
`cond` and an async `on` callback.
Targets: python-statemachine / wfc >= 100x, on both engines and with the guard and the
action; wfc / hand-written is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row, interleaved, per_round_ratio, print_rows  # noqa: E402

from wfc.api import load_source  # noqa: E402
from wfc.runtime import Runtime  # noqa: E402

SOURCE = """
machine Light() {
    initial green
    state green {
        on TIMER -> yellow
    }
    state yellow {
        on TIMER -> red
    }
    state red {
        on TIMER -> green
        initial walk
        state walk {
            on PED -> waiting
        }
        state waiting {
            on PED -> stop
        }
        state stop
    }
}
"""
CYCLE = ("TIMER", "TIMER", "PED", "PED", "TIMER")
# The same light with a guard on PED and an action that updates data on leaving red:
# these sends run the statechart's full step (cached exit and entry sets), not a lookup.
GUARDED = SOURCE.replace("machine Light() {", "machine Guarded() {\n    data { n: 0 }").replace(
    "on PED -> waiting", "on PED -> waiting when n >= 0"
).replace("on TIMER -> green", "on TIMER -> green do {\n            n = n + 1\n        }")


class HandLight:
    """XState's selection written out: the leaf's transition for the event, else its parent's."""

    table = {
        ("green", "TIMER"): "yellow",
        ("yellow", "TIMER"): "red.walk",
        ("red", "TIMER"): "green",
        ("red.walk", "PED"): "red.waiting",
        ("red.waiting", "PED"): "red.stop",
    }
    parents = {"red.walk": "red", "red.waiting": "red", "red.stop": "red"}

    def __init__(self) -> None:
        self.state = "green"

    async def send(self, event: str) -> bool:
        state: str | None = self.state
        while state is not None:
            target = self.table.get((state, event))
            if target is not None:
                self.state = target
                return True
            state = self.parents.get(state)
        return False


def statemachine_charts() -> tuple[Any, Any, Any] | None:
    """python-statemachine's light, for its async and its sync engine (None: not installed)."""
    try:
        from statemachine import State, StateChart
    except ImportError:
        return None

    class SyncLight(StateChart):  # type: ignore[misc]
        green = State(initial=True)
        yellow = State()

        class red(State.Compound):  # noqa: N801 - the state's name
            walk = State(initial=True)
            waiting = State()
            stop = State()
            PED = walk.to(waiting) | waiting.to(stop)

        TIMER = green.to(yellow) | yellow.to(red) | red.to(green)

    class AsyncLight(SyncLight):  # type: ignore[misc]
        async def on_enter_green(self) -> None:  # an async callback selects the async engine
            return None

    class GuardedLight(StateChart):  # type: ignore[misc]
        green = State(initial=True)
        yellow = State()

        class red(State.Compound):  # noqa: N801 - the state's name
            walk = State(initial=True)
            waiting = State()
            stop = State()
            PED = walk.to(waiting, cond="ready") | waiting.to(stop)

        TIMER = green.to(yellow) | yellow.to(red) | red.to(green, on="count")

        def __init__(self) -> None:
            self.n = 0
            super().__init__()

        def ready(self) -> bool:
            return self.n >= 0

        async def count(self) -> None:  # async: the async engine, as wfc's awaited send
            self.n += 1

    return AsyncLight, SyncLight, GuardedLight


async def _started(cls: type) -> Any:
    """An async StateChart, made and started inside the loop, as its docs do."""
    machine = cls()
    await machine.activate_initial_state()
    return machine


def async_timer(loop: asyncio.AbstractEventLoop, send: Callable[[str], Any], cycles: int) -> Callable[[], float]:
    async def run() -> float:
        started = time.perf_counter()
        for _ in range(cycles):
            for event in CYCLE:
                await send(event)
        return (time.perf_counter() - started) / (cycles * len(CYCLE))

    return lambda: loop.run_until_complete(run())


def sync_timer(send: Callable[[str], Any], cycles: int) -> Callable[[], float]:
    def run() -> float:
        started = time.perf_counter()
        for _ in range(cycles):
            for event in CYCLE:
                send(event)
        return (time.perf_counter() - started) / (cycles * len(CYCLE))

    return run


def rows(cycles: int = 6_000, rounds: int = 7) -> list[Row]:
    module = load_source(SOURCE + GUARDED, "statechart_bench.wf", backend="compiled")
    loop = asyncio.new_event_loop()
    rt = Runtime()
    try:
        with rt.activate():
            light, hand, guarded = module.Light(), HandLight(), module.Guarded()
            timers = {
                "hand": async_timer(loop, hand.send, cycles),
                "wfc": async_timer(loop, light.send, cycles),
                "wfc-guarded": async_timer(loop, guarded.send, cycles),
            }
            charts = statemachine_charts()
            if charts is not None:
                slow = max(cycles // 100, 20)
                asynchronous = loop.run_until_complete(_started(charts[0]))
                timers["psm-async"] = async_timer(loop, asynchronous.send, slow)
                timers["psm-sync"] = sync_timer(charts[1]().send, slow)
                timers["psm-guarded"] = async_timer(loop, loop.run_until_complete(_started(charts[2])).send, slow)
            samples = interleaved(timers, rounds)
            assert light.state == hand.state == "green", (light.state, hand.state)
    finally:
        loop.close()
    result = [
        Row("statechart send: wfc / hand-written XState dispatch", per_round_ratio(samples, "wfc", "hand")),
        Row("statechart send: wfc sends per second", [1 / seconds for seconds in samples["wfc"]], unit="/s"),
    ]
    if charts is None:
        result.append(Row("statechart send: python-statemachine not installed (pip install -e '.[bench]')",
                          [float("nan")], at_least=100))
        return result
    result += [
        Row("statechart send: python-statemachine async / wfc", per_round_ratio(samples, "psm-async", "wfc"),
            at_least=100),
        Row("statechart send: python-statemachine sync / wfc", per_round_ratio(samples, "psm-sync", "wfc"),
            at_least=100),
        Row("statechart send with a guard and an action: python-statemachine async / wfc",
            per_round_ratio(samples, "psm-guarded", "wfc-guarded"), at_least=100),
    ]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=6_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print_rows(f"statechart send, {args.cycles} cycles of 5 sends x {args.rounds} rounds", rows(args.cycles, args.rounds))


if __name__ == "__main__":
    main()
