"""wfc's runtime: what generated code and the interpreter run on (stdlib only)."""

from inspect import isawaitable
from typing import Any, TypeAlias

from ._bulkhead import Bulkhead
from ._clock import Clock, Deadline, RealClock, VirtualClock, format_seconds
from ._concurrency import LEFT_OUT, MAX_LIMIT, map_items, parallel, select
from ._durable import ReplayRefused, Run, declare, step_key, step_keyed
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
from ._policies import Breaker, Fallback, Idempotent, Limit, Retry, Timeout
from ._redis import RedisStore, open_store
from ._routing import pick_weighted
from ._runtime import Observer, Runtime, current
from ._saga import Compensation, Saga
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
    "update",
    "upper",
    "values",
]
