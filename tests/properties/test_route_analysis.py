"""The route analysis against brute force: random routers over a parameter's fields.

Every route the checker calls never chosen (E0146) is never chosen when the router
runs on every input built from the conditions' constants and the values around them,
and every route brute force never sees chosen is reported (the analysis is exact on
conditions it can see into). Every witness is run on both backends and does what the
finding says.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os

from hypothesis import given, note, settings, strategies as st

from wfc.api import analyze, load_source
from wfc.diagnostics import CompileError

EXAMPLES = max(10, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 2)
NUMBERS = (0, 1, 2, 3)
WORDS = ("p", "q")


@st.composite
def conditions(draw, depth: int = 0) -> str:
    if depth < 2 and draw(st.integers(0, 2)) == 0:
        op = draw(st.sampled_from(["and", "or"]))
        return f"({draw(conditions(depth + 1))} {op} {draw(conditions(depth + 1))})"
    if depth < 2 and draw(st.integers(0, 5)) == 0:
        return f"not {draw(conditions(depth + 1))}"
    kind = draw(st.integers(0, 7))
    number = draw(st.sampled_from(NUMBERS))
    if kind == 0:
        return f"x.a {draw(st.sampled_from(['==', '!=', '<', '<=', '>', '>=']))} {number}"
    if kind == 1:
        words = draw(st.lists(st.sampled_from(WORDS), min_size=1, max_size=2, unique=True))
        op = draw(st.sampled_from(["in", "not in"]))
        return f"x.b {op} [{', '.join(json.dumps(w) for w in words)}]"
    if kind == 2:
        op = draw(st.sampled_from(["==", "!=", "<", ">="]))
        return f"x.b {op} {json.dumps(draw(st.sampled_from(WORDS)))}"
    if kind == 3:
        return f"(x.a ?? {number}) {draw(st.sampled_from(['<', '>=', '==']))} {draw(st.sampled_from(NUMBERS))}"
    if kind == 4:
        low = draw(st.sampled_from(NUMBERS))
        return f"{low} < x.a <= {low + draw(st.sampled_from([0.5, 1, 2]))}"
    if kind == 5:
        return f"x?.d?.e {draw(st.sampled_from(['==', '!=', '>']))} {number}"
    if kind == 6:
        return draw(st.sampled_from(["x.a != null", "x.d == null", "x.d", "not x.d"]))
    return draw(st.sampled_from(["x.c", "not x.c", "x.a", "x.b"]))


@st.composite
def routers(draw) -> tuple[str, list[str], str, bool]:
    strategy = draw(st.sampled_from(["first", "first", "all"]))
    count = draw(st.integers(1, 4))
    lines, tests = [], []
    for number in range(count):
        test = draw(st.one_of(conditions(), st.none())) if number else draw(conditions())
        priority = draw(st.one_of(st.none(), st.integers(0, 1)))
        tests.append(test)
        when = f" when {test}" if test is not None else ""
        prio = f" priority {priority}" if priority is not None else ""
        lines.append(f'    route r{number}{when}{prio} -> "r{number}"')
    default = draw(st.booleans())
    if default:
        lines.append('    default -> "default"')
    probes = "".join(f"workflow c{n}(x) {{\n    return bool({t})\n}}\n"
                     for n, t in enumerate(tests) if t is not None)
    source = f"router r(x) {strategy} {{\n" + "\n".join(lines) + "\n}\n" + probes
    return source, tests, strategy, default


FIELDS = {
    # chained bounds go up to max(NUMBERS) + 2: values past them too
    "a": (*NUMBERS, -1, 4, 5, 6, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, -0.5, 0.25, True, False, None, "z", ""),
    "b": (*WORDS, "z", "", "p\x00", "pa", "a", None, 1),
    "c": (True, False, None),
}
FIELDS["d"] = (*({"e": value} for value in FIELDS["a"] if value is not None), {}, None, 1)


def inputs(source: str):
    """Every input brute force tries: for each field the routes read, the constants, the
    values around them, null, booleans, other strings; with missing fields, an empty map, null."""
    used = [name for name in FIELDS if f"x.{name}" in source or f"x?.{name}" in source]
    for values in itertools.product(*(FIELDS[name] for name in used)):
        yield {name: value for name, value in zip(used, values) if value is not None}
    yield None


def router_findings(source: str) -> list:
    try:
        found = list(analyze(source, "routes.wf").warnings)
    except CompileError as error:
        found = error.diagnostics
    end = source.index("\n}\n") + 2
    last_line = source[:end].count("\n")
    return [d for d in found if d.line <= last_line]


@settings(max_examples=EXAMPLES, deadline=None)
@given(routers())
def test_route_findings_agree_with_brute_force(router) -> None:
    source, tests, strategy, default = router
    note(source)
    found = router_findings(source)
    never = {d.message.split("'")[1] for d in found if d.code == "E0146"}
    chosen, unrouted = brute_force(tests, strategy, source)
    assert never == {f"r{n}" for n in range(len(tests))} - chosen
    assert any(d.code == "W0148" for d in found) == (default and not unrouted)
    if strategy == "first" and not default:
        assert any(d.code == "W0142" for d in found) == unrouted
    for finding in found:
        if finding.witness is not None:
            check_witness(source, finding, tests)


def brute_force(tests, strategy, source) -> tuple[set[str], bool]:
    """Which routes some input reaches, and whether some input reaches none without an
    error, from each condition's probe workflow run on the interpreter."""
    module = load_source(source[source.index("\n}\n") + 3:], "probes.wf", backend="interp")
    order = route_order(source)
    chosen: set[str] = set()
    unrouted = False

    async def each() -> None:
        nonlocal unrouted
        for x in inputs(source):
            holds = {}
            for n, test in enumerate(tests):
                try:
                    holds[n] = True if test is None else await getattr(module, f"c{n}")(x)
                except Exception:
                    holds[n] = "raises"
            tried = order
            if strategy == "first":  # conditions after the chosen route are not evaluated
                tried = next((order[: i + 1] for i, n in enumerate(order) if holds[n]), order)
            if any(holds[n] == "raises" for n in tried):
                continue
            taken = [n for n in tried if holds[n]]
            chosen.update(f"r{n}" for n in taken)
            unrouted = unrouted or not taken
    asyncio.run(each())
    return chosen, unrouted


def route_order(source: str) -> list[int]:
    lines = [line for line in source.split("\n}\n")[0].splitlines() if line.strip().startswith("route ")]
    ranks = [int(line.split(" priority ")[1].split()[0]) if " priority " in line else 0 for line in lines]
    return sorted(range(len(lines)), key=lambda n: -ranks[n])


def check_witness(source: str, finding, tests) -> None:
    """A witness does on both backends what its finding says."""
    x = json.loads(finding.witness).get("x")
    probes = source[source.index("\n}\n") + 3:]
    for backend in ("interp", "compiled"):
        module = load_source(probes, f"witness_{backend}.wf", backend=backend)

        async def holds(n: int) -> bool:
            return True if tests[n] is None else await getattr(module, f"c{n}")(x)
        if finding.code == "W0147":
            first, second = (int(name[1:]) for name in finding.message.split("'")[1:4:2])
            assert asyncio.run(holds(first)) and asyncio.run(holds(second)), backend
        elif finding.code == "W0142":
            assert not any(asyncio.run(holds(n)) for n in range(len(tests))), backend
        elif finding.code == "E0146":
            assert asyncio.run(holds(int(finding.message.split("'")[1][1:]))), backend
