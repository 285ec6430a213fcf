"""The events around workflows, sagas and stages, and a requirement's error, have one
home (runtime/_lifecycle.py): the interpreter calls it, generated code writes the
same events in place. These tests hold both backends to it."""

from __future__ import annotations

import pytest

from conftest import load_both, run
from wfc.runtime import SAGA, STAGE, WORKFLOW, ValidationError, unmet

SOURCE = """use backend_handlers as h

workflow main(x) {
    stage skipped when x > 100 {
        x = h.double(x)
    }
    stage doubled {
        x = h.double(x)
    }
    stage checked {
        require x < 10 else "too big"
    }
    return x
}
saga booked(x) {
    step held = h.double(x)
    return held
}
workflow required(x, message) {
    require x > 0 else message
    require x > 1
}
"""


@pytest.fixture(scope="module")
def modules():
    return load_both(SOURCE)


def lifecycle_events(outcome) -> list[tuple[str, str]]:
    return [(e.kind, e.name) for e in outcome.events if not e.kind.startswith("step.")]


@pytest.mark.parametrize("argument, fails", [(2, False), (7, True)])
def test_stage_and_workflow_events_are_the_lifecycles(modules, argument, fails) -> None:
    expected = [(WORKFLOW.start, "main"), (STAGE.skip, "skipped"), (STAGE.start, "doubled"),
                (STAGE.end, "doubled"), (STAGE.start, "checked")]
    if fails:
        expected += [(STAGE.error, "checked"), (WORKFLOW.error, "main")]
    else:
        expected += [(STAGE.end, "checked"), (WORKFLOW.end, "main")]
    for backend, module in modules.items():
        outcome = run(module, "main", argument)
        assert lifecycle_events(outcome) == expected, backend
        assert isinstance(outcome.error, ValidationError) if fails else outcome.value == 4


def test_saga_events_are_the_lifecycles(modules) -> None:
    for backend, module in modules.items():
        assert lifecycle_events(run(module, "booked", 3)) == [(SAGA.start, "booked"), (SAGA.end, "booked")], backend


@pytest.mark.parametrize("x, message, expected", [
    (0, "no stock", "no stock"),
    (0, "", "requirement failed: x > 0"),  # an empty message falls back to the condition
    (0, None, "requirement failed: x > 0"),
    (1, "unused", "requirement failed: x > 1"),  # no message at all
])
def test_a_requirement_fails_with_unmet_error(modules, x, message, expected) -> None:
    assert str(unmet(message if x == 0 else None, "x > 0" if x == 0 else "x > 1")) == expected
    for backend, module in modules.items():
        error = run(module, "required", x, message).error
        assert isinstance(error, ValidationError) and str(error) == expected, backend
