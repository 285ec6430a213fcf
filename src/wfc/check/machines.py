"""Checks of state machines: states and their paths, targets, guards, reachability."""

from __future__ import annotations

from types import SimpleNamespace

from ..diagnostics import did_you_mean
from ..runtime._chart import Tree
from ..syntax import ast
from ..syntax.states import Chart, ChartBuilder, moves, state_paths
from .host import CheckerHost
from .places import Label, Place, error, warning
from .resolution import PURE_CALLS
from .scopes import Scope


def events_of(decl: ast.Machine) -> list[str]:
    """The events a machine's `on` transitions handle, at any depth, in order."""
    return list(dict.fromkeys(t.event.id for _, state in state_paths(decl.states) for t in state.transitions))


class MachineChecks(CheckerHost):
    """Mixed into the Resolver: the state-machine part of checking."""

    _sending: ast.Machine | None  # the machine whose action is being checked (`send`)

    def machine(self, decl: ast.Machine) -> None:
        scope = self.parameters(decl)
        self.res.machines[decl.name.id] = decl
        chart = ChartBuilder(self.report).machine_chart(decl)
        self.res.charts[decl] = chart
        data = self.machine_data(decl, scope)
        for path, state in chart.states.items():
            self.machine_state(decl, chart, path, state, Scope(owner=state, parent=scope, params=data))
        self.machine_warnings(decl, chart)

    # ---- each state ----------------------------------------------------------------
    def machine_data(self, decl: ast.Machine, scope: Scope) -> dict[str, ast.Ident]:
        """The `data` fields, checked: the names guards and actions see besides `ctx`."""
        fields: dict[str, ast.Ident] = {}
        for item in decl.data:
            name = item.name.id
            if name in fields or name in scope.params or name == "ctx":
                self.report(
                    error(
                        "E0189",
                        f"'{name}' is already a name of machine '{decl.name.id}'",
                        item.name.span,
                        "data fields, parameters and `ctx` need names of their own",
                    )
                )
            self.expr(item.value, scope)
            fields[name] = item.name
        return fields

    def machine_state(
        self, decl: ast.Machine, chart: Chart, path: str, state: ast.StateDecl, scope: Scope
    ) -> None:
        self.machine_placement(chart, path, state)
        for transition in moves(state):
            if state.final:
                self.report(
                    error(
                        "E0152",
                        f"transition out of final state '{path}'",
                        transition.span,
                        "a final state ends the machine (or its parent state); remove `final` or the transition",
                    )
                )
            self.machine_transition(decl, transition, scope)
        for invoke in state.invokes:
            self.machine_invoke(decl, invoke, scope)
        for action in (*state.enter, *state.exit):
            self.machine_action(decl, action, scope)

    def machine_placement(self, chart: Chart, path: str, state: ast.StateDecl) -> None:
        parent = chart.states.get(path.rpartition(".")[0])
        holds_states = parent is not None and any(child.history is None for child in parent.states)
        if state.history is not None and not holds_states:
            self.report(
                error(
                    "E0159",
                    f"history state '{state.name.id}' must be inside a compound or parallel state",
                    state.span,
                    "put `history` among the child states of the state it remembers",
                )
            )
        if state.region and (parent is None or not parent.parallel):
            self.report(
                error(
                    "E0184",
                    f"region '{state.name.id}' is not inside a parallel state",
                    state.name.span,
                    "declare the enclosing state as `parallel state`, or make this a `state`",
                )
            )
        if state.parallel and not [child for child in state.states if child.history is None]:
            self.report(
                error(
                    "E0184",
                    f"parallel state '{path}' has no regions",
                    state.name.span,
                    "add `region NAME { }` blocks",
                )
            )
        if state.final and state.states:
            self.report(error("E0152", f"final state '{path}' has child states", state.name.span))

    def machine_transition(self, decl: ast.Machine, transition: ast.Transition, scope: Scope) -> None:
        if transition.delay is not None:
            self.machine_guard(transition, transition.delay, scope)
            seconds = _constant_seconds(transition.delay)
            if seconds is not None and seconds <= 0:
                self.report(
                    error(
                        "E0183",
                        "`after` needs a positive duration",
                        transition.delay.span,
                        "write how long the state waits, such as `after 15m`",
                    )
                )
        if transition.when is not None:
            self.machine_guard(transition, transition.when, scope)
        if transition.action is not None:
            self.machine_action(decl, transition.action, scope)

    def machine_guard(self, owner: ast.Node, expr: ast.Expr, scope: Scope) -> None:
        guard = Scope(owner=owner, parent=scope.parent, params=dict(scope.params))
        guard.params["ctx"] = ast.Ident(span=expr.span, id="ctx")
        self.res.scope_locals[owner] = ()
        self.expr(expr, guard)
        self.pure_guard(expr)

    def pure_guard(self, guard: ast.Expr) -> None:
        for node in ast.walk(guard):
            impure = isinstance(node, ast.Guarded) or (
                isinstance(node, ast.Call) and self.res.calls.get(node) not in PURE_CALLS
            )
            if impure:
                self.report(
                    error(
                        "E0155",
                        "a guard cannot call handlers, workflows or other values",
                        node.span,
                        "compute the value before `send` and pass it in `ctx`",
                    )
                )
                return

    def machine_invoke(self, decl: ast.Machine, invoke: ast.Invoke, scope: Scope) -> None:
        inner = Scope(owner=invoke, parent=scope.parent, params=dict(scope.params))
        inner.params["ctx"] = ast.Ident(span=invoke.span, id="ctx")
        self.res.scope_locals[invoke] = ()
        self.expr(invoke.call, inner)
        for arm in (*invoke.done, *invoke.error):
            if arm.event.id not in ("done", "error"):
                self.report(
                    error(
                        "E0186",
                        f"an invocation ends with `done` or `error`, not '{arm.event.id}'",
                        arm.event.span,
                        did_you_mean(arm.event.id, ["done", "error"])
                        or "write `done -> STATE` or `error -> STATE`",
                    )
                )

    def machine_action(self, decl: ast.Machine, action: ast.Action, scope: Scope) -> None:
        inner = Scope(owner=action, parent=scope.parent, params=dict(scope.params))
        inner.params["ctx"] = ast.Ident(span=action.span, id="ctx")
        if action.call is not None:
            self.res.scope_locals[action] = ()
            self.expr(action.call, inner)
            return
        body = action.body or ()
        self.scope(inner, body)
        outer, self._sending = self._sending, decl
        try:
            self.block(body, Place(scope=inner))
        finally:
            self._sending = outer

    def stmt_SendEvent(self, stmt: ast.SendEvent, place: Place) -> None:
        if stmt.value is not None:
            self.expr(stmt.value, place.scope)
        if self._sending is None:
            self.report(
                error(
                    "E0187",
                    "`send` is for a machine's actions",
                    stmt.span,
                    'in a workflow, call the machine\'s method: `m.send("event")`',
                )
            )
            return
        self.known_event(self._sending, stmt.event.id, stmt.event.span)

    def known_event(self, decl: ast.Machine, event: str, span: ast.Span) -> None:
        events = events_of(decl)
        if event not in events and not event.startswith("done."):
            self.report(
                error(
                    "E0188",
                    f"machine '{decl.name.id}' has no transition for event '{event}'",
                    span,
                    did_you_mean(event, events) or f"its events: {', '.join(events) or 'none'}",
                )
            )

    # ---- warnings ---------------------------------------------------------------------
    def machine_warnings(self, decl: ast.Machine, chart: Chart) -> None:
        if not chart.initial:
            return  # already an error: do not call every state unreachable
        tree = chart_tree(decl, chart)
        reachable = self.reachable(chart, tree)
        for path, state in chart.states.items():
            parent = path.rpartition(".")[0]
            if path not in reachable and state.history is None and (not parent or parent in reachable):
                self.report(
                    warning(
                        "W0156",
                        f"state '{path}' cannot be reached",
                        state.name.span,
                        f"no transition leads to it from '{chart.initial}'",
                    )
                )
            if tree.is_atomic(path) and not state.final and not self.way_out(chart, path):
                self.report(
                    warning(
                        "W0157",
                        f"state '{path}' has no way out",
                        state.name.span,
                        "add a transition, or mark it `final`",
                    )
                )
        for path, state in chart.states.items():
            if state.parallel:
                self.region_conflicts(chart, tree, path)

    def way_out(self, chart: Chart, path: str) -> bool:
        """Whether the state, or a state around it, has a transition (a state in a
        parallel region may rightly wait for its siblings)."""
        while path:
            state = chart.states[path]
            if any(True for _ in moves(state)) or state.parallel:
                return True
            path = path.rpartition(".")[0]
        return False

    def reachable(self, chart: Chart, tree: Tree) -> set[str]:
        found = set(tree.active(tree.first_configuration()))
        todo = list(found)
        while todo:
            source = todo.pop()
            for transition in moves(chart.states[source]):
                target = chart.targets.get(transition.target) if transition.target else None
                if target is None:
                    continue
                for state in tree.entry_set([(source, target)], {}):
                    if state not in found:
                        found.add(state)
                        todo.append(state)
        return found

    def region_conflicts(self, chart: Chart, tree: Tree, parallel: str) -> None:
        """Two regions' transitions for one event whose exits overlap: SCXML takes
        only the first (or the deeper one), which is rarely what was meant."""
        by_event: dict[str, list[tuple[str, str, ast.Transition, str]]] = {}
        for region in tree.children.get(parallel, ()):
            for path, state in chart.states.items():
                if not tree.within(path, region):
                    continue
                for transition in state.transitions:
                    target = chart.targets.get(transition.target) if transition.target else None
                    if target is not None:
                        domain = tree.domain(path, target)
                        by_event.setdefault(transition.event.id, []).append(
                            (region, path, transition, domain)
                        )
        for event, found in by_event.items():
            for index, (region, source, transition, domain) in enumerate(found):
                clash = next(
                    (
                        other
                        for other in found[:index]
                        if other[0] != region
                        and (tree.within(source, other[3]) or tree.within(other[1], domain))
                    ),
                    None,
                )
                if clash is not None:
                    self.report(
                        warning(
                            "W0185",
                            f"transitions for '{event}' in regions '{clash[0]}' and '{region}' conflict",
                            transition.span,
                            "both would leave the parallel state; only one is taken. "
                            "Give them different events, or keep each inside its region",
                            labels=[Label(clash[2].span, "this one is taken first")],
                        )
                    )
                    break


def chart_tree(decl: ast.Machine, chart: Chart) -> Tree:
    """The runtime's view of a checked machine's states (for the set arithmetic)."""
    paths = tuple(chart.states)
    return Tree(
        SimpleNamespace(
            states=paths,
            histories={p: s.history == "deep" for p, s in chart.states.items() if s.history is not None},
            parallels=frozenset(p for p, s in chart.states.items() if s.parallel),
            finals=frozenset(p for p, s in chart.states.items() if s.final),
            initials=chart.initials,
            initial=chart.initial,
            delays={p: s.delays for p, s in chart.states.items() if s.delays},
            invokes={p: s.invokes for p, s in chart.states.items() if s.invokes},
        )
    )


def _constant_seconds(expr: ast.Expr) -> float | None:
    if isinstance(expr, ast.Duration):
        return expr.seconds
    if (
        isinstance(expr, ast.Literal)
        and isinstance(expr.value, (int, float))
        and not isinstance(expr.value, bool)
    ):
        return float(expr.value)
    if isinstance(expr, ast.Neg):
        inner = _constant_seconds(expr.operand)
        return None if inner is None else -inner
    return None
