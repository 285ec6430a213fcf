"""Benchmark: what a journaled step costs, on SQLite, against its floor and against DBOS.

    python bench/durable.py [--runs 200] [--rounds 9]      (DBOS: the `bench` extra)

Contenders, per step of a 10-step workflow (each step a trivial async handler):
- `bare`: the compiled workflow, no journal (a plain await per step);
- `floor`: one SQLite `INSERT` + `COMMIT` per step in WAL mode with
  synchronous=NORMAL, by hand with `sqlite3`: the least any journal can cost;
- `wfc durable`: the compiled workflow started with `rt.start` on a SqliteStore;
- `wfc fan-out`: 10 items of a `parallel for ... limit 10`, journaled (their
  commits are shared);
- `dbos`: the same 10 steps as a DBOS Transact async workflow on its SQLite system
  database (when `dbos` is installed).
Each round times every contender once, in an order reversed every other round;
a ratio is taken within each round (paired) and the table shows its median and
range. Targets: wfc durable <= 1.5x the floor per step; below DBOS per step.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row, interleaved_async, per_round_ratio, print_rows  # noqa: E402

from wfc.api import load_source  # noqa: E402
from wfc.runtime import Runtime, SqliteStore  # noqa: E402

STEPS = 10
SOURCE = """use bench_handlers as h

workflow ten(x) {
""" + "".join("    x = h.tick(x)\n" for _ in range(STEPS)) + """    return x
}

workflow spread(xs) {
    ys = parallel for x in xs limit 10 { yield h.tick(x) }
    return ys
}
"""


async def per_step(make, runs: int) -> float:
    started = time.perf_counter()
    for number in range(runs):
        await make(number)
    return (time.perf_counter() - started) / (runs * STEPS)


def contenders(folder: Path) -> dict:
    module = load_source(SOURCE, "durable_bench.wf", backend="compiled")
    rt = Runtime(store=SqliteStore(folder / "wfc.db"))
    floor_db = sqlite3.connect(folder / "floor.db", isolation_level=None)
    floor_db.execute("PRAGMA journal_mode=WAL")
    floor_db.execute("PRAGMA synchronous=NORMAL")
    floor_db.execute("CREATE TABLE steps (key TEXT PRIMARY KEY, value TEXT)")
    counter = iter(range(10**9))

    async def bare(number: int) -> None:
        with rt.activate():
            await module.ten(number)

    async def floor(number: int) -> None:
        for step in range(STEPS):
            floor_db.execute("BEGIN")
            floor_db.execute("INSERT INTO steps VALUES (?, ?)", (f"{next(counter)}", '{"ok":true,"value":1}'))
            floor_db.execute("COMMIT")
            await asyncio.sleep(0) if step < 0 else None

    async def durable(number: int) -> None:
        run = await rt.start(module.ten, number, run_id=f"r{next(counter)}")
        await run.result()

    async def fan_out(number: int) -> None:
        run = await rt.start(module.spread, list(range(STEPS)), run_id=f"f{next(counter)}")
        await run.result()

    found = {"bare": bare, "floor": floor, "wfc durable": durable, "wfc fan-out": fan_out}
    dbos_run = dbos_contender(folder)
    if dbos_run is not None:
        found["dbos"] = dbos_run
    return found


def dbos_contender(folder: Path):
    try:
        from dbos import DBOS
    except ImportError:
        return None
    import bench_handlers as h

    DBOS(config={"name": "wfc-bench", "system_database_url": f"sqlite:///{folder / 'dbos.sqlite'}",
                 "log_level": "WARNING"})

    @DBOS.step()
    async def parse(x):
        return await h.tick(x)

    @DBOS.workflow()
    async def ten(x):
        for _ in range(STEPS):
            x = await parse(x)
        return x

    DBOS.launch()

    async def run(number: int) -> None:
        await ten(number)
    return run


def rows(runs: int = 200, rounds: int = 9) -> list[Row]:
    with tempfile.TemporaryDirectory() as folder:
        async def measure() -> dict[str, list[float]]:
            found = contenders(Path(folder))
            timers = {name: (lambda make=make: per_step(make, runs)) for name, make in found.items()}
            return await interleaved_async(timers, rounds)

        samples = asyncio.run(measure())
    result = [
        Row("durable step: wfc / SQLite INSERT+COMMIT floor", per_round_ratio(samples, "wfc durable", "floor"),
            at_most=1.5),
        Row("durable fan-out item: wfc / floor", per_round_ratio(samples, "wfc fan-out", "floor")),
        Row("durable step: wfc durable / not durable", per_round_ratio(samples, "wfc durable", "bare")),
        Row("durable step: wfc, microseconds", [value * 1e6 for value in samples["wfc durable"]], unit=" us"),
    ]
    if "dbos" in samples:
        result.append(Row("durable step: wfc / DBOS", per_round_ratio(samples, "wfc durable", "dbos"),
                          at_most=1.0))
    else:
        result.append(Row("durable step: DBOS not installed (pip install dbos)", [float("nan")], at_most=1.0))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print_rows(f"per step of a {STEPS}-step workflow, {args.runs} runs x {args.rounds} rounds",
               rows(args.runs, args.rounds))


if __name__ == "__main__":
    main()
