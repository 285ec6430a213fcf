"""State machines -> subclasses of `runtime.Machine`."""

from __future__ import annotations

from ..syntax import ast
from ..syntax.names import py_literal, py_name
from .declarations import param_code
from .functions import FunctionKind, GeneratedFunction
from .statements import StmtEmitter


def emit_machine(emitter: StmtEmitter, decl: ast.Machine) -> None:
    out = emitter.out
    cls = py_name(decl.name.id)
    out.line(f"class {cls}(_wf.Machine):")
    with out.indent():
        _class_body(emitter, decl)
        functions = MachineFunctions(emitter, decl)
        for state in decl.states:
            for transition in state.transitions:
                functions.guard(transition)
                functions.action(transition.action)
            for action in (*state.enter, *state.exit):
                functions.action(action)
        # The tables are class attributes written in the class body, where the guards
        # and actions are plain names (type checkers call them private outside it).
        out.line()
        entries = [
            f"({py_literal(state)}, {py_literal(event)}): ("
            + "".join(f"{functions.transition(t)}, " for t in transitions)
            + ")"
            for (state, event), transitions in transition_table(decl).items()
        ]
        out.line(f"transitions = {{{', '.join(entries)}}}")
        for attribute, field in (("enter_actions", "enter"), ("exit_actions", "exit")):
            table = {s.name.id: getattr(s, field) for s in decl.states if getattr(s, field)}
            entries = [
                f"{py_literal(state)}: ({''.join(functions.names[a] + ', ' for a in actions)})"
                for state, actions in table.items()
            ]
            out.line(f"{attribute} = {{{', '.join(entries)}}}")


def _class_body(emitter: StmtEmitter, decl: ast.Machine) -> None:
    """The docstring, the class attributes and `__init__`."""
    out = emitter.out
    finals = sorted(state.name.id for state in decl.states if state.final)
    if decl.doc is not None:
        out.line(py_literal(decl.doc))
    out.line(f"machine = {py_literal(decl.name.id)}")
    out.line(f"initial = {py_literal(decl.initial[0].id)}")
    out.line(
        f"finals = frozenset({{{', '.join(map(py_literal, finals))}}})" if finals else "finals = frozenset()"
    )
    out.line()
    params = "".join(f", {param_code(emitter, p)}" for p in decl.params)
    out.line(f"def __init__(_wf_self{params}) -> None:")
    with out.indent():
        names = ", ".join(f"{py_literal(py_name(p.name.id))}: {py_name(p.name.id)}" for p in decl.params)
        out.line(f"super().__init__({{{names}}})")


def transition_table(decl: ast.Machine) -> dict[tuple[str, str], list[ast.Transition]]:
    """Transitions by (state, event), in declaration order."""
    table: dict[tuple[str, str], list[ast.Transition]] = {}
    for state in decl.states:
        for transition in state.transitions:
            table.setdefault((state.name.id, transition.event.id), []).append(transition)
    return table


class MachineFunctions:
    """Emits guards (plain methods) and actions (async methods) of one machine."""

    def __init__(self, emitter: StmtEmitter, decl: ast.Machine) -> None:
        self.emitter = emitter
        self.decl = decl
        self.names: dict[ast.Node, str] = {}

    def transition(self, transition: ast.Transition) -> str:
        guard = self.names.get(transition, "None")
        action = self.names[transition.action] if transition.action else "None"
        return f"_wf.Transition({py_literal(transition.target.id)}, {guard}, {action})"

    def prelude(self, code: ast.Node) -> None:
        """Bind the parameters `code` reads (the implicit `ctx` shadows one of that name)."""
        used = {node.id for node in ast.walk(code) if isinstance(node, ast.Name)}
        for param in self.decl.params:
            if param.name.id != "ctx" and param.name.id in used:
                name = py_name(param.name.id)
                self.emitter.out.line(f"{name} = _wf_self.params[{py_literal(name)}]")

    def guard(self, transition: ast.Transition) -> None:
        if transition.when is None:
            return
        out = self.emitter.out
        name = self.emitter.temps.new("guard")
        self.names[transition] = name
        out.line()
        out.line(f"def {name}(_wf_self, ctx: _wf.Value) -> _wf.Value:")
        with out.indent():
            self.prelude(transition.when)
            out.line(f"return {self.emitter.expr(transition.when)}")

    def action(self, action: ast.Action | None) -> None:
        if action is None:
            return
        emitter, out = self.emitter, self.emitter.out
        name = emitter.temps.new("action")
        self.names[action] = name
        out.line()
        out.line(f"async def {name}(_wf_self, ctx: _wf.Value) -> None:")
        with out.indent():
            out.line("_rt = _wf.current()")
            out.line("_obs = _rt.observers")
            self.prelude(action)
            emitter.declare_locals(emitter.res.scope_locals.get(action, ()))
            outer = emitter.frame
            emitter.frame = GeneratedFunction(kind=FunctionKind.ACTION, name=self.decl.name.id)
            body = action.body
            if body is None:
                assert action.call is not None
                body = (ast.ExprStmt(span=action.span, value=action.call),)
            emitter.block(body)
            emitter.frame = outer
