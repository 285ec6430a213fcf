"""`select`: the first of a timer, a call or a signal to happen runs its arm; the
others are cancelled. Both backends, durable runs, fmt and the checker."""

from __future__ import annotations

import asyncio

import pytest

import backend_handlers as handlers
from conftest import load_both, run
from wfc.api import analyze, load_source
from wfc.fmt import format_source
from wfc.runtime import Runtime, SqliteStore, VirtualClock, WorkflowError

SOURCE = """use backend_handlers as h

saga hold(seconds) {
    step held = h.slow("hold", seconds)
        compensate h.note("released", held)
    step h.slow("confirm", 10)
        compensate none
    return held
}

workflow main(fast) {
    outcome = null
    select {
        wait 5s {
            outcome = "timer"
        }
        reply = h.slow("call", fast) {
            outcome = reply
        }
    }
    return [outcome, reply]
}

workflow failing() {
    select {
        wait 5s { }
        h.explode("first") { }
    }
}

workflow tie() {
    select {
        wait 1s {
            return "first"
        }
        wait 1s {
            return "second"
        }
    }
}

workflow booking() {
    select {
        wait 3s {
            return "gave up"
        }
        kept = hold(1) {
            return kept
        }
    }
}

workflow unsent() {
    select {
        wait 1s { }
        x = receive approve { }
    }
}
"""


@pytest.fixture(scope="module")
def modules():
    return load_both(SOURCE)


@pytest.mark.parametrize("fast, expected, now", [(1, ["call", "call"], 1.0), (7, ["timer", None], 5.0)])
def test_the_first_to_happen_runs_its_arm(backend, modules, fast, expected, now) -> None:
    outcome = run(modules[backend], "main", fast)
    assert outcome.value == expected and outcome.now == now  # the loser's variable is not set


def test_an_error_that_happens_first_is_raised(backend, modules) -> None:
    outcome = run(modules[backend], "failing")
    assert isinstance(outcome.error, ValueError) and str(outcome.error) == "first"


def test_arms_that_happen_at_once_go_by_position(backend, modules) -> None:
    assert run(modules[backend], "tie").value == "first"


def test_a_cancelled_arm_unwinds_its_saga(backend, modules) -> None:
    handlers.log.clear()
    outcome = run(modules[backend], "booking")
    assert outcome.value == "gave up" and outcome.now == 3.0
    assert ("note", ("released", "hold")) in handlers.log  # the saga compensated when cancelled
    assert [e.kind for e in outcome.events if e.kind == "saga.failed"] == ["saga.failed"]


def test_a_signal_outside_a_durable_run_is_a_clear_error(backend, modules) -> None:
    outcome = run(modules[backend], "unsent")
    assert isinstance(outcome.error, WorkflowError) and "only a durable run" in str(outcome.error)


APPROVAL = """use backend_handlers as h
workflow approval(x) {
    select {
        wait 1h {
            return "expired"
        }
        answer = receive approve {
            return [answer, h.double(x)]
        }
    }
}
"""


@pytest.mark.parametrize("signal_at, expected", [(600.0, [{"ok": True}, 6]), (None, "expired")])
def test_a_signal_arm_in_a_durable_run_and_its_replay(backend, tmp_path, signal_at, expected) -> None:
    module = load_source(APPROVAL, "approval.wf", backend=backend)

    async def scenario():
        rt = Runtime(clock=VirtualClock(start=1000.0), store=SqliteStore(tmp_path / "s.db"))
        started = await rt.start(module.approval, 3, run_id="s-1")
        if signal_at is not None:
            await rt.clock.sleep(signal_at)
            await started.signal("approve", {"ok": True})
        first = await started.result()
        # a second process replays the finished run from its journal: the same arm wins
        again = Runtime(clock=VirtualClock(start=9000.0), store=SqliteStore(tmp_path / "s.db"))
        return first, await (await again.resume("s-1")).result()

    first, replayed = asyncio.run(scenario())
    assert first == expected and replayed == expected


def test_fmt_keeps_every_arm() -> None:
    source = ("use h\nworkflow w() {\n  select {\n  wait 5s { a = 1 }\n  x = h.f() with retry() { a = x }\n"
              "  y = receive approve { a = y }\n  h.g() {\n  }\n  }\n  return a\n}\n")
    module, _ = __import__("wfc.syntax.parser", fromlist=["parse"]).parse(source)
    formatted = format_source(source, module)
    assert formatted == (
        "use h\n\nworkflow w() {\n    select {\n        wait 5s {\n            a = 1\n        }\n"
        "        x = h.f() with retry() {\n            a = x\n        }\n"
        "        y = receive approve {\n            a = y\n        }\n        h.g() { }\n    }\n"
        "    return a\n}\n"
    )
    analyze(formatted, "w.wf")  # still valid


def test_a_signal_after_its_arm_lost_waits_for_the_next_receive(backend, tmp_path) -> None:
    source = ("workflow late() {\n    select {\n        wait 1s { }\n        x = receive approve { }\n    }\n"
              "    y = receive approve timeout 1h\n    return [x, y]\n}\n")
    module = load_source(source, "late.wf", backend=backend)

    async def scenario():
        rt = Runtime(clock=VirtualClock(start=1000.0), store=SqliteStore(tmp_path / "l.db"))
        started = await rt.start(module.late, run_id="l-1")
        await rt.clock.sleep(5)
        await started.signal("approve", "yes")
        return await started.result()

    assert asyncio.run(scenario()) == [None, "yes"]
