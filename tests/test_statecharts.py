"""Statecharts on both backends: XState's README and fetch examples with the traces
they specify, then each construct's semantics (SCXML's where a choice is needed)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

import wfc
from conftest import ROOT, load_both
from wfc.diagnostics import CompileError
from wfc.api import analyze
from wfc.runtime import Event, Runtime, VirtualClock

CHARTS = ROOT / "tests" / "statecharts"


def load(name: str, backend: str) -> Any:
    return wfc.load(CHARTS / name, backend=backend)


def run(main: Callable[[Runtime], Awaitable[Any]]) -> tuple[Any, list[Event]]:
    """`main(rt)` on a virtual clock; its value and the events observed."""
    rt = Runtime(clock=VirtualClock())
    seen: list[Event] = []
    rt.observe(seen.append)

    async def go() -> Any:
        with rt.activate():
            return await main(rt)

    return asyncio.run(go()), seen


async def trace(machine: Any, events: list[str]) -> list[str]:
    """The state after each event (each must be taken)."""
    states = []
    for event in events:
        assert await machine.send(event), f"{event} rejected in {machine.state}"
        states.append(machine.state)
    return states


# ---- XState's README ------------------------------------------------------------
def test_toggle_counts_its_activations(backend) -> None:
    async def main(rt):
        toggle = load("xstate_readme.wf", backend).Toggle()
        states = await trace(toggle, ["TOGGLE", "TOGGLE", "TOGGLE"])
        return states, toggle.data

    (states, data), _ = run(main)
    assert states == ["active", "inactive", "active"]
    assert data == {"count": 2}


def test_light_cycles(backend) -> None:
    async def main(rt):
        return await trace(load("xstate_readme.wf", backend).Light(), ["TIMER"] * 4)

    assert run(main)[0] == ["yellow", "red", "green", "yellow"]


def test_pedestrian_light_nests_and_bubbles(backend) -> None:
    async def main(rt):
        light = load("xstate_readme.wf", backend).PedestrianLight()
        states = await trace(light, ["TIMER", "TIMER"])
        assert light.matches("red") and light.matches("red.walk") and not light.matches("green")
        states += await trace(light, ["PED_COUNTDOWN", "PED_COUNTDOWN"])
        assert not await light.send("PED_COUNTDOWN")  # stop handles it not, nor red
        light.data["log"] = []
        await light.send("TIMER")  # from red.stop: red's own transition
        return states, light.state, light.data["log"], light.leaves

    (states, state, log, leaves), _ = run(main)
    assert states == ["yellow", "red.walk", "red.waiting", "red.stop"]
    assert state == "green" and leaves == ("green",)
    assert log == ["exit red"]


def test_entries_run_outermost_first_and_exits_innermost_first(backend) -> None:
    async def main(rt):
        light = load("xstate_readme.wf", backend).PedestrianLight()
        await trace(light, ["TIMER", "TIMER"])
        entered = list(light.data["log"])
        light.data["log"] = []
        await light.send("TIMER")
        return entered, light.data["log"], light.history

    (entered, exited, history), _ = run(main)
    assert entered == ["enter red", "enter walk"]
    assert exited == ["exit walk", "exit red"]
    assert history[-1] == ("red.walk", "TIMER", "green")


def test_parallel_regions_each_handle_the_event(backend) -> None:
    async def main(rt):
        word = load("xstate_readme.wf", backend).Word()
        first = word.state
        await trace(word, ["TOGGLE_BOLD"])
        bold = word.leaves
        await trace(word, ["TOGGLE_BOLD", "TOGGLE_UNDERLINE", "BULLETS", "TOGGLE_ITALICS"])
        return first, bold, word.leaves, word.events()

    (first, bold, last, events), _ = run(main)
    assert first == "editing.bold.off, editing.underline.off, editing.italics.off, editing.list.none"
    assert bold == ("editing.bold.on", "editing.underline.off", "editing.italics.off", "editing.list.none")
    assert last == ("editing.bold.off", "editing.underline.on", "editing.italics.on", "editing.list.bullets")
    assert events == ["TOGGLE_BOLD", "TOGGLE_UNDERLINE", "TOGGLE_ITALICS", "NONE", "NUMBERS"]


def test_history_returns_to_the_method_last_chosen(backend) -> None:
    async def main(rt):
        payment = load("xstate_readme.wf", backend).Payment()
        return await trace(payment, ["SWITCH_CHECK", "NEXT", "PREVIOUS", "SWITCH_CASH", "NEXT", "PREVIOUS"])

    assert run(main)[0] == ["method.check", "review", "method.check", "method.cash", "review", "method.cash"]


def test_history_with_no_record_enters_the_initial_state(backend) -> None:
    async def main(rt):
        payment = load("xstate_readme.wf", backend).Payment.restore(
            {"machine": "Payment", "state": "review", "history": [], "params": {}}
        )
        return await trace(payment, ["PREVIOUS"])

    assert run(main)[0] == ["method.cash"]


def test_deep_history_restores_every_region(backend) -> None:
    async def main(rt):
        heater = load("xstate_readme.wf", backend).SpaceHeater()
        first = await trace(heater, ["TOGGLE_POWER"])
        await trace(heater, ["TOGGLE_HEAT", "TOGGLE_OSC", "TOGGLE_POWER"])
        off = heater.state
        back = await trace(heater, ["TOGGLE_POWER"])
        return first, off, back, heater.snapshot()

    (first, off, back, snapshot), _ = run(main)
    assert first == ["poweredOn.heated.low, poweredOn.oscillating.disabled"]
    assert off == "poweredOff"
    assert back == ["poweredOn.heated.high, poweredOn.oscillating.enabled"]
    assert snapshot["recorded"] == {"poweredOn.hist": ["poweredOn.heated.high", "poweredOn.oscillating.enabled"]}


# ---- XState's fetch example -----------------------------------------------------------
@pytest.fixture
def fetch_api(monkeypatch):
    monkeypatch.syspath_prepend(str(CHARTS))
    import fetch_api as api  # the module wfc.load finds beside fetch.wf

    api.calls.clear()
    api.cancelled.clear()
    return api


def test_fetch_succeeds(backend, fetch_api) -> None:
    async def main(rt):
        fetch = load("fetch.wf", backend).Fetch()
        assert await fetch.send("FETCH", {"url": "good/1"})
        assert fetch.state == "loading"
        await rt.clock.sleep(0.1)
        return fetch

    fetch, seen = run(main)
    assert fetch.state == "success" and fetch.done
    assert fetch.data["result"] == {"url": "good/1", "items": [1, 2, 3]}
    assert fetch.history == [("idle", "FETCH", "loading"), ("loading", "done.invoke", "success")]
    assert fetch_api.calls == ["good/1"]
    assert [e.fields["event"] for e in seen if e.kind == "transition"] == ["FETCH", "done.invoke"]


def test_fetch_fails_then_retries(backend, fetch_api) -> None:
    async def main(rt):
        fetch = load("fetch.wf", backend).Fetch()
        await fetch.send("FETCH", {"url": "bad/1"})
        await rt.clock.sleep(0.1)
        failed = (fetch.state, fetch.data["error"])
        await fetch.send("RETRY", {"url": "good/2"})
        await rt.clock.sleep(0.1)
        return failed, fetch

    (failed, fetch), _ = run(main)
    assert failed == ("failure", "no route to bad/1")
    assert fetch.state == "success" and fetch.data["retries"] == 1
    assert fetch_api.calls == ["bad/1", "good/2"]


def test_leaving_the_state_cancels_the_request(backend, fetch_api) -> None:
    async def main(rt):
        fetch = load("fetch.wf", backend).Fetch()
        await fetch.send("FETCH", {"url": "slow/1"})
        await rt.clock.sleep(1)
        await fetch.send("CANCEL")
        await rt.clock.sleep(7200)
        return fetch

    fetch, _ = run(main)
    assert fetch.state == "idle"
    assert fetch_api.cancelled == ["slow/1"]
    assert [event for _, event, _ in fetch.history] == ["FETCH", "CANCEL"]


def test_a_slow_request_times_out_on_the_clock(backend, fetch_api) -> None:
    async def main(rt):
        fetch = load("fetch.wf", backend).Fetch(timeout_s=5)
        await fetch.send("FETCH", {"url": "slow/2"})
        await rt.clock.sleep(4.9)
        before = fetch.state
        await rt.clock.sleep(0.2)
        return before, fetch, rt.clock.now()

    (before, fetch, now), _ = run(main)
    assert before == "loading"
    assert fetch.state == "failure" and fetch.data["error"] == "timed out"
    assert fetch.history[-1] == ("loading", "after 5s", "failure")
    assert fetch_api.cancelled == ["slow/2"]  # leaving `loading` cancelled the request


# ---- delayed transitions ----------------------------------------------------------------
TIMED = """
use timed_steps as h

machine Payment() {
    data { reminders: 0 }
    initial pending
    state pending {
        after 15m -> expired
        after 10m do {
            reminders = reminders + 1
        }
        on pay -> paid
        on work do h.slow()
    }
    final state paid
    final state expired
}
"""


class TimedSteps:
    @staticmethod
    async def slow() -> None:
        from wfc.runtime import current

        await current().clock.sleep(20 * 60)


@pytest.fixture
def timed(monkeypatch) -> dict[str, Any]:
    import sys

    monkeypatch.setitem(sys.modules, "timed_steps", TimedSteps)
    return load_both(TIMED)


def test_a_delayed_transition_fires_on_the_clock(backend, timed) -> None:
    async def main(rt):
        payment = timed[backend].Payment()
        await rt.clock.sleep(14 * 60)
        before = (payment.state, payment.data["reminders"])
        await rt.clock.sleep(2 * 60)
        return before, payment

    (before, payment), _ = run(main)
    assert before == ("pending", 1)
    assert payment.state == "expired"
    assert payment.history == [("pending", "after 10m", "pending"), ("pending", "after 15m", "expired")]


def test_leaving_the_state_cancels_its_timers(backend, timed) -> None:
    async def main(rt):
        payment = timed[backend].Payment()
        await rt.clock.sleep(60)
        await payment.send("pay")
        await rt.clock.sleep(3600)
        return payment

    payment, _ = run(main)
    assert payment.state == "paid" and payment.history == [("pending", "pay", "paid")]


def test_a_timer_queues_behind_a_send_in_progress(backend, timed) -> None:
    async def main(rt):
        payment = timed[backend].Payment()
        await payment.send("work")  # its action takes 20 minutes; both timers fall due meanwhile
        after_work = list(payment.history)
        await rt.clock.sleep(0)
        await asyncio.sleep(0)
        return after_work, payment

    (after_work, payment), _ = run(main)
    assert after_work == [("pending", "work", "pending")]
    assert payment.history[1:] == [("pending", "after 10m", "pending"), ("pending", "after 15m", "expired")]


def test_a_snapshot_keeps_the_time_left(backend, timed) -> None:
    async def main(rt):
        payment = timed[backend].Payment()
        await rt.clock.sleep(12 * 60)
        snapshot = json.loads(json.dumps(payment.snapshot()))
        payment._stop_all()  # the process that held it is gone
        again = type(payment).restore(snapshot)
        await rt.clock.sleep(2 * 60)
        middle = again.state
        await rt.clock.sleep(2 * 60)
        return snapshot, middle, again

    (snapshot, middle, again), _ = run(main)
    assert snapshot["work"] == [["pending", "after", 0, [180.0, 900.0]]]
    assert snapshot["data"] == {"reminders": 1}
    assert middle == "pending" and again.state == "expired"
    assert again.history[-1] == ("pending", "after 15m", "expired")


def test_a_machine_made_outside_a_loop_starts_its_timers_on_the_first_send(backend, timed) -> None:
    payment = timed[backend].Payment()

    async def main(rt):
        assert not await payment.send("nothing")
        await rt.clock.sleep(16 * 60)
        return payment.state

    assert run(main)[0] == "expired"


# ---- done events, self-sent events ------------------------------------------------------
DONE = """
machine Checkout() {
    data { log: [] }
    initial basket
    state basket {
        initial items
        state items {
            on next -> paid
        }
        final state paid
        on done.basket -> shipping
    }
    parallel state shipping {
        region pack {
            initial open
            state open { on packed -> closed }
            final state closed
        }
        region label {
            initial blank
            state blank { on printed -> stuck }
            final state stuck
        }
        on done.shipping -> shipped
    }
    final state shipped
}

machine Pinger() {
    data { pongs: 0 }
    initial a
    state a {
        on ping -> b do {
            send pong
            send pong
        }
        on loop do {
            send loop
        }
    }
    state b {
        on pong do {
            pongs = pongs + 1
        }
        on later -> a
    }
}
"""


def test_a_final_child_raises_done_for_its_parent(backend) -> None:
    module = load_both(DONE)[backend]

    async def main(rt):
        checkout = module.Checkout()
        await checkout.send("next")
        after_next = checkout.state
        await checkout.send("printed")
        await checkout.send("packed")
        return after_next, checkout

    (after_next, checkout), _ = run(main)
    assert after_next == "shipping.pack.open, shipping.label.blank"
    assert checkout.state == "shipped" and checkout.done
    assert checkout.history == [
        ("basket.items", "next", "basket.paid"),
        ("basket.paid", "done.basket", "shipping.pack.open, shipping.label.blank"),
        ("shipping.pack.open, shipping.label.blank", "printed", "shipping.pack.open, shipping.label.stuck"),
        ("shipping.pack.open, shipping.label.stuck", "packed", "shipping.pack.closed, shipping.label.stuck"),
        ("shipping.pack.closed, shipping.label.stuck", "done.shipping", "shipped"),
    ]


def test_self_sent_events_follow_the_transition_before_send_returns(backend) -> None:
    module = load_both(DONE)[backend]

    async def main(rt):
        pinger = module.Pinger()
        first = asyncio.ensure_future(pinger.send("ping"))
        second = asyncio.ensure_future(pinger.send("later"))  # external: after the internal ones
        return await first, await second, pinger

    (first, second, pinger), _ = run(main)
    assert first and second
    assert [event for _, event, _ in pinger.history] == ["ping", "pong", "pong", "later"]
    assert pinger.data["pongs"] == 2


def test_unbounded_self_sending_stops_with_a_clear_error(backend) -> None:
    module = load_both(DONE)[backend]

    async def main(rt):
        pinger = module.Pinger()
        with pytest.raises(RuntimeError, match="sent itself more than 1000 events while handling 'loop'"):
            await pinger.send("loop")
        return await pinger.send("ping"), pinger.state  # the machine still works

    assert run(main)[0] == (True, "b")


# ---- data, types, conflicts, snapshots ---------------------------------------------------
DRIVEN = """
machine Counter(limit: int) {
    data { count: 0, last: null }
    initial counting
    state counting {
        on add -> counting when count < limit do {
            count = count + (ctx.by ?? 1)
            last = ctx.by
        }
        on add -> full
        on oops do {
            count = 100
            fail "no"
        }
    }
    final state full
}

workflow drive(counter: Counter, times: int) {
    for _ in range(times) {
        counter.send("add", {by: 2})
    }
    return [counter.state, counter.data]
}

workflow fresh() {
    counter = Counter(1)
    counter.send("add")
    counter.send("add")
    return counter.state
}
"""


def test_a_workflow_drives_a_machine_it_is_given(backend) -> None:
    module = load_both(DRIVEN)[backend]

    async def main(rt):
        counter = module.Counter(3)
        return await module.drive(counter, 2), await module.fresh()

    (driven, fresh), _ = run(main)
    assert driven == ["counting", {"count": 4, "last": 2}]
    assert fresh == "full"


def test_a_failed_action_leaves_the_data_as_it_was(backend) -> None:
    module = load_both(DRIVEN)[backend]

    async def main(rt):
        counter = module.Counter(3)
        with pytest.raises(Exception, match="no"):
            await counter.send("oops")
        return counter.data

    assert run(main)[0] == {"count": 0, "last": None}


def test_events_sent_to_a_typed_machine_are_checked() -> None:
    source = DRIVEN.replace('counter.send("add", {by: 2})', 'counter.send("ad", {by: 2})')
    with pytest.raises(CompileError) as info:
        analyze(source, "typed.wf")
    (found,) = [d for d in info.value.diagnostics if d.code == "E0188"]
    assert "no transition for event 'ad'" in found.message and "add" in (found.help or "")
    source = DRIVEN.replace('counter.send("add")\n    counter.send("add")', 'counter.send("sub")')
    with pytest.raises(CompileError) as info:
        analyze(source, "made.wf")
    assert [d.code for d in info.value.diagnostics] == ["E0188"]


def test_regions_without_conflict_all_move(backend) -> None:
    module = load_both("""
machine Lights() {
    initial on
    parallel state on {
        region cars {
            initial green
            state green { on tick -> red }
            state red { on tick -> green }
        }
        region walkers {
            initial stop
            state stop { on tick -> walk }
            state walk { on tick -> stop }
        }
        on off -> dark
    }
    final state dark
}
""")[backend]

    async def main(rt):
        lights = module.Lights()
        await lights.send("tick")
        ticked = lights.state
        await lights.send("off")
        return ticked, lights.state, lights.history[-1]

    (ticked, state, last), _ = run(main)
    assert ticked == "on.cars.red, on.walkers.walk"
    assert state == "dark" and last == ("on.cars.red, on.walkers.walk", "off", "dark")


def test_conflicting_regions_take_the_first_transition(backend) -> None:
    source = """
machine M() { initial p
 parallel state p {
  region a { state x { on stop -> done } }
  region b { state y { on stop -> failed } }
 }
 final state done
 final state failed }
"""
    assert "W0185" in {d.code for d in analyze(source, "m.wf").warnings}
    module = load_both(source)[backend]

    async def main(rt):
        machine = module.M()
        await machine.send("stop")
        return machine.state

    assert run(main)[0] == "done"


def test_a_snapshot_of_a_statechart_round_trips_through_json(backend) -> None:
    async def main(rt):
        module = load("xstate_readme.wf", backend)
        payment = module.Payment()
        await trace(payment, ["SWITCH_CHECK", "NEXT"])
        restored = module.Payment.restore(json.loads(json.dumps(payment.snapshot())))
        return await trace(restored, ["PREVIOUS"]), restored.history

    (states, history), _ = run(main)
    assert states == ["method.check"]
    assert history == [("method.cash", "SWITCH_CHECK", "method.check"), ("method.check", "NEXT", "review"),
                       ("review", "PREVIOUS", "method.check")]


def test_both_backends_emit_the_same_tables() -> None:
    """The interpreter builds what the compiled class spells out: same shapes."""
    modules = {b: load("xstate_readme.wf", b) for b in ("interp", "compiled")}
    for name in ("Toggle", "PedestrianLight", "Word", "Payment", "SpaceHeater"):
        interp, compiled = (getattr(modules[b], name) for b in ("interp", "compiled"))
        for attribute in ("states", "initial", "initials", "parallels", "histories", "finals"):
            assert getattr(interp, attribute) == getattr(compiled, attribute), (name, attribute)
        assert {k: [t.target for t in v] for k, v in interp.transitions.items()} == {
            k: [t.target for t in v] for k, v in compiled.transitions.items()
        }


# ---- checks ----------------------------------------------------------------------------
@pytest.mark.parametrize(("source", "code", "message"), [
    ("machine M() { initial a\n state a { initial x\n  state x { on go -> yy }\n  state y }\n}",
     "E0151", "unknown state 'yy'"),
    ("machine M() { initial a\n state a { initial zz\n  state x }\n}", "E0151", "unknown state 'zz'"),
    ("machine M() { initial a\n state a { on go -> a }\n history h }", "E0159", "history state 'h'"),
    ("machine M() { initial a\n state a { after 0s -> a } }", "E0183", "positive duration"),
    ("machine M() { initial a\n state a { after -1m -> a } }", "E0183", "positive duration"),
    ("machine M() { initial a\n state a { region r { state x } } }", "E0184", "region 'r'"),
    ("use h\nmachine M() { initial a\n state a { invoke h.f() { ok -> a } } }", "E0186", "not 'ok'"),
    ("machine M() { initial a\n state a { on go do { send og } } }", "E0188", "event 'og'"),
    ("workflow w() { send go }", "E0187", "machine's actions"),
    ("machine M(n: int) { data { n: 1 }\n initial a\n state a }", "E0189", "'n' is already"),
])
def test_statechart_errors(source: str, code: str, message: str) -> None:
    with pytest.raises(CompileError) as info:
        analyze(source, "bad.wf")
    found = [d for d in info.value.diagnostics if d.code == code]
    assert found and message in found[0].message, [str(d) for d in info.value.diagnostics]


def test_did_you_mean_for_a_nested_state() -> None:
    with pytest.raises(CompileError) as info:
        analyze("machine M() { initial a\n state a { initial x\n  state x { on go -> waitng }\n  state waiting }\n}",
                "bad.wf")
    (diagnostic,) = [d for d in info.value.diagnostics if d.code == "E0151"]
    assert diagnostic.help == "did you mean 'waiting'?" and diagnostic.span.line == 3


def test_unreachable_nested_states_are_flagged_once() -> None:
    checked = analyze(
        "machine M() { initial a\n state a { on go -> b.x }\n state b { initial x\n  state x\n  state y {\n"
        "   initial p\n   state p }\n }\n}",
        "m.wf",
    )
    unreachable = [d.message for d in checked.warnings if d.code == "W0156"]
    assert unreachable == ["state 'b.y' cannot be reached"]


def test_statechart_files_format_to_themselves() -> None:
    from wfc.fmt import format_source
    from wfc.syntax.parser import parse

    for path in sorted(CHARTS.glob("*.wf")):
        text = path.read_text(encoding="utf-8")
        module, _ = parse(text)
        assert format_source(text, module) == text, path.name


def test_examples_of_statecharts_check_clean() -> None:
    for path in sorted(CHARTS.glob("*.wf")):
        assert not analyze(path.read_text(encoding="utf-8"), path.name).warnings, path.name


def test_a_compiled_statechart_imports_only_the_runtime_and_is_deterministic() -> None:
    from wfc.api import compile_source

    text = compile_source((CHARTS / "xstate_readme.wf").read_text(encoding="utf-8"), "xstate_readme.wf")
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert all(line.startswith(("from wfc import runtime", "from types ", "from __future__")) for line in imports)
    assert compile_source((CHARTS / "xstate_readme.wf").read_text(encoding="utf-8"), "xstate_readme.wf") == text


# ---- examples/checkout_chart.wf ------------------------------------------------------------
@pytest.fixture
def steps():
    import checkout_steps  # examples/, on the tests' path

    checkout_steps.log.clear()
    checkout_steps.DECLINE.clear()
    checkout_steps.SLOW.clear()
    yield checkout_steps
    checkout_steps.DECLINE.clear()
    checkout_steps.SLOW.clear()


def checkout(backend: str) -> Any:
    from conftest import EXAMPLES

    return wfc.load(EXAMPLES / "checkout_chart.wf", backend=backend)


def test_checkout_pays_then_packs_and_labels_in_parallel(backend, steps) -> None:
    async def main(rt):
        order = checkout(backend).Checkout("A1", 25.0)
        await trace(order, ["view_cart", "pay"])
        await rt.clock.sleep(1)
        fulfilling = order.state
        await order.send("picked")
        return fulfilling, order

    (fulfilling, order), _ = run(main)
    assert fulfilling == "fulfilling.packing.picking, fulfilling.labelling.printed"
    assert order.state == "shipped" and order.done
    assert order.data["charge"] == {"charge_id": "ch_A1", "amount": 25.0}
    assert steps.log == [("authorize", "A1", 25.0), ("label", "A1"), ("notify", "A1", "shipped")]


def test_checkout_gives_up_after_three_declines(backend, steps) -> None:
    steps.DECLINE.add("B2")

    async def main(rt):
        order = checkout(backend).Checkout("B2", 9.5)
        await order.send("pay")
        for _ in range(3):
            await rt.clock.sleep(1)
            await order.send("retry")
        return order

    order, _ = run(main)
    assert order.state == "failed" and order.data["attempts"] == 3
    assert steps.log[-1] == ("notify", "B2", "failed: card declined for B2")
    assert [entry[0] for entry in steps.log].count("authorize") == 3


def test_checkout_authorization_has_a_deadline_and_back_returns_to_the_cart(backend, steps) -> None:
    steps.SLOW.add("C3")

    async def main(rt):
        order = checkout(backend).Checkout("C3", 1.0)
        await trace(order, ["view_cart", "pay"])
        await rt.clock.sleep(21)
        timed_out = (order.state, order.data["last_error"])
        await order.send("back")
        return timed_out, order.state

    (timed_out, state), _ = run(main)
    assert timed_out == ("paying.declined", "authorization timed out")
    assert state == "shopping.cart"


def test_an_idle_checkout_is_abandoned(backend, steps) -> None:
    async def main(rt):
        order = checkout(backend).Checkout("D4", 3.0)
        await rt.clock.sleep(31 * 60)
        return order

    order, _ = run(main)
    assert order.state == "abandoned" and order.history == [("shopping.browsing", "after 30m", "abandoned")]
    assert steps.log == [("notify", "D4", "abandoned")]


LATER = """
workflow drive(door: Door) {
    return [door.send("open"), door.state]
}

machine Door() {
    initial shut
    state shut {
        on open -> ajar
    }
    state ajar {
        on close -> shut
    }
}
"""


def test_a_parameter_may_have_the_type_of_a_machine_declared_further_down(backend) -> None:
    module = load_both(LATER)[backend]

    async def main(rt):
        return await module.drive(module.Door())

    assert run(main)[0] == [True, "ajar"]


def test_an_unknown_machine_type_suggests_the_machine() -> None:
    with pytest.raises(CompileError) as info:
        analyze(LATER.replace("door: Door", "door: Dor"), "later.wf")
    (found,) = info.value.diagnostics
    assert found.code == "E0118" and found.help == "did you mean 'Door'?"
