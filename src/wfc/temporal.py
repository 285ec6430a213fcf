"""Running compiled wf on Temporal: the workflow side, activities, workers and clients.

`wfc compile --target temporal order.wf` writes `order_temporal.py`: the same asyncio
code as the asyncio target, plus a `@workflow.defn` class per workflow, router and saga
and an activity per handler function it calls. This module is what that code runs on
(the `temporal` extra; nothing else in wfc imports temporalio):

- `execute` runs a compiled declaration as a Temporal workflow: its runtime reads
  Temporal's clock and random source (`wait`, backoff and timeouts are durable timers;
  `now()` and `uuid()` are deterministic) and its journal hook sends every handler call
  to an activity. Policies, sagas, races and loops run in workflow code, exactly as on
  the asyncio target, so both mean the same.
- A handler's error fails its activity at once (wf's `retry` decides about retries); an
  activity whose worker died is retried by Temporal, so a step runs at least once, as in
  wf's own durable runs.
- `receive NAME` waits for a signal `NAME` sent to the workflow.
- `worker`, `start` and `execute_on` are the Python API of `wfc worker` and
  `wfc run --target temporal`.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

with workflow.unsafe.imports_passed_through():
    from .runtime import ERROR_TYPES, Runtime, WorkflowError, format_seconds, step_keyed
    from .runtime._errors import imported_error_class, without_init

# A worker that stops heartbeating this long has died: its steps are retried elsewhere.
# Every worker of a task queue must use the same value (workflow code reads it).
HEARTBEAT = timedelta(seconds=float(os.environ.get("WFC_TEMPORAL_HEARTBEAT_SECONDS", "10")))
STEP_TIMEOUT = timedelta(hours=24)  # wf's own `timeout` bounds a step; this is a backstop
# Retry an activity only when its worker died (a heartbeat timeout): a handler's error
# is final here, wf's `retry` policy decides what happens next.
WORKER_LOSS = RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=0)


class _Clock:
    """wf's clock inside a workflow: Temporal's time, durable timers."""

    __slots__ = ()

    def now(self) -> float:
        return workflow.now().timestamp()

    def monotonic(self) -> float:
        return workflow.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def call_later(self, seconds: float, callback: Callable[[], Any]) -> Any:
        return asyncio.get_running_loop().call_later(seconds, callback)


@dataclass
class _Journal:
    """The compiled code's durable-run hook, answered by Temporal: its own event history
    already makes workflow code deterministic and activity results durable."""

    errors: dict[str, type[BaseException]]  # the module's declared error classes
    names: dict[str, str]  # a step's target as the file writes it -> its activity
    signals: dict[str, list[Any]] = field(default_factory=dict)
    received: dict[str, int] = field(default_factory=dict)
    steps: int = 0
    run_id: str = ""

    async def step(self, target: str, location: str, function: Callable[..., Any], *args: Any) -> Any:
        try:
            return await workflow.execute_activity(
                self.names[target],
                args=list(args),
                start_to_close_timeout=STEP_TIMEOUT,
                heartbeat_timeout=HEARTBEAT,
                retry_policy=WORKER_LOSS,
            )
        except ActivityError as failed:
            if isinstance(failed.cause, CancelledError):  # we cancelled it: a timeout, a lost race
                raise asyncio.CancelledError() from None
            raise self.error_of(failed.cause) from None

    def error_of(self, cause: BaseException | None) -> BaseException:
        """The exception the handler raised, as wf code can catch it: a Python builtin,
        a runtime or declared error by name, else a class of the same name."""
        if not isinstance(cause, ApplicationError):
            return cause if isinstance(cause, BaseException) else WorkflowError("the step failed")
        name, message = cause.type or "Exception", message_of(cause)
        details = _details_of(cause)
        known = self.errors.get(name) or ERROR_TYPES.get(name) or getattr(builtins, name, None)
        if known is BaseException:  # a handler's bare BaseException: the step protocol decides
            return BaseException(message)
        if isinstance(known, type) and issubclass(known, Exception):
            fields = details.get("fields") or {}
            return known(message, **fields) if issubclass(known, WorkflowError) else known(message)
        return _handler_error(details.get("module"), details.get("class"), name, message)

    async def receive(self, signal: str, timeout: float | None) -> Any:
        number = self.received.get(signal, 0)
        try:
            await workflow.wait_condition(lambda: len(self.signals.get(signal, ())) > number, timeout=timeout)
        except TimeoutError:
            raise TimeoutError(f"no signal '{signal}' within {format_seconds(timeout or 0)}") from None
        self.received[signal] = number + 1
        return self.signals[signal][number]

    def deliver(self, name: str, args: Sequence[RawValue]) -> None:
        self.signals.setdefault(name, []).append(_first(args))

    # What the asyncio target's durable runs journal themselves; here Temporal does:
    # a replay runs the code again and the activities' results come from the history.
    def replays(self, site: str) -> bool:
        return False

    def cuts_next_timeout(self) -> bool:
        return False

    def identity(self, kind: str, site: str = "") -> str:
        self.steps += 1
        return f"{kind}|{site}|{self.steps}"

    def recorded(self, identity: str) -> Any:
        return None

    def next_step_key(self, site: str) -> str:
        return f"{self.run_id}:{self.identity('step', site)}"

    def race(self, kind: str, site: str) -> tuple[str, Any, str]:
        return "", None, ""

    def write_later(self, identity: str, entry: dict[str, Any]) -> None:
        pass


_NAMED: dict[str, type[Exception]] = {}


def _handler_error(module: Any, qualname: Any, name: str, message: str) -> BaseException:
    """A handler's own exception, rebuilt in workflow code: its class, from the handler
    module (passed through the sandbox), so `retry(on: [travel.Throttled])` and `catch`
    see the same type as on the asyncio target; else a class of the same name."""
    found = imported_error_class(module, qualname) or _NAMED.setdefault(
        name, type(name if name.isidentifier() else "HandlerError", (Exception,), {})
    )
    return without_init(found, [message])  # not __init__: its parameters are the handler's own


def _workflow_runtime(module_globals: dict[str, Any], names: dict[str, str]) -> tuple[Runtime, _Journal]:
    """The runtime compiled code runs under inside the current workflow."""
    declared: dict[str, type[BaseException]] = {
        name: value
        for name, value in module_globals.items()
        if isinstance(value, type) and issubclass(value, WorkflowError)
    }
    journal = _Journal(declared, names, run_id=workflow.info().workflow_id)
    rt = _WorkflowRuntime(clock=_Clock(), store=_ActivityStore())
    rt.random = workflow.random()
    rt.journal = journal
    return rt, journal


async def execute(function: Callable[..., Any], args: Sequence[Any], names: dict[str, str]) -> Any:
    """Run a compiled declaration in the current Temporal workflow; `names` maps each
    step's target to the activity that runs it."""
    rt, journal = _workflow_runtime(getattr(function, "__globals__", {}), names)
    workflow.set_dynamic_signal_handler(journal.deliver)
    with rt.activate():
        try:
            return await function(*args)
        except Exception as error:  # anything else would fail the task and retry it forever
            raise failure(error) from error


async def run_machine(machine_class: Any, args: Sequence[Any], names: dict[str, str]) -> Any:
    """Run a compiled machine as the current workflow: each signal is an event (its
    value, a map, is the event's `ctx`), handled one at a time in arrival order; the
    queries `state`, `history`, `data` and `can(event)` read it. Its `after` timers
    are durable timers. The workflow ends when the machine reaches a final state,
    with its state and history."""
    rt, _ = _workflow_runtime(vars(sys.modules[machine_class.__module__]), names)
    events: list[tuple[str, Any]] = []

    def on_signal(name: str, values: Sequence[RawValue]) -> None:
        events.append((name, _first(values)))

    def on_query(name: str, values: Sequence[RawValue]) -> Any:
        if name == "state":
            return machine.state
        if name == "history":
            return [list(move) for move in machine.history]
        if name == "can":
            return machine.can(str(_first(values)))
        if name == "data":
            return machine.data
        raise ApplicationError(f"machine {machine_class.__name__} has no query '{name}'", type="LookupError")

    with rt.activate():
        machine = machine_class(*args)
        workflow.set_dynamic_signal_handler(on_signal)
        workflow.set_dynamic_query_handler(on_query)
        try:
            while not machine.done:
                # A timer or an invocation may end the machine with no signal.
                await workflow.wait_condition(lambda: bool(events) or machine.done)
                if not events:
                    break
                event, ctx = events.pop(0)
                await machine.send(event, ctx if isinstance(ctx, dict) else None)
        except Exception as error:
            raise failure(error) from error
        return {"state": machine.state, "history": [list(move) for move in machine.history]}


def _first(values: Sequence[RawValue]) -> Any:
    return workflow.payload_converter().from_payload(values[0].payload) if values else None


class _WorkflowRuntime(Runtime):
    """The runtime inside a workflow: `emit` reaches the worker's subscribers once, from
    a (local) activity, not again on every replay."""

    async def publish(self, topic: str, value: Any) -> None:
        await workflow.execute_local_activity("wfc.emit", args=[topic, value], start_to_close_timeout=_LOCAL)


class _ActivityStore:
    """The store of breakers, limiters, bulkheads and idempotency records, seen from
    workflow code: each operation is a local activity on the worker's store (a Redis or
    SQLite store shared by every worker, or the worker's memory), whose answer the
    workflow's history keeps, so a replay decides the same."""

    shared = True  # policies measure time with the clock all workers agree on

    async def get(self, key: str, now: float) -> tuple[Any, int] | None:
        found = await _store_call("get", key, now)
        return None if found is None else (found[0], found[1])

    async def put(self, key: str, value: Any, version: int, expires: float | None = None) -> int:
        return int(await _store_call("put", key, value, version, expires))

    async def delete(self, key: str, version: int) -> bool:
        return bool(await _store_call("delete", key, version))

    async def items(self, prefix: str) -> dict[str, Any]:
        return dict(await _store_call("items", prefix))

    async def append(self, key: str, value: Any, *, batched: bool = False) -> bool:
        return bool(await _store_call("append", key, value))


_LOCAL = timedelta(seconds=30)


async def _store_call(operation: str, *args: Any) -> Any:
    return await workflow.execute_local_activity(
        f"wfc.store.{operation}", args=list(args), start_to_close_timeout=_LOCAL
    )


def runtime_activities(store: Any, rt: Runtime) -> list[Callable[..., Any]]:
    """The activities behind `_ActivityStore` and `emit`, on the worker's store and runtime."""

    async def get(key: str, now: float) -> Any:
        found = await store.get(key, now)
        return None if found is None else [found[0], found[1]]

    async def put(key: str, value: Any, version: int, expires: float | None) -> int:
        return int(await store.put(key, value, version, expires))

    async def delete(key: str, version: int) -> bool:
        return bool(await store.delete(key, version))

    async def items(prefix: str) -> dict[str, Any]:
        return dict(await store.items(prefix))

    async def append(key: str, value: Any) -> bool:
        return bool(await store.append(key, value))

    async def emit(topic: str, value: Any) -> None:
        await rt.publish(topic, value)

    operations: dict[str, Callable[..., Any]] = {
        "get": get,
        "put": put,
        "delete": delete,
        "items": items,
        "append": append,
    }
    found = [activity.defn(name=f"wfc.store.{name}")(function) for name, function in operations.items()]
    return [*found, activity.defn(name="wfc.emit")(emit)]


def failure(error: BaseException) -> ApplicationError:
    """How an error crosses Temporal: its class name and message, with its fields and
    where its class is defined as details."""
    cls = type(error)
    fields = getattr(error, "fields", None)
    # The message the error was made with: rebuilt from it, the error reads the same
    # (`str(KeyError("x"))` is "'x'", which would gain a second pair of quotes).
    message = error.args[0] if len(error.args) == 1 and isinstance(error.args[0], str) else str(error)
    details = {
        "module": cls.__module__,
        "class": cls.__qualname__,
        "fields": fields if isinstance(fields, dict) else {},
        "message": message,  # Temporal gives an empty message back as "Application error"
    }
    return ApplicationError(message, details, type=cls.__name__, non_retryable=True)


def message_of(cause: ApplicationError) -> str:
    """The message an error that crossed Temporal (`failure`) was made with: an empty
    one stays empty, where Temporal's own `cause.message` says "Application error"."""
    message = _details_of(cause).get("message")
    return message if isinstance(message, str) else cause.message


def _details_of(cause: ApplicationError) -> dict[str, Any]:
    return cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}


def activities(functions: dict[str, Callable[..., Any]], runtime: Runtime) -> list[Callable[..., Any]]:
    """One activity per handler function: it calls the function (awaiting it if it is
    async, in a thread if it is not) while heartbeating, so a cancelled step reaches it
    and a dead worker shows. The handler sees `runtime` as `current()`, and `step_key()`
    names its step: the workflow's id and the activity's, the same on every retry."""
    return [activity.defn(name=name)(_activity(function, runtime)) for name, function in functions.items()]


def _activity(function: Callable[..., Any], runtime: Runtime) -> Callable[..., Any]:
    # A plain function runs in a thread: a blocking handler must not stop the worker's
    # other activities (on the asyncio target it runs in place, as it is one process's).
    runs_in_place = inspect.iscoroutinefunction(function)

    async def run(*args: Any) -> Any:
        beating = asyncio.get_running_loop().create_task(_heartbeat())
        info = activity.info()
        try:
            with runtime.activate(), step_keyed(f"{info.workflow_id}:{info.activity_id}"):
                result = function(*args) if runs_in_place else await asyncio.to_thread(function, *args)
                if inspect.isawaitable(result):
                    result = await result
            return result
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # a handler's error, whatever its class, fails the step
            raise failure(error) from error
        finally:
            beating.cancel()

    run.__name__ = run.__qualname__ = function.__name__
    return run


async def _heartbeat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT.total_seconds() / 4)


# -- loading a .wf file, workers and clients ----------------------------------------------


def load(path: str | Path) -> ModuleType:
    """Compile `path` for Temporal and import it as `<stem>_temporal` (registered in
    `sys.modules`: Temporal's sandbox finds a workflow's module by name)."""
    from .api import load_temporal

    return load_temporal(path)


def _runner(module: ModuleType) -> SandboxedWorkflowRunner:
    """Temporal's sandbox, with the compiled module, wfc and the handler modules passed
    through: compiled wf is deterministic by construction (its clock, random source and
    handler calls all go through Temporal), and handlers run only as activities."""
    handlers = list(getattr(module, "HANDLER_MODULES", ()))
    restrictions = SandboxRestrictions.default.with_passthrough_modules(module.__name__, "wfc", *handlers)
    return SandboxedWorkflowRunner(restrictions=restrictions)


def worker(
    client: Client, module: ModuleType, task_queue: str, store: Any = None, runtime: Runtime | None = None
) -> Worker:
    """A worker for every workflow and activity of a module compiled for Temporal.

    `store` keeps the state of breakers, limits and idempotency records: give every
    worker the same Redis (or SQLite) store to share it; without one, the worker's
    memory. `emit` reaches the subscribers of `runtime` (`runtime.subscribe`)."""
    runtime = runtime if runtime is not None else Runtime(store=store)
    shared_store = store if store is not None else runtime.store
    return Worker(
        client,
        task_queue=task_queue,
        workflows=list(module.WORKFLOWS),
        activities=[*activities(module.ACTIVITIES, runtime), *runtime_activities(shared_store, runtime)],
        workflow_runner=_runner(module),
    )


async def start(
    client: Client,
    module: ModuleType,
    name: str,
    args: Sequence[Any],
    task_queue: str,
    workflow_id: str | None = None,
) -> WorkflowHandle[Any, Any]:
    """Start declaration `name` of a compiled module; its handle."""
    import uuid

    cls = module.WORKFLOW_TYPES.get(name)
    if cls is None:
        raise LookupError(f"no workflow, router or saga '{name}' in {module.__name__}")
    return await client.start_workflow(
        cls, args=list(args), id=workflow_id or f"{name}-{uuid.uuid4()}", task_queue=task_queue
    )


async def connect(address: str = "localhost:7233", namespace: str = "default") -> Client:
    """A client of the Temporal server at `address`."""
    return await Client.connect(address, namespace=namespace)


def failed_run(error: BaseException) -> tuple[str, str] | None:
    """For the error a workflow's result raised: (the error's type, its message), or None
    if it is not a failed workflow."""
    if not isinstance(error, WorkflowFailureError):
        return None
    cause = error.cause
    name = getattr(cause, "type", None) or type(cause).__name__
    if isinstance(cause, ApplicationError):
        return name, message_of(cause)
    return name, str(getattr(cause, "message", cause))


def quiet_handler_errors() -> None:
    """Stop the worker logging each handler error as a warning: workflows handle them."""
    import logging

    logging.getLogger("temporalio.activity").setLevel(logging.ERROR)
