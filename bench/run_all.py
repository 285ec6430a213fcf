"""Every bench, one table: each figure with its target and whether it holds.

    python bench/run_all.py [--quick] [--only NAME[,NAME...]]

Runs bench/pipeline.py, machine.py, statechart.py, saga.py, fanout.py, policies.py,
durable.py, compiler.py and analysis.py, each through bench/harness.py (contenders
interleaved, order reversed every other round, ratios and overheads paired per
round), and prints one table. `--quick` runs fewer calls and rounds: the same
figures, wider ranges. The peers (tenacity, aiolimiter, purgatory, transitions,
python-statemachine, DBOS) come with `pip install -e '.[bench]'`; a missing one shows as n/a.
Exits 1 if a target is missed. Read bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row, print_rows  # noqa: E402

# bench module -> (its arguments, its arguments with --quick)
BENCHES: dict[str, tuple[dict, dict]] = {
    "pipeline": ({"calls": 20_000, "rounds": 9}, {"calls": 3_000, "rounds": 5}),
    "machine": ({"sends": 30_000, "rounds": 9}, {"sends": 5_000, "rounds": 5}),
    "statechart": ({"cycles": 6_000, "rounds": 7}, {"cycles": 1_000, "rounds": 5}),
    "saga": ({"calls": 20_000, "rounds": 9}, {"calls": 3_000, "rounds": 5}),
    "fanout": ({"items": 10_000, "rounds": 9}, {"items": 3_000, "rounds": 5}),
    "policies": ({"calls": 20_000, "rounds": 9}, {"calls": 3_000, "rounds": 5}),
    "durable": ({"runs": 200, "rounds": 9}, {"runs": 50, "rounds": 5}),
    "compiler": ({"rounds": 5}, {"rounds": 3}),
    "analysis": ({"rounds": 15}, {"rounds": 5}),
    "temporal": ({"runs": 20, "rounds": 7}, {"runs": 5, "rounds": 3}),  # starts a dev server
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls and rounds")
    parser.add_argument("--only", help="a comma-separated subset of: " + ", ".join(BENCHES))
    args = parser.parse_args()
    chosen = list(BENCHES) if not args.only else args.only.split(",")
    unknown = [name for name in chosen if name not in BENCHES]
    if unknown:
        parser.error(f"unknown bench: {', '.join(unknown)}")
    missed: list[Row] = []
    for name in chosen:
        started = time.perf_counter()
        rows = importlib.import_module(name).rows(**BENCHES[name][1 if args.quick else 0])
        print_rows(f"{name} ({time.perf_counter() - started:.0f} s)", rows)
        missed += [row for row in rows if row.holds is False]
    print(f"\n{len(missed)} target(s) missed" if missed else "\nevery target holds")
    for row in missed:
        print(f"  MISSED: {row.what}: {row.shown()} against {row.target()}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
