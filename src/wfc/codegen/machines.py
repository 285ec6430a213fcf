"""State machines -> subclasses of `runtime.Machine`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ..check.resolution import Chart
from ..syntax import ast
from ..syntax.names import py_literal, py_name
from ..syntax.states import assigned_fields
from .declarations import param_code
from .functions import FunctionKind, GeneratedFunction
from .statements import StmtEmitter


def emit_machine(emitter: StmtEmitter, decl: ast.Machine) -> None:
    out = emitter.out
    chart = emitter.res.charts[decl]
    cls = py_name(decl.name.id)
    out.line(f"class {cls}(_wf.Machine):")
    with out.indent():
        _class_body(emitter, decl, chart)
        functions = MachineFunctions(emitter, decl, chart)
        functions.data()
        for state in chart.states.values():
            for transition in (*state.transitions, *state.delays):
                functions.guard(transition, transition.delay)
                functions.guard(transition, transition.when)
                functions.action(transition.action)
            for invoke in state.invokes:
                functions.invoke(invoke)
                for arm in (*invoke.done, *invoke.error):
                    functions.guard(arm, arm.when)
                    functions.action(arm.action)
            for action in (*state.enter, *state.exit):
                functions.action(action)
        # The tables are class attributes written in the class body, where the guards
        # and actions are plain names (type checkers call them private outside it).
        out.line()
        entries = [
            f"({py_literal(state)}, {py_literal(event)}): {functions.transitions(transitions)}"
            for (state, event), transitions in transition_table(chart).items()
        ]
        out.line(f"transitions = {{{', '.join(entries)}}}")
        for attribute, field in (("enter_actions", "enter"), ("exit_actions", "exit")):
            table = {path: getattr(s, field) for path, s in chart.states.items() if getattr(s, field)}
            entries = [
                f"{py_literal(state)}: ({''.join(functions.names[a] + ', ' for a in actions)})"
                for state, actions in table.items()
            ]
            out.line(f"{attribute} = {{{', '.join(entries)}}}")
        functions.timed_tables()


def _class_body(emitter: StmtEmitter, decl: ast.Machine, chart: Chart) -> None:
    """The docstring, the class attributes and `__init__`."""
    out = emitter.out
    finals = sorted(path for path, state in chart.states.items() if state.final)
    if decl.doc is not None:
        out.line(py_literal(decl.doc))
    out.line(f"machine = {py_literal(decl.name.id)}")
    out.line(f"initial = {py_literal(chart.initial)}")
    out.line(
        f"finals = frozenset({{{', '.join(map(py_literal, finals))}}})" if finals else "finals = frozenset()"
    )
    if not chart.flat:
        _shape(emitter, chart)
    out.line()
    params = "".join(f", {param_code(emitter, p)}" for p in decl.params)
    out.line(f"def __init__(_wf_self{params}) -> None:")
    with out.indent():
        names = ", ".join(f"{py_literal(py_name(p.name.id))}: {py_name(p.name.id)}" for p in decl.params)
        out.line(f"super().__init__({{{names}}})")


def _shape(emitter: StmtEmitter, chart: Chart) -> None:
    """A statechart's states, in document order, and what kind each is."""
    out = emitter.out
    out.line(f"states = ({''.join(py_literal(path) + ', ' for path in chart.states)})")
    if chart.initials:
        entries = ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in chart.initials.items())
        out.line(f"initials = {{{entries}}}")
    parallels = [path for path, state in chart.states.items() if state.parallel]
    if parallels:
        out.line(f"parallels = frozenset({{{', '.join(map(py_literal, parallels))}}})")
    histories = [(path, state.history == "deep") for path, state in chart.states.items() if state.history]
    if histories:
        out.line(f"histories = {{{', '.join(f'{py_literal(p)}: {deep}' for p, deep in histories)}}}")


def transition_table(chart: Chart) -> dict[tuple[str, str], list[ast.Transition]]:
    """`on` transitions by (state path, event), in declaration order."""
    table: dict[tuple[str, str], list[ast.Transition]] = {}
    for path, state in chart.states.items():
        for transition in state.transitions:
            table.setdefault((path, transition.event.id), []).append(transition)
    return table


class MachineFunctions:
    """Emits guards (plain methods) and actions (async methods) of one machine."""

    def __init__(self, emitter: StmtEmitter, decl: ast.Machine, chart: Chart) -> None:
        self.emitter = emitter
        self.decl = decl
        self.chart = chart
        self.names: dict[ast.Node, str] = {}
        self.delay_names: dict[ast.Transition, str] = {}
        self.fields = [item.name.id for item in decl.data]

    def transition(self, transition: ast.Transition) -> str:
        guard = self.names.get(transition, "None")
        action = self.names[transition.action] if transition.action else "None"
        target = "None" if transition.target is None else py_literal(self.chart.targets[transition.target])
        return f"_wf.Transition({target}, {guard}, {action})"

    def transitions(self, transitions: list[ast.Transition] | tuple[ast.Transition, ...]) -> str:
        return "(" + "".join(f"{self.transition(t)}, " for t in transitions) + ")"

    def timed_tables(self) -> None:
        """`delays` and `invokes`, for the states that have them."""
        out = self.emitter.out
        delays = [
            f"{py_literal(path)}: ("
            + "".join(f"_wf.Delay({self.delay_names[t]}, {self.transitions((t,))}), " for t in state.delays)
            + ")"
            for path, state in self.chart.states.items()
            if state.delays
        ]
        if delays:
            out.line(f"delays = {{{', '.join(delays)}}}")
        invokes = [
            f"{py_literal(path)}: ("
            + "".join(
                f"_wf.Invoke({self.names[i]}, {self.transitions(i.done)}, {self.transitions(i.error)}), "
                for i in state.invokes
            )
            + ")"
            for path, state in self.chart.states.items()
            if state.invokes
        ]
        if invokes:
            out.line(f"invokes = {{{', '.join(invokes)}}}")

    def prelude(self, code: ast.Node) -> list[str]:
        """Bind the parameters and data fields `code` reads (the implicit `ctx`
        shadows one of that name); the data fields it assigns, to write back."""
        used = self.prelude_params(code, shadowed="ctx")
        assigned = assigned_fields(code, self.fields)
        touched = [field for field in self.fields if field in used or field in assigned]
        for field in touched:
            self.emitter.out.line(f"{py_name(field)} = _wf_self.data[{py_literal(field)}]")
        return [field for field in touched if field in assigned]

    def data(self) -> None:
        """`initial_data`: the `data` fields' first values, computed per instance."""
        if not self.decl.data:
            return
        out = self.emitter.out
        out.line()
        out.line("def initial_data(_wf_self) -> dict[str, _wf.Value]:")
        with out.indent():
            self.prelude_params(tuple(item.value for item in self.decl.data))
            entries = ", ".join(
                f"{py_literal(i.name.id)}: {self.emitter.expr(i.value)}" for i in self.decl.data
            )
            out.line(f"return {{{entries}}}")

    def prelude_params(self, code: ast.Node | tuple[ast.Node, ...], shadowed: str = "") -> set[str]:
        """Bind the parameters `code` reads (but `shadowed`), once each; the names it reads."""
        used = {node.id for node in ast.walk(code) if isinstance(node, ast.Name)}
        for param in self.decl.params:
            if param.name.id != shadowed and param.name.id in used:
                name = py_name(param.name.id)
                self.emitter.out.line(f"{name} = _wf_self.params[{py_literal(name)}]")
        return used

    def guard(self, transition: ast.Transition, expr: ast.Expr | None) -> None:
        """A guard (`when`), or an `after`'s delay: a plain method of (self, ctx)."""
        if expr is None:
            return
        out = self.emitter.out
        name = self.emitter.temps.new("delay" if expr is transition.delay else "guard")
        if expr is transition.delay:
            self.delay_names[transition] = name
        else:
            self.names[transition] = name
        out.line()
        out.line(f"def {name}(_wf_self, ctx: _wf.Value) -> _wf.Value:")
        with out.indent():
            self.prelude(expr)
            out.line(f"return {self.emitter.expr(expr)}")

    def invoke(self, invoke: ast.Invoke) -> None:
        """An invocation: an async method of (self, ctx) returning the call's value."""
        with self.async_method(invoke, "invoke", "_wf.Value"):
            self.prelude(invoke.call)
            self.emitter.assign_value("_wf_result", invoke.call)
            self.emitter.out.line("return _wf_result")

    def action(self, action: ast.Action | None) -> None:
        if action is None:
            return
        emitter, out = self.emitter, self.emitter.out
        with self.async_method(action, "action", "None"):
            write_back = self.prelude(action)
            emitter.declare_locals(emitter.res.scope_locals.get(action, ()))
            body = action.body
            if body is None:
                assert action.call is not None
                body = (ast.ExprStmt(span=action.span, value=action.call),)
            emitter.block(body)
            # An action's assignments to data fields land together when it completes.
            for field in write_back:
                out.line(f"_wf_self.data[{py_literal(field)}] = {py_name(field)}")

    @contextmanager
    def async_method(self, owner: ast.Node, kind: str, returns: str) -> Iterator[None]:
        """`async def NAME(_wf_self, ctx)` with the runtime at hand, its body emitted
        inside as an action's (the frame the statements of a body need)."""
        emitter, out = self.emitter, self.emitter.out
        name = emitter.temps.new(kind)
        self.names[owner] = name
        out.line()
        out.line(f"async def {name}(_wf_self, ctx: _wf.Value) -> {returns}:")
        with out.indent():
            out.line("_rt = _wf.current()")
            out.line("_obs = _rt.observers")
            outer = emitter.frame
            emitter.frame = GeneratedFunction(kind=FunctionKind.ACTION, name=self.decl.name.id)
            try:
                yield
            finally:
                emitter.frame = outer
