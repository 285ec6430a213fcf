"""Benchmark: `wfc check` and `wfc compile` on generated sources of growing size.

    python bench/scale.py [--sizes 1000,10000,100000] [--rounds 3]

For each size, fresh child processes run: the checker (parse and check), the
compiler (parse, check, emit, format) and, as the peer, black formatting the
same generated module in one piece, as `black` itself would. Each round runs
compile and black back to back, in alternating order, and takes their ratio
in that round (paired); the table shows the median and range of those ratios,
the throughput in `.wf` lines per second and each process's peak memory.
Targets: throughput linear in size (lines/s stays flat), compile <= 2x black.
Sources of 50,000 lines or more are measured in one round (black alone takes
minutes there).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from scale_source import make_source  # noqa: E402


def child(job: str, path: str) -> None:
    """Run one job on the file at `path` and print its seconds and peak memory."""
    from wfc.api import analyze, compile_source

    source = Path(path).read_text(encoding="utf-8")
    started = time.perf_counter()
    if job == "check":
        analyze(source, "scale.wf")
    elif job == "compile":
        compile_source(source, "scale.wf")
    else:  # black on the module wfc generates, before wfc formats it
        import black

        from wfc.codegen import module as codegen

        raw: list[str] = []
        codegen.format_python = lambda text: raw.append(text) or text  # type: ignore[assignment]
        checked = analyze(source, "scale.wf")
        codegen.generate(checked.module, checked.resolution, source, "0")
        mode = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)
        started = time.perf_counter()
        black.format_str(raw[0], mode=mode)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb}))


def run_child(job: str, path: Path) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", job, str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def measure(lines: int, rounds: int, folder: Path) -> dict[str, object]:
    path = folder / f"scale{lines}.wf"
    path.write_text(make_source(lines), encoding="utf-8")
    actual = path.read_text(encoding="utf-8").count("\n")
    checks = [run_child("check", path) for _ in range(rounds)]
    compiles, blacks, ratios = [], [], []
    for number in range(rounds):
        order = ("compile", "black") if number % 2 == 0 else ("black", "compile")
        result = {job: run_child(job, path) for job in order}
        compiles.append(result["compile"])
        blacks.append(result["black"])
        ratios.append(result["compile"]["seconds"] / result["black"]["seconds"])
    return {
        "lines": actual,
        "check_lps": actual / statistics.median(c["seconds"] for c in checks),
        "check_mb": max(c["peak_mb"] for c in checks),
        "compile_lps": actual / statistics.median(c["seconds"] for c in compiles),
        "compile_mb": max(c["peak_mb"] for c in compiles),
        "black_mb": max(b["peak_mb"] for b in blacks),
        "ratio": (statistics.median(ratios), min(ratios), max(ratios)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("JOB", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    print(f"{'wf lines':>9} {'check lines/s':>14} {'check MB':>9} {'compile lines/s':>16} "
          f"{'compile MB':>11} {'black MB':>9}  compile/black (median, range)  target <= 2x")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(text) for text in args.sizes.split(",")):
            rounds = args.rounds if size < 50_000 else 1
            row = measure(size, rounds, Path(folder))
            median, low, high = row["ratio"]  # type: ignore[misc]
            verdict = "holds" if median <= 2.0 else "MISSED"
            print(f"{row['lines']:>9} {row['check_lps']:>14.0f} {row['check_mb']:>9.0f} "
                  f"{row['compile_lps']:>16.0f} {row['compile_mb']:>11.0f} {row['black_mb']:>9.0f}  "
                  f"{median:.2f}x ({low:.2f}-{high:.2f}), {rounds} round(s)  {verdict}", flush=True)


if __name__ == "__main__":
    main()
