"""Tests of the tests: change the runtime one operator at a time and see whether a test fails.

    python tools/mutate.py [--modules _policies,_saga,_machine,_concurrency] [--sample N] [--seed S]

Each mutant is one small change to a module of `wfc.runtime`: a comparison turned
(`<` to `<=`, `==` to `!=`), `and` to `or`, `+` to `-`, an integer constant plus one,
`True` to `False`. The module is rewritten with the mutant (and restored after), and the
tests that cover it run (`pytest -x`); a mutant the tests do not notice *survives*. The
score is the share of mutants killed; each survivor is printed with its line, to be read:
either a test is missing, or the change does not change behaviour (an equivalent mutant).
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ROOT / "src" / "wfc" / "runtime"
TESTS = {  # the tests that cover each module
    "_policies": ["tests/test_policies.py", "tests/test_policy_language.py", "tests/test_breaker_rate.py",
                  "tests/test_backends.py",
                  "tests/test_retries.py", "tests/test_inline_policies.py", "tests/properties/test_limits.py"],
    "_saga": ["tests/test_sagas.py", "tests/test_cancellation.py", "tests/properties/test_semantics.py"],
    "_machine": ["tests/test_machines.py", "tests/test_stores.py"],
    "_concurrency": ["tests/test_runtime.py", "tests/test_cancellation.py", "tests/test_races.py",
                     "tests/test_dataflow.py", "tests/test_select.py", "tests/test_backends.py",
                     "tests/test_durable_changes.py", "tests/properties/test_fan_out.py"],
}
_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
    ast.And: ast.Or, ast.Or: ast.And, ast.Add: ast.Sub, ast.Sub: ast.Add,
}


@dataclass(frozen=True)
class Mutant:
    module: str
    number: int  # which mutation point of the module, in walk order
    line: int
    what: str


class _Mutator(ast.NodeTransformer):
    """Applies mutation point `target` (or, with target None, only counts them)."""

    def __init__(self, target: int | None = None) -> None:
        self.target = target
        self.points: list[tuple[int, str]] = []
        self.done = ""

    def _point(self, node: ast.AST, what: str) -> bool:
        self.points.append((getattr(node, "lineno", 0), what))
        if len(self.points) - 1 == self.target:
            self.done = what
            return True
        return False

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for index, op in enumerate(node.ops):
            swap = _SWAPS.get(type(op))
            if swap and self._point(node, f"{type(op).__name__} -> {swap.__name__}"):
                node.ops[index] = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        swap = _SWAPS[type(node.op)]
        if self._point(node, f"{type(node.op).__name__} -> {swap.__name__}"):
            node.op = swap()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = _SWAPS.get(type(node.op))
        if swap and self._point(node, f"{type(node.op).__name__} -> {swap.__name__}"):
            node.op = swap()
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, bool):
            if self._point(node, f"{node.value} -> {not node.value}"):
                return ast.copy_location(ast.Constant(value=not node.value), node)
        elif isinstance(node.value, int) and self._point(node, f"{node.value} -> {node.value + 1}"):
            return ast.copy_location(ast.Constant(value=node.value + 1), node)
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node  # a docstring: nothing to mutate
        return self.generic_visit(node)


def mutants(module: str) -> list[Mutant]:
    counter = _Mutator()
    counter.visit(ast.parse((RUNTIME / f"{module}.py").read_text(encoding="utf-8")))
    return [Mutant(module, number, line, what) for number, (line, what) in enumerate(counter.points)]


def _tests(module: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-m", "not slow", *TESTS[module]],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def time_limit(module: str) -> float:
    """How long a mutant's test run may take before it counts as hanging: four times the
    unmutated run (at least 30 s), so a hanging mutant costs seconds, not minutes."""
    started = time.monotonic()
    result = _tests(module, 600)
    if result.returncode != 0:
        sys.exit(f"the tests of {module} fail before any mutation:\n{result.stdout[-2000:]}")
    return max(30.0, 4 * (time.monotonic() - started))


def killed(mutant: Mutant, timeout: float) -> bool:
    path = RUNTIME / f"{mutant.module}.py"
    original = path.read_text(encoding="utf-8")
    mutator = _Mutator(mutant.number)
    tree = mutator.visit(ast.parse(original))
    try:
        path.write_text(ast.unparse(ast.fix_missing_locations(tree)), encoding="utf-8")
        _forget_bytecode(mutant.module)
        return _tests(mutant.module, timeout).returncode != 0
    except subprocess.TimeoutExpired:
        return True  # a mutant that hangs the tests is noticed
    finally:
        path.write_text(original, encoding="utf-8")
        _forget_bytecode(mutant.module)


def _forget_bytecode(module: str) -> None:
    """A mutant often has its original's size, and can be written within the same second:
    bytecode cached for one would pass for the other. None is kept."""
    for cached in (RUNTIME / "__pycache__").glob(f"{module}.*.pyc"):
        cached.unlink()


def main() -> int:
    # Stopped from outside, it still puts the module back (the `finally` in `killed`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    parser = argparse.ArgumentParser()
    parser.add_argument("--modules", default=",".join(TESTS))
    parser.add_argument("--sample", type=int, default=0, help="test N random mutants per module (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    total = dead = 0
    for module in args.modules.split(","):
        chosen = mutants(module)
        if args.sample and len(chosen) > args.sample:
            chosen = sorted(rng.sample(chosen, args.sample), key=lambda m: m.number)
        timeout = time_limit(module)
        survivors = [mutant for mutant in chosen if not killed(mutant, timeout)]
        total += len(chosen)
        dead += len(chosen) - len(survivors)
        print(f"{module}: {len(chosen) - len(survivors)}/{len(chosen)} killed", flush=True)
        for mutant in survivors:
            print(f"  survived: runtime/{module}.py:{mutant.line} {mutant.what}", flush=True)
    print(f"score: {dead}/{total} = {dead / total:.0%}" if total else "no mutants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
