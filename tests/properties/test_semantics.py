"""The semantics themselves, against oracles written from the specification.

The differential test proves the two backends agree; it cannot see a mistake in
the runtime they share. These properties compare what random sagas, retries and
routers do with what LANGUAGE.md says they must do, on both backends.
"""

from __future__ import annotations

import asyncio
import os
import sys
import types
from dataclasses import dataclass, field

from hypothesis import given, note, settings, strategies as st

import pytest

from wfc.api import analyze, load_source
from wfc.diagnostics import CompileError
from wfc.runtime import CircuitOpen, Runtime, SagaFailed, VirtualClock

EXAMPLES = max(1, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 3)
MODULE = "wfsem_handlers"
BACKENDS = ("interp", "compiled")


@dataclass
class World:
    """What the handlers of one run do, and what they saw."""

    failing: set[str] = field(default_factory=set)  # names whose act() raises
    failing_undo: set[str] = field(default_factory=set)  # names whose undo() raises
    fail_first: int = 0  # flaky(): how many first calls raise
    error: type[Exception] = ConnectionError
    log: list[str] = field(default_factory=list)
    times: list[float] = field(default_factory=list)


def install(world: World) -> None:
    module = types.ModuleType(MODULE)

    def act(name):
        world.log.append(f"act {name}")
        if name in world.failing:
            raise ValueError(f"{name} failed")
        return name

    def undo(name):
        world.log.append(f"undo {name}")
        if name in world.failing_undo:
            raise KeyError(name)

    def flaky(x):
        world.log.append("flaky")
        world.times.append(module.rt.clock.now())
        if len(world.log) <= world.fail_first:
            raise world.error(f"call {len(world.log)}")
        return x

    module.act, module.undo, module.flaky = act, undo, flaky
    sys.modules[MODULE] = module


def run(source: str, world: World, backend: str, name: str, *args, seed: int = 0):
    install(world)
    module = load_source(source, "sem.wf", backend=backend)
    rt = Runtime(clock=VirtualClock(), seed=seed)
    sys.modules[MODULE].rt = rt
    events: list = []
    rt.observe(events.append)

    async def main():
        with rt.activate():
            return await getattr(module, name)(*args)

    try:
        return asyncio.run(main()), None, events, rt.clock.now()
    except Exception as exc:  # the properties look at it
        return None, exc, events, rt.clock.now()


# ---- sagas -------------------------------------------------------------------------
@st.composite
def sagas(draw):
    count = draw(st.integers(1, 5))
    names = [f"s{n}" for n in range(count)]
    undoable = [name for name in names if draw(st.booleans())]
    failure = draw(st.integers(0, count))  # a step that fails, or `count`: a statement after
    statement_fails = failure == count and draw(st.booleans())
    failing_undo = set(draw(st.lists(st.sampled_from(names), unique=True)))
    lines = []
    for name in names:
        lines.append(f'step {name} = h.act("{name}")')
        if name in undoable:
            lines.append(f'    compensate h.undo({name})')
    if statement_fails:
        lines.append('fail "after the steps"')
    failing = {names[failure]} if failure < count else set()
    source = f"use {MODULE} as h\nsaga main() {{\n" + "\n".join(lines) + '\nreturn "done"\n}\n'
    return source, names, undoable, failing, failing_undo, statement_fails


@settings(max_examples=EXAMPLES, deadline=None)
@given(sagas())
def test_sagas_compensate_completed_steps_newest_first(saga) -> None:
    source, names, undoable, failing, failing_undo, statement_fails = saga
    note(source)
    for backend in BACKENDS:
        world = World(failing=failing, failing_undo=failing_undo)
        value, error, _, _ = run(source, world, backend, "main")
        failed_at = next((n for n in names if n in failing), None)
        completed = names[: names.index(failed_at)] if failed_at else names
        if failed_at is None and not statement_fails:
            assert (value, error) == ("done", None)
            assert world.log == [f"act {n}" for n in names]
            continue
        undone = [n for n in reversed(completed) if n in undoable]
        assert isinstance(error, SagaFailed), backend
        assert error.step == failed_at
        assert error.compensated == [n for n in undone if n not in failing_undo]
        assert [n for n, _ in error.compensation_errors] == [n for n in undone if n in failing_undo]
        ran = [f"act {n}" for n in completed] + ([f"act {failed_at}"] if failed_at else [])
        assert world.log == ran + [f"undo {n}" for n in undone]


# ---- retry -------------------------------------------------------------------------
retries = st.fixed_dictionaries({
    "attempts": st.integers(1, 5),
    "backoff": st.sampled_from(["exponential", "linear", "fixed"]),
    "delay": st.sampled_from([0.0, 0.25, 1.0]),
    "factor": st.sampled_from([1, 2, 3]),
    "max_delay": st.sampled_from([0.5, 2.0, 60.0]),
    "jitter": st.sampled_from([0.0, 0.5]),
    "on": st.sampled_from([None, ("ConnectionError",), ("KeyError", "CircuitOpen")]),
    "fail_first": st.integers(0, 6),
    "error": st.sampled_from([ConnectionError, KeyError, CircuitOpen]),
})


def expected_delays(case: dict, retried: int, seed: int) -> list[float]:
    import random

    draws = random.Random(seed)
    delays = []
    for k in range(1, retried + 1):
        base = {"exponential": case["delay"] * case["factor"] ** (k - 1),
                "linear": case["delay"] * k, "fixed": case["delay"]}[case["backoff"]]
        base = min(base, case["max_delay"])
        if case["jitter"]:
            base *= draws.uniform(1 - case["jitter"], 1 + case["jitter"])
        delays.append(base)
    return delays


@settings(max_examples=EXAMPLES, deadline=None)
@given(retries, st.integers(0, 3))
def test_retry_makes_exactly_the_attempts_and_waits_the_specification_says(case, seed) -> None:
    on = f", on: [{', '.join(case['on'])}]" if case["on"] else ""
    policy = (f"retry(attempts: {case['attempts']}, backoff: {case['backoff']}, delay: {case['delay']}s, "
              f"factor: {case['factor']}, max_delay: {case['max_delay']}s, jitter: {case['jitter']}{on})")
    source = f"use {MODULE} as h\nworkflow main() {{\n    return h.flaky(7) with {policy}\n}}\n"
    note(source)
    error = case["error"]
    retryable = error is not CircuitOpen if case["on"] is None else error.__name__ in case["on"]
    failures = case["fail_first"]
    calls = 1 if not failures or not retryable else min(case["attempts"], failures + 1)
    succeeds = failures < calls
    delays = expected_delays(case, calls - 1, seed)
    for backend in BACKENDS:
        world = World(fail_first=failures, error=error)
        value, raised, events, now = run(source, world, backend, "main", seed=seed)
        assert len(world.log) == calls, backend
        assert (value == 7) if succeeds else isinstance(raised, error)
        gaps = [b - a for a, b in zip(world.times, world.times[1:])]
        assert len(gaps) == len(delays) and all(abs(g - d) < 1e-9 for g, d in zip(gaps, delays))
        assert [e.fields["attempt"] for e in events if e.kind == "retry"] == list(range(1, calls))
        assert abs(now - sum(delays)) < 1e-9


# ---- routers -----------------------------------------------------------------------
@st.composite
def routers(draw):
    strategy = draw(st.sampled_from(["first", "all"]))
    routes = draw(st.lists(st.tuples(st.one_of(st.none(), st.integers(-1, 2)),
                                     st.one_of(st.none(), st.integers(0, 3))), min_size=1, max_size=6))
    default = draw(st.booleans())
    lines = []
    for number, (priority, equals) in enumerate(routes):
        when = "" if equals is None else f" when a == {equals}"
        prio = "" if priority is None else f" priority {priority}"
        lines.append(f'route r{number}{when}{prio} -> "r{number}"')
    if default:
        lines.append('default -> "default"')
    source = f"router main(a) {strategy} {{\n" + "\n".join(lines) + "\n}\n"
    return source, strategy, routes, default


def never_chosen(routes, order) -> set[str]:
    """Brute force over every value that matters (the constants 0..3 and one outside)."""
    chosen = set()
    for a in range(-1, 5):
        first = next((n for n in order if routes[n][1] in (None, a)), None)
        if first is not None:
            chosen.add(f"r{first}")
    return {f"r{n}" for n in range(len(routes))} - chosen


@settings(max_examples=EXAMPLES, deadline=None)
@given(routers(), st.integers(0, 3))
def test_routes_go_by_priority_with_ties_in_declaration_order(router, a) -> None:
    source, strategy, routes, default = router
    note(source)
    order = sorted(range(len(routes)), key=lambda n: -(routes[n][0] or 0))  # sorted() is stable
    never = never_chosen(routes, order) if strategy == "first" else set()
    if never:  # a route the others shadow is a compile error, named exactly
        with pytest.raises(CompileError) as raised:
            analyze(source)
        shadowed = {d.message.split("'")[1] for d in raised.value.diagnostics if d.code == "E0146"}
        assert shadowed == never
        return
    matching = [f"r{n}" for n in order if routes[n][1] is None or routes[n][1] == a]
    if strategy == "first":
        expected = matching[0] if matching else ("default" if default else None)
    else:
        expected = matching or (["default"] if default else [])
    for backend in BACKENDS:
        value, error, events, _ = run(source, World(), backend, "main", a)
        assert error is None and value == expected, backend
        taken = [e.fields["route"] for e in events if e.kind == "route"]
        assert taken == ([expected] if isinstance(expected, str) else expected or [])
