"""What a saga leaves undone, found before it runs: W0170, W0171, W0172, H0173.

Each finding has a program where it fires and programs where it must not (a warning
that fires on correct code is a bug)."""

from __future__ import annotations

import asyncio

import pytest

from conftest import EXAMPLES
from wfc.api import analyze, load_source
from wfc.api import format_text

CODES = {"W0170", "W0171", "W0172", "H0173"}


def findings(source: str) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in analyze(source, "saga.wf").warnings if d.code in CODES]


def saga(body: str, policies: str = "") -> str:
    return f"use pay\n{policies}saga book(x, note) {{\n{body}}}\n"


def test_a_step_left_undone_before_one_that_can_fail_is_reported() -> None:
    source = saga("    step hold = pay.hold(x)\n"
                  "    step charge = pay.charge(x)\n        compensate pay.refund(charge.id)\n")
    [(code, line)] = findings(source)
    assert (code, line) == ("W0170", 3)
    message = next(d.message for d in analyze(source, "saga.wf").warnings)
    assert message == "if `charge` fails, `hold` is not undone"


@pytest.mark.parametrize("body", [
    # the last step: nothing after it can fail and leave it behind
    "    step a = pay.hold(x)\n        compensate pay.release(a.id)\n    step pay.ship(x)\n",
    # `compensate none` says there is nothing to undo
    "    step q = pay.quote(x)\n        compensate none\n    step c = pay.charge(q)\n"
    "        compensate pay.refund(c.id)\n",
    # every step compensated, reading only its own result, parameters and earlier values
    "    reason = note ?? \"cancelled\"\n    step a = pay.hold(x)\n"
    "        compensate pay.release(a.id, reason, x)\n    step b = pay.charge(a)\n"
    "        compensate pay.refund(b.id, a.id)\n",
])
def test_correct_sagas_get_no_finding(body) -> None:
    assert findings(saga(body)) == []


def test_a_compensation_that_calls_its_own_handler_is_reported() -> None:
    source = saga("    step c = pay.charge(x)\n        compensate pay.charge(c.id)\n")
    assert findings(source) == [("W0171", 4)]


def test_a_compensation_that_reads_a_later_variable_is_reported_once() -> None:
    source = saga("    step c = pay.charge(x)\n        compensate pay.refund(c.id, why, why)\n"
                  "    why = \"late\"\n    step d = pay.ship(c)\n        compensate none\n")
    assert findings(source) == [("W0172", 4)]


def test_retrying_steps_with_compensations_that_do_not_get_a_hint() -> None:
    retried = saga("    step c = pay.charge(x) with again\n        compensate pay.refund(c.id)\n",
                   "policy again { retry(attempts: 3) }\n")
    assert findings(retried) == [("H0173", 5)]
    diagnostic = next(d for d in analyze(retried, "saga.wf").warnings if d.code == "H0173")
    assert diagnostic.severity == "hint"
    both = retried.replace("compensate pay.refund(c.id)", "compensate pay.refund(c.id) with again")
    assert findings(both) == []
    neither = retried.replace(" with again", "")
    assert findings(neither) == []


def test_the_examples_are_clean() -> None:
    for path in sorted(EXAMPLES.glob("*.wf")):
        assert findings(path.read_text(encoding="utf-8")) == [], path.name


def test_compensate_none_formats_and_runs_as_no_compensation(backend) -> None:
    source = ("use backend_handlers as h\n\nsaga s(x) {\n    step a = h.double(x)\n"
              "        compensate none\n    step h.explode(\"no\")\n        compensate h.double(0)\n}\n")
    assert format_text(source, "none.wf") == source  # kept as written
    module = load_source(source, "none.wf", backend=backend)
    import backend_handlers

    backend_handlers.log.clear()

    async def run():
        try:
            await module.s(2)
        except Exception as exc:  # noqa: BLE001 - the SagaFailed is the point
            return exc

    failure = asyncio.run(run())
    assert type(failure).__name__ == "SagaFailed"
    # the failing step is not compensated, and `a` has nothing to undo
    assert backend_handlers.log == [("double", (2,)), ("explode", ("no",))]
