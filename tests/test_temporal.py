"""The Temporal target on a real Temporal server (the dev server of the `temporal` CLI,
started here on a free port): every example it can run returns what the interpreter
returns, with the same handler calls; errors cross with their type and message."""

from __future__ import annotations

import asyncio
import functools
import json
import inspect
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

import wfc
from conftest import EXAMPLES, run
from wfc.api import compile_source, read_source
from wfc.diagnostics import CompileError


@pytest.fixture(scope="module")
def server(temporal_server: str) -> str:
    return temporal_server


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Every handler call of the examples' handler modules, in order, on either backend
    (the recorders are in place before a module is loaded, so activities call them)."""
    log: list[tuple[str, tuple[Any, ...]]] = []
    sys.path.insert(0, str(EXAMPLES))
    for name in ("shop", "travel", "quotes", "fake_llm", "text_tools", "durable_orders", "support_handlers",
                 "intent_handlers", "build_steps", "weather_api", "search_sources", "approvals"):  # fmt: skip
        handlers = __import__(name)
        for attribute, function in list(vars(handlers).items()):
            if inspect.isfunction(function) and function.__module__ == name and not attribute.startswith("_"):
                monkeypatch.setattr(handlers, attribute, _recording(function, log))
    return log


def _recording(function: Any, log: list[tuple[str, tuple[Any, ...]]]) -> Any:
    @functools.wraps(function)
    def record(*args: Any, **kwargs: Any) -> Any:
        log.append((function.__name__, args))
        return function(*args, **kwargs)

    return record


def on_temporal(
    address: str, path: Path, name: str, *args: Any, runtime: Any = None, signals: Any = (), **kwargs: Any
) -> tuple[Any, Any]:
    """Run declaration `name` on the server with an in-process worker whose runtime is
    `runtime` (its store keeps policy state), sending `signals` once it started."""
    from temporalio.client import Client, WorkflowFailureError

    from wfc import temporal

    module = temporal.load(path)
    bound = inspect.signature(getattr(module, name)).bind(*args, **kwargs)
    bound.apply_defaults()

    async def main() -> Any:
        client = await Client.connect(address)
        queue = f"test-{uuid.uuid4()}"
        async with temporal.worker(client, module, queue, runtime=runtime):
            handle = await temporal.start(client, module, name, bound.args, queue)
            for signal, value in signals:
                await handle.signal(signal, value)
            return await handle.result()

    try:
        return asyncio.run(main()), None
    except WorkflowFailureError as failed:
        return None, failed.cause


def _canonical(call: Any) -> str:
    return json.dumps(call, sort_keys=True, default=str)


def same_as_interpreter(
    address: str, calls: list[Any], example: str, name: str, *args: Any, prepare: Any = None, **kwargs: Any
) -> Any:
    """Run on both; `prepare()` puts the handlers' state back before each run. Where the
    example runs branches concurrently, the calls are compared as a multiset: which
    branch's activity a worker starts first is Temporal's choice."""
    path = EXAMPLES / f"{example}.wf"
    concurrent = any(word in path.read_text() for word in ("parallel", " all {"))
    for backend in ("interp", "temporal"):
        calls.clear()
        if prepare is not None:
            prepare()
        if backend == "interp":
            local = run(wfc.load(path, backend="interp"), name, *args, **kwargs)
            local_calls = list(calls)
        else:
            value, error = on_temporal(address, path, name, *args, **kwargs)
    if concurrent:  # (as JSON text: a map's keys may come back in another order)
        assert sorted(map(_canonical, calls)) == sorted(map(_canonical, local_calls))
    else:
        assert calls == local_calls
    if local.error is None:
        assert error is None, error
        assert value == local.value
        return value
    from wfc import temporal

    assert error is not None and error.type == type(local.error).__name__
    assert temporal.message_of(error) == str(local.error)
    return error


def test_a_pipeline_with_an_llm_step(server: str, calls: list[Any]) -> None:
    value = same_as_interpreter(
        server, calls, "summary", "summarize", "First   sentence here. Second one.", max_length=2
    )
    assert value["summary"] == "First sentence"


def fresh_shop(*failing: str) -> Any:
    import shop

    def prepare() -> None:
        shop.STOCK.update({"P1": 10, "P2": 0})
        shop._orders["next"] = 1
        shop.FAIL.clear()
        shop.FAIL.update(failing)

    return prepare


def test_a_saga_succeeds_and_compensates_like_the_interpreter(server: str, calls: list[Any]) -> None:
    same_as_interpreter(server, calls, "order_saga", "place_order", "P1", 2, "ada", prepare=fresh_shop())
    try:
        error = same_as_interpreter(
            server, calls, "order_saga", "place_order", "P1", 2, "ada", prepare=fresh_shop("deduct_inventory")
        )
    finally:
        fresh_shop()()
    assert error.type == "SagaFailed"
    assert [name for name, _ in calls][-2:] == ["cancel_order", "release_hold"]
    refused = same_as_interpreter(
        server, calls, "order_saga", "place_order", "P1", 0, "ada", prepare=fresh_shop()
    )
    assert refused.type == "SagaFailed" and "ValidationError: quantity must be positive" in refused.message


def test_retries_back_off_on_durable_timers(server: str, calls: list[Any]) -> None:
    import travel

    trip = {
        "flight": "LH123",
        "traveller": "Ada",
        "hotel": "Ritz",
        "nights": 2,
        "city": "Paris",
        "card": "4242",
    }
    for scenario in ({"throttled": 3}, {"declined_cards": {"4242"}}):

        def prepare(scenario: dict[str, Any] = scenario) -> None:
            travel.reset()
            travel.SCENARIO.update({key: type(value)(value) for key, value in scenario.items()})

        started = time.monotonic()
        value = same_as_interpreter(server, calls, "travel_booking", "book", trip, prepare=prepare)
        if "throttled" in scenario:  # 0.2 + 0.4 + 0.8 s of backoff, twice (both backends)
            assert value["status"] == "booked" and time.monotonic() - started >= 1.4
        else:
            assert value == {"status": "declined", "reason": "card declined by issuer", "code": 402}
    travel.reset()


def test_a_quorum_and_routers(server: str, calls: list[Any]) -> None:
    import quotes

    quotes.DOWN.clear()
    assert same_as_interpreter(server, calls, "quorum", "best_price", "tea")["price"] == 102
    quotes.DOWN.update({"south", "east"})
    try:
        assert same_as_interpreter(server, calls, "quorum", "best_price", "tea").type == "BranchesFailed"
    finally:
        quotes.DOWN.clear()
    same_as_interpreter(
        server, calls, "support", "triage", {"type": "complaint", "severity": 9, "text": "broken"}
    )
    same_as_interpreter(server, calls, "intent_router", "intent", "Where is my order 123?")


def test_every_example_compiles_for_temporal_and_a_dynamic_call_is_refused() -> None:
    for path in sorted(EXAMPLES.glob("*.wf")):
        assert "@workflow.defn" in compile_source(read_source(path), path.name, target="temporal")
    source = "use plugins\n\nworkflow run(value: any) {\n    plugin = plugins.find()\n    return plugin(value)\n}\n"
    with pytest.raises(CompileError) as info:
        compile_source(source, "dynamic.wf", target="temporal")
    assert [(d.code, d.line) for d in info.value.diagnostics] == [("E0300", 5)]
    compile_source(source, "dynamic.wf")  # fine on the asyncio target


def test_a_machine_takes_signals_and_answers_queries(server: str, calls: list[Any]) -> None:
    from temporalio.client import Client

    from wfc import temporal

    events = [("pay", None), ("process", {"payment_verified": True}), ("ship", {"tracking_number": "T9"}),
              ("deliver", None), ("refund", {"amount": 25})]  # fmt: skip
    local = wfc.load(EXAMPLES / "order_machine.wf", backend="interp")

    async def drive_locally() -> Any:
        machine = local.Order("o-1")
        for event, ctx in events:
            await machine.send(event, ctx)
        return {"state": machine.state, "history": [list(move) for move in machine.history]}

    expected = asyncio.run(drive_locally())
    local_calls = list(calls)
    calls.clear()
    module = temporal.load(EXAMPLES / "order_machine.wf")

    async def drive_on_temporal() -> Any:
        client = await Client.connect(server)
        queue = f"test-{uuid.uuid4()}"
        async with temporal.worker(client, module, queue):
            handle = await temporal.start(client, module, "Order", ["o-1"], queue)
            await handle.signal("pay")
            assert await handle.query("can", "process") is False  # its guard reads ctx: no ctx, no move
            for event, ctx in events[1:3]:
                await handle.signal(event, ctx)
            while await handle.query("state") != "shipped":
                await asyncio.sleep(0.05)
            assert await handle.query("history") == expected["history"][:3]
            for event, ctx in events[3:]:
                await handle.signal(event, ctx)
            return await handle.result()

    assert asyncio.run(drive_on_temporal()) == expected == {
        "state": "refunded", "history": expected["history"]}  # fmt: skip
    assert calls == local_calls


def test_the_target_is_deterministic_and_asyncio_code_is_unchanged() -> None:
    source = read_source(EXAMPLES / "order_saga.wf")
    first = compile_source(source, "order_saga.wf", target="temporal")
    assert first == compile_source(source, "order_saga.wf", target="temporal")
    assert '@workflow.defn(name="order_saga.place_order")' in first
    assert "ACTIVITIES = {" in first and '"shop.validate_inventory": shop.validate_inventory' in first
    assert "temporalio" not in compile_source(source, "order_saga.wf")


def test_the_commands_compile_run_and_serve(server: str, tmp_path: Path) -> None:
    for name in ("order_saga.wf", "shop.py"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    wfc_command = [sys.executable, "-m", "wfc"]
    compiled = subprocess.run([*wfc_command, "compile", "--target", "temporal", "order_saga.wf"], cwd=tmp_path,
                              capture_output=True, text=True)  # fmt: skip
    assert compiled.returncode == 0 and (tmp_path / "order_saga_temporal.py").is_file()
    worker = subprocess.Popen([*wfc_command, "worker", "order_saga.wf", "--task-queue", "cli", "--address", server,
                               "--store", str(tmp_path / "policies.db")],
                              cwd=tmp_path, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        started = [worker.stderr.readline() for _ in range(1)]
        while "wfc worker:" not in started[-1] and started[-1]:  # a warning may come first
            started.append(worker.stderr.readline())
        assert "wfc worker: 1 workflows, 8 activities on task queue 'cli'" in started[-1], started
        ran = subprocess.run([*wfc_command, "run", "order_saga.wf", "place_order", "--target", "temporal",
                              "--address", server, "--task-queue", "cli", "--json",
                              '{"product_id": "P1", "quantity": 1, "customer": "bo"}'],
                             cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert ran.returncode == 0, ran.stderr
        assert '"product_id": "P1"' in ran.stdout
        failed = subprocess.run([*wfc_command, "run", "order_saga.wf", "place_order", "--target", "temporal",
                                 "--address", server, "--task-queue", "cli", "--arg", "product_id=P2",
                                 "--arg", "quantity=1", "--arg", "customer=bo"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
        assert failed.returncode == 1
        assert (
            "error: the workflow raised SagaFailed: saga place_order failed at step hold: OutOfStock"
            in failed.stderr
        )
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert (tmp_path / "policies.db").is_file()  # the worker's store, from --store
    bad_store = subprocess.run([*wfc_command, "worker", "order_saga.wf", "--store", str(tmp_path)], cwd=tmp_path,
                               capture_output=True, text=True)  # fmt: skip
    assert bad_store.returncode == 2 and "error: cannot open the store" in bad_store.stderr
    nowhere = subprocess.run([*wfc_command, "run", "order_saga.wf", "place_order", "--target", "temporal",
                              "--address", "127.0.0.1:1", "--arg", "product_id=P1", "--arg", "quantity=1",
                              "--arg", "customer=bo"], cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert nowhere.returncode == 2 and "error: cannot reach Temporal at 127.0.0.1:1" in nowhere.stderr


def test_policies_keep_their_state_in_the_workers_store(server: str, calls: list[Any]) -> None:
    """Breaker, limiter and idempotency records live in the worker's store, reached from
    local activities: a booking made three times runs once."""
    import weather_api

    from wfc.runtime import Runtime

    weather_api.configure()
    path = EXAMPLES / "resilient_api.wf"
    value, error = on_temporal(server, path, "forecast", "Oslo")
    assert error is None and value == {"city": "Oslo", "summary": "clear skies over Oslo", "source": "live"}
    weather_api.configure(down=True)  # the fallback handler answers: an activity too
    local = run(wfc.load(path, backend="interp"), "forecast", "Oslo")
    assert on_temporal(server, path, "forecast", "Oslo") == (local.value, None)
    assert local.value["source"] == "cache"
    weather_api.configure()
    shared = Runtime()  # one worker's store for the three runs
    bookings = [on_temporal(server, path, "book", "trip-1", "Oslo", runtime=shared)[0] for _ in range(3)]
    assert bookings == [{"trip": "trip-1", "city": "Oslo", "number": 1}] * 3
    assert [call[:2] for call in weather_api.calls].count(("book", "trip-1")) == 1
    assert asyncio.run(shared.store.get("idempotent:trip-1", time.time())) is not None


def test_emit_reaches_the_workers_subscribers_once(server: str, calls: list[Any]) -> None:
    import search_sources

    from wfc.runtime import Runtime

    search_sources.peak_in_flight = 0  # other tests of this process may have set it
    rt = Runtime()
    heard: list[Any] = []
    rt.subscribe("search.done", heard.append)
    value, error = on_temporal(
        server, EXAMPLES / "aggregate.wf", "aggregate", "wf", concurrency=2, top=2, runtime=rt
    )
    local = run(
        wfc.load(EXAMPLES / "aggregate.wf", backend="interp"), "aggregate", "wf", concurrency=2, top=2
    )
    assert error is None and value == local.value
    assert heard == [event.fields["value"] for event in local.events if event.kind == "emit"]
    assert search_sources.peak_in_flight <= 2  # `parallel for ... limit 2` kept on Temporal


def test_a_workflow_waits_for_a_signal(server: str, calls: list[Any]) -> None:
    claim = {"team": "data", "employee": "ada", "total": 900, "lines": [{"item": "laptop", "amount": 900}]}
    value, error = on_temporal(
        server,
        EXAMPLES / "expense_approval.wf",
        "review",
        claim,
        signals=[("decision", {"approved": True, "by": "bo"})],
    )
    assert error is None, error
    assert value == {"status": "paid", "transfer": "tx-ada"}
    assert [name for name, _ in calls] == ["check_line", "hold_budget", "transfer"]


# -- durability: a worker killed with SIGKILL mid-run ---------------------------------

SLOW_SHOP = """
import os, time

LOG = os.path.join(os.path.dirname(__file__), "calls.log")
STOCK = {"P1": 10}


def _log(*words):
    with open(LOG, "a") as out:
        out.write(" ".join(map(str, words)) + "\\n")


def _maybe_block(what):
    if os.environ.get("BLOCK") == what:
        time.sleep(600)  # the test kills this worker meanwhile


def validate_inventory(product_id, quantity):
    _log("validate_inventory")
    return {"hold_id": f"H-{product_id}"}


def release_hold(hold_id):
    _log("release_hold")


def create_order(product_id, quantity, customer):
    _log("create_order")
    return {"order_id": "O-1", "product_id": product_id, "quantity": quantity}


def cancel_order(order_id):
    _log("cancel_order")


def deduct_inventory(product_id, quantity):
    _log("deduct_inventory start")
    _maybe_block("deduct_inventory")
    _log("deduct_inventory end")
    return 8


def restock(product_id, quantity):
    _log("restock")


def send_notification(customer, order_id):
    _log("send_notification")


def send_apology(customer, order_id):
    _log("send_apology")


def item(number):
    _log(f"item {number} start")
    if number >= 3:
        _maybe_block("item")
    _log(f"item {number} end")
    return number * 10
"""

FAN_OUT = """use shop

workflow fan_out(numbers: list) {
    "Six items, three at a time."
    done = parallel for number in numbers limit 3 {
        yield shop.item(number)
    }
    return done
}
"""


def _worker(folder: Path, file: str, address: str, queue: str, block: str | None) -> subprocess.Popen[bytes]:
    import os

    env = {**os.environ, "WFC_TEMPORAL_HEARTBEAT_SECONDS": "1", "PYTHONPATH": str(folder)}
    env.pop("BLOCK", None)
    if block:
        env["BLOCK"] = block
    with (folder / f"worker-{block or 'free'}.log").open("wb") as log:
        return subprocess.Popen([sys.executable, "-m", "wfc", "worker", file, "--task-queue", queue,
                                 "--address", address], cwd=folder, env=env, stdout=log, stderr=log)  # fmt: skip


def _log_lines(folder: Path) -> list[str]:
    path = folder / "calls.log"
    return path.read_text().splitlines() if path.exists() else []


def _run_through_a_killed_worker(
    address: str, folder: Path, file: str, name: str, args: list[Any], block: str, killed_when: Any
) -> Any:
    import os
    import signal

    from temporalio.client import Client

    from wfc import temporal

    os.environ["WFC_TEMPORAL_HEARTBEAT_SECONDS"] = "1"
    module = temporal.load(folder / file)
    queue = f"kill-{uuid.uuid4()}"
    first = _worker(folder, file, address, queue, block)
    second = None
    try:

        async def main() -> Any:
            nonlocal second
            client = await Client.connect(address)
            handle = await temporal.start(client, module, name, args, queue)
            deadline = time.monotonic() + 60
            while not killed_when(_log_lines(folder)):
                assert time.monotonic() < deadline, _log_lines(folder)
                await asyncio.sleep(0.05)
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            second = _worker(folder, file, address, queue, None)
            return await asyncio.wait_for(handle.result(), 120)

        return asyncio.run(main())
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


@pytest.mark.slow
def test_a_saga_survives_its_worker_being_killed(server: str, tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(SLOW_SHOP)
    (tmp_path / "order_saga.wf").write_bytes((EXAMPLES / "order_saga.wf").read_bytes())
    result = _run_through_a_killed_worker(
        server, tmp_path, "order_saga.wf", "place_order", ["P1", 2, "ada"], "deduct_inventory",
        lambda lines: "deduct_inventory start" in lines,
    )  # fmt: skip
    assert result == {"order_id": "O-1", "product_id": "P1", "quantity": 2}
    # Completed steps ran once; the step in flight when the worker died ran again.
    assert _log_lines(tmp_path) == [
        "validate_inventory", "create_order", "deduct_inventory start", "deduct_inventory start",
        "deduct_inventory end", "send_notification",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_fan_out_survives_its_worker_being_killed(server: str, tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(SLOW_SHOP)
    (tmp_path / "fan_out.wf").write_text(FAN_OUT)
    three_in_flight = lambda lines: (
        sum(line.endswith("start") and int(line.split()[1]) >= 3 for line in lines) >= 3
    )  # noqa: E731
    result = _run_through_a_killed_worker(
        server, tmp_path, "fan_out.wf", "fan_out", [[1, 2, 3, 4, 5, 6]], "item", three_in_flight
    )
    assert result == [10, 20, 30, 40, 50, 60]
    lines = _log_lines(tmp_path)
    for number in (1, 2):  # finished before the kill: never again
        assert lines.count(f"item {number} start") == 1 and lines.count(f"item {number} end") == 1
    for number in (3, 4, 5):  # in flight at the kill: once more on the second worker
        assert lines.count(f"item {number} start") == 2 and lines.count(f"item {number} end") == 1
    assert lines.count("item 6 start") == 1


NAPS = """
import asyncio

log = []


async def nap(seconds):
    log.append("start")
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        log.append("cancelled")
        raise
    log.append("end")
    return seconds
"""


def test_a_timeout_bounds_the_step_and_cancels_its_activity(server: str, tmp_path: Path) -> None:
    (tmp_path / "naps.py").write_text(NAPS)
    (tmp_path / "naps.wf").write_text(
        "use naps\n\nworkflow slow(seconds: float) {\n    return naps.nap(seconds) with timeout(300ms)\n}\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        local = run(wfc.load(tmp_path / "naps.wf", backend="interp"), "slow", 30)
        value, error = on_temporal(server, tmp_path / "naps.wf", "slow", 30)
        assert (error.type, error.message) == (type(local.error).__name__, str(local.error))
        assert error.type == "TimeoutError"
        import naps

        deadline = time.monotonic() + 10  # the cancellation reaches it with its next heartbeat
        while naps.log.count("cancelled") < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert naps.log.count("start") == 2 and naps.log.count("cancelled") == 2 and "end" not in naps.log
        assert on_temporal(server, tmp_path / "naps.wf", "slow", 0.01) == (0.01, None)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("naps", None)


def test_a_durable_order_and_a_dataflow_pipeline(
    server: str, calls: list[Any], tmp_path: Path, monkeypatch
) -> None:
    """The last two examples: `step_key()` names a step by its workflow and activity ids
    (the payment provider's idempotency key), and a dataflow block keeps its order."""
    import build_steps
    import payments

    from wfc.runtime import MemoryStore, Runtime

    monkeypatch.setattr(payments, "LEDGER", tmp_path / "ledger.json")
    path = EXAMPLES / "durable_order.wf"

    async def durably() -> Any:  # step_key() needs a durable run on the asyncio target
        rt = Runtime(store=MemoryStore())
        with rt.activate():
            started = await rt.start(wfc.load(path, backend="interp").place_order, "P1", 2, "ann")
            return await started.result()

    results, logs = [], []
    for backend in ("interp", "temporal"):
        fresh_shop()()
        payments.LEDGER.unlink(missing_ok=True)
        calls.clear()
        results.append(
            asyncio.run(durably())
            if backend == "interp"
            else on_temporal(server, path, "place_order", "P1", 2, "ann")[0]
        )
        logs.append(list(calls))
        keys = list(json.loads(payments.LEDGER.read_text()))
        assert len(keys) == 1 and keys[0].count(":") >= 1  # the step's own key
    assert results[0] == results[1] == {"customer": "ann", "charge": "ch-1", "amount": 50}
    assert logs[0] == logs[1]
    build_steps.TIMELINE.clear()
    same_as_interpreter(server, calls, "pipeline_dag", "release", "abc123")
    starts = [what for _, what in build_steps.TIMELINE if what.startswith("start")]
    assert starts[-5] == "start checkout" and starts[-1] == "start publish"


def test_workers_share_policy_state_through_redis(server: str, calls: list[Any], redis_url: str) -> None:
    """Two workers, on two task queues, with one Redis store: an idempotent booking
    made through the first is found by the second, and the handler runs once."""
    import weather_api

    from wfc.runtime import Runtime, open_store

    weather_api.configure()
    path = EXAMPLES / "resilient_api.wf"
    bookings = [
        on_temporal(server, path, "book", "trip-9", "Rome", runtime=Runtime(store=open_store(redis_url)))[0]
        for _ in range(2)  # a worker of its own each time: only Redis is shared
    ]
    assert bookings == [{"trip": "trip-9", "city": "Rome", "number": 1}] * 2
    assert [call[:2] for call in weather_api.calls].count(("book", "trip-9")) == 1


def test_a_receive_times_out_as_on_the_asyncio_target(server: str, tmp_path: Path) -> None:
    (tmp_path / "answers.wf").write_text(
        "workflow ask() {\n    answer = receive answer timeout 500ms\n    return answer\n}\n"
    )
    value, error = on_temporal(server, tmp_path / "answers.wf", "ask")
    assert value is None and (error.type, error.message) == (
        "TimeoutError",
        "no signal 'answer' within 500ms",
    )
    value, error = on_temporal(server, tmp_path / "answers.wf", "ask", signals=[("answer", {"yes": True})])
    assert (value, error) == ({"yes": True}, None)


EMPTY_MESSAGES = """use quiet_errors as q

error Expired

workflow caught() {
    try {
        q.boom()
    } catch ValueError as failure {
        return ["caught", str(failure)]
    }
    return "not reached"
}

workflow failing() {
    fail Expired
}
"""


def test_an_error_made_without_a_message_crosses_without_one(server: str, tmp_path: Path) -> None:
    """Temporal gives an empty failure message back as "Application error"; a handler's
    error and a workflow's own keep the message they were made with, as on asyncio."""
    from wfc import temporal

    (tmp_path / "quiet_errors.py").write_text("def boom():\n    raise ValueError()\n")
    (tmp_path / "empty.wf").write_text(EMPTY_MESSAGES)
    sys.path.insert(0, str(tmp_path))
    try:
        local = wfc.load(tmp_path / "empty.wf", backend="interp")
        assert run(local, "caught").value == ["caught", ""]
        assert (type(run(local, "failing").error).__name__, str(run(local, "failing").error)) == ("Expired", "")
        assert on_temporal(server, tmp_path / "empty.wf", "caught") == (["caught", ""], None)
        value, error = on_temporal(server, tmp_path / "empty.wf", "failing")
        assert value is None and error.message == "Application error"  # Temporal's own reading
        assert (error.type, temporal.message_of(error)) == ("Expired", "")
    finally:
        sys.path.remove(str(tmp_path))


SESSION = """
machine Session() {
    data { views: 0 }
    initial active
    state active {
        initial browsing
        state browsing {
            on view -> browsing do {
                views = views + 1
            }
        }
        after 2s -> expired
        on finish -> finished
    }
    final state expired
    final state finished
}
"""


def test_a_statechart_runs_with_durable_timers_and_nested_states(server: str, tmp_path: Path) -> None:
    from temporalio.client import Client

    from wfc import temporal

    (tmp_path / "session.wf").write_text(SESSION, encoding="utf-8")
    module = temporal.load(tmp_path / "session.wf")

    async def drive() -> Any:
        client = await Client.connect(server)
        queue = f"test-{uuid.uuid4()}"
        async with temporal.worker(client, module, queue):
            idle = await temporal.start(client, module, "Session", [], queue)
            busy = await temporal.start(client, module, "Session", [], queue)
            await busy.signal("view")
            await busy.signal("view")
            while await busy.query("data") != {"views": 2}:
                await asyncio.sleep(0.05)
            assert await busy.query("state") == "active.browsing"
            await busy.signal("finish")
            return await idle.result(), await busy.result()

    idle, busy = asyncio.run(drive())
    assert idle == {"state": "expired", "history": [["active.browsing", "after 2s", "expired"]]}
    assert busy["state"] == "finished"
    assert busy["history"][-1] == ["active.browsing", "finish", "finished"]
