"""Watching a run never changes it: an observer that raises at any event is dropped,
and the value or error, the handler calls, the clock and every event the other
observers see are those of the same run with nobody else watching."""

from __future__ import annotations

import pytest

import logging
import os

from hypothesis import HealthCheck, given, note, settings, strategies as st

from .harness import trace
from .programs import programs

EXAMPLES = max(10, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 5)


class Failing:
    """An observer that raises on its `at`-th event (1-based)."""

    def __init__(self, at: int, error: type[Exception]) -> None:
        self.at, self.error, self.seen = at, error, 0

    def __call__(self, event) -> None:
        self.seen += 1
        if self.seen == self.at:
            raise self.error(f"observer broke at event {self.at}")


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(program=programs(), at=st.integers(1, 40), error=st.sampled_from([RuntimeError, KeyError]),
       backend=st.sampled_from(["interp", "compiled"]))
def test_an_observer_that_raises_cannot_change_the_run(program, at, error, backend) -> None:
    source, scripts = program
    note(f"wf program:\n{source}")
    logging.getLogger("wfc.runtime").disabled = True  # one warning per example is expected
    try:
        plain = trace(source, scripts, backend, "obs.wf")
        watched = trace(source, scripts, backend, "obs.wf", observers=(Failing(at, error),))
    finally:
        logging.getLogger("wfc.runtime").disabled = False
    assert watched == plain
