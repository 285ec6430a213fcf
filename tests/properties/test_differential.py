"""The compiled code and the interpreter agree on random programs.

Both backends must give the same value or exception (type and message), the
same handler calls, the same virtual clock time and the same events per task.
Set WFC_PROPERTY_EXAMPLES to run more examples than CI's budget.
"""

from __future__ import annotations

import pytest

import difflib
import os

from hypothesis import HealthCheck, given, note, settings

import wfc
from .harness import trace
from .programs import programs

EXAMPLES = int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150"))


@pytest.mark.slow
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_backends_agree(program) -> None:
    source, scripts = program
    note(f"wf program:\n{source}")
    note(f"handler scripts: {scripts}")
    interp = trace(source, scripts, "interp", "prop.wf")
    compiled = trace(source, scripts, "compiled", "prop.wf")
    if interp != compiled:
        note("generated Python:\n" + wfc.compile_source(source, "prop.wf"))
        diff = "\n".join(difflib.unified_diff(interp.lines(), compiled.lines(), "interpreter",
                                              "compiled", lineterm=""))
        raise AssertionError(f"backends disagree:\n{diff}")
