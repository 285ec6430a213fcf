"""Retries as Step Functions and Polly write them: several retries on one call, each for
its own errors; `max_time` instead of (or besides) `attempts`; and the attempt number,
seen by handlers (`wfc.runtime.attempt()`) and by wf code (`attempt()`)."""

from __future__ import annotations

import pytest

import backend_handlers as handlers
from conftest import load_both, run
from wfc.api import analyze
from wfc.diagnostics import CompileError

SOURCE = """use backend_handlers as h

error Busy

workflow two(v) {
    return h.scripted(v) with retry(attempts: 4, delay: 1s, backoff: fixed, on: [ConnectionError]), retry(attempts: 2, delay: 10s, on: [TimeoutError])
}
workflow timed(v) {
    return h.scripted(v) with retry(max_time: 10s, delay: 2s, backoff: fixed)
}
workflow bounded(v) {
    return h.scripted(v) with retry(max_time: 10s, attempts: 2, delay: 1s)
}
workflow simple(v) {
    return h.scripted(v) with retry(attempts: 3, delay: 1s)
}
workflow again(v) {
    v = h.scripted(v) with retry(attempts: 3, delay: 1s)
    return v
}
workflow counted() {
    stage s with retry(attempts: 3, delay: 1s) {
        n = attempt()
        x = h.scripted(n)
    }
    return [n, attempt()]
}
"""


@pytest.fixture(scope="module")
def modules():
    return load_both(SOURCE)


def go(module, name, script, *args):
    handlers.script[:] = script
    handlers.seen_attempts.clear()
    return run(module, name, *args)


def retry_events(outcome):
    return [(e.fields["attempt"], e.fields["delay"]) for e in outcome.events if e.kind == "retry"]


def test_each_retry_governs_its_own_errors_with_its_own_count(modules, backend) -> None:
    module = modules[backend]
    outcome = go(module, "two", ["conn", "timeout", "conn", "conn"], "ok")
    # conn: 1s (1st of 3 retries), timeout: 10s (its only retry), conn: 1s, conn: 1s
    assert outcome.value == "ok" and retry_events(outcome) == [(1, 1.0), (2, 10.0), (3, 1.0), (4, 1.0)]
    assert outcome.now == 13.0
    second_timeout = go(module, "two", ["timeout", "timeout"], "ok")
    assert isinstance(second_timeout.error, TimeoutError) and retry_events(second_timeout) == [(1, 10.0)]
    other = go(module, "two", ["value"], "ok")  # neither retry's: not retried at all
    assert isinstance(other.error, ValueError) and retry_events(other) == []
    conns = go(module, "two", ["conn"] * 4, "ok")  # the fourth ConnectionError is one too many
    assert isinstance(conns.error, ConnectionError) and len(retry_events(conns)) == 3


def test_max_time_bounds_the_retries_instead_of_attempts(modules, backend) -> None:
    module = modules[backend]
    outcome = go(module, "timed", ["conn"] * 50, "ok")
    # retries begin at 2, 4, 6, 8, 10s; one at 12s would begin past max_time
    assert isinstance(outcome.error, ConnectionError) and len(retry_events(outcome)) == 5
    assert outcome.now == 10.0
    assert go(module, "timed", ["conn"] * 3, "ok").value == "ok"
    both = go(module, "bounded", ["conn"] * 5, "ok")  # attempts: 2 ends it first
    assert isinstance(both.error, ConnectionError) and len(retry_events(both)) == 1


def test_handlers_and_wf_code_see_the_attempt_number(modules, backend) -> None:
    module = modules[backend]
    assert go(module, "simple", ["conn", "conn"], "ok").value == "ok"
    assert handlers.seen_attempts == [1, 2, 3]  # the inline retry loop says which
    assert go(module, "two", ["timeout", "conn"], "ok").value == "ok"
    assert handlers.seen_attempts == [1, 2, 3]  # the guard's loop says the same
    outcome = go(module, "counted", ["conn"])
    assert outcome.value == [2, 1]  # the stage's second attempt; 1 again outside it
    assert handlers.seen_attempts == [1, 2]


def test_a_retried_call_that_assigns_its_own_argument_retries_with_the_value_it_had(modules, backend) -> None:
    """`v = h.f(v) with retry()`: the failed attempt must leave `v` as it was, or the
    next attempt is called with the first attempt's coroutine (found by the crash-replay
    property test)."""
    handlers.log.clear()
    outcome = go(modules[backend], "again", ["conn", "timeout"], "ok")
    assert outcome.value == "ok"
    assert handlers.log == [("scripted", ("ok",))] * 3


@pytest.mark.parametrize("policies", [
    "retry(on: [OSError]), retry(on: [ConnectionError])",
    "retry(on: [ValueError, KeyError]), retry(on: [KeyError])",
    "retry(on: [Busy]), retry(on: [WorkflowFailed])",  # a declared error is a WorkflowFailed
    "retry(on: [Exception]), retry(on: [ValueError])",
])
def test_overlapping_retry_lists_are_an_error(policies) -> None:
    source = f"use api\nerror Busy\nworkflow w() {{\n    return api.get() with {policies}\n}}\n"
    with pytest.raises(CompileError) as info:
        analyze(source, "t.wf")
    assert [d.code for d in info.value.diagnostics] == ["E0193"]


def test_retries_join_only_within_one_list() -> None:
    source = ("use api\npolicy api_calls {\n    retry(attempts: 5, on: [ConnectionError])\n"
              "    retry(attempts: 2, on: [TimeoutError])\n}\n"
              "workflow w() {\n    return api.get() with api_calls\n}\n"
              "workflow v() {\n    return api.get() with api_calls, retry(attempts: 9, on: [ConnectionError])\n}\n")
    checked = analyze(source, "t.wf")
    attempts = [[dict(p.options)["attempts"] for p in site.retries()] for site in checked.resolution.guards.values()]
    assert sorted(attempts) == [[5, 2], [9]]  # the block's two; the clause's one replaces them


def test_a_retry_without_on_still_replaces_an_earlier_one() -> None:
    checked = analyze("use api\nworkflow w() {\n    return api.get() with retry(on: [ValueError]), retry(attempts: 2)\n}\n",
                      "t.wf")
    [spec] = checked.resolution.guards.values()
    assert [dict(p.options).get("attempts") for p in spec.retries()] == [2]


def test_the_budget_counts_every_retry_and_max_time() -> None:
    from wfc.check.budget import Budgets

    source = ("use api\nworkflow w() {\n    return api.get() with timeout(1s), "
              "retry(attempts: 3, delay: 1s, backoff: fixed, on: [ValueError]), "
              "retry(attempts: 2, delay: 5s, on: [KeyError])\n}\n"
              "workflow t() {\n    return api.get() with timeout(1s), retry(max_time: 30s, delay: 1s)\n}\n")
    checked = analyze(source, "t.wf")
    trees = {tree.label.split()[1].split("(")[0]: tree.cost.text()
             for tree in Budgets(checked.module, checked.resolution, source).all()}
    assert trees["w"] == "11s"  # 4 attempts of 1s, then 1s + 1s + 5s of backoff
    assert trees["t"] == "32s"  # the last retry begins by 30s: one attempt (1s) past the first
