"""State machines: every path of the example, send semantics, snapshots, checks."""

from __future__ import annotations

import asyncio
import json

import pytest

import order_events
import wfc
from conftest import EXAMPLES, load_both
from wfc.api import analyze
from wfc.diagnostics import CompileError
from wfc.runtime import Event, Runtime, VirtualClock


@pytest.fixture(autouse=True)
def fresh_events():
    order_events.sent.clear()
    order_events.FAIL.clear()
    yield
    order_events.FAIL.clear()


def drive(backend, steps, machine=None):
    """Send (event, ctx) pairs; return the machine, the results and the events."""
    module = wfc.load(EXAMPLES / "order_machine.wf", backend=backend)
    rt = Runtime(clock=VirtualClock())
    seen: list[Event] = []
    rt.observe(seen.append)

    async def main():
        with rt.activate():
            order = machine or module.Order("O-1")
            results = [await order.send(event, ctx) for event, ctx in steps]
            return order, results

    order, results = asyncio.run(main())
    return order, results, seen


def test_the_machine_class_is_named_alike_on_both_backends() -> None:
    """So messages that name an instance's type (`described`) read the same."""
    from wfc.runtime._store import described

    for backend in ("interp", "compiled"):
        module = wfc.load(EXAMPLES / "order_machine.wf", backend=backend)
        assert (module.Order.__module__, module.Order.__qualname__) == (module.__name__, "Order")
        assert described(module.Order("O-1")) == "an order_machine_wf.Order"


def test_happy_path_to_refund(backend) -> None:
    order, results, seen = drive(backend, [
        ("pay", None), ("process", {"payment_verified": True}),
        ("ship", {"tracking_number": "T9"}), ("deliver", None), ("refund", {"amount": 5})])
    assert results == [True] * 5 and order.state == "refunded" and order.done
    assert order.history == [("created", "pay", "paid"), ("paid", "process", "processing"),
                             ("processing", "ship", "shipped"), ("shipped", "deliver", "delivered"),
                             ("delivered", "refund", "refunded")]
    assert order_events.sent == [("paid", "O-1"), ("shipped", "O-1", "T9"), ("refunded", "O-1", 5)]
    assert [e.fields for e in seen if e.kind == "transition"][0] == {"from": "created", "event": "pay", "to": "paid"}


def test_guards_block_and_reject(backend) -> None:
    order, results, seen = drive(backend, [
        ("pay", None), ("process", {"payment_verified": False}), ("ship", None), ("process", None)])
    assert results == [True, False, False, False] and order.state == "paid"
    rejected = [e.fields for e in seen if e.kind == "transition.rejected"]
    assert rejected[0] == {"from": "paid", "event": "process"}


@pytest.mark.parametrize("steps, cancelled", [
    ([("cancel", None)], True),
    ([("pay", None), ("cancel", {"processing_started": False})], True),
    ([("pay", None), ("cancel", {"processing_started": True})], False),
    ([("pay", None), ("process", {"payment_verified": True}), ("cancel", None)], False),
])
def test_cancel_paths(backend, steps, cancelled) -> None:
    order, results, _ = drive(backend, steps)
    assert (order.state == "cancelled") is cancelled
    assert (("cancelled", "O-1") in order_events.sent) is cancelled


def test_can_and_events(backend) -> None:
    module = wfc.load(EXAMPLES / "order_machine.wf", backend=backend)
    order = module.Order("O-2")
    assert order.events() == ["pay", "cancel"] and order.can("pay") and not order.can("ship")
    order.state = "paid"
    assert not order.can("process", {"payment_verified": False})
    assert order.can("process", {"payment_verified": True})


def test_failing_actions_follow_the_spec(backend) -> None:
    order_events.FAIL.add("shipped")  # a transition's `do` fails: the state stays
    module = wfc.load(EXAMPLES / "order_machine.wf", backend=backend)
    order = module.Order("O-3")
    order.state = "processing"
    with pytest.raises(ConnectionError):
        asyncio.run(order.send("ship", {"tracking_number": "T"}))
    assert order.state == "processing" and order.history == []
    order_events.FAIL.add("cancelled")  # an `enter` action fails: the state has changed
    with pytest.raises(ConnectionError):
        asyncio.run(module.Order("O-4").send("cancel"))


def test_concurrent_sends_are_handled_one_at_a_time_in_order(backend) -> None:
    module = wfc.load(EXAMPLES / "order_machine.wf", backend=backend)

    async def main():
        order = module.Order("O-5")
        results = await asyncio.gather(order.send("pay"), order.send("cancel", {"processing_started": False}),
                                       order.send("pay"))
        return order, results

    order, results = asyncio.run(main())
    assert results == [True, True, False] and order.state == "cancelled"


SLOW_CYCLE = """use backend_handlers as t

machine Cycle() {
    initial a
    state a {
        on go -> b
    }
    state b {
        enter do t.slow(1, 0.05)
        on go -> c
    }
    state c {
        on go -> a
    }
}
"""


def test_states_and_events_may_be_named_on_route_state_or_step(backend) -> None:
    source = ("machine M(route) {\n initial step\n state step { on on -> state when route > 0 }\n"
              " final state state\n}\n")
    module = wfc.api.load_source(source, f"soft_{backend}.wf", backend=backend)

    async def main():
        m = module.M(1)
        return m, await m.send("on")

    m, moved = asyncio.run(main())
    assert moved is True and m.state == "state" and m.done


def test_a_send_without_actions_still_waits_behind_one_in_progress(backend) -> None:
    """`b -> c` needs no await, yet it waits until the slow `a -> b` has run b's enter
    action (the state is already b by then): one send at a time, in arrival order,
    however cheap a send is."""
    module = wfc.api.load_source(SLOW_CYCLE, f"cycle_{backend}.wf", backend=backend)

    async def main():
        cycle = module.Cycle()
        results = await asyncio.gather(cycle.send("go"), cycle.send("go"), cycle.send("go"))
        return cycle, results

    cycle, results = asyncio.run(main())
    assert results == [True, True, True]
    assert cycle.history == [("a", "go", "b"), ("b", "go", "c"), ("c", "go", "a")]


def test_a_cancelled_waiting_send_hands_its_turn_on(backend) -> None:
    module = wfc.api.load_source(SLOW_CYCLE, f"cycle_cancel_{backend}.wf", backend=backend)

    async def main():
        cycle = module.Cycle()
        first = asyncio.ensure_future(cycle.send("go"))
        second = asyncio.ensure_future(cycle.send("go"))
        third = asyncio.ensure_future(cycle.send("go"))
        await asyncio.sleep(0.01)
        second.cancel()
        results = await asyncio.gather(first, second, third, return_exceptions=True)
        fourth = await asyncio.wait_for(cycle.send("go"), 1)  # the machine is free again
        return cycle, results, fourth

    cycle, results, fourth = asyncio.run(main())
    assert results[0] is True and isinstance(results[1], asyncio.CancelledError) and results[2] is True
    assert fourth is True
    assert cycle.history == [("a", "go", "b"), ("b", "go", "c"), ("c", "go", "a")]


def test_snapshot_and_restore(backend) -> None:
    order, _, _ = drive(backend, [("pay", None), ("process", {"payment_verified": True})])
    snapshot = json.loads(json.dumps(order.snapshot()))
    assert snapshot == {"machine": "Order", "state": "processing", "params": {"order_id": "O-1"},
                        "history": [["created", "pay", "paid"], ["paid", "process", "processing"]]}
    module = wfc.load(EXAMPLES / "order_machine.wf", backend=backend)
    again = module.Order.restore(snapshot)
    assert again.state == "processing" and again.history == order.history
    _, results, _ = drive(backend, [("ship", {"tracking_number": "T1"})], machine=again)
    assert results == [True] and again.state == "shipped"


def test_both_backends_build_the_same_snapshots() -> None:
    steps = [("pay", None), ("cancel", {"processing_started": False})]
    snapshots = {backend: drive(backend, steps)[0].snapshot() for backend in ("interp", "compiled")}
    assert snapshots["interp"] == snapshots["compiled"]


@pytest.mark.parametrize("source, code", [
    ("machine M() { state a { } }", "E0150"),
    ("machine M() { initial a\n state a { on go -> b } }", "E0151"),
    ("machine M() { initial a\n state a { on go -> b }\n final state b { on back -> a } }", "E0152"),
    ("machine M() { initial a\n state a { on go -> a }\n state a { } }", "E0153"),
    ("machine M() { initial a\n initial a\n state a { on go -> a } }", "E0154"),
    ("use h\nmachine M() { initial a\n state a { on go -> a when h.ok() } }", "E0155"),
])
def test_machine_errors(source, code) -> None:
    with pytest.raises(CompileError) as info:
        analyze(source, "m.wf")
    assert code in [d.code for d in info.value.diagnostics]


@pytest.mark.parametrize("source, code", [
    ("machine M() { initial a\n state a { on go -> a }\n final state b }", "W0156"),
    ("machine M() { initial a\n state a { on go -> b }\n state b }", "W0157"),
    ("machine M() { initial a\n state a { on go -> a\n on go -> a when ctx.x } }", "W0158"),
])
def test_machine_warnings(source, code) -> None:
    assert code in [d.code for d in analyze(source, "m.wf").warnings]


def test_workflows_can_drive_machines(backend) -> None:
    from conftest import run_source

    source = ("machine Door() { initial shut\n state shut { on open -> open }\n state open { on shut -> shut } }\n"
              "workflow main() { d = Door()\n ok = d.send('open')\n return [ok, d.state] }")
    assert run_source(source, backend).value == [True, "open"]


def test_history_keeps_the_most_recent_thousand_transitions(backend) -> None:
    from wfc.api import load_source

    module = load_source("machine Toggle() {\n    initial dark\n    state dark { on flip -> lit }\n"
                         "    state lit { on flip -> dark }\n}\n", f"toggle_{backend}.wf", backend=backend)
    toggle = module.Toggle()

    async def flips():
        for _ in range(1001):
            await toggle.send("flip")

    asyncio.run(flips())
    assert len(toggle.history) == 1000
    assert toggle.history[0] == ("lit", "flip", "dark")  # the first, dark -> lit, is gone
    assert toggle.history[-1] == ("dark", "flip", "lit")


def test_history_is_a_fresh_list_each_read_and_survives_a_snapshot(backend) -> None:
    source = "machine Toggle() {\n    initial dark\n    state dark {\n        on flip -> lit\n    }\n    state lit {\n        on flip -> dark\n    }\n}\n"
    machine_class = load_both(source)[backend].Toggle

    async def flips(machine, n: int) -> None:
        for _ in range(n):
            await machine.send("flip")

    toggle = machine_class()
    asyncio.run(flips(toggle, 1003))
    history = toggle.history
    assert isinstance(history, list) and len(history) == 1000
    assert history[-1] == ("dark", "flip", "lit") and history[0] == ("lit", "flip", "dark")
    history.clear()  # a copy: the machine's own record is untouched
    assert len(toggle.history) == 1000
    restored = machine_class.restore(toggle.snapshot())
    assert restored.history == toggle.history
    asyncio.run(flips(restored, 1))
    assert len(restored.history) == 1000 and restored.history[-1] == ("lit", "flip", "dark")


def test_a_send_cancelled_while_waiting_for_its_turn_leaves_the_machine_free(backend) -> None:
    """The action in progress cancels the one send waiting behind it: when it ends, no one
    is left to take the turn, and the machine must be free again (found by
    tools/mutate.py: a machine left busy made every later send wait for ever)."""
    import backend_handlers

    source = """use backend_handlers as t
machine Door() {
    initial shut
    state shut {
        on open -> ajar do {
            t.slow(1, 0.01)
            t.cancel_pending()
        }
    }
    state ajar {
        on close -> shut
    }
}
"""
    module = wfc.api.load_source(source, f"door_{backend}.wf", backend=backend)

    async def main():
        door = module.Door()
        first = asyncio.ensure_future(door.send("open"))
        await asyncio.sleep(0)
        waiting = asyncio.ensure_future(door.send("close"))
        backend_handlers.PENDING.append(waiting)
        assert await first is True
        await asyncio.gather(waiting, return_exceptions=True)
        later = await asyncio.wait_for(door.send("close"), 1)
        return waiting.cancelled(), later, door.state

    assert asyncio.run(main()) == (True, True, "shut")


def test_a_plain_move_out_of_a_state_with_an_exit_action_runs_it(backend) -> None:
    """No guard and no transition action, but the state left has an exit action: the
    move must not take the shortcut that skips actions (found by tools/mutate.py)."""
    import backend_handlers

    source = """use backend_handlers as t
machine Light() {
    initial off
    state off {
        on flip -> on_
        exit do t.note("left off")
    }
    state on_ {
        on flip -> off
    }
}
"""
    module = wfc.api.load_source(source, f"light_{backend}.wf", backend=backend)
    backend_handlers.log.clear()

    async def main():
        light = module.Light()
        return [await light.send("flip"), await light.send("flip"), await light.send("flip")], light.state

    assert asyncio.run(main()) == ([True, True, True], "on_")
    assert backend_handlers.log.count(("note", ("left off",))) == 2


def test_two_handles_of_one_stored_machine_take_turns_through_its_lease(backend) -> None:
    """Two instances opened on the same store key: a send on one holds the key's lease
    while its slow action runs, so the other's send waits and then starts from the state
    the first saved (found by tools/mutate.py: a lease that expired at once let both
    apply a transition from the same state)."""
    from wfc.runtime import MemoryStore

    source = """use backend_handlers as t
machine Gate() {
    initial shut
    state shut {
        on push -> open do t.slow(1, 0.05)
    }
    state open {
        on push -> shut do t.slow(2, 0.05)
    }
}
"""
    module = wfc.api.load_source(source, f"gate_{backend}.wf", backend=backend)

    async def main():
        store = MemoryStore()
        with Runtime(store=store).activate():
            one = await module.Gate.open(store, "g-1")
            two = await module.Gate.open(store, "g-1")
            moved = await asyncio.gather(one.send("push"), two.send("push"))
            again = await module.Gate.open(store, "g-1")
            return moved, again.state, again.history

    moved, state, history = asyncio.run(main())
    assert moved == [True, True] and state == "shut"
    assert history == [("shut", "push", "open"), ("open", "push", "shut")]
