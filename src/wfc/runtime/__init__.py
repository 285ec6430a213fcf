"""wfc's runtime: what generated code and the interpreter run on (stdlib only).

Its names load with the submodule that holds them, on first use: `wfc check` reads
a few constants (error types, bounds) and so starts without asyncio.
"""

from importlib import import_module
from inspect import isawaitable
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from ._bounds import MAX_LIMIT
    from ._bulkhead import Bulkhead
    from ._clock import Clock, Deadline, RealClock, VirtualClock, format_seconds
    from ._concurrency import LEFT_OUT, map_calls, map_items, parallel, select
    from ._durable import ReplayRefused, Run, RunUnfinished, declare, step_key, step_keyed
    from ._errors import (
        ERROR_TYPES,
        BranchesFailed,
        CircuitOpen,
        RateLimited,
        SagaFailed,
        ValidationError,
        WorkflowError,
        WorkflowFailed,
        failure,
    )
    from ._events import Event, error_fields
    from ._guard import Guard
    from ._lifecycle import SAGA, STAGE, WORKFLOW, Lifecycle, unmet
    from ._machine import Delay, Invoke, Machine, Transition
    from ._ownership import RunHeld
    from ._policies import Breaker, Fallback, Idempotent, Limit, Retry, Timeout
    from ._redis import RedisStore, open_store
    from ._routing import pick_weighted
    from ._runtime import Observer, Runtime, current
    from ._saga import Compensation, Saga, unwind
    from ._sqlite import SqliteStore
    from ._steps import attempt, on_attempt, step
    from ._store import MemoryStore, NotStorable, Store, update
    from ._values import (
        attr,
        attr_or_null,
        call,
        chunks,
        index,
        items,
        join,
        keys,
        lower,
        matches,
        regex,
        sliced,
        split,
        strip,
        upper,
        values,
    )

_HOMES = {  # the module that holds each public name
    "_bulkhead": "Bulkhead",
    "_clock": "Clock Deadline RealClock VirtualClock format_seconds",
    "_bounds": "MAX_LIMIT",
    "_concurrency": "LEFT_OUT map_calls map_items parallel select",
    "_durable": "ReplayRefused Run RunUnfinished declare step_key step_keyed",
    "_errors": "ERROR_TYPES BranchesFailed CircuitOpen RateLimited SagaFailed ValidationError WorkflowError WorkflowFailed failure",
    "_events": "Event error_fields",
    "_guard": "Guard",
    "_lifecycle": "SAGA STAGE WORKFLOW Lifecycle unmet",
    "_machine": "Delay Invoke Machine Transition",
    "_ownership": "RunHeld",
    "_policies": "Breaker Fallback Idempotent Limit Retry Timeout",
    "_redis": "RedisStore open_store",
    "_routing": "pick_weighted",
    "_runtime": "Observer Runtime current",
    "_saga": "Compensation Saga unwind",
    "_sqlite": "SqliteStore",
    "_steps": "attempt on_attempt step",
    "_store": "MemoryStore NotStorable Store update",
    "_values": "attr attr_or_null call chunks index items join keys lower matches regex sliced split strip upper values",
}
_HOME_OF = {name: home for home, names in _HOMES.items() for name in names.split()}


def __getattr__(name: str) -> Any:
    home = _HOME_OF.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # looked up here from now on
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


Value: TypeAlias = Any
"""What a wf value is to Python's type checkers: anything. Generated modules annotate
parameters, results and variables with it, so they pass `mypy --strict`."""

__all__ = [
    "Value",
    "SAGA",
    "STAGE",
    "WORKFLOW",
    "Lifecycle",
    "unmet",
    "failure",
    "BranchesFailed",
    "attempt",
    "on_attempt",
    "ERROR_TYPES",
    "MAX_LIMIT",
    "LEFT_OUT",
    "Breaker",
    "CircuitOpen",
    "Compensation",
    "Clock",
    "Deadline",
    "Event",
    "Fallback",
    "Guard",
    "Idempotent",
    "Limit",
    "Bulkhead",
    "Machine",
    "Delay",
    "Invoke",
    "MemoryStore",
    "NotStorable",
    "Observer",
    "RateLimited",
    "RealClock",
    "RedisStore",
    "Retry",
    "ReplayRefused",
    "Run",
    "RunHeld",
    "RunUnfinished",
    "Runtime",
    "Saga",
    "SagaFailed",
    "SqliteStore",
    "Store",
    "Timeout",
    "Transition",
    "ValidationError",
    "VirtualClock",
    "WorkflowError",
    "WorkflowFailed",
    "attr",
    "attr_or_null",
    "call",
    "chunks",
    "current",
    "declare",
    "error_fields",
    "format_seconds",
    "index",
    "isawaitable",
    "items",
    "join",
    "keys",
    "lower",
    "matches",
    "regex",
    "sliced",
    "map_calls",
    "map_items",
    "open_store",
    "parallel",
    "select",
    "pick_weighted",
    "split",
    "step",
    "step_key",
    "step_keyed",
    "strip",
    "unwind",
    "update",
    "upper",
    "values",
]
