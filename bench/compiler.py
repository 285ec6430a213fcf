"""Benchmark: the compiler at scale, f-string parsing, and the start-up of small commands.

    python bench/compiler.py [--rounds R] [--large]

Every figure is a whole `wfc` command in a fresh process, as a user runs it, on
generated sources (bench/scale_source.py); rounds interleave the commands and
reverse their order every other round (bench/harness.py).
Targets:
- `wfc compile` >= 2,000 `.wf` lines/s at 10,000 lines, and linear: the time per
  line at 10,000 lines <= 1.25x the time per line at 1,000;
- f-string parsing linear: `wfc check` of 10,000 lines with an f-string every third
  line <= 1.2x the same file with the same text and fields in a list instead;
- `wfc check` of a 10,000-line file <= 1.5 s;
- `wfc check` and `wfc run` of a small file <= 150 ms, both when its parse is cached
  (any command after the first on unchanged text) and when the file has just
  changed (new text each round); the bare interpreter's own start-up, `python -c
  pass`, is shown beside them.
Every command but those marked "parse cached" finds no parsed tree in the cache (only
the grammar's tables), so it parses with lark and writes the cache entry, as the first
command after an edit does.
With --large, compile throughput at 50,000 lines is measured too (one round).
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row, cache_without_trees, interleaved, per_round_ratio, print_rows  # noqa: E402
from scale_source import make_source  # noqa: E402

SMALL = 'workflow main(name: str = "world") {\n    return f"hello {name}"\n}\n'


def strings_source(lines: int, fstrings: bool) -> str:
    """Workflows of 100 assignments; every third one an f-string with two fields, or
    (without f-strings) a list of the same text and the same two expressions: the
    expressions are parsed either way, so the ratio shows what f-strings add."""
    blocks, per_block = [], 100
    for block in range(max(1, lines // (per_block + 3))):
        body = ["    a = 1", "    b = 2"]
        for n in range(per_block):
            if n % 3 == 0:  # every field's text differs: no two parse alike
                unique = block * per_block + n
                text = f'f"item {n}: {{a}} and {{b + {unique}}}"' if fstrings else f'["item {n}: ", a, " and ", b + {unique}]'
            else:
                text = f"a + {n}"
            body.append(f"    x{n} = {text}")
        blocks.append(f"workflow w{block}() {{\n" + "\n".join(body) + "\n    return a\n}\n")
    return "\n".join(blocks)


def command(*args: str, cwd: Path, cached: bool = False) -> float:
    """Seconds one `wfc` command takes, start to exit. `cached`: with the bench's parse
    cache; else with one that holds no tree, so the command parses and writes an entry,
    as the first command after an edit does."""
    if cached:
        env = {**os.environ, "WFC_CACHE_DIR": str(cwd / "cache"), "WFC_NO_CACHE": ""}
    else:
        env = cache_without_trees(cwd / "no-trees")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: the generated sources carry hints and warnings
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return seconds


def rows(rounds: int = 5, large: bool = False) -> list[Row]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "bench_handlers.py").write_text((HERE / "bench_handlers.py").read_text())
        sources = {"scale1k.wf": make_source(1_000), "scale10k.wf": make_source(10_000),
                   "fstrings.wf": strings_source(10_000, True), "plain.wf": strings_source(10_000, False),
                   "small.wf": SMALL}
        versions = itertools.count()

        def changed() -> str:
            """small.wf as just edited: a text no command has parsed yet."""
            (folder / "changed.wf").write_text(f"{SMALL}# edit {next(versions)}\n", encoding="utf-8")
            return "changed.wf"

        lines = {}
        for file, text in sources.items():
            (folder / file).write_text(text, encoding="utf-8")
            lines[file] = text.count("\n")
        timers = {
            "compile 1k": lambda: command("-m", "wfc", "compile", "--force", "scale1k.wf", "-o", "out1k.py",
                                          cwd=folder),
            "compile 10k": lambda: command("-m", "wfc", "compile", "--force", "scale10k.wf", "-o", "out10k.py",
                                           cwd=folder),
            "check 10k": lambda: command("-m", "wfc", "check", "scale10k.wf", cwd=folder),
            "check 10k cached": lambda: command("-m", "wfc", "check", "scale10k.wf", cwd=folder, cached=True),
            "check fstrings": lambda: command("-m", "wfc", "check", "fstrings.wf", cwd=folder),
            "check plain": lambda: command("-m", "wfc", "check", "plain.wf", cwd=folder),
            "check small": lambda: command("-m", "wfc", "check", "small.wf", cwd=folder, cached=True),
            "run small": lambda: command("-m", "wfc", "run", "small.wf", "main", cwd=folder, cached=True),
            "check changed": lambda: command("-m", "wfc", "check", changed(), cwd=folder),
            "run changed": lambda: command("-m", "wfc", "run", changed(), "main", cwd=folder),
            "python": lambda: command("-c", "pass", cwd=folder),
        }
        samples = interleaved(timers, rounds)
        result = [
            Row("compile: .wf lines/s at 10,000 lines",
                [lines["scale10k.wf"] / s for s in samples["compile 10k"]], unit=" l/s", at_least=2000),
            Row("compile: time per line at 10,000 / at 1,000 lines",
                [(b / lines["scale10k.wf"]) / (a / lines["scale1k.wf"])
                 for a, b in zip(samples["compile 1k"], samples["compile 10k"])], at_most=1.25),
            Row("compile: .wf lines/s at 1,000 lines",
                [lines["scale1k.wf"] / s for s in samples["compile 1k"]], unit=" l/s"),
            Row("check: a 10,000-line file", samples["check 10k"], unit=" s", at_most=1.5),
            Row("check: a 10,000-line file, parse cached", samples["check 10k cached"], unit=" s"),
            Row("check: 10,000 lines with f-strings / without",
                per_round_ratio(samples, "check fstrings", "check plain"), at_most=1.2),
            Row("start-up: wfc check of a small file (parse cached)", [s * 1000 for s in samples["check small"]],
                unit=" ms", at_most=150),
            Row("start-up: wfc run of a small file (parse cached)", [s * 1000 for s in samples["run small"]],
                unit=" ms", at_most=150),
            Row("start-up: wfc check of a just-changed small file", [s * 1000 for s in samples["check changed"]],
                unit=" ms", at_most=150),
            Row("start-up: wfc run of a just-changed small file", [s * 1000 for s in samples["run changed"]],
                unit=" ms", at_most=150),
            Row("start-up: python -c pass (the floor)", [s * 1000 for s in samples["python"]], unit=" ms"),
        ]
        if large:
            (folder / "scale50k.wf").write_text(make_source(50_000), encoding="utf-8")
            seconds = command("-m", "wfc", "compile", "--force", "scale50k.wf", "-o", "out50k.py", cwd=folder)
            count = (folder / "scale50k.wf").read_text().count("\n")
            result.append(Row("compile: .wf lines/s at 50,000 lines (one round)", [count / seconds],
                              unit=" l/s", at_least=2000))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--large", action="store_true", help="also compile 50,000 lines")
    args = parser.parse_args()
    print_rows(f"compiler and start-up, {args.rounds} rounds", rows(args.rounds, args.large))


if __name__ == "__main__":
    main()
