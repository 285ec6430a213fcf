"""Policies as wf source uses them, on both backends, and what the checker says."""

from __future__ import annotations

import pytest

import backend_handlers as handlers
from conftest import load_both, run, run_source
from wfc.api import analyze
from wfc.diagnostics import CompileError
from wfc.runtime import CircuitOpen, RateLimited, Runtime, VirtualClock

USE = "use backend_handlers as h\n"


def go(backend: str, source: str, *args, failing: dict[str, int] | None = None, **kwargs):
    handlers.log.clear()
    handlers.failures.clear()
    handlers.failures.update(failing or {})
    return run_source(USE + source, backend, "main", *args, **kwargs)


def retries(outcome) -> list[tuple[int, float]]:
    return [(e.fields["attempt"], e.fields["delay"]) for e in outcome.events if e.kind == "retry"]


def test_a_retried_call_and_its_events(backend) -> None:
    outcome = go(backend, 'workflow main() { return h.flaky("a", 5) with retry(attempts: 4, delay: 1s) }',
                 failing={"a": 2})
    assert outcome.value == 5
    assert retries(outcome) == [(1, 1.0), (2, 2.0)]
    assert outcome.now == 3.0
    assert [e.kind for e in outcome.events if e.kind.startswith("step")] == [
        "step.start", "step.error", "step.start", "step.error", "step.start", "step.end"]


def test_order_is_fixed_and_a_later_kind_replaces_an_earlier_one(backend) -> None:
    # Written timeout-first, the timeout still bounds each attempt, not the whole retry loop.
    source = """
policy api {
    retry(attempts: 5, delay: 1s, backoff: fixed)
    timeout(10s)
}
workflow main() {
    a = h.slow(1, 3) with timeout(2s), retry(attempts: 2, delay: 1s)
}
workflow other() {
    return h.flaky("b", 1) with api, retry(attempts: 2, delay: 0s)
}"""
    outcome = go(backend, source)
    assert isinstance(outcome.error, TimeoutError)
    assert outcome.now == 5.0  # 2s, a 1s pause, 2s
    modules = load_both(USE + source)
    handlers.failures.update({"b": 5})
    replaced = run(modules[backend], "other")
    assert isinstance(replaced.error, ConnectionError)
    assert retries(replaced) == [(1, 0.0)]  # api's 5 attempts were replaced by 2


def test_a_named_breaker_is_shared_by_every_call_site_and_run(backend) -> None:
    source = """
policy guarded {
    breaker(failures: 2, reset: 30s)
}
workflow main(n) {
    return h.flaky(n) with guarded
}
workflow elsewhere() {
    return h.flaky("c", "fine") with guarded
}"""
    module = load_both(USE + source)[backend]
    rt = Runtime(clock=VirtualClock())
    handlers.failures.clear()
    handlers.failures.update({"a": 10})
    first = [run(module, "main", "a", rt=rt).error for _ in range(3)]
    assert [type(error).__name__ for error in first] == ["ConnectionError", "ConnectionError", "CircuitOpen"]
    assert isinstance(run(module, "elsewhere", rt=rt).error, CircuitOpen)
    fresh = run(module, "elsewhere", rt=Runtime(clock=VirtualClock()))  # another runtime's store
    assert fresh.value == "fine"


def test_inline_breakers_keep_one_state_per_site_and_per_key(backend) -> None:
    source = """
workflow main(user) {
    a = h.flaky(user) with breaker(failures: 1, key: user), fallback(value: "a open")
    b = h.flaky("fine", "b ok") with breaker(failures: 1)
    return [a, b]
}"""
    module = load_both(USE + source)[backend]
    rt = Runtime(clock=VirtualClock())
    handlers.failures.clear()
    handlers.failures.update({"u1": 1})
    assert [run(module, "main", user, rt=rt).value for user in ("u1", "u1", "u2")] == [
        ["a open", "b ok"], ["a open", "b ok"], [None, "b ok"]]


def test_a_stage_with_policies_re_runs_its_body(backend) -> None:
    outcome = go(backend, """
workflow main() {
    tries = 0
    stage fetch with retry(attempts: 3, delay: 500ms) {
        tries = tries + 1
        first = h.double(tries)
        second = h.flaky("s", first)
    }
    return [tries, first, second]
}""", failing={"s": 2})
    assert outcome.value == [3, 6, 6]
    assert [call for call, _ in handlers.log] == ["double", "flaky"] * 3
    assert [e.kind for e in outcome.events if e.kind.startswith("stage")] == ["stage.start", "stage.end"]


def test_a_declaration_with_policies_and_a_fallback_workflow(backend) -> None:
    outcome = go(backend, """
workflow main(q) with retry(attempts: 2, delay: 0s), fallback(spare) {
    return h.flaky(q, "live")
}
workflow spare(q) {
    return f"spare for {q}"
}""", "x", failing={"x": 5})
    assert outcome.value == "spare for x"
    assert [e.kind for e in outcome.events if e.kind.startswith("workflow")].count("workflow.error") == 2


def test_keyed_limits_and_rejections(backend) -> None:
    source = """
workflow main(user) {
    return h.double(1) with limit(rate: 1/s, key: user, wait: false)
}"""
    module = load_both(USE + source)[backend]
    rt = Runtime(clock=VirtualClock())
    outcomes = [run(module, "main", user, rt=rt) for user in ("u1", "u2", "u1")]
    assert [o.value for o in outcomes] == [2, 2, None]
    assert isinstance(outcomes[2].error, RateLimited)
    assert [e.kind for e in outcomes[2].events] == ["workflow.start", "limit.reject", "workflow.error"]


def test_idempotent_calls_by_explicit_and_derived_keys(backend) -> None:
    source = """
workflow main(order) {
    a = h.double(order) with idempotent(key: f"charge-{order}")
    b = h.double(order + 100) with idempotent
    return [a, b]
}"""
    module = load_both(USE + source)[backend]
    rt = Runtime(clock=VirtualClock())
    handlers.log.clear()
    assert [run(module, "main", n, rt=rt).value for n in (1, 1, 2)] == [[2, 202], [2, 202], [4, 204]]
    assert handlers.log == [("double", (1,)), ("double", (101,)), ("double", (2,)), ("double", (102,))]


def test_fallback_handler_gets_the_calls_arguments(backend) -> None:
    outcome = go(backend, 'workflow main() { return h.flaky("q", 1) with fallback(h.cached) }',
                 failing={"q": 1})
    assert outcome.value == "cached q"
    assert handlers.log[-1] == ("cached", ("q", 1))
    fallback = next(e for e in outcome.events if e.kind == "fallback")
    assert fallback.name == "h.flaky" and fallback.fields["error"] == "ConnectionError"


def test_saga_steps_and_machine_actions_take_policies(backend) -> None:
    outcome = go(backend, """
saga order(n) {
    step a = h.flaky("saga", n) with retry(attempts: 3, delay: 1s)
        compensate h.double(a) with timeout(1s)
    return a
}
machine M() {
    initial idle
    state idle { on go -> idle do h.flaky("machine", 1) with retry(attempts: 2, delay: 0s) }
}
workflow main() {
    m = M()
    sent = m.send("go")
    return [order(7), sent]
}""", failing={"saga": 1, "machine": 1})
    assert outcome.value == [7, True]


# ---- the checker -------------------------------------------------------------------
def codes(source: str) -> list[tuple[str, int, int]]:
    with pytest.raises(CompileError) as info:
        analyze(USE + source, "t.wf")
    return [(d.code, d.line, d.column) for d in info.value.diagnostics]


def test_policy_errors_have_spans_and_help() -> None:
    with pytest.raises(CompileError) as info:
        analyze(USE + "workflow w() { x = h.double(1) with retry(attempts: 3, delai: 1s) }", "t.wf")
    [found] = info.value.diagnostics
    assert (found.code, found.message, found.line, found.column, found.help) == (
        "E0161", "'retry' has no argument 'delai'", 2, 56, "did you mean 'delay'?")


@pytest.mark.parametrize("policy, code", [
    ("retri(attempts: 2)", "E0160"),
    ("nosuch", "E0160"),
    ("retry(3)", "E0161"),
    ("timeout(10s, 5s)", "E0161"),
    ("retry(delay: 5)", "E0162"),
    ("limit(rate: 5s)", "E0162"),
    ("retry(backoff: cubic)", "E0162"),
    ("retry(on: [ValueEror])", "E0117"),
    ("retry(on: 5)", "E0162"),
    ("limit(rate: 10/s, wait: 1)", "E0162"),
    ("retry(attempts: 0)", "E0163"),
    ("retry(jitter: 1.5)", "E0163"),
    ("breaker(reset: 0s)", "E0163"),
    ("limit(rate: 0/s)", "E0163"),
    ("limit(burst: 2)", "E0164"),
    ("timeout", "E0164"),
    ("fallback", "E0164"),
    ("retry(attempts: 2, attempts: 3)", "E0165"),
    ("fallback(h.cached, value: 1)", "E0165"),
    ("fallback(len)", "E0162"),
    ("fallback(value: h.double(1))", "E0162"),
    ("limit(rate: 5/s, burst: 2, algorithm: sliding_window)", "E0169"),
    ("limit(rate: 1.5/s, algorithm: fixed_window)", "E0163"),
    ("limit(rate: 10/s, max_wait: -1s)", "E0163"),
    ("retry(on: [])", "E0162"),
    ("fallback(h.cached, h.double)", "E0161"),
])
def test_bad_policies(policy: str, code: str) -> None:
    assert [found for found, _, _ in codes(f"workflow w() {{ x = h.double(1) with {policy} }}")] == [code]


def test_named_policy_rules() -> None:
    assert [c for c, _, _ in codes("policy p {\n limit(rate: 1/s, key: 1)\n}")] == ["E0166"]
    assert [c for c, _, _ in codes("policy a {\n b\n}\npolicy b {\n a\n}")] == ["E0167"]
    assert [c for c, _, _ in codes("policy breaker {\n timeout(1s)\n}")] == ["E0168"]


def test_constants_fold_and_control_cannot_leave_a_guarded_stage() -> None:
    analyze(USE + "const N = 4\nconst D = 250ms\n"
            "workflow w() { x = h.double(1) with retry(attempts: N, delay: D, factor: 1.5) }", "t.wf")
    found = codes("workflow w() {\n for i in [1] {\n  stage s with retry { break }\n }\n}")
    assert found == [("E0104", 4, 24)]
    both = codes("workflow w() { x = h.double(1) with timeout(rate: 5) }")
    assert [c for c, _, _ in both] == ["E0164", "E0161"]  # no duration, and no such argument


def test_an_idempotent_stage_needs_a_key(backend) -> None:
    assert [c for c, _, _ in codes("workflow w() {\n stage s with idempotent { x = 1 }\n}")] == ["E0164"]
    source = """
workflow main(order) {
    n = 0
    stage charge with idempotent(key: order) {
        n = h.double(order)
    }
    return n
}"""
    module = load_both(USE + source)[backend]
    rt = Runtime(clock=VirtualClock())
    handlers.log.clear()
    assert [run(module, "main", o, rt=rt).value for o in (1, 1, 2)] == [2, 0, 4]  # skipped once
    assert handlers.log == [("double", (1,)), ("double", (2,))]


def test_policies_apply_only_to_handler_or_workflow_calls() -> None:
    assert [c for c, _, _ in codes("workflow w() { x = len([1]) with retry }")] == ["E0109"]


def test_a_retried_steps_arguments_are_computed_once(backend) -> None:
    # Found by the differential test: the inline retry loop once computed them twice.
    outcome = go(backend, """
router pick(a) {
    route -> h.double(a)
}
workflow main() {
    return h.flaky("r", {k: pick(2)}.k) with retry(attempts: 3, delay: 0s)
}""", failing={"r": 1})
    assert outcome.value == 4
    assert [e.kind for e in outcome.events].count("route") == 1
    assert [name for name, _ in handlers.log] == ["double", "flaky", "flaky"]
