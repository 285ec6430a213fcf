"""A budget is never less than a run takes: random programs of waits, retried calls that
hang until their timeout, loops, parallel blocks and branches, run on a virtual clock
under the fault schedule that makes them slowest (every attempt hangs until its timeout,
so every retry happens). Without jitter, branches or parallel blocks (where a budget takes
the largest of each term, an upper bound), the budget is exactly that time.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import re
import sys
import types

from hypothesis import given, note, settings, strategies as st

from wfc.api import analyze, load_source
from wfc.check.budget import Budgets
from wfc.runtime import Runtime, VirtualClock

EXAMPLES = max(10, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 3)
MODULE = "wfbudget_handlers"


@st.composite
def calls(draw) -> str:
    attempts = draw(st.integers(1, 4))
    delay = draw(st.integers(0, 300))
    backoff = draw(st.sampled_from(["exponential", "linear", "fixed"]))
    max_delay = draw(st.integers(1, 500))
    jitter = draw(st.sampled_from(["0", "0", "0.3"]))
    timeout = draw(st.integers(1, 200))
    return (f"try {{\n    h.hang() with retry(attempts: {attempts}, delay: {delay}ms, "
            f"backoff: {backoff}, max_delay: {max_delay}ms, jitter: {jitter}), timeout({timeout}ms)\n"
            "} catch {\n}")


@st.composite
def statements(draw, depth: int = 0) -> str:
    simple = st.one_of(st.integers(0, 500).map(lambda n: f"wait {n}ms"), calls())
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return draw(simple)
    kind = draw(st.sampled_from(["if", "repeat", "parallel", "for", "pfor"]))
    inner = draw(st.lists(statements(depth + 1), min_size=1, max_size=2))
    body = indent("\n".join(inner))
    if kind == "if":
        other = indent(draw(statements(depth + 1)))
        return f"if flag {{\n{body}\n}} else {{\n{other}\n}}"
    if kind == "repeat":
        return f"repeat max {draw(st.integers(1, 3))} {{\n{body}\n}} until false"
    if kind == "parallel":
        return f"parallel {{\n{body}\n}}"
    count = draw(st.integers(0, 4))
    if kind == "for":
        return f"for LOOP in range({count}) {{\n{body}\n}}"
    return f"parallel for LOOP in range({count}) limit {draw(st.integers(1, 3))} {{\n{body}\n}}"


def indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def count(symbol: str) -> float:
    """`len(range(3))` is 3; `⌈len(range(3))/2⌉` is 2."""
    match = re.fullmatch(r"(⌈)?len\(range\((\d+)\)\)(?:/(\d+)⌉)?", symbol)
    assert match, symbol
    items = int(match.group(2))
    return math.ceil(items / int(match.group(3))) if match.group(1) else items


RUNNING: dict[str, Runtime] = {}  # the run in progress, whatever module object `h` is


def install(rt: Runtime) -> None:
    RUNNING["rt"] = rt
    if MODULE in sys.modules:
        return
    module = types.ModuleType(MODULE)

    async def hang():
        await RUNNING["rt"].clock.sleep(1e9)  # longer than any timeout: the slowest a call can be

    module.hang = hang
    sys.modules[MODULE] = module


def elapsed(source: str, backend: str, flag: bool) -> float:
    rt = Runtime(clock=VirtualClock(), seed=0)
    install(rt)
    module = load_source(source, f"budget_{backend}.wf", backend=backend)

    async def main() -> None:
        with rt.activate():
            await module.main(flag)
    asyncio.run(main())
    return rt.clock.now()


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=4))
def test_a_budget_is_at_least_the_slowest_run(body) -> None:
    source = f"use {MODULE} as h\nworkflow main(flag) {{\n" + indent("\n".join(body)) + "\n}\n"
    numbers = itertools.count()
    source = re.sub("LOOP", lambda _: f"i{next(numbers)}", source)  # every loop its own variable
    note(source)
    checked = analyze(source, "budget.wf")
    [tree] = Budgets(checked.module, checked.resolution, checked.source).all()
    budget = tree.cost.at(count)
    note(f"budget {tree.cost.text()} = {budget}")
    slowest = max(elapsed(source, backend, flag)
                  for backend in ("interp", "compiled") for flag in (True, False))
    assert slowest <= budget + 1e-6
    if not any(word in source for word in ("jitter: 0.3", "if flag", "parallel {")):
        # nothing random, and no largest-of (which takes each term's largest): exact
        assert math.isclose(slowest, budget, abs_tol=1e-6)
