"""Dataflow `parallel` blocks: a branch that reads a sibling's variable waits for it."""

from __future__ import annotations

import pytest

import backend_handlers as handlers
from conftest import load_both, run
from wfc.api import analyze
from wfc.diagnostics import CompileError

SOURCE = """use backend_handlers as h

workflow dag(x) {
    parallel {
        d = h.double((b ?? 0) + (c ?? 0))
        a = h.slow(x, 1)
        b = h.slow(a + 1, 2)
        c = h.slow(a + 2, 1)
    }
    return [a, b, c, d]
}
workflow limited(x) {
    parallel limit 1 {
        b = h.slow(a + 1, 1)
        a = h.slow(x, 1)
    }
    return [a, b]
}
workflow skipping(x) {
    parallel on error continue {
        a = h.explode("no")
        b = h.double(a)
        c = h.double(b)
        d = h.slow(x, 1)
    }
    return [a, b, c, d]
}
"""


@pytest.fixture(scope="module")
def modules():
    return load_both(SOURCE)


def test_a_branch_waits_for_the_branches_it_reads(modules, backend) -> None:
    handlers.log.clear()
    outcome = run(modules[backend], "dag", 1)
    # a at 1s; b (2s) and c (1s) together after it; d after both, at 3s
    assert outcome.value == [1, 2, 3, 10] and outcome.now == 3.0
    assert [call for call, _ in handlers.log] == ["slow", "slow", "slow", "double"]


def test_with_a_limit_each_branch_still_comes_after_its_inputs(modules, backend) -> None:
    outcome = run(modules[backend], "limited", 5)  # b is first in the source, but needs a
    assert outcome.value == [5, 6] and outcome.now == 2.0


def test_on_error_continue_skips_what_a_failed_branch_feeds(modules, backend) -> None:
    handlers.log.clear()
    outcome = run(modules[backend], "skipping", 7)
    assert outcome.value == [None, None, None, 7]
    assert [call for call, _ in handlers.log] == ["explode", "slow"]  # b and c never ran


def test_branches_waiting_in_a_circle_are_an_error() -> None:
    with pytest.raises(CompileError) as info:
        analyze("workflow w() {\n    parallel {\n        a = b ?? 1\n        c = a\n        b = c ?? 2\n    }\n}\n",
                "t.wf")
    assert [d.code for d in info.value.diagnostics] == ["E0196"]


def test_independent_branches_record_no_dependencies() -> None:
    checked = analyze("workflow w(x) {\n    parallel {\n        a = x\n        b = x\n    }\n}\n", "t.wf")
    assert checked.resolution.branch_deps == {}
