"""Benchmark: what the route, guard, `if` and budget analyses add to `wfc check`.

    python bench/analysis.py [--rounds 15]

For each example, and for a stress file of large routers and `if` chains, each round
checks the source twice in this process, once with the analyses and once without
(the same parse and resolution), in alternating order, and takes the ratio in that
round (paired); the table shows the median and range of those ratios and the median
milliseconds with the analyses. Then each example is checked by the whole command,
`wfc check FILE`, in a fresh process, as a user runs it.
Targets: `wfc check` of every example under 0.5 s; the analyses at most 1.5x the
checker without them on every example.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
COMMAND_TARGET = 0.5
RATIO_TARGET = 1.5  # examples only: the stress file shows the cost of large routers


def stress_source() -> str:
    """Routers of 30 routes over four fields, and a 20-branch `if` chain."""
    routes = []
    for n in range(30):
        condition = (f'x.kind == "k{n}"', f"x.tier == {n}", f"x.amount >= {n * 10} and x.amount < {n * 10 + 10}",
                     f'x.region in ["r{n}", "s{n}"]')[n % 4]
        routes.append(f"    route r{n} when {condition} and x.flag -> {n}")
    routers = "".join(f"router big{k}(x) {{\n" + "\n".join(routes) + "\n    default -> -1\n}\n"
                      for k in range(5))
    chain = " elif ".join(f"n == {k} {{\n        return {k}\n    }}" for k in range(20))
    return routers + f"workflow w(n) {{\n    if {chain}\n    return 0\n}}\n"


@contextmanager
def analyses_off() -> Iterator[None]:
    import wfc.check as check

    saved = check.check_coverage, check.check_budgets
    check.check_coverage = check.check_budgets = lambda *args: []  # type: ignore[assignment]
    try:
        yield
    finally:
        check.check_coverage, check.check_budgets = saved


def timed(source: str, name: str, off: bool) -> float:
    from wfc.api import analyze

    started = time.perf_counter()
    if off:
        with analyses_off():
            analyze(source, name)
    else:
        analyze(source, name)
    return time.perf_counter() - started


def paired(source: str, name: str, rounds: int) -> tuple[list[float], list[float]]:
    ratios, times = [], []
    for number in range(rounds):
        order = (False, True) if number % 2 == 0 else (True, False)
        measured = {off: timed(source, name, off) for off in order}
        ratios.append(measured[False] / measured[True])
        times.append(measured[False])
    return ratios, times


def command(path: Path, rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wfc", "check", str(path)], capture_output=True, check=False)
        seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    cases = [(path.name, path.read_text(encoding="utf-8")) for path in sorted((ROOT / "examples").glob("*.wf"))]
    cases.append(("stress (5 x 30 routes, 20 elifs)", stress_source()))
    held = True
    print(f"{'source':36} {'with / without analyses':>26} {'ms with':>9}")
    for name, source in cases:
        timed(source, name, False)  # warm caches and imports
        ratios, times = paired(source, name, args.rounds)
        median = statistics.median(ratios)
        example = not name.startswith("stress")
        ok = median <= RATIO_TARGET or not example
        held &= ok
        print(f"{name:36} {median:8.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"
              f"{'' if ok else ' MISSED':>7} {statistics.median(times) * 1000:9.1f}")
    print(f"\n`wfc check FILE` in a fresh process (target < {COMMAND_TARGET}s):")
    for path in sorted((ROOT / "examples").glob("*.wf")):
        seconds = command(path, max(3, args.rounds // 3))
        median = statistics.median(seconds)
        held &= median < COMMAND_TARGET
        print(f"  {path.name:34} {median:6.3f}s (max {max(seconds):.3f}s)"
              f"{'' if median < COMMAND_TARGET else '  MISSED'}")
    print("\nall targets hold" if held else "\nsome targets missed")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
