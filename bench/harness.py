"""The one way every bench measures: contenders side by side, paired per round.

Each round times every contender once, in a fixed order that is reversed every
other round, so drift and noise hit all of them alike. A ratio is taken inside
each round (paired) and summarised by its median and range over the rounds; an
overhead is a per-round difference, never a difference of two medians. No
denominator is clamped: a ratio whose denominator is not positive is reported
as not measurable.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

Timer = Callable[[], float]  # runs one sample of a contender; the seconds it took


def interleaved(timers: dict[str, Timer], rounds: int, warmup: int = 1) -> dict[str, list[float]]:
    """`rounds` samples of every timer, the order reversed every other round."""
    names = list(timers)
    for _ in range(warmup):
        for name in names:
            timers[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            samples[name].append(timers[name]())
    return samples


async def interleaved_async(
    timers: dict[str, Callable[[], Awaitable[float]]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """`interleaved` for timers that must run on the caller's event loop."""
    names = list(timers)
    for _ in range(warmup):
        for name in names:
            await timers[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            samples[name].append(await timers[name]())
    return samples


def cache_without_trees(folder: Path) -> dict[str, str]:
    """The environment of a `wfc` command that finds no parsed tree in its cache, as the
    first command after an edit: `folder` keeps only the grammar's tables (which the
    first such command writes, and which every user has after their first command)."""
    for entry in folder.glob("*.wfast"):
        entry.unlink()
    return {**os.environ, "WFC_CACHE_DIR": str(folder), "WFC_NO_CACHE": ""}


def per_round_ratio(samples: dict[str, list[float]], top: str, bottom: str) -> list[float]:
    return [a / b if b > 0 else float("nan") for a, b in zip(samples[top], samples[bottom])]


def per_round_overhead(samples: dict[str, list[float]], name: str, base: str) -> list[float]:
    return [a - b for a, b in zip(samples[name], samples[base])]


@dataclass
class Row:
    """One measured figure and, if it has one, its target: `value <= at_most` or `>= at_least`."""

    what: str
    values: list[float]
    unit: str = "x"
    at_most: float | None = None
    at_least: float | None = None
    note: str = ""

    @property
    def median(self) -> float:
        """The median round; NaN if any round could not be measured."""
        if any(value != value for value in self.values):
            return float("nan")
        return statistics.median(self.values)

    @property
    def holds(self) -> bool | None:
        if self.at_most is None and self.at_least is None:
            return None
        if any(v != v for v in self.values):  # NaN: a denominator was not positive
            return False
        if self.at_most is not None and self.median > self.at_most:
            return False
        return not (self.at_least is not None and self.median < self.at_least)

    def target(self) -> str:
        if self.at_most is not None:
            return f"<= {_number(self.at_most)}{self.unit}"
        if self.at_least is not None:
            return f">= {_number(self.at_least)}{self.unit}"
        return ""

    def shown(self) -> str:
        return f"{_number(self.median)}{self.unit}"

    def line(self, width: int = 58) -> str:
        measured = [value for value in self.values if value == value]  # NaN: not measurable
        spread = ""
        if len(self.values) > 1 and measured:
            spread = f"{_number(min(measured))}-{_number(max(measured))}"
            if len(measured) < len(self.values):
                spread += f" ({len(self.values) - len(measured)} n/a)"
        verdict = {None: "", True: "holds", False: "MISSED"}[self.holds]
        note = f"  ({self.note})" if self.note else ""
        return (f"  {self.what:{width}} {_number(self.median):>9}{self.unit:<5} {spread:>23}  "
                f"{self.target():>12}  {verdict}{note}")


def _number(value: float) -> str:
    if value != value:
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def print_rows(title: str, rows: list[Row]) -> None:
    print(title)
    print(f"  {'what':58} {'median':>9}{'':5} {'range':>23}  {'target':>12}")
    for row in rows:
        print(row.line(), flush=True)


def async_timer(loop: asyncio.AbstractEventLoop, function: Callable[[int], Awaitable[object]],
                calls: int) -> Timer:
    """A timer of `calls` sequential awaits of `function(n)`: seconds per call."""

    async def run() -> float:
        started = time.perf_counter()
        for n in range(calls):
            await function(n)
        return (time.perf_counter() - started) / calls

    return lambda: loop.run_until_complete(run())
