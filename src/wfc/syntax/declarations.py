"""Parse tree -> AST for routers, sagas and state machines (mixed into ToAst)."""

from __future__ import annotations

from dataclasses import replace

from lark import Token, Transformer, v_args

from . import ast
from .nodes import SyntaxProblem, identifier, span_of


@v_args(meta=True)
class DeclarationBuilder(Transformer[Token, ast.Module]):
    """The transformer methods of the declarations that hold routes, steps and states.

    ToAst inherits them; lark wraps only a class's own methods, hence the decorator here.
    """

    def router_decl(self, meta, children):
        name, params, returns, strategy, policies, *items = children
        doc, items = _leading_doc(items)
        routes = tuple(item for item in items if isinstance(item, ast.Route))
        defaults = [item[1] for item in items if isinstance(item, tuple)]
        if len(defaults) > 1:
            raise SyntaxProblem("a router has at most one `default`", defaults[1].span)
        return ast.Router(
            span=span_of(meta),
            name=self._ident(name),
            params=params or (),
            strategy=strategy or "first",
            policies=policies or (),
            routes=routes,
            default=defaults[0] if defaults else None,
            doc=doc,
            returns=returns,
        )

    def strategy(self, meta, tokens):
        return str(tokens[0])

    def route(self, meta, children):
        name, when, priority, weight, target = children
        return _route(meta, name and self._ident(name), when, priority, weight, target)

    def default_route(self, meta, children):
        return ("default", _route(meta, None, None, None, None, children[0]))

    def machine_decl(self, meta, children):
        name, params, *items = children
        doc, items = _leading_doc([item for item in items if item is not None])
        return ast.Machine(
            span=span_of(meta),
            name=self._ident(name),
            params=params or (),
            initial=tuple(item for item in items if isinstance(item, ast.Ident)),
            states=tuple(item for item in items if isinstance(item, ast.StateDecl)),
            doc=doc,
            data=tuple(field for item in items if isinstance(item, _Data) for field in item),
        )

    def doc_string(self, meta, children):
        return _Doc(self.string(meta, children))

    def initial_state(self, meta, children):
        return children[0]

    def data_decl(self, meta, children):
        return _Data(child for child in children if child is not None)

    def data_field(self, meta, children):
        name, value = children
        return ast.DataField(span=span_of(meta), name=self._ident(name), value=value)

    def event_name(self, meta, names):
        return ast.Ident(span=span_of(meta), id=".".join(identifier(n) for n in names))

    state_ref = event_name

    def state_decl(self, meta, children):
        kind, name, *items = children
        return _state(meta, self._ident(name), items, final=kind == "final", parallel=kind == "parallel")

    def region_decl(self, meta, children):
        name, *items = children
        return _state(meta, self._ident(name), items, region=True)

    def history_decl(self, meta, children):
        deep, name = children
        return ast.StateDecl(
            span=span_of(meta),
            name=self._ident(name),
            final=False,
            transitions=(),
            enter=(),
            exit=(),
            history="deep" if deep is not None else "shallow",
        )

    def transition(self, meta, children):
        event, target, when, action = children
        return ast.Transition(span=span_of(meta), event=event, target=target, when=when, action=action)

    def after_transition(self, meta, children):
        delay, target, when, action = children
        event = ast.Ident(span=span_of(meta), id="after")
        return ast.Transition(
            span=span_of(meta), event=event, target=target, when=when, action=action, delay=delay
        )

    def invoke_decl(self, meta, children):
        call, *arms = children
        arms = [arm for arm in arms if arm is not None]
        return ast.Invoke(
            span=span_of(meta),
            call=call,
            done=tuple(arm for arm in arms if arm.event.id != "error"),
            error=tuple(arm for arm in arms if arm.event.id == "error"),
        )

    def invoke_arm(self, meta, children):
        event, target, when, action = children
        return ast.Transition(
            span=span_of(meta), event=self._ident(event), target=target, when=when, action=action
        )

    def send_stmt(self, meta, children):
        _, event, *value = children
        return ast.SendEvent(span=span_of(meta), event=event, value=value[0] if value else None)

    def enter_action(self, meta, children):
        return ("enter", children[0])

    def exit_action(self, meta, children):
        return ("exit", children[0])

    def action(self, meta, children):
        (item,) = children
        if isinstance(item, tuple):
            return ast.Action(span=span_of(meta), call=None, body=item)
        return ast.Action(span=span_of(meta), call=item, body=None)

    def call_action(self, meta, children):
        *names, args, policies = children
        func: ast.Expr = ast.Name(span=span_of(names[0]), id=identifier(names[0]))
        for token in names[1:]:
            func = ast.Attr(span=span_of(meta), value=func, name=identifier(token), safe=False)
        call = self.call(meta, [func, args])
        return call if policies is None else ast.Guarded(span=span_of(meta), call=call, policies=policies)

    def saga_decl(self, meta, children):
        name, params, returns, unwind, policies, body = children
        saga = self.body_declaration(ast.Saga, meta, [name, params, returns, policies, body])
        return replace(saga, unwind=unwind or ())

    def unwind(self, meta, children):
        return tuple(children)

    def unwind_option(self, meta, children):
        name, value = children
        return ast.UnwindOption(span=span_of(meta), name=self._ident(name), value=value)

    def workflow_decl(self, meta, children):
        return self.body_declaration(ast.Workflow, meta, children)

    def body_declaration(self, cls, meta, children):
        """A workflow or a saga: a name, parameters, a return type, policies and a body."""
        name, params, returns, policies, body = children
        return cls(
            span=span_of(meta),
            name=self._ident(name),
            params=params or (),
            policies=policies or (),
            body=body,
            returns=returns,
        )

    def step_stmt(self, meta, children):
        _step, name, call, compensate = children  # `step` is a token: `step = x` assigns
        # `compensate none` reads as the name `none`, which is never a call: it says
        # that the step has nothing to undo (`none` is no keyword anywhere else).
        nothing = isinstance(compensate, ast.Name) and compensate.id == "none"
        return ast.Step(
            span=span_of(meta),
            name=name and self._ident(name),
            call=call,
            compensate=None if nothing else compensate,
            compensate_none=nothing,
        )


class _Data(tuple):
    """The fields of a `data { }` item, until the machine takes them."""


def _state(meta, name: ast.Ident, items: list, **flags: bool) -> ast.StateDecl:
    """A state, a parallel state or a region, from its items."""
    found: dict[str, list] = {
        kind: [] for kind in ("enter", "exit", "on", "after", "initial", "state", "invoke")
    }
    for item in items:
        if item is not None:
            kind, value = _state_item(item)
            found[kind].append(value)
    return ast.StateDecl(
        span=span_of(meta),
        name=name,
        final=flags.get("final", False),
        transitions=tuple(found["on"]),
        enter=tuple(found["enter"]),
        exit=tuple(found["exit"]),
        parallel=flags.get("parallel", False),
        region=flags.get("region", False),
        initial=tuple(found["initial"]),
        states=tuple(found["state"]),
        delays=tuple(found["after"]),
        invokes=tuple(found["invoke"]),
    )


def _state_item(item) -> tuple[str, object]:
    """Which field of a state an item of its body goes to."""
    if isinstance(item, tuple):  # ("enter" | "exit", Action)
        return item
    if isinstance(item, ast.Transition):
        return ("on" if item.delay is None else "after"), item
    if isinstance(item, ast.Ident):
        return "initial", item
    return ("state" if isinstance(item, ast.StateDecl) else "invoke"), item


def _route(meta, name, when, priority, weight, target) -> ast.Route:
    """A route; `target` is an expression (`-> EXPR`) or a block (`do { }`)."""
    is_block = isinstance(target, tuple)
    return ast.Route(
        span=span_of(meta),
        name=name,
        when=when,
        priority=priority,
        weight=weight,
        target=None if is_block else target,
        body=target if is_block else None,
    )


class _Doc:
    """A docstring item of a router or machine, until its declaration takes it."""

    __slots__ = ("literal",)

    def __init__(self, literal: ast.Literal) -> None:
        self.literal = literal


def _leading_doc(items: list) -> tuple[str | None, list]:
    """The docstring that opens `items`, and the rest; a later one is an error."""
    doc = None
    if items and isinstance(items[0], _Doc):
        doc, items = str(items[0].literal.value), items[1:]
    for item in items:
        if isinstance(item, _Doc):
            raise SyntaxProblem(
                "a docstring must come first in its declaration",
                item.literal.span,
                "move the string to the top, or delete it",
            )
    return doc, items
