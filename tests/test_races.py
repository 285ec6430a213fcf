"""Races and quorums: `parallel first` ends with the first branch to succeed, `parallel
quorum K` with the first K; the others are cancelled, their variables null; failure only
when the winners can no longer be had, with every error attached."""

from __future__ import annotations

import asyncio

import pytest

import backend_handlers as handlers
from conftest import load_both, run
from wfc.api import analyze, format_text
from wfc.diagnostics import CompileError
from wfc.runtime import BranchesFailed, Runtime, SqliteStore

SOURCE = """use backend_handlers as h

workflow fastest(fail_b) {
    parallel first {
        a = h.slow("a", 3)
        b = h.flaky(fail_b, "b") ?? h.slow("b", 1)
        c = h.slow("c", 2)
    }
    return [a, b, c]
}
workflow two() {
    parallel quorum 2 {
        a = h.slow("a", 3)
        b = h.slow("b", 1)
        c = h.slow("c", 2)
    }
    return [a, b, c]
}
workflow hopeless(k) {
    parallel quorum k {
        a = h.explode("x")
        b = h.slow("b", 5)
        c = h.explode("y")
    }
}
workflow two_of_two() {
    parallel quorum 2 {
        a = h.slow("a", 1)
        b = h.slow("b", 2)
    }
    return [a, b]
}
workflow caught() {
    try {
        parallel first {
            a = h.explode("x")
            b = h.explode("y")
        }
    } catch BranchesFailed as e {
        return [len(e.errors), e.message]
    }
}
saga hold(x) {
    step first = h.double(1)
        compensate h.double(2)
    step held = h.slow(x, 5)
        compensate h.double(3)
    return held
}
workflow undoing() {
    parallel first {
        a = h.slow("quick", 1)
        b = hold("slow")
    }
    return [a, b]
}
"""


@pytest.fixture(scope="module")
def modules():
    return load_both(SOURCE)


def test_first_keeps_the_winner_and_nulls_the_rest(modules, backend) -> None:
    handlers.failures.clear()
    outcome = run(modules[backend], "fastest", "ok")
    assert outcome.value == [None, "b", None] and outcome.now == 0.0  # `flaky` answered at once
    handlers.failures["bad"] = 1  # b fails: the next fastest wins
    outcome = run(modules[backend], "fastest", "bad")
    assert outcome.value == [None, None, "c"] and outcome.now == 2.0


def test_quorum_waits_for_k_winners(modules, backend) -> None:
    outcome = run(modules[backend], "two")
    assert outcome.value == [None, "b", "c"] and outcome.now == 2.0


def test_a_quorum_fails_as_soon_as_it_cannot_be_met(modules, backend) -> None:
    outcome = run(modules[backend], "hopeless", 2)
    assert isinstance(outcome.error, BranchesFailed) and outcome.now == 0.0  # not after b's 5s
    assert [str(e) for e in outcome.error.errors] == ["x", "y"]
    assert outcome.error.message.startswith("2 of 3 branches failed, so 2 cannot succeed")
    assert run(modules[backend], "hopeless", 1).now == 5.0  # one can still win: b does
    bad = run(modules[backend], "hopeless", 4)
    assert isinstance(bad.error, ValueError) and "from 1 to 3" in str(bad.error)



def test_a_quorum_of_every_branch_needs_them_all(modules, backend) -> None:
    """K may equal the number of branches (found by tools/mutate.py: `need <= count`)."""
    outcome = run(modules[backend], "hopeless", 3)
    assert isinstance(outcome.error, BranchesFailed) and outcome.now == 0.0  # the first failure ends it
    assert [str(e) for e in outcome.error.errors] == ["x"]
    assert run(modules[backend], "two_of_two").value == ["a", "b"]


def test_the_first_failure_is_the_cause(modules, backend) -> None:
    outcome = run(modules[backend], "hopeless", 2)
    assert outcome.error.__cause__ is outcome.error.errors[0] and str(outcome.error.__cause__) == "x"

def test_every_error_is_attached_when_all_fail(modules, backend) -> None:
    assert run(modules[backend], "caught").value == [
        2, "every branch of a `parallel first` failed: ValueError: x; ValueError: y"]


def test_a_cancelled_loser_unwinds(modules, backend) -> None:
    handlers.log.clear()
    outcome = run(modules[backend], "undoing")
    assert outcome.value == ["quick", None] and outcome.now == 1.0
    kinds = [(e.kind, e.name) for e in outcome.events if e.kind.startswith(("saga", "compensate"))]
    # cancelled in its second step, the losing saga undoes its first and reports the cancellation
    assert kinds == [("saga.start", "hold"), ("compensate.start", "first"), ("compensate.end", "first"),
                     ("saga.failed", "hold")]
    assert ("double", (2,)) in handlers.log and ("double", (3,)) not in handlers.log


def test_a_durable_run_journals_the_winners(modules, backend, tmp_path) -> None:
    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "r.db"))
        started = await rt.start(modules[backend].two, run_id="race-1")
        value = await started.result()
        entries = await SqliteStore(tmp_path / "r.db").items("wfjournal:")
        return value, [entry for key, entry in entries.items() if "|race|" in key]

    value, races = asyncio.run(scenario())
    assert value == [None, "b", "c"] and [entry["won"] for entry in races] == [[1, 2]]


@pytest.mark.parametrize("body, code", [
    ("parallel first on error continue { a = 1 }", "E0194"),
    ("parallel quorum 3 { a = 1\n b = 2 }", "E0195"),
    ("parallel quorum 0 { a = 1 }", "E0195"),
])
def test_what_the_checker_says(body, code) -> None:
    with pytest.raises(CompileError) as info:
        analyze(f"workflow w() {{\n    {body}\n}}\n", "t.wf")
    assert code in {d.code for d in info.value.diagnostics}


def test_fmt_keeps_the_race() -> None:
    source = "workflow w(k) {\n    parallel   quorum k  limit 2 {\n        a = 1\n    }\n    parallel first {\n        b = 2\n    }\n}\n"
    formatted = format_text(source, "t.wf")
    assert "parallel quorum k limit 2 {" in formatted and "parallel first {" in formatted


def test_branches_finishing_in_the_same_instant_as_the_last_winner_lose(backend) -> None:
    """Exactly K winners: ties go to the lower position (found by the timing oracle,
    tests/properties/test_races.py: both branches of a `quorum 1` were kept)."""
    from conftest import run_source

    outcome = run_source("use backend_handlers as h\nworkflow main() {\n parallel quorum 1 {\n"
                         "  a = h.slow(1, 0)\n  b = h.slow(2, 0)\n }\n return [a, b]\n}\n", backend)
    assert outcome.value == [1, None]
