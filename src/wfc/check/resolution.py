"""What the checker learned about a module: side tables keyed by AST node."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..runtime import ERROR_TYPES
from ..syntax import ast
from ..syntax.states import Chart


class Kind(Enum):
    """What a name refers to."""

    LOCAL = "local"  # a parameter or a variable of the declaration or item scope
    CONST = "const"
    USE = "use"
    DECL = "declaration"
    BUILTIN = "builtin"
    ERROR = "error"  # one of the runtime's predefined error types
    ERROR_TYPE = "error type"  # an `error` declared in this module
    EXCEPTION = "exception"  # a Python builtin exception type
    MACHINE = "machine"  # a state machine class of this module


class CallKind(Enum):
    BUILTIN = "builtin"  # a wf builtin function
    DECL = "declaration"  # a workflow of this module: awaited
    STEP = "step"  # a handler bound by `use`: events, await if awaitable, error note
    DYNAMIC = "dynamic"  # any other value: called, awaited if awaitable
    ERROR = "error"  # an error type (declared, or the runtime's): makes an error object


# Calls that neither wait nor reach outside: a builtin, or making an error object.
PURE_CALLS = frozenset([CallKind.BUILTIN, CallKind.ERROR])


BUILTIN_FUNCTIONS = [
    "len",
    "str",
    "int",
    "float",
    "bool",
    "list",
    "map",
    "keys",
    "values",
    "items",
    "range",
    "min",
    "max",
    "sum",
    "abs",
    "round",
    "lower",
    "upper",
    "strip",
    "split",
    "join",
    "chunks",
    "now",
    "uuid",
    "attempt",
    "matches",
    "regex",
]
BUILTIN_TYPES = ("str", "int", "float", "bool", "list", "map", "any")
ERROR_NAMES = frozenset(ERROR_TYPES)


# Policy kinds, outermost first: the order they apply in, however they are written.
POLICY_ORDER = ("idempotent", "fallback", "retry", "breaker", "limit", "bulkhead", "timeout")


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """One checked policy of a site: constants for the runtime, expressions for the site.

    `options` are the runtime class's keyword arguments, already constant;
    `exceptions` the `on:` types; `key` and `fallback` are evaluated where the
    call is made (`fallback` is a callable, or a value when `calls` is False);
    `shared` names the `policy` block it came from, whose state every site shares.
    """

    kind: str
    options: tuple[tuple[str, Any], ...] = ()  # the runtime class's keyword arguments
    exceptions: tuple[ast.Dotted, ...] | None = None
    key: ast.Expr | None = None
    fallback: ast.Expr | None = None
    calls: bool = True
    shared: str | None = None

    @property
    def runtime_class(self) -> str:
        """The `wfc.runtime` class both backends build with `options` (and `on=`)."""
        return RUNTIME_CLASSES[self.kind]


# Each policy kind's class in `wfc.runtime`: the one table of them.
RUNTIME_CLASSES = {
    "idempotent": "Idempotent",
    "fallback": "Fallback",
    "retry": "Retry",
    "breaker": "Breaker",
    "limit": "Limit",
    "bulkhead": "Bulkhead",  # `limit(concurrent: N)`: a `limit` in the source
    "timeout": "Timeout",
}


@dataclass(frozen=True, slots=True)
class Unwind:
    """A saga's `unwind(...)`: `failed_step` compensates the step that failed too (its
    handler may have had a partial effect); `stop_on_error` stops unwinding at the
    first compensation that fails."""

    failed_step: bool = False
    stop_on_error: bool = False


@dataclass(frozen=True, slots=True)
class GuardSpec:
    """The policies around one call, stage or declaration, one per kind (retries for
    disjoint errors excepted), outermost first."""

    target: str  # what events name: the step's target as written, a stage, a declaration
    location: str  # `file.wf:line:col` of the call, stage or declaration (error notes)
    step: bool  # each attempt is a handler step (step events, error notes)
    policies: tuple[PolicySpec, ...]
    qualname: str  # `module.target`: what a default idempotency key hashes with the arguments
    breaker_state: str  # store names: `module.policy` for a named policy's, else the site's
    limit_state: str

    def get(self, kind: str) -> PolicySpec | None:
        return next((spec for spec in self.policies if spec.kind == kind), None)

    def retries(self) -> tuple[PolicySpec, ...]:
        """The site's retries: several when each governs its own `on` errors."""
        return tuple(spec for spec in self.policies if spec.kind == "retry")

    def site_keys(self) -> list[tuple[str, ast.Expr]]:
        """The `key:` values the call site supplies, as `Guard.run`'s keyword and the
        expression, in the order both backends evaluate them (after the arguments)."""
        found = []
        for kind, keyword in (
            ("idempotent", "key"),
            ("breaker", "breaker_key"),
            ("limit", "limit_key"),
            ("bulkhead", "limit_key"),
        ):
            spec = self.get(kind)
            if spec is not None and spec.key is not None:
                found.append((keyword, spec.key))
        return found


@dataclass(slots=True)
class Resolution:
    """The checked facts both backends need; the AST itself is never edited."""

    filename: str
    names: dict[ast.Name, Kind] = field(default_factory=dict)
    calls: dict[ast.Call, CallKind] = field(default_factory=dict)
    step_targets: dict[ast.Call, str] = field(default_factory=dict)
    handler_attrs: set[ast.Attr] = field(default_factory=set)  # `inv.reserve`: getattr
    scope_locals: dict[ast.Node, tuple[str, ...]] = field(default_factory=dict)
    # Locals read from an enclosing scope (an item's or a route body's parent): every
    # other local is in the innermost scope, which a frame holds from its start.
    outer_locals: set[ast.Name] = field(default_factory=set)
    item_scopes: set[ast.For] = field(default_factory=set)
    catch_kinds: dict[ast.Dotted, Kind] = field(default_factory=dict)
    uses: dict[str, ast.Use] = field(default_factory=dict)
    consts: dict[str, ast.ConstDecl] = field(default_factory=dict)
    errors: dict[str, ast.ErrorDecl] = field(default_factory=dict)  # in declaration order
    # A dataflow `parallel` block -> for each branch, the branches whose variables it reads.
    branch_deps: dict[ast.Parallel, tuple[tuple[int, ...], ...]] = field(default_factory=dict)
    # A `fail` alone -> the `catch` whose error it raises again.
    reraise: dict[ast.Fail, ast.Catch] = field(default_factory=dict)
    decls: dict[str, ast.Declaration] = field(default_factory=dict)
    route_order: dict[ast.Router, tuple[ast.Route, ...]] = field(default_factory=dict)
    route_names: dict[ast.Route, str] = field(default_factory=dict)
    route_weights: dict[ast.Route, float] = field(default_factory=dict)
    # A workflow, router or saga -> what it returns: a wf type (`str`, `map?` when it may
    # be null, `any`) or a dotted type as written (check/returns.py).
    return_types: dict[ast.Node, str] = field(default_factory=dict)
    step_names: dict[ast.Step, str] = field(default_factory=dict)
    # A saga with `unwind(...)` -> its checked options (absent: both false).
    unwinds: dict[ast.Saga, Unwind] = field(default_factory=dict)
    # The steps (with a compensation) of sagas with `unwind(failed_step: true)`.
    undone_if_failed: set[ast.Step] = field(default_factory=set)
    machines: dict[str, ast.Machine] = field(default_factory=dict)
    charts: dict[ast.Machine, Chart] = field(default_factory=dict)
    policies: dict[str, ast.PolicyDecl] = field(default_factory=dict)
    # A `Guarded` call, a `Stage` or a declaration -> its policies.
    guards: dict[ast.Node, GuardSpec] = field(default_factory=dict)

    @property
    def module_name(self) -> str:
        """The module's name in store keys: the file name without `.wf`."""
        name = self.filename.replace("\\", "/").rsplit("/", 1)[-1]
        return name[:-3] if name.endswith(".wf") else name

    def location(self, node: ast.Node) -> str:
        """`file.wf:line:col` of a node, as error notes and comments show it."""
        return f"{self.filename}:{node.span.line}:{node.span.column}"

    def single_step(self, loop: ast.For) -> ast.Call | None:
        """The call of a mapping `for` whose whole body is `yield HANDLER(var)` (no
        `where`): each item is that one step, which the runtime makes itself
        (`map_calls`), with no function of the item's own."""
        if loop.where is not None or len(loop.body) != 1 or not isinstance(loop.body[0], ast.Yield):
            return None
        call = loop.body[0].value
        if not isinstance(call, ast.Call) or self.calls.get(call) is not CallKind.STEP or call.keywords:
            return None
        only = call.args[0] if len(call.args) == 1 else None
        return call if isinstance(only, ast.Name) and only.id == loop.var.id else None
