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
No check finds its file's tree in the parse cache: every check parses, as the first
after an edit does (the commands keep only the grammar's tables in theirs).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from harness import Row, cache_without_trees, interleaved, per_round_ratio, print_rows  # noqa: E402

os.environ["WFC_NO_CACHE"] = "1"  # this process's checks: every one parses

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


def rows(rounds: int = 15) -> list[Row]:
    cases = [(path.name, path.read_text(encoding="utf-8")) for path in sorted((ROOT / "examples").glob("*.wf"))]
    cases.append(("stress (5 x 30 routes, 20 elifs)", stress_source()))
    result = []
    for name, source in cases:
        timers = {
            "with": lambda source=source, name=name: timed(source, name, False),
            "without": lambda source=source, name=name: timed(source, name, True),
        }
        samples = interleaved(timers, rounds)
        example = not name.startswith("stress")
        result.append(Row(f"check {name}: with analyses / without", per_round_ratio(samples, "with", "without"),
                          at_most=RATIO_TARGET if example else None))
    with tempfile.TemporaryDirectory() as tables:
        for path in sorted((ROOT / "examples").glob("*.wf")):
            result.append(Row(f"wfc check {path.name}, a fresh process",
                              command(path, max(3, rounds // 3), Path(tables)), unit=" s", at_most=COMMAND_TARGET))
    return result


def command(path: Path, rounds: int, tables: Path) -> list[float]:
    """`rounds` timings of `wfc check path`, after one that is not timed (the first
    command of all writes the grammar's tables)."""
    seconds = []
    for number in range(rounds + 1):
        env = cache_without_trees(tables)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "wfc", "check", str(path)], capture_output=True, check=False, env=env)
        if number:
            seconds.append(time.perf_counter() - started)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    result = rows(args.rounds)
    print_rows("wfc check: the route, guard, if and budget analyses", result)
    return 0 if all(row.holds is not False for row in result) else 1


if __name__ == "__main__":
    sys.exit(main())
