"""The wf abstract syntax tree: frozen, slotted, keyword-only dataclasses.

Children are tuples; every node has a `span`. Nodes hash by identity (`eq=False`)
so that checker side tables keyed by node stay cheap. Compare trees with `dump`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar, dataclass_transform

from ..diagnostics import Span

_N = TypeVar("_N")


@dataclass_transform(frozen_default=True, kw_only_default=True, eq_default=False)
def node(cls: type[_N]) -> type[_N]:
    """A node class: a frozen, slotted, keyword-only dataclass that hashes by identity.

    Its `__repr__` is `Node`'s, shared: each generated method costs an `exec` at
    import, and every `wfc` command imports this module (start-up is measured in
    bench/compiler.py). For the same reason every node class has a docstring,
    which spares `dataclass` building one from its signature."""
    return dataclass(frozen=True, slots=True, kw_only=True, eq=False, repr=False)(cls)


@node
class Node:
    """The base of every node: where it is in the source."""

    span: Span

    def __repr__(self) -> str:
        shown = ", ".join(f"{field.name}={getattr(self, field.name)!r}" for field in fields(self))
        return f"{type(self).__qualname__}({shown})"


# ---- names -------------------------------------------------------------------
@node
class Ident(Node):
    """A name where it is defined: a declaration, parameter, target or loop variable."""

    id: str


@node
class Dotted(Node):
    """`a.b.c` where a path is due: `use`, types, catch types, emit topics."""

    parts: tuple[str, ...]

    @property
    def text(self) -> str:
        return ".".join(self.parts)


# ---- expressions ---------------------------------------------------------------
@node
class Name(Node):
    """A name read in an expression: a variable, parameter, constant or `use` alias."""

    id: str


@node
class Literal(Node):
    """A number, string, `true`, `false` or `null`, as its Python value."""

    value: int | float | str | bool | None


@node
class Duration(Node):
    """`5s`, `200ms`, `1.5m`: a duration in seconds, with the text as written."""

    seconds: float
    text: str


@node
class Rate(Node):
    """`10/s`, `600/m`: `count` calls per `period` seconds, parsed once."""

    count: float
    period: float
    text: str

    @property
    def per_second(self) -> float:
        return self.count / self.period


@node
class FormattedValue(Node):
    """`{value:spec}` inside an f-string."""

    value: Expr
    spec: str


@node
class FString(Node):
    """`f"..."`: literal text and formatted values, in order."""

    parts: tuple[str | FormattedValue, ...]


@node
class ListExpr(Node):
    """`[a, b, c]`."""

    items: tuple[Expr, ...]


@node
class MapExpr(Node):
    """`{key: value, ...}`: keys are strings, in the order written."""

    keys: tuple[str, ...]
    values: tuple[Expr, ...]


@node
class Attr(Node):
    """`value.name`, or `value?.name` (`safe`), which gives null when value is null."""

    value: Expr
    name: str
    safe: bool  # `?.`


@node
class Index(Node):
    """`value[index]`."""

    value: Expr
    index: Expr


@node
class Slice(Node):
    """`value[start:stop]`, either bound left out."""

    value: Expr
    start: Expr | None
    stop: Expr | None


@node
class Keyword(Node):
    """`name: value` among a call's arguments."""

    name: str
    value: Expr


@node
class Call(Node):
    """`func(args..., name: value...)`: a handler, workflow, router, saga or built-in."""

    func: Expr
    args: tuple[Expr, ...]
    keywords: tuple[Keyword, ...]


@node
class BinOp(Node):
    """`left OP right` for the arithmetic operators."""

    op: str  # + - * / // %
    left: Expr
    right: Expr


@node
class Logical(Node):
    """`and`, `or` and `??` (null-coalescing): the right side is evaluated only if needed."""

    op: str  # and, or, ??
    left: Expr
    right: Expr


@node
class Not(Node):
    """`not operand`."""

    operand: Expr


@node
class Neg(Node):
    """`-operand`."""

    operand: Expr


@node
class Compare(Node):
    """`a < b <= c`: a chain of comparisons, each operand evaluated once."""

    left: Expr
    ops: tuple[str, ...]  # == != < <= > >= in "not in"
    comparators: tuple[Expr, ...]


@node
class Guarded(Node):
    """`CALL with POLICIES`."""

    call: Expr
    policies: tuple[PolicyUse, ...]


Expr = (
    Name
    | Literal
    | Duration
    | Rate
    | FString
    | ListExpr
    | Slice
    | MapExpr
    | Attr
    | Index
    | Call
    | BinOp
    | Logical
    | Not
    | Neg
    | Compare
    | Guarded
)


# ---- policies ------------------------------------------------------------------
@node
class PolicyArg(Node):
    """`name: value` (or a bare positional `value`) in a policy's arguments."""

    name: str | None
    value: Expr


@node
class PolicyUse(Node):
    """`api` (a named policy: `args` is None) or `retry(attempts: 3)`."""

    name: Ident
    args: tuple[PolicyArg, ...] | None


# ---- statements ----------------------------------------------------------------
@node
class Assign(Node):
    """`target = value`."""

    target: Ident
    value: Expr


@node
class ExprStmt(Node):
    """An expression standing as a statement, usually a call."""

    value: Expr


@node
class Stage(Node):
    """`stage NAME [with POLICIES] [when C] { }`: a named pipeline stage."""

    name: Ident
    policies: tuple[PolicyUse, ...]
    when: Expr | None
    body: tuple[Stmt, ...]


@node
class IfBranch(Node):
    """The test and body of an `if` or an `elif`."""

    test: Expr
    body: tuple[Stmt, ...]


@node
class If(Node):
    """`if C { } elif C { } else { }`."""

    branches: tuple[IfBranch, ...]  # the `if` and each `elif`
    orelse: tuple[Stmt, ...] | None


@node
class For(Node):
    """`[into =] [parallel] for var in iterable [where] [limit] [timeout] [on error skip]`.

    An item whose `where` test is false is left out: its body does not run, and a
    mapping loop's result has no entry for it."""

    var: Ident
    iterable: Expr
    body: tuple[Stmt, ...]
    concurrent: bool
    limit: Expr | None
    timeout: Expr | None
    skip_errors: bool
    into: Ident | None
    where: Expr | None = None

    def filtered_body(self) -> tuple[Stmt, ...]:
        """The body of a loop that is not item-scoped: under an `if` for its `where`."""
        if self.where is None:
            return self.body
        return (
            If(
                span=self.where.span,
                branches=(IfBranch(span=self.where.span, test=self.where, body=self.body),),
                orelse=None,
            ),
        )


@node
class While(Node):
    """`while C [max N] [timeout D] { }`."""

    test: Expr
    max: Expr | None
    timeout: Expr | None
    body: tuple[Stmt, ...]


@node
class Repeat(Node):
    """`repeat [max N] [timeout D] { } until C`: the body runs at least once."""

    body: tuple[Stmt, ...]
    until: Expr
    max: Expr | None
    timeout: Expr | None


@node
class Break(Node):
    """`break` out of the innermost loop."""


@node
class Continue(Node):
    """`continue` with the innermost loop's next iteration."""


@node
class Parallel(Node):
    """`parallel [limit N] [timeout D] [on error continue] { }`: each statement a branch."""

    limit: Expr | None
    timeout: Expr | None
    keep_going: bool  # `on error continue`
    body: tuple[Stmt, ...]
    first: bool = False  # `parallel first`: ends with the first branch that succeeds
    quorum: Expr | None = None  # `parallel quorum K`: ends when K branches have succeeded


@node
class Catch(Node):
    """`catch [TYPE, ...] [as name] { }` of a `try`."""

    types: tuple[Dotted, ...]
    name: Ident | None
    body: tuple[Stmt, ...]


@node
class Try(Node):
    """`try { } catch ... { }`."""

    body: tuple[Stmt, ...]
    handlers: tuple[Catch, ...]


@node
class Return(Node):
    """`return [value]`."""

    value: Expr | None


@node
class Yield(Node):
    """`yield value` in a mapping `for`: the item's result, and the end of its body."""

    value: Expr


@node
class Fail(Node):
    """`fail value` raises `WorkflowFailed`; in a `catch`, `fail` alone re-raises."""

    value: Expr | None  # None: `fail` alone, in a `catch`, raises the caught error again


@node
class Require(Node):
    """`require C [else MESSAGE]`: a `ValidationError` when C is falsy."""

    test: Expr
    message: Expr | None
    source: str  # the condition as written, for the default message


@node
class Emit(Node):
    """`emit topic(value)`: an event on the runtime's event bus."""

    topic: Dotted
    value: Expr | None


@node
class SendEvent(Node):
    """`send EVENT[(CTX)]` in a machine's action: an event to the machine itself."""

    event: Ident
    value: Expr | None


@node
class Wait(Node):
    """`wait D`: sleep on the runtime's clock."""

    duration: Expr


@node
class Receive(Node):
    """`[target =] receive SIGNAL [timeout D]`: the next signal of that name sent to the run."""

    target: Ident | None
    signal: Ident
    timeout: Expr | None


@node
class Step(Node):
    """A saga step: `step [name =] CALL [compensate CALL | compensate none]`."""

    name: Ident | None
    call: Expr
    compensate: Expr | None
    compensate_none: bool = False  # `compensate none`: the step has no effect to undo


@node
class SelectArm(Node):
    """One arm of a `select`: what it waits for (a timer, a signal or a call; the
    others None) and the block run if it happens first."""

    target: Ident | None  # the variable the signal's or the call's value goes to
    wait: Expr | None
    signal: Ident | None
    call: Expr | None
    body: tuple[Stmt, ...]


@node
class Select(Node):
    """`select { ARM... }`: every arm's timer, signal or call starts at once; the first
    to finish (with a value or an error) wins, the others are cancelled."""

    arms: tuple[SelectArm, ...]


Stmt = (
    Assign
    | ExprStmt
    | Stage
    | If
    | For
    | While
    | Repeat
    | Break
    | Continue
    | Parallel
    | Try
    | Return
    | Yield
    | Fail
    | Require
    | Emit
    | SendEvent
    | Wait
    | Receive
    | Step
    | Select
)


# ---- declarations ----------------------------------------------------------------
@node
class Use(Node):
    """`use path [as alias]`: a Python module of handlers."""

    path: Dotted
    alias: Ident | None

    @property
    def bound(self) -> str:
        return self.alias.id if self.alias else self.path.parts[-1]


@node
class ConstDecl(Node):
    """`const NAME = value`."""

    name: Ident
    value: Expr


@node
class ErrorDecl(Node):
    """`error CardExpired: PaymentDeclined`: an error type; without a parent, a kind of
    `WorkflowFailed`."""

    name: Ident
    parent: Ident | None


@node
class PolicyDecl(Node):
    """`policy NAME { POLICY ... }`: a named list of policies."""

    name: Ident
    policies: tuple[PolicyUse, ...]


@node
class Param(Node):
    """`name[: TYPE] [= default]` of a workflow, router, saga or machine."""

    name: Ident
    type: Dotted | None
    default: Expr | None


@node
class Workflow(Node):
    """`workflow NAME(params) [-> TYPE] [with POLICIES] { }`."""

    name: Ident
    params: tuple[Param, ...]
    policies: tuple[PolicyUse, ...]
    body: tuple[Stmt, ...]
    returns: Dotted | None = None  # `-> TYPE`: what it returns, for Python's type checkers


@node
class Route(Node):
    """`route [name] [when C] [priority P] [weight W] (-> EXPR | do { })`; also `default`."""

    name: Ident | None
    when: Expr | None
    priority: Expr | None
    weight: Expr | None
    target: Expr | None  # `-> EXPR`
    body: tuple[Stmt, ...] | None  # `do { ... }`


@node
class Router(Node):
    """`router NAME(params) [-> TYPE] [first | all | weighted] [with POLICIES] { route ... }`."""

    name: Ident
    params: tuple[Param, ...]
    strategy: str  # "first", "all" or "weighted"
    policies: tuple[PolicyUse, ...]
    routes: tuple[Route, ...]
    default: Route | None
    doc: str | None = None
    returns: Dotted | None = None


@node
class Saga(Node):
    """`saga NAME(params) [-> TYPE] [unwind(...)] [with POLICIES] { step ... }`."""

    name: Ident
    params: tuple[Param, ...]
    policies: tuple[PolicyUse, ...]
    body: tuple[Stmt, ...]
    returns: Dotted | None = None
    unwind: tuple[UnwindOption, ...] = ()


@node
class UnwindOption(Node):
    """`failed_step: true` in a saga's `unwind(...)`."""

    name: Ident
    value: Expr


@node
class Action(Node):
    """What a transition or state does: a call, or a block of statements."""

    call: Expr | None
    body: tuple[Stmt, ...] | None


@node
class Transition(Node):
    """`on EVENT [-> TARGET] [when GUARD] [do ACTION]`; `after DELAY -> ...` (with
    `delay`); an invocation's `done -> ...` or `error -> ...` (event `done`/`error`).
    A target (or an event) may be a dotted path: `active.paying`, `done.active`."""

    event: Ident
    target: Ident | None  # None: a targetless transition runs its action and stays
    when: Expr | None
    action: Action | None
    delay: Expr | None = None


@node
class Invoke(Node):
    """`invoke CALL { done -> ...  error -> ... }`: started on entry, cancelled on exit."""

    call: Expr  # a Call, or a Guarded call
    done: tuple[Transition, ...]
    error: tuple[Transition, ...]


@node
class StateDecl(Node):
    """A machine's `state NAME { }` (or `final state`), with what it holds."""

    name: Ident
    final: bool
    transitions: tuple[Transition, ...]
    enter: tuple[Action, ...]
    exit: tuple[Action, ...]
    parallel: bool = False  # `parallel state`: its children are regions, all active at once
    region: bool = False  # `region NAME { }`, a child of a parallel state
    history: str | None = None  # "shallow" or "deep": a history pseudo-state
    initial: tuple[Ident, ...] = ()  # of a compound state: at most one when valid
    states: tuple[StateDecl, ...] = ()
    delays: tuple[Transition, ...] = ()
    invokes: tuple[Invoke, ...] = ()


@node
class DataField(Node):
    """`name = value` in a machine's `data { }`: its context's initial value."""

    name: Ident
    value: Expr


@node
class Machine(Node):
    """`machine NAME(params) { initial ...  state ... }`: a state machine."""

    name: Ident
    params: tuple[Param, ...]
    initial: tuple[Ident, ...]  # exactly one when valid
    states: tuple[StateDecl, ...]
    doc: str | None = None
    data: tuple[DataField, ...] = ()


Declaration = Workflow | Router | Saga  # what can be called
Decl = Use | ConstDecl | ErrorDecl | PolicyDecl | Workflow | Router | Saga | Machine


@node
class Module(Node):
    """A whole `.wf` file: its declarations in source order."""

    decls: tuple[Decl, ...]


def dump(tree: Any, spans: bool = False) -> str:
    """A readable, comparable rendering of a tree, like `ast.dump`."""
    if isinstance(tree, tuple):
        return "[" + ", ".join(dump(item, spans) for item in tree) + "]"
    if not isinstance(tree, Node):
        return repr(tree)
    parts = [
        f"{field.name}={dump(getattr(tree, field.name), spans)}"
        for field in fields(tree)
        if spans or field.name != "span"
    ]
    return f"{type(tree).__name__}({', '.join(parts)})"


def declaration_doc(decl: Declaration | Machine) -> str | None:
    """A declaration's docstring: a router's or machine's own, else its body's first string."""
    if isinstance(decl, (Router, Machine)):
        return decl.doc
    return docstring(decl.body)


def docstring(body: tuple[Stmt, ...]) -> str | None:
    """The docstring a body starts with (a string literal standing alone), or None."""
    first = body[0] if body else None
    if (
        isinstance(first, ExprStmt)
        and isinstance(first.value, Literal)
        and isinstance(first.value.value, str)
    ):
        return first.value.value
    return None


def walk(tree: Any):
    """Every node under `tree` (itself included), in source order."""
    if isinstance(tree, tuple):
        for item in tree:
            yield from walk(item)
    elif isinstance(tree, Node):
        yield tree
        for field in fields(tree):
            if field.name != "span":
                yield from walk(getattr(tree, field.name))


def node_classes() -> list[type[Node]]:
    """Every concrete node class: the parse cache's encoding, and tests that check each
    has a handler."""
    return [
        cls
        for cls in globals().values()
        if isinstance(cls, type) and issubclass(cls, Node) and cls is not Node
    ]
