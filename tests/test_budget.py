"""Worst-case durations from the source (`wfc check --budget`) and W0180-W0182.

Each finding has a program where it fires and programs where it must not."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import EXAMPLES
from wfc.api import analyze
from wfc.check.budget import Budgets, seconds_text

CODES = {"W0180", "W0181", "W0182"}


def budget(source: str, name: str = "w"):
    checked = analyze("use api\n" + source, "budget.wf")
    trees = {tree.label.split()[1].split("(")[0]: tree for tree in
             Budgets(checked.module, checked.resolution, checked.source).all()}
    return trees[name]


def worst(source: str, name: str = "w") -> str:
    return budget(source, name).cost.text()


def findings(source: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in analyze("use api\n" + source, "budget.wf").warnings
            if d.code in CODES]


@pytest.mark.parametrize("body, expected", [
    # 3 attempts of at most 2s, backoff 1s then 2s, at jitter's maximum (x1.5)
    ("x = api.get(1) with retry(attempts: 3, delay: 1s, jitter: 0.5), timeout(2s)", "10.5s"),
    # delays 10s, then 20s capped at 15s, and every later one the cap
    ("x = api.get(1) with retry(attempts: 5, delay: 10s, max_delay: 15s), timeout(1s)", "1m"),
    ("x = api.get(1) with retry(attempts: 4, backoff: linear, delay: 1s), timeout(1s)", "10s"),
    ("x = api.get(1) with retry(attempts: 1000000, backoff: fixed, delay: 1ms), timeout(1ms)",
     "33m 19.999s"),
    ("wait 1500ms\nwait 2m", "2m 1.5s"),
    ("while true max 3 {\n    wait 1s\n}", "3s"),
    ("repeat max 2 {\n    wait 4s\n} until false", "8s"),
    ("while true timeout 10s {\n    wait 1s\n}", "10s"),
    ("for x in xs {\n    wait 1s\n}", "1s × len(xs)"),
    ("r = parallel for x in xs limit 5 timeout 2s {\n    yield api.get(x)\n}", "2s × ⌈len(xs)/5⌉"),
    ("r = parallel for x in xs {\n    wait 1s\n}", "1s × ⌈len(xs)/10⌉"),
    ("parallel {\n    wait 1s\n    wait 3s\n}", "3s"),
    ("parallel limit 1 {\n    wait 1s\n    wait 3s\n}", "4s"),
    ("parallel timeout 2s {\n    wait 1s\n    wait 3s\n}", "2s"),
    ("if xs {\n    wait 1s\n} elif xs == 2 {\n    wait 7s\n} else {\n    wait 2s\n}", "7s"),
    ("try {\n    wait 1s\n} catch {\n    wait 2s\n}", "3s"),
    ("x = api.get(1) with limit(rate: 1/s, max_wait: 5s), timeout(1s)", "6s"),
    ("x = api.get(1) with limit(rate: 1/s, wait: false), timeout(1s)", "1s"),
    ("stage s with timeout(3s) {\n    x = api.get(1)\n}", "3s"),
    ("x = api.get(1) with timeout(2s), fallback(value: 0)", "2s"),
])
def test_worst_cases(body, expected) -> None:
    source = "workflow w(xs) {\n" + "".join(f"    {line}\n" for line in body.splitlines()) + "}\n"
    assert worst(source) == expected


@pytest.mark.parametrize("body, why", [
    ("x = api.get(1)", "`api.get` has no timeout"),
    ("while xs {\n    wait 1s\n}", "the `while` on line 3 has no `max` or `timeout`"),
    ("wait xs", "`wait xs` waits for a computed duration"),
    ("x = api.get(1) with limit(rate: 1/s), timeout(1s)",
     "a `limit` without `max_wait` waits as long as other callers hold the permits"),
    ("x = api.get(1) with timeout(1s), fallback(api.cached)", "the fallback `api.cached` has no timeout"),
])
def test_unbounded_says_why(body, why) -> None:
    source = "workflow w(xs) {\n" + "".join(f"    {line}\n" for line in body.splitlines()) + "}\n"
    assert worst(source) == f"unbounded: {why}"


def test_declarations_called_add_their_budget() -> None:
    source = "workflow inner(x) {\n    wait 2s\n}\nworkflow w(x) {\n    inner(x)\n    inner(x)\n}\n"
    assert worst(source) == "4s"


def test_routers_take_their_longest_route_and_sagas_their_compensations() -> None:
    router = 'router w(x) {\n    route a when x -> api.get(x) with timeout(3s)\n' \
             '    default -> api.get(x) with timeout(1s)\n}\n'
    assert worst(router) == "3s"
    saga = "saga w(x) {\n    step a = api.hold(x) with timeout(1s)\n" \
           "        compensate api.release(a) with timeout(2s)\n    step b = api.charge(x) with timeout(4s)\n}\n"
    tree = budget(saga)
    assert tree.cost.text() == "7s"
    assert [part.label for part in tree.parts] == [
        "api.hold(x) with timeout(1s)", "undo: api.release(a) with timeout(2s)",
        "api.charge(x) with timeout(4s)"]


def test_the_tree_shows_each_part() -> None:
    source = "workflow w(xs) with timeout(1m) {\n    stage get {\n        wait 2s\n" \
             "        x = api.get(1) with timeout(3s)\n    }\n}\n"
    assert list(budget(source).lines()) == [
        "workflow w(xs): 5s",
        "└─ stage get: 5s",
        "   ├─ wait 2s: 2s",
        "   └─ api.get(1) with timeout(3s): 3s",
    ]


# ---- findings ---------------------------------------------------------------------
def test_retries_longer_than_the_timeout_around_them() -> None:
    source = "workflow w(x) with timeout(30s) {\n" \
             "    y = api.get(x) with retry(attempts: 5, delay: 1s), timeout(5s)\n}\n"
    assert findings(source) == [("W0180", 3)]  # 25s of attempts and 15s of backoff > 30s


def test_a_retry_backing_off_past_its_breakers_reset() -> None:
    source = "workflow w(x) {\n" \
             "    y = api.get(x) with retry(attempts: 4, delay: 10s), breaker(reset: 30s), timeout(1s)\n}\n"
    assert findings(source) == [("W0181", 3)]  # 10 + 20 + 40 = 70s of backoff > 30s


def test_a_timeout_shorter_than_the_first_delay() -> None:
    source = "workflow w(x) {\n    stage s with timeout(5s) {\n" \
             "        y = api.get(x) with retry(attempts: 2, delay: 10s), timeout(1s)\n    }\n}\n"
    assert findings(source) == [("W0182", 4)]


@pytest.mark.parametrize("source", [
    # it fits: 3 attempts of 1s and 1s + 2s of backoff = 6s < 10s
    "workflow w(x) with timeout(10s) {\n    y = api.get(x) with retry(attempts: 3, delay: 1s), timeout(1s)\n}\n",
    # the timeout in the same `with` bounds each attempt, not the retries
    "workflow w(x) {\n    y = api.get(x) with retry(attempts: 3, delay: 10s), timeout(1s)\n}\n",
    # backoff (1s + 2s) inside the breaker's reset
    "workflow w(x) {\n    y = api.get(x) with retry(attempts: 3, delay: 1s), breaker(reset: 60s)\n}\n",
    # no retry: nothing to cut off
    "workflow w(x) with timeout(1s) {\n    y = api.get(x) with timeout(5s)\n}\n",
])
def test_budgets_that_fit_are_quiet(source) -> None:
    assert findings(source) == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.wf")), ids=lambda p: p.stem)
def test_the_examples_have_no_budget_findings(path) -> None:
    assert [d.code for d in analyze(path.read_text(encoding="utf-8"), path.name).warnings
            if d.code in CODES] == []


def test_seconds_read_as_people_write_them() -> None:
    assert [seconds_text(s) for s in (0.25, 1, 61.5, 3600, 3725)] == [
        "250ms", "1s", "1m 1.5s", "1h", "1h 2m 5s"]


# ---- the command -------------------------------------------------------------------
def wfc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wfc", *args], capture_output=True, text=True)


def test_wfc_check_budget_prints_every_tree_or_one(tmp_path) -> None:
    path = tmp_path / "times.wf"
    path.write_text("workflow a() {\n    wait 1s\n}\nworkflow b() {\n    wait 2s\n}\n", encoding="utf-8")
    every = wfc("check", "--budget", str(path))
    assert every.returncode == 0
    assert every.stdout == f"{path}: workflow a(): 1s\n└─ wait 1s: 1s\n{path}: workflow b(): 2s\n└─ wait 2s: 2s\n"
    one = wfc("check", "--budget", "b", str(path))
    assert one.returncode == 0 and one.stdout == f"{path}: workflow b(): 2s\n└─ wait 2s: 2s\n"
    missing = wfc("check", "--budget", "nope", str(path))
    assert missing.returncode == 2 and "has no workflow, router or saga named 'nope'" in missing.stderr
    shown = json.loads(wfc("check", "--budget", "a", "--format", "json", str(path)).stdout)
    assert shown["diagnostics"] == []
    assert shown["budgets"][0]["seconds"] == 1.0 and shown["budgets"][0]["parts"][0]["name"] == "wait 1s"
