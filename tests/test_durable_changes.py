"""Resuming a durable run under a changed source: accepted when the new program
replays the whole journal, refused (and nothing new done) when it does not."""

from __future__ import annotations

import asyncio

import pytest

import backend_handlers as h
from wfc.api import load_source
from wfc.runtime import ReplayRefused, Runtime, SqliteStore, WorkflowError

OLD = """use backend_handlers as h
workflow w() {
    a = h.double(1)
    b = h.slow(a, 30)
    return [a, b]
}
"""


def crash_in_second_step(store_path, backend: str) -> None:
    """Start w under OLD and stop it dead inside its second step, as a kill would."""
    module = load_source(OLD, "changes.wf", backend=backend)

    async def scenario():
        rt = Runtime(store=SqliteStore(store_path))
        run = await rt.start(module.w, run_id="c-1")
        while ("slow", (2, 30)) not in h.log:
            await asyncio.sleep(0.01)
        run._task.cancel()  # a plain workflow writes nothing when cancelled: as if killed
        await asyncio.gather(run._task, return_exceptions=True)

    asyncio.run(scenario())
    assert h.log == [("double", (1,)), ("slow", (2, 30))]
    h.log.clear()


def resume(store_path, source: str, backend: str):
    module = load_source(source, "changes.wf", backend=backend)

    async def scenario():
        rt = Runtime(store=SqliteStore(store_path))
        run = await rt.resume("c-1")
        return await run.result(), run.status

    return module, asyncio.run(scenario())


@pytest.fixture(autouse=True)
def clean_log():
    h.log.clear()
    yield
    h.log.clear()


def test_an_edit_below_the_reached_point_resumes_under_the_new_source(backend, tmp_path) -> None:
    crash_in_second_step(tmp_path / "c.db", backend)
    new = OLD.replace("h.slow(a, 30)", "h.slow(a, 0)").replace("return [a, b]", "return [a, b, 7]")
    _, (value, status) = resume(tmp_path / "c.db", new, backend)
    assert (value, status) == ([2, 2, 7], "completed")
    assert h.log == [("slow", (2, 0))]  # the journaled first step did not run again


def test_a_line_inserted_above_a_journaled_step_is_refused(backend, tmp_path) -> None:
    crash_in_second_step(tmp_path / "c.db", backend)
    new = OLD.replace("workflow w() {\n", "workflow w() {\n    z = 0\n").replace("30", "0")
    module = load_source(new, "changes.wf", backend=backend)
    old_digest = load_source(OLD, "changes.wf", backend=backend).w.__wf_source__[1]
    load_source(new, "changes.wf", backend=backend)  # the loaded source is the new one again

    with pytest.raises(ReplayRefused) as refused:
        resume(tmp_path / "c.db", new, backend)
    message = str(refused.value)
    assert f"run c-1 started under source {old_digest} of changes.wf" in message
    assert f"the loaded source {module.w.__wf_source__[1]} does not replay its journal" in message
    assert "the step at changes.wf:3:9" in message and "resume it with the source it started under" in message
    assert h.log == []  # nothing new was done
    # the run is still unfinished: with its own source it resumes
    _, (value, status) = resume(tmp_path / "c.db", OLD.replace("30", "0"), backend)
    assert (value, status) == ([2, 2], "completed")


def test_a_journaled_step_that_calls_another_handler_is_refused(backend, tmp_path) -> None:
    crash_in_second_step(tmp_path / "c.db", backend)
    new = OLD.replace("a = h.double(1)", "a = h.explode(1)")
    with pytest.raises(ReplayRefused, match=r"the step at changes.wf:3:9 calls h.explode, where the "
                                            r"journal has h.double"):
        resume(tmp_path / "c.db", new, backend)
    assert h.log == []


def test_resume_itself_refuses_when_the_last_journaled_step_calls_another_handler(backend, tmp_path) -> None:
    # Replaying the journal's last entry ends the check: the handler must be compared first,
    # or resume returns a handle as if the run were accepted, and only its result refuses.
    crash_in_second_step(tmp_path / "c.db", backend)
    load_source(OLD.replace("a = h.double(1)", "a = h.explode(1)"), "changes.wf", backend=backend)

    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "c.db"))
        with pytest.raises(ReplayRefused, match="calls h.explode, where the journal has h.double"):
            await rt.resume("c-1")
        return rt.runs

    assert asyncio.run(scenario()) == {}  # no run of it goes on here
    assert h.log == []


def test_a_new_program_that_ends_before_the_journal_does_is_refused(backend, tmp_path) -> None:
    crash_in_second_step(tmp_path / "c.db", backend)
    new = OLD.replace("    a = h.double(1)\n", "    a = 2\n")
    with pytest.raises(ReplayRefused, match=r"where the journal has the step at changes.wf:3:9"):
        resume(tmp_path / "c.db", new, backend)
    assert h.log == []


@pytest.mark.parametrize("first, then", [("compiled", "interp"), ("interp", "compiled")])
def test_a_run_started_by_one_backend_resumes_under_the_other(first, then, tmp_path) -> None:
    crash_in_second_step(tmp_path / "c.db", first)
    # the same source: the journal's identities and entries are the same on both backends
    module = load_source(OLD, "changes.wf", backend=then)

    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "c.db"))
        run = await rt.resume("c-1")
        await asyncio.sleep(0.05)
        return run

    h.log.clear()
    assert module.w.__wf_source__[0] == "changes.wf"
    run = asyncio.run(asyncio.wait_for(scenario(), 5))
    assert run.status == "running" and h.log == [("slow", (2, 30))]  # only the step in flight


# ---- replay details: timeouts and idempotency claims ------------------------------------
_DEAD: list = []  # loops stopped dead, kept so that nothing ever runs their `finally` blocks


def crash_then_resume(source: str, backend: str, store_path, wait_for, resume_clock, events=None,
                      between=None):
    """Run `w` until the handler call `wait_for` is logged and stop its loop dead there,
    as SIGKILL would (nothing cleans up); call `between()`; resume it on a runtime whose
    clock is `resume_clock` (the kinds of its events go to `events`). Its value, and the
    calls made after the restart."""
    module = load_source(source, "replay.wf", backend=backend)

    async def first():
        rt = Runtime(store=SqliteStore(store_path))
        await rt.start(module.w, run_id="t-1")
        while wait_for not in h.log:
            await asyncio.sleep(0.01)

    async def again():
        rt = Runtime(store=SqliteStore(store_path), clock=resume_clock)
        if events is not None:
            rt.observe(lambda event: events.append(event.kind))
        return await asyncio.wait_for((await rt.resume("t-1")).result(), 20)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(first())
    _DEAD.append((loop, asyncio.all_tasks(loop)))
    h.log.clear()
    if between is not None:
        between()
    return asyncio.run(again()), list(h.log)


def test_attempts_cut_by_their_timeout_count_once_for_the_breaker_across_a_crash(backend, tmp_path) -> None:
    # Found by the crash-replay property: a replayed attempt that its timeout cut was
    # admitted and counted by the breaker again, so it opened where the first run's did not.
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    outcome = "none"
    try {
        h.slow(1, 0.05) with retry(attempts: 3, delay: 0s), breaker(failures: 5), timeout(10ms)
    } catch TimeoutError {
        outcome = "timed out"
    } catch CircuitOpen {
        outcome = "circuit open"
    }
    h.slow(2, 30)
    return outcome
}
"""
    events: list[str] = []
    value, calls = crash_then_resume(source, backend, tmp_path / "b.db", ("slow", (2, 30)),
                                     VirtualClock(start=10**10), events=events)
    assert value == "timed out"  # three failures counted in all, as in the first run: not five
    assert "breaker.open" not in events and "breaker.reject" not in events
    assert calls == [("slow", (2, 30))]  # the cut attempts were not called again


def test_a_timeout_that_fired_before_a_crash_fires_again_on_replay(backend, tmp_path) -> None:
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    outcome = "in time"
    try {
        h.slow(1, 0.05) with timeout(10ms)
    } catch TimeoutError as e {
        outcome = str(e)
    }
    h.slow(2, 30)
    return outcome
}
"""
    # The restarted process's clock is days later: every journaled deadline has passed.
    value, calls = crash_then_resume(source, backend, tmp_path / "t.db", ("slow", (2, 30)),
                                     VirtualClock(start=10 ** 10))
    assert value == "timed out after 10ms"  # the first run's outcome, not "in time"
    assert calls == [("slow", (2, 30))]  # the cut step was not called again


def test_a_timeout_scope_a_sibling_ended_early_does_not_fire_on_a_late_replay(backend, tmp_path) -> None:
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    outcome = "none"
    try {
        parallel timeout 1s {
            h.slow(1, 0.05)
            fail "the sibling failed"
        }
    } catch WorkflowFailed as e {
        outcome = str(e)
    }
    h.slow(2, 30)
    return outcome
}
"""
    # The first branch's call was cut by its sibling, not by the deadline: replayed days
    # later, it runs again and is cut again the same way, instead of timing out.
    value, calls = crash_then_resume(source, backend, tmp_path / "e.db", ("slow", (2, 30)),
                                     VirtualClock(start=10 ** 10))
    assert value == "the sibling failed"
    assert ("slow", (2, 30)) in calls


def test_a_timeout_scope_left_because_the_run_is_cancelled_keeps_its_deadline(backend, tmp_path) -> None:
    source = """use backend_handlers as h
saga s() {
    step a = h.double(1)
        compensate h.note(a)
    parallel timeout 1s {
        h.slow(1, 30)
        h.slow(2, 30)
    }
    return a
}
"""
    module = load_source(source, "cancelled.wf", backend=backend)

    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "x.db"))
        run = await rt.start(module.s, run_id="x-1")
        while ("slow", (2, 30)) not in h.log:
            await asyncio.sleep(0.01)
        run._task.cancel()  # the application stops the run: the saga still undoes its step
        await asyncio.gather(run._task, return_exceptions=True)
        return await rt.store.items("wfjournal:x-1:")

    entries = asyncio.run(scenario())
    assert ("note", (2,)) in h.log
    # The compensation's step wrote what was pending before it called its handler, yet the
    # scope is not marked as ended: a resumed run must still time out there.
    assert [key for key in entries if "|timeout|" in key]
    assert not [key for key in entries if "|ended|" in key]


def test_an_idempotency_key_held_at_a_crash_is_taken_over_by_the_same_step(backend, tmp_path) -> None:
    source = """use backend_handlers as h
workflow w() {
    return h.slow(3, 30) with idempotent(ttl: 1h)
}
"""
    from wfc.runtime import VirtualClock

    # Without the takeover the resumed step would wait an hour for its own dead claim.
    value, calls = crash_then_resume(source, backend, tmp_path / "i.db",
                                     ("slow", (3, 30)), VirtualClock())
    assert value == 3 and calls == [("slow", (3, 30))]


def test_a_handler_raising_a_stray_base_exception_is_journaled_and_not_run_again(backend, tmp_path) -> None:
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    outcome = "none"
    try {
        h.stray(1)
    } catch WorkflowError as e {
        outcome = str(e)
    }
    h.slow(2, 30)
    return outcome
}
"""
    value, calls = crash_then_resume(source, backend, tmp_path / "s.db", ("slow", (2, 30)),
                                     VirtualClock())
    assert value == "handler h.stray raised Stray, a BaseException that is not an Exception: stray 1"
    assert calls == [("slow", (2, 30))]  # its step is journaled: the handler is not called again


# ---- step identities follow branches (found by tools/mutate.py) -------------------------
SHAPES = {
    "parallel for": ("xs = parallel for d in [3, 1, 1] limit 2 {\n        yield pair(d)\n    }", [6, 2, 2]),
    "parallel block": ("parallel {\n        a = pair(3)\n        b = pair(1)\n        c = pair(1)\n    }\n"
                       "    xs = [a, b, c]", [6, 2, 2]),
    "quorum": ("parallel quorum 3 {\n        a = pair(3)\n        b = pair(1)\n        c = pair(1)\n    }\n"
               "    xs = [a, b, c]", [6, 2, 2]),
    "select": ("select {\n        x = pair(3) {\n            xs = [x]\n        }\n"
               "        y = pair(1) {\n            xs = [y]\n        }\n    }", [2]),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_a_replay_gives_each_branch_its_own_steps_whatever_order_they_ran_in(backend, tmp_path, shape) -> None:
    """Branches run the same sites in an order set by time (item 0 is slow); a replay,
    where journaled steps come back at once, runs them in another order. Step identities
    carry each branch's path, so every branch still gets its own outcomes back."""
    from wfc.runtime import VirtualClock

    body, expected = SHAPES[shape]
    source = f"""use backend_handlers as h
workflow pair(d) {{
    slept = h.slow(d, d / 20)
    return h.double(slept)
}}
workflow w() {{
    {body}
    h.slow(99, 30)
    return xs
}}
"""
    value, calls = crash_then_resume(source, backend, tmp_path / "p.db", ("slow", (99, 30)), VirtualClock())
    assert value == expected
    assert calls == [("slow", (99, 30))]  # nothing journaled ran again


def test_a_replayed_idempotent_step_that_failed_fails_the_same_way(backend, tmp_path) -> None:
    """Found by the crash-replay property: the replay of an idempotent step with no fallback
    raised AttributeError (it looked for the fallback's error filter)."""
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    outcome = "none"
    try {
        h.explode("refused") with idempotent(ttl: 1s)
    } catch ValueError as e {
        outcome = str(e)
    }
    h.slow(2, 30)
    return outcome
}
"""
    value, calls = crash_then_resume(source, backend, tmp_path / "i.db", ("slow", (2, 30)), VirtualClock())
    assert value == "refused"
    assert calls == [("slow", (2, 30))]


def test_a_later_select_does_not_take_an_earlier_losing_arms_timer(backend, tmp_path) -> None:
    """Found by the crash-replay property. A replay runs only a select's journaled winner,
    so the losing arm's timer is not made again; the arms of the next select on the same
    path must still find their own entries, not the earlier loser's (long passed)."""
    import time

    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    select {
        a = h.slow(1, 0.02) {
            first = "call"
        }
        wait 1s {
            first = "timer"
        }
    }
    select {
        b = h.slow(99, 30) {
            second = "call"
        }
        wait 60s {
            second = "timer"
        }
    }
    return [first, second]
}
"""
    value, calls = crash_then_resume(source, backend, tmp_path / "s.db", ("slow", (99, 30)),
                                     VirtualClock(start=time.time()))
    assert value == ["call", "call"]  # the second call (30 s) still beats its own 60 s timer
    assert calls == [("slow", (99, 30))]


def test_a_compensation_timeout_that_fired_before_a_crash_fires_again_on_replay(backend, tmp_path) -> None:
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
saga book() {
    step held = h.double(1) compensate h.slow(held, 0.05) with timeout(10ms)
    step paid = h.explode("declined")
}
workflow w() {
    outcome = null
    try {
        book()
    } catch SagaFailed as e {
        outcome = [e.compensated, len(e.compensation_errors), e.message]
    }
    h.slow(2, 30)
    return outcome
}
"""
    # The replay fires the compensation's overdue timeout at once, before it first waits:
    # the timeout still cuts the compensation, not the run.
    value, calls = crash_then_resume(source, backend, tmp_path / "t.db", ("slow", (2, 30)),
                                     VirtualClock(start=10 ** 10))
    assert value == [[], 1, "saga book failed at step paid: ValueError: declined"]
    assert calls == [("slow", (2, 30))]


def test_a_handler_fallback_is_journaled_and_not_called_again_on_replay(backend, tmp_path) -> None:
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    a = h.explode("ab") with fallback(h.double)
    h.slow(2, 30)
    return a
}
"""
    value, calls = crash_then_resume(source, backend, tmp_path / "t.db", ("slow", (2, 30)),
                                     VirtualClock(start=10 ** 10))
    assert value == "abab"
    assert calls == [("slow", (2, 30))]  # neither the call nor its fallback ran again


def test_an_idempotent_step_answered_by_its_fallback_replays_the_fallback(backend, tmp_path) -> None:
    """Found by the crash-replay property: the step was cut by its timeout, so the journal
    held no outcome for it, and the replay asked the store, where the first run had since
    put the fallback's value: it reported an idempotency hit instead of the fallback."""
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    a = h.slow(1, 0.05) with fallback(value: "late"), timeout(10ms), idempotent(ttl: 1h)
    h.slow(2, 30)
    return a
}
"""
    import time

    events: list[str] = []
    # A minute after the crash: the 10 ms deadline has passed, the 1 h key has not.
    value, calls = crash_then_resume(source, backend, tmp_path / "t.db", ("slow", (2, 30)),
                                     VirtualClock(start=time.time() + 60), events)
    assert value == "late"
    assert calls == [("slow", (2, 30))]
    assert "fallback" in events and "idempotent.hit" not in events


def test_a_journal_without_idempotent_entries_for_its_steps_still_replays_them(backend, tmp_path) -> None:
    """Runs journaled before idempotent steps had `idempotent` entries: a step with a
    journaled outcome replays it (taking its step identity, which later calls at the
    site count on) instead of asking the store."""
    import sqlite3

    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    xs = []
    for i in [1, 2] {
        x = h.double(i) with idempotent(ttl: 1h)
        xs = xs + [x]
    }
    h.slow(2, 30)
    return xs
}
"""
    path = tmp_path / "old.db"

    def as_an_older_version_wrote_it() -> None:
        with sqlite3.connect(path) as db:
            dropped = db.execute("DELETE FROM wfc_records WHERE key LIKE '%|idempotent|%'").rowcount
        assert dropped == 2

    events: list[str] = []
    value, calls = crash_then_resume(source, backend, path, ("slow", (2, 30)), VirtualClock(), events,
                                     as_an_older_version_wrote_it)
    assert value == [2, 4] and calls == [("slow", (2, 30))]
    assert "idempotent.hit" not in events and events.count("step.end") == 3


def test_a_handler_error_replays_as_its_own_class_so_catch_takes_the_same_path(backend, tmp_path) -> None:
    """A journaled handler error must still match `catch h.Refused` after a restart, with
    its attributes: rebuilt as a plain WorkflowError, the resumed run would fail instead."""
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    outcome = null
    try {
        h.refuse(402)
    } catch h.Refused as e {
        outcome = ["caught", e.code]
    }
    h.slow(2, 30)
    return outcome
}
"""
    value, calls = crash_then_resume(source, backend, tmp_path / "t.db", ("slow", (2, 30)),
                                     VirtualClock(start=10 ** 10))
    assert value == ["caught", 402]
    assert calls == [("slow", (2, 30))]  # the refusal came from the journal, not a second call


def test_a_declared_error_that_ended_a_run_reads_back_as_its_class_with_its_fields(
    backend, tmp_path, monkeypatch
) -> None:
    import sys

    source = """error Declined
error Expired: Declined
workflow w(card) {
    fail Expired("card expired", card=card)
}
"""
    module = load_source(source, "declined.wf", backend=backend)
    monkeypatch.setitem(sys.modules, module.__name__, module)  # as `import declined_wf` puts it

    async def scenario():
        run = await Runtime(store=SqliteStore(tmp_path / "r.db")).start(module.w, "4242", run_id="d-1")
        with pytest.raises(module.Expired) as live:
            await run.result()
        handle = await Runtime(store=SqliteStore(tmp_path / "r.db")).resume("d-1")
        with pytest.raises(module.Declined) as read_back:
            await handle.result()
        return live.value, read_back.value

    live, read_back = asyncio.run(scenario())
    assert type(read_back) is module.Expired
    assert (read_back.message, read_back.card, read_back.fields) == ("card expired", "4242", {"card": "4242"})
    assert (live.message, live.card) == (read_back.message, read_back.card)


def test_rebuilding_an_error_never_imports_its_module() -> None:
    import sys

    from wfc.runtime import WorkflowError
    from wfc.runtime._durable import error_entry, rebuilt_error

    entry = {**error_entry(ValueError("x")), "module": "wfc_never_imported", "type": "Gone", "class": "Gone"}
    read_back = rebuilt_error(entry)
    assert type(read_back) is WorkflowError and str(read_back) == "Gone: x"
    assert "wfc_never_imported" not in sys.modules


def test_a_step_value_that_json_changes_reads_the_same_before_and_after_a_crash(backend, tmp_path) -> None:
    """A tuple comes back from the journal as a list: the first run sees the list too,
    or `first == [1, 2]` would be false before the crash and true after it."""
    from wfc.runtime import VirtualClock

    source = """use backend_handlers as h
workflow w() {
    first = h.pair(1, 2)
    before = first == [1, 2]
    h.slow(2, 30)
    return [before, first == [1, 2], first]
}
"""
    uncrashed = asyncio.run(_durable_value(load_source(source, "pair.wf", backend=backend), tmp_path / "u.db"))
    value, calls = crash_then_resume(source, backend, tmp_path / "t.db", ("slow", (2, 30)),
                                     VirtualClock(start=10 ** 10))
    assert uncrashed == value == [True, True, [1, 2]]
    assert calls == [("slow", (2, 30))]


async def _durable_value(module, path):
    from wfc.runtime import VirtualClock

    rt = Runtime(store=SqliteStore(path), clock=VirtualClock())
    return await (await rt.start(module.w, run_id="u-1")).result()


def test_a_runs_result_reads_the_same_in_the_process_that_ran_it_as_in_any_other(backend, tmp_path) -> None:
    """The live `Run.result()` gives what the store holds: a list for a tuple, and for a
    value the store cannot hold the error the stored end records, not the value."""
    source = """use backend_handlers as h
machine M() {
    initial a
    state a {}
}
workflow pair() {
    return h.pair(1, 2)
}
workflow instance() {
    return M()
}
"""
    module = load_source(source, "ends.wf", backend=backend)

    async def scenario():
        rt = Runtime(store=SqliteStore(tmp_path / "r.db"))
        live_pair = await (await rt.start(module.pair, run_id="p")).result()
        unstorable = await rt.start(module.instance, run_id="m")
        with pytest.raises(WorkflowError) as live_error:
            await unstorable.result()
        later = Runtime(store=SqliteStore(tmp_path / "r.db"))
        read_pair = await (await later.resume("p")).result()
        with pytest.raises(WorkflowError) as read_error:
            await (await later.resume("m")).result()
        return live_pair, read_pair, unstorable.status, str(live_error.value), str(read_error.value)

    live_pair, read_pair, status, live_error, read_error = asyncio.run(scenario())
    assert live_pair == read_pair == [1, 2]
    assert status == "failed" and live_error == read_error
    assert live_error.startswith("the result, ") and "cannot be stored" in live_error
