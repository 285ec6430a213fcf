"""Races, quorums, `select` and dataflow blocks against timing oracles on the virtual
clock, on both backends.

The differential property proves the backends agree; these prove what they agree on
is what the language says: the winners of `parallel first` / `quorum K` are the
branches that finish first (ties to the lower position), a `select` runs the arm
that happens first, and in a dataflow block no branch starts before its inputs
exist while independent branches overlap in time.
"""

from __future__ import annotations

import asyncio
import os
import sys
import types

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from wfc.api import load_source
from wfc.runtime import BranchesFailed, Runtime, VirtualClock, current

EXAMPLES = max(5, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 5)
MODULE = "wfrace_handlers"
BACKENDS = ("interp", "compiled")
pytestmark = pytest.mark.slow


def install(starts: dict[int, float]) -> None:
    module = types.ModuleType(MODULE)

    async def take(position, seconds, fails):
        """Branch `position`: start now, finish after `seconds`, failing or not."""
        starts[position] = current().clock.now()
        await current().clock.sleep(seconds)
        if fails:
            raise ValueError(f"branch {position} failed")
        return position

    module.take = take
    sys.modules[MODULE] = module


def play(source: str, backend: str) -> tuple:
    starts: dict[int, float] = {}
    install(starts)
    module = load_source(source, "race.wf", backend=backend)
    rt = Runtime(clock=VirtualClock(), seed=1)

    async def main():
        with rt.activate():
            return await module.main()

    try:
        value, error = asyncio.run(main()), None
    except Exception as exc:  # the oracle says which
        value, error = None, exc
    return value, error, rt.clock.now(), starts


branches = st.lists(
    st.tuples(st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0]), st.booleans()), min_size=1, max_size=5
)


@settings(max_examples=EXAMPLES, deadline=None)
@given(branches=branches, data=st.data())
def test_the_first_k_to_succeed_win(branches, data) -> None:
    need = data.draw(st.integers(1, len(branches)))
    head = "parallel first" if need == 1 and data.draw(st.booleans()) else f"parallel quorum {need}"
    body = "\n".join(
        f"    v{n} = h.take({n}, {seconds}, {'true' if fails else 'false'})"
        for n, (seconds, fails) in enumerate(branches)
    )
    names = ", ".join(f"v{n}" for n in range(len(branches)))
    source = f"use {MODULE} as h\nworkflow main() {{\n{head} {{\n{body}\n}}\nreturn [{names}]\n}}\n"
    note(source)
    # The oracle: successes in finishing order (ties to the lower position).
    succeeded = sorted((seconds, n) for n, (seconds, fails) in enumerate(branches) if not fails)
    failures = sorted(seconds for seconds, fails in branches if fails)
    for backend in BACKENDS:
        value, error, now, _ = play(source, backend)
        if len(succeeded) < need:  # it fails once more than N - K have failed
            assert isinstance(error, BranchesFailed), (backend, error)
            assert now == failures[len(branches) - need]
            continue
        winners = {n for _, n in succeeded[:need]}
        assert error is None, (backend, error)
        assert value == [n if n in winners else None for n in range(len(branches))], backend
        assert now == succeeded[need - 1][0], backend


@settings(max_examples=EXAMPLES, deadline=None)
@given(arms=st.lists(st.tuples(st.sampled_from(["wait", "call"]), st.sampled_from([0.0, 1.0, 2.0]), st.booleans()),
                     min_size=1, max_size=4))
def test_select_runs_the_arm_that_happens_first(arms) -> None:
    lines = []
    for n, (kind, seconds, fails) in enumerate(arms):
        head = f"wait {seconds}s" if kind == "wait" else f"x = h.take({n}, {seconds}, {'true' if fails else 'false'})"
        lines.append(f"    {head} {{\n        return {n}\n    }}")
    source = f"use {MODULE} as h\nworkflow main() {{\nselect {{\n" + "\n".join(lines) + "\n}\n}\n"
    note(source)
    first = min(range(len(arms)), key=lambda n: (arms[n][1], n))  # the soonest; ties by position
    kind, seconds, fails = arms[first]
    for backend in BACKENDS:
        value, error, now, _ = play(source, backend)
        assert now == seconds, backend
        if kind == "call" and fails:
            assert isinstance(error, ValueError) and str(error) == f"branch {first} failed", backend
        else:
            assert (value, error) == (first, None), backend


@st.composite
def dags(draw):
    """Branches `v_n = h.take(n, d, false)` plus reads of earlier branches (acyclic)."""
    count = draw(st.integers(1, 6))
    inputs = [sorted(draw(st.sets(st.integers(0, n - 1), max_size=2))) if n else [] for n in range(count)]
    seconds = [draw(st.sampled_from([0.5, 1.0, 2.0])) for _ in range(count)]
    order = draw(st.permutations(range(count)))  # written in any order: reads decide
    return inputs, seconds, order


@settings(max_examples=EXAMPLES, deadline=None)
@given(dag=dags())
def test_a_dataflow_branch_starts_when_its_inputs_exist(dag) -> None:
    inputs, seconds, order = dag
    lines = []
    for n in order:
        reads = "".join(f" + (v{i} ?? 0) * 0" for i in inputs[n])
        lines.append(f"    v{n} = h.take({n}{reads}, {seconds[n]}, false)")
    source = f"use {MODULE} as h\nworkflow main() {{\nparallel {{\n" + "\n".join(lines) + "\n}\nreturn 0\n}\n"
    note(source)
    start: dict[int, float] = {}
    finish: dict[int, float] = {}
    for n in range(len(inputs)):  # inputs come before, by construction
        start[n] = max((finish[i] for i in inputs[n]), default=0.0)
        finish[n] = start[n] + seconds[n]
    for backend in BACKENDS:
        _, error, now, starts = play(source, backend)
        assert error is None, (backend, error)
        # no branch before its inputs, none later: independent branches overlap
        assert starts == start, backend
        assert now == max(finish.values()), backend
