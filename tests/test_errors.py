"""Errors with a name: `error` declarations, `fail` with a message and fields, `catch` by
type (children included), `fail` alone to raise the caught error again, the classes
exported by both backends, and policies that select them (`retry`, `breaker`,
`fallback` with `on:`)."""

from __future__ import annotations

import pytest

from conftest import load_both, run
from wfc.api import analyze, format_text
from wfc.diagnostics import CompileError
from wfc.runtime import CircuitOpen, RateLimited, Runtime, VirtualClock, WorkflowError, WorkflowFailed

SOURCE = """use backend_handlers as h

error PaymentDeclined
error CardExpired: PaymentDeclined
error Throttled: RateLimited
error Broken

workflow charge(kind) {
    if kind == "expired" {
        fail CardExpired("card expired", code=402, retry_in=30)
    }
    if kind == "declined" {
        fail PaymentDeclined
    }
    if kind == "throttled" {
        fail Throttled("slow down")
    }
    if kind == "broken" {
        fail Broken("no")
    }
    if kind == "text" {
        fail "plain words"
    }
    return "charged"
}

workflow handled(kind) {
    try {
        return charge(kind)
    } catch CardExpired as e {
        return [e.message, e.code, e.fields.retry_in, e.fields.missing]
    } catch PaymentDeclined as e {
        return ["declined", e.message]
    }
}

workflow again(kind) {
    try {
        return charge(kind)
    } catch PaymentDeclined as e {
        fail
    } catch Broken as e {
        fail e
    }
}

workflow nested(kind) {
    try {
        return charge(kind)
    } catch WorkflowError {
        items = parallel for i in [1] {
            fail
        }
    }
}

workflow resilient(kind) {
    return charge(kind) with fallback(value: "cached", on: [Throttled]), retry(attempts: 3, delay: 1s, on: [Throttled])
}

workflow guarded(kind) {
    return charge(kind) with breaker(failures: 2, reset: 60s, on: [Broken]), fallback(value: "open", on: [CircuitOpen])
}
"""


@pytest.fixture(scope="module")
def modules():
    return load_both(SOURCE)


def test_the_classes_are_exported_with_their_parents(modules) -> None:
    for module in modules.values():
        assert issubclass(module.CardExpired, module.PaymentDeclined)
        assert issubclass(module.PaymentDeclined, WorkflowFailed)
        assert issubclass(module.Throttled, RateLimited) and issubclass(module.Broken, WorkflowError)
        assert module.CardExpired.__module__ == module.__name__
    names = {backend: [cls.__name__ for cls in m.CardExpired.__mro__[:4]] for backend, m in modules.items()}
    assert names["interp"] == names["compiled"] == ["CardExpired", "PaymentDeclined", "WorkflowFailed", "WorkflowError"]


def test_fail_raises_the_declared_error_with_its_message_and_fields(modules, backend) -> None:
    module = modules[backend]
    error = run(module, "charge", "expired").error
    assert type(error) is module.CardExpired  # an application catches it by its class
    assert (error.message, str(error), error.code, error.fields) == (
        "card expired", "card expired", 402, {"code": 402, "retry_in": 30})
    declined = run(module, "charge", "declined").error
    assert type(declined) is module.PaymentDeclined and declined.message == "" and declined.fields == {}
    text = run(module, "charge", "text").error
    assert type(text) is WorkflowFailed and text.message == "plain words"


def test_catch_selects_the_type_and_its_children(modules, backend) -> None:
    module = modules[backend]
    assert run(module, "handled", "expired").value == ["card expired", 402, 30, None]
    assert run(module, "handled", "declined").value == ["declined", ""]
    assert type(run(module, "handled", "throttled").error) is module.Throttled  # not caught


def test_fail_alone_and_fail_e_raise_the_caught_error_unchanged(modules, backend) -> None:
    module = modules[backend]
    for kind, cls in (("expired", module.CardExpired), ("broken", module.Broken)):
        outcome = run(module, "again", kind)
        assert type(outcome.error) is cls and outcome.error.message in ("card expired", "no")
    expired = run(module, "again", "expired").error
    assert expired.code == 402  # the same object: its fields are all there
    inner = run(module, "nested", "broken").error  # from an item of a parallel for inside the catch
    assert type(inner) is module.Broken


def test_events_name_the_declared_error(modules, backend) -> None:
    outcome = run(modules[backend], "charge", "expired")
    errors = [e.fields for e in outcome.events if e.kind == "workflow.error"]
    assert errors == [{"error": "CardExpired", "message": "card expired"}]


def test_retry_and_fallback_select_declared_errors(modules, backend) -> None:
    module = modules[backend]
    throttled = run(module, "resilient", "throttled")
    assert throttled.value == "cached" and throttled.now == 3.0  # 3 attempts: 1s + 2s apart
    assert [e.fields["attempt"] for e in throttled.events if e.kind == "retry"] == [1, 2]
    broken = run(module, "resilient", "broken")  # neither retried nor replaced
    assert type(broken.error) is module.Broken and not [e for e in broken.events if e.kind == "retry"]
    assert run(module, "resilient", "fine").value == "charged"


def test_breaker_counts_only_declared_errors_in_its_on_list(modules, backend) -> None:
    module = modules[backend]
    rt = Runtime(clock=VirtualClock())
    outcomes = [run(module, "guarded", kind, rt=rt) for kind in ("declined", "declined", "broken", "broken", "fine")]
    kinds = [type(o.error).__name__ if o.error else o.value for o in outcomes]
    # declined is not in `on`: it fails but does not count; two broken open the breaker
    assert kinds == ["PaymentDeclined", "PaymentDeclined", "Broken", "Broken", "open"]
    assert isinstance(CircuitOpen("x"), WorkflowError)


@pytest.mark.parametrize("source, code", [
    ("error B: A\nerror A", "E0190"),
    ("error B: Nope", "E0190"),
    ("error A\nworkflow w() { fail A(\"m\", 402) }", "E0191"),
    ("error A\nworkflow w() { fail A(\"m\", message=\"x\") }", "E0191"),
    ("error A\nworkflow w() { fail A(\"m\", _hidden=1) }", "E0191"),
    ("workflow w() { fail }", "E0192"),
    ("error A\nworkflow A() { }", "E0102"),
    ("workflow w() { try { } catch Nope { } }", "E0117"),
])
def test_what_the_checker_says(source, code) -> None:
    with pytest.raises(CompileError) as info:
        analyze(source, "t.wf")
    assert code in {d.code for d in info.value.diagnostics}


def test_a_declared_error_may_derive_from_a_runtime_error_and_be_caught_there() -> None:
    with pytest.raises(CompileError):  # TimeoutError is Python's, not one of the runtime's errors
        analyze("error Late: TimeoutError\n", "t.wf")
    analyze("error Invalid: ValidationError\nworkflow w() { try { fail Invalid(\"x\") } catch ValidationError { } }",
            "t.wf")


def test_fmt_keeps_error_declarations_and_fail_alone() -> None:
    source = "error  A\nerror B :A\nworkflow w() {\n    try {\n        fail B(\"x\", code=1)\n    } catch A {\n        fail\n    }\n}\n"
    formatted = format_text(source, "t.wf")
    assert formatted.startswith("error A\nerror B: A\n\nworkflow w() {")
    assert "        fail\n" in formatted and 'fail B("x", code=1)' in formatted
    assert format_text(formatted, "t.wf") == formatted
