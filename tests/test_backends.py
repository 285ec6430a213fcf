"""Language semantics, checked on both backends (interpreter and compiled)."""

from __future__ import annotations


import pytest

import backend_handlers as handlers
from conftest import run_source
from wfc.runtime import ValidationError, WorkflowFailed

USE = "use backend_handlers as h\n"


def go(backend: str, body: str, *args, params: str = "", prelude: str = "", **kwargs):
    handlers.log.clear()
    return run_source(f"{USE}{prelude}workflow main({params}) {{\n{body}\n}}", backend, "main", *args, **kwargs)


def value(backend: str, body: str, *args, **kwargs):
    outcome = go(backend, body, *args, **kwargs)
    assert outcome.error is None, repr(outcome.error)
    return outcome.value


def test_operators_follow_python(backend) -> None:
    assert value(backend, "return [7 // 2, 7 % 3, 7 / 2, -3 + 2 * 4, 1 < 2 < 3, 3 > 2 > 2, "
                          "2 in [1, 2], 3 not in [1], not 0, 0 or 5, 1 and 0]") == [
        3, 1, 3.5, 5, True, False, True, True, True, 5, 0]


def test_null_coalescing_and_safe_access(backend) -> None:
    assert value(backend, "a = null\nb = {x: {y: 1}}\n"
                          "return [a ?? 2, 0 ?? 3, a?.x, b.x.y, b.missing, b?.x?.y, b['x']['y']]") == [
        2, 0, None, 1, None, 1, 1]


def test_attribute_on_objects_and_methods(backend) -> None:
    assert value(backend, 'b = h.Box(5)\ns = "abc"\nreturn [b.value, b.get(), s.upper()]') == [5, 5, "ABC"]


def test_fstrings_and_builtins(backend) -> None:
    assert value(backend, 'n = 3.14159\nreturn [f"{n:.2f}|{null}|{{x}}", len("abc"), '
                          'keys({a: 1}), values({a: 1}), items({a: 1}), lower("A"), upper("a"), '
                          'strip("  x "), split("a,b", ","), join([1, "b"], "-"), chunks([1, 2, 3], 2), '
                          'min(3, 1), max([2, 5]), sum([1, 2]), abs(-2), round(2.567, 1), '
                          'int("4"), float("1.5"), str(2), bool(0), list(range(3)), map()]') == [
        "3.14|None|{x}", 3, ["a"], [1], [("a", 1)], "a", "A", "x", ["a", "b"], "1-b",
        [[1, 2], [3]], 1, 5, 3, 2, 2.6, 4, 1.5, "2", False, [0, 1, 2], {}]


def test_on_route_state_and_step_as_names(backend) -> None:
    """Soft keywords as parameters, variables, map keys and fields, on both backends."""
    assert value(backend, "state = {on: on, step: route}\nstep = state.on + state.step\n"
                          "total = h.double(step)\nreturn [step, total, state]",
                 params="on, route", on=1, route=2) == [3, 6, {"on": 1, "step": 2}]


def test_locals_are_null_until_assigned(backend) -> None:
    assert value(backend, "if false { x = 1 }\nreturn x") is None


def test_loops_break_continue_max(backend) -> None:
    assert value(backend, """
    out = []
    for i in range(10) { if i == 2 { continue }; if i == 5 { break }; out = out + [i] }
    n = 0
    while true max 4 { n = n + 1 }
    k = 0
    repeat { k = k + 1; if k < 3 { continue } } until k >= 3
    m = 0
    repeat max 2 { m = m + 1 } until false
    return [out, n, k, m]""") == [[0, 1, 3, 4], 4, 3, 2]


def test_map_for_yields_in_order_and_nulls(backend) -> None:
    assert value(backend, "r = for x in range(5) { if x == 1 { continue }; if x == 3 { yield null }; "
                          "if x < 4 { yield x * 10 } }\nreturn r") == [0, None, 20, None, None]


def test_where_leaves_items_out(backend) -> None:
    """`where` filters: a left-out item has no entry (an item without `yield` gives null),
    its body does not run, and the test may call handlers (inside the item)."""
    outcome = go(backend, "evens = for x in range(6) where x % 2 == 0 { yield x * 10 }\n"
                          "none = for x in range(3) where x > 0 { }\n"
                          "slow = parallel for x in [3, 1, 2] where h.slow(x, x) > 1 limit 3 { yield x }\n"
                          "total = 0\nfor x in [1, 2, 3, 4] where x > 2 and x != 5 { total = total + x }\n"
                          "return [evens, none, slow, total]")
    assert outcome.value == [[0, 20, 40], [None, None], [3, 2], 7]
    assert outcome.now == 3.0  # the items' tests ran concurrently


def test_a_stage_fallback_value_does_not_end_the_block(backend) -> None:
    """A stage has no value: its fallback's value is dropped and the block goes on
    (the interpreter once took the value for a `return`; found by the differential
    property)."""
    assert value(backend, "d = 5\nstage s with fallback(value: d) { d = -null }\nreturn [2, d]") == [2, 5]


def test_parallel_for_is_bounded_and_ordered(backend) -> None:
    outcome = go(backend, "r = parallel for x in [3, 1, 2, 1] limit 2 { yield h.slow(x, x) }\nreturn r")
    assert outcome.value == [3, 1, 2, 1]
    assert outcome.now == 4.0  # 3 on one worker; 1, 2, 1 on the other


def test_parallel_for_skips_failures_and_times_out_items(backend) -> None:
    outcome = go(backend, "r = parallel for x in [1, 5, 2] timeout 3s on error skip { yield h.slow(x, x) }\nreturn r")
    assert outcome.value == [1, 2] and outcome.now == 3.0


def test_parallel_block_waits_overlap(backend) -> None:
    outcome = go(backend, "parallel {\n a = h.slow(1, 5)\n b = h.slow(2, 5)\n}\nwait 1s\nreturn [a, b]")
    assert outcome.value == [1, 2] and outcome.now == 6.0


def test_parallel_block_first_failure_cancels_the_rest(backend) -> None:
    outcome = go(backend, "parallel {\n a = h.slow(1, 5)\n b = h.explode('x')\n}\nreturn a")
    assert isinstance(outcome.error, ValueError) and outcome.now == 0.0


def test_parallel_on_error_continue_nulls_failed_branch_variables(backend) -> None:
    assert value(backend, "parallel on error continue {\n a = h.double(1)\n"
                          " stage s { b = 1; c = h.explode() }\n}\nreturn [a, b, c]") == [2, None, None]


def test_parallel_timeout_and_limit(backend) -> None:
    outcome = go(backend, "parallel limit 1 timeout 3s {\n a = h.slow(1, 2)\n b = h.slow(2, 2)\n}")
    assert isinstance(outcome.error, TimeoutError) and outcome.now == 3.0
    assert str(outcome.error) == "timed out after 3s"


def test_while_timeout_raises(backend) -> None:
    outcome = go(backend, "while true timeout 2500ms { wait 1s }")
    assert isinstance(outcome.error, TimeoutError) and outcome.now == 2.5


def test_try_catch_types_and_binding(backend) -> None:
    assert value(backend, """
    try { h.out_of_stock("p1") } catch ValueError { r = "value" } catch h.OutOfStock as e { r = str(e) }
    try { fail "bad" } catch WorkflowFailed as e { f = str(e) }
    try { require 1 > 2 } catch ValidationError as e { v = str(e) }
    try { x = 1 / 0 } catch { z = "caught" }
    return [r, f, v, z, e == null]""") == ["p1", "bad", "requirement failed: 1 > 2", "caught", False]


def test_fail_and_require_raise(backend) -> None:
    assert str(go(backend, 'fail f"no {1 + 1}"').error) == "no 2"
    assert isinstance(go(backend, 'fail "x"').error, WorkflowFailed)
    error = go(backend, 'require "" else ""').error
    assert isinstance(error, ValidationError) and str(error) == 'requirement failed: ""'


def test_stage_events_and_skip(backend) -> None:
    outcome = go(backend, "stage a { x = h.double(2) }\nstage b when x > 10 { y = 1 }\nreturn x")
    assert outcome.value == 4
    assert [(e.kind, e.name) for e in outcome.events] == [
        ("workflow.start", "main"), ("stage.start", "a"), ("step.start", "h.double"),
        ("step.end", "h.double"), ("stage.end", "a"), ("stage.skip", "b"), ("workflow.end", "main")]


def test_return_and_break_inside_stages_end_them(backend) -> None:
    outcome = go(backend, "for i in [1] { stage a { stage b { break } } }\nstage c { return 1 }")
    assert outcome.kinds == ["workflow.start", "stage.start", "stage.start", "stage.end", "stage.end",
                             "stage.start", "stage.end", "workflow.end"]


def test_step_errors_carry_a_note_and_events(backend) -> None:
    outcome = go(backend, "stage s {\n  h.explode('bad')\n}")
    assert isinstance(outcome.error, ValueError)
    assert any(note.endswith(":4:3: in step h.explode") for note in outcome.error.__notes__)
    assert [(e.kind, e.fields) for e in outcome.events if e.kind.endswith("error")] == [
        ("step.error", {"error": "ValueError", "message": "bad"}),
        ("stage.error", {"error": "ValueError", "message": "bad"}),
        ("workflow.error", {"error": "ValueError", "message": "bad"})]


def test_nested_steps_run_arguments_first(backend) -> None:
    outcome = go(backend, "return h.double(h.double(1)) + len([h.double(3)])")
    assert outcome.value == 5
    assert handlers.log == [("double", (1,)), ("double", (2,)), ("double", (3,))]
    assert outcome.kinds.count("step.start") == 3


def test_workflow_calls_with_defaults_and_keywords(backend) -> None:
    source = (f"{USE}const N = 10\nworkflow add(a, b = N) {{ return a + b }}\n"
              "workflow main() { return [add(1), add(1, b=2)] }")
    assert run_source(source, backend).value == [11, 3]


def test_emit_publishes_to_subscribers(backend) -> None:
    from wfc.runtime import Runtime, VirtualClock

    rt = Runtime(clock=VirtualClock())
    got = []
    rt.subscribe("order.placed", got.append)
    outcome = run_source(f"{USE}workflow main() {{ emit order.placed({{id: 1}}) }}", backend, rt=rt)
    assert got == [{"id": 1}] and ("emit", "order.placed") in [(e.kind, e.name) for e in outcome.events]


def test_now_and_uuid_come_from_the_runtime(backend) -> None:
    from wfc.runtime import Runtime, VirtualClock

    outcome = run_source(f"{USE}workflow main() {{ wait 2s\n return [now(), uuid()] }}", backend,
                         rt=Runtime(clock=VirtualClock(start=100.0), seed=3))
    expected_uuid = Runtime(seed=3).uuid()
    assert outcome.value == [102.0, expected_uuid]


def test_python_keywords_as_names_are_renamed(backend) -> None:
    source = f"{USE}workflow main(class, len = 1) {{ lambda = class + len\n return lambda }}"
    assert run_source(source, backend, "main", 2).value == 3
    assert run_source(source, backend, "main", class_=2, len_=5).value == 7


def test_docstring_becomes_the_function_doc(backend) -> None:
    from conftest import load_both

    modules = load_both('workflow w() {\n "Does w."\n return 1\n}')
    assert modules[backend].w.__doc__ == "Does w."


def test_map_and_wait_events_tell_progress(backend) -> None:
    """`map.start` (the input's length, when it has one), one `map.item` per item that ended
    (failed items too, with `on error skip`), and a `wait` event per `wait`."""
    outcome = go(backend, "xs = parallel for x in [1, 2, 3] on error skip {\n"
                          "  wait 1s\n  yield 10 / (x - 2)\n}\n"
                          "ys = for y in range(2) { yield y }\nreturn [xs, ys]")
    assert outcome.value == [[-10.0, 10.0], [0, 1]]
    progress = [(e.kind, e.name, e.fields) for e in outcome.events
                if e.kind.startswith(("map.", "wait"))]
    assert progress[0] == ("map.start", "x", {"total": 3, "concurrent": True})
    assert progress[1:4] == [("wait", "", {"seconds": 1.0})] * 3
    assert [fields for kind, _, fields in progress[4:7]] == [
        {"done": n, "total": 3} for n in (1, 2, 3)]
    assert progress[7:] == [("map.start", "y", {"total": 2, "concurrent": False}),
                            ("map.item", "y", {"done": 1, "total": 2}),
                            ("map.item", "y", {"done": 2, "total": 2})]


def test_a_map_over_an_input_without_a_length_has_no_total(backend) -> None:
    outcome = go(backend, "cs = for c in h.letters(3) { yield c }\nreturn cs")
    assert outcome.value == ["a", "b", "c"]
    starts = [e.fields for e in outcome.events if e.kind == "map.start"]
    assert starts == [{"total": None, "concurrent": False}]


def test_a_parallel_for_runs_ten_items_at_once_by_default_and_fills_its_limit(backend) -> None:
    """Found by tools/mutate.py: the default width, and workers started late (after items
    that never waited) still fill the limit."""
    outcome = go(backend, "xs = parallel for x in range(11) {\n  wait 1s\n  yield x\n}\nreturn len(xs)")
    assert outcome.value == 11 and outcome.now == 2.0  # ten, then the eleventh
    outcome = go(backend, "xs = parallel for x in [0, 0, 1, 1, 1] limit 3 {\n"
                          "  if x > 0 {\n    wait 1s\n  }\n  yield x\n}\nreturn xs")
    assert outcome.value == [0, 0, 1, 1, 1] and outcome.now == 1.0  # the three waits overlap


def test_a_dataflow_branch_skipped_for_a_failed_input_has_null_variables(backend) -> None:
    """As if it had failed: its variable is null after the block, not what it held before
    (found by tools/mutate.py)."""
    outcome = go(backend, "b = 5\nparallel on error continue {\n  a = h.explode('x')\n  b = h.double(a)\n}\n"
                          "return [a, b]")
    assert outcome.value == [None, None]


def test_a_bad_limit_is_shown_whole_up_to_forty_characters(backend) -> None:
    body = "xs = parallel for x in [1] limit n {\n  yield x\n}\nreturn xs"
    exact = go(backend, body, params="n", n="y" * 38)  # its repr is 40 characters
    assert isinstance(exact.error, ValueError) and str(exact.error).endswith(repr("y" * 38))
    longer = go(backend, body, params="n", n="y" * 39)
    assert str(longer.error).endswith(repr("y" * 39)[:37] + "...")


def test_policies_without_arguments_have_the_documented_defaults(backend) -> None:
    """`retry()`: 3 attempts, exponential from 1 s (so 1 s, then 2 s); `breaker()`: opens
    after 5 consecutive failures, probes once after 60 s, one success closes it
    (found by tools/mutate.py: no test pinned them)."""
    handlers.failures["always"] = 100
    outcome = go(backend, "return h.flaky('always') with retry()")
    assert isinstance(outcome.error, ConnectionError) and outcome.now == 3.0
    assert handlers.log.count(("flaky", ("always", None))) == 3
    handlers.failures["down"] = 5
    outcome = go(backend, """outcomes = for n in range(8) {
  if n == 6 {
    wait 59s
  }
  if n == 7 {
    wait 1s
  }
  try {
    yield h.flaky('down') with breaker()
  } catch CircuitOpen {
    yield "open"
  } catch ConnectionError {
    yield "failed"
  }
}
return outcomes""")
    assert outcome.value == ["failed"] * 5 + ["open", "open", None]
    outcome = go(backend, """for n in range(5) {
  try {
    h.explode('x') with guarded
  } catch ValueError {
    n = n
  }
}
wait 60s
parallel on error continue {
  a = h.slow(1, 1) with guarded
  b = h.slow(2, 1) with guarded
}
try {
  h.explode('y') with guarded
} catch ValueError {
  c = "closed: a failure counts from zero"
}
try {
  h.explode('z') with guarded
} catch ValueError {
  d = "still closed"
}
return [a, b, c, d]""", prelude="policy guarded {\n  breaker()\n}\n")
    assert outcome.value == [1, None, "closed: a failure counts from zero", "still closed"]
    # a failure-rate breaker judges a window of 100 calls, and only once it is full
    outcome = go(backend, """outcomes = for n in range(101) {
  try {
    if n % 2 == 1 {
      h.explode('x') with rate
    } else {
      h.double(n) with rate
    }
    yield "ok"
  } catch ValueError {
    yield "failed"
  } catch CircuitOpen {
    yield "open"
  }
}
return outcomes""", prelude="policy rate {\n  breaker(failure_rate: 0.5)\n}\n")
    assert outcome.value == ["ok", "failed"] * 50 + ["open"]


@pytest.mark.parametrize("limit, times", [
    ("limit(rate: 2/s, burst: 2)", [0.0, 0.0, 0.5, 1.0, 1.5]),
    ("limit(rate: 2/s, algorithm: leaky_bucket)", [0.0, 0.5, 1.0, 1.5, 2.0]),
    ("limit(rate: 2/s, algorithm: fixed_window)", [0.0, 0.0, 1.0, 1.0, 2.0]),
    ("limit(rate: 2/s, algorithm: sliding_window)", [0.0, 0.0, 1.0, 1.0, 2.0]),
])
def test_each_rate_limit_algorithm_lets_calls_through_on_time(backend, limit, times) -> None:
    """Five calls in a row, each waiting for its permit: when each one went through
    (found by tools/mutate.py: no test timed the waiting leaky, fixed and sliding ones)."""
    # (a second in: windows past the first must count as well)
    outcome = go(backend, f"wait 1s\nat = for n in range(5) {{\n  h.double(n) with {limit}\n  yield now()\n}}\nreturn at")
    assert [round(t - outcome.value[0], 6) for t in outcome.value] == times


def test_a_leaky_bucket_queues_concurrent_calls_up_to_its_burst_at_any_time(backend) -> None:
    outcome = go(backend, "wait 10s\nparallel {\n  a = h.slow(1, 0) with leaky\n  b = h.slow(2, 0) with leaky\n"
                          "  c = h.slow(3, 0) with leaky\n}\nreturn [a, b, c, now()]",
                 prelude="policy leaky {\n  limit(rate: 2/s, algorithm: leaky_bucket, burst: 2)\n}\n")
    assert outcome.value[:3] == [1, 2, 3] and outcome.now == 11.0  # at 10, 10.5 and 11


def test_a_fixed_window_forgets_the_permits_of_windows_past(backend) -> None:
    outcome = go(backend, "for n in range(3) {\n  h.double(n) with fixed\n}\nwait 1500ms\nstarted = now()\n"
                          "for n in range(2) {\n  h.double(n) with fixed\n}\nreturn now() - started",
                 prelude="policy fixed {\n  limit(rate: 2/s, algorithm: fixed_window)\n}\n")
    assert outcome.value == 0  # a new window: both at once


def test_a_half_open_breaker_needs_all_its_successes_and_keeps_its_probe_count(backend) -> None:
    """`successes: 3` closes on the third success, not before; a probe that ends frees
    one half-open slot, not two (found by tools/mutate.py)."""
    handlers.failures["svc"] = 2
    prelude = "policy probe {\n  breaker(failures: 2, reset: 1s, half_open: 2, successes: 3)\n}\n"
    outcome = go(backend, """for n in range(2) {
  try {
    h.flaky('svc') with probe
  } catch ConnectionError {
    n = n
  }
}
wait 1s
parallel on error continue {
  a = h.slow(1, 2) with probe
  b = h.slow(2, 0) with probe
  stage later_c {
    wait 500ms
    c = h.slow(3, 1) with probe
  }
  stage later_d {
    wait 500ms
    d = h.slow(4, 1) with probe
  }
  stage later_e {
    wait 1700ms
    e = h.explode('e') with probe
  }
  stage later_f {
    wait 1800ms
    f = h.double(6) with probe
  }
}
wait 1s
for n in range(3) {
  h.double(n) with probe
}
try {
  h.explode('g') with probe
} catch ValueError {
  g = "failed, and closed: one failure of two"
}
last = h.double(7) with probe
return [a, b, c, d, e, f, g, last]""", prelude=prelude)
    # a and b take both slots; b's success frees one, which c takes, and d finds none;
    # two successes of three by 2.5 s: still half-open, so e's failure opens it again
    assert outcome.value == [1, 2, 3, None, None, None, "failed, and closed: one failure of two", 14]
    kinds = [e.kind for e in outcome.events if e.kind.startswith("breaker.")]
    assert kinds == ["breaker.open", "breaker.half_open", "breaker.reject", "breaker.open", "breaker.reject",
                     "breaker.half_open", "breaker.close"]


def test_a_failure_rate_breaker_judges_the_latest_calls_once_its_window_is_full(backend) -> None:
    """window 4: four successes, then failures slide in; at half the window it opens."""
    outcome = go(backend, """outcomes = for n in range(7) {
  try {
    if n >= 4 {
      h.explode('x') with windowed
    } else {
      h.double(n) with windowed
    }
    yield "ok"
  } catch ValueError {
    yield "failed"
  } catch CircuitOpen {
    yield "open"
  }
}
return outcomes""", prelude="policy windowed {\n  breaker(failure_rate: 0.5, window: 4, min_calls: 4)\n}\n")
    assert outcome.value == ["ok"] * 4 + ["failed", "failed", "open"]
