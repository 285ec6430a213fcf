"""Checks of state machines: states, targets, guards, reachability."""

from __future__ import annotations

from ..diagnostics import did_you_mean
from ..syntax import ast
from .host import CheckerHost
from .places import Label, Place, error, warning
from .resolution import PURE_CALLS
from .scopes import Scope


class MachineChecks(CheckerHost):
    """Mixed into the Resolver: the state-machine part of checking."""

    def machine(self, decl: ast.Machine) -> None:
        scope = self.parameters(decl)
        self.res.machines[decl.name.id] = decl
        states = self.machine_states(decl)
        self.machine_initial(decl, states)
        for state in decl.states:
            for transition in state.transitions:
                self.machine_transition(decl, state, transition, states, scope)
            for action in (*state.enter, *state.exit):
                self.machine_action(action, scope)
        self.machine_warnings(decl, states)

    def machine_states(self, decl: ast.Machine) -> dict[str, ast.StateDecl]:
        states: dict[str, ast.StateDecl] = {}
        for state in decl.states:
            name = state.name.id
            if name in states:
                self.report(
                    error(
                        "E0153",
                        f"duplicate state '{name}'",
                        state.name.span,
                        "rename one of the states, or merge them",
                        labels=[Label(states[name].name.span, "first declared here")],
                    )
                )
                continue
            states[name] = state
        return states

    def machine_initial(self, decl: ast.Machine, states: dict[str, ast.StateDecl]) -> None:
        if not decl.initial:
            self.report(
                error(
                    "E0150",
                    f"machine '{decl.name.id}' has no initial state",
                    decl.name.span,
                    "add `initial STATE` to the machine",
                )
            )
        for extra in decl.initial[1:]:
            self.report(error("E0154", "a machine has one initial state", extra.span))
        for ident in decl.initial[:1]:
            self.known_state(ident, states)

    def known_state(self, ident: ast.Ident, states: dict[str, ast.StateDecl]) -> bool:
        if ident.id in states:
            return True
        self.report(error("E0151", f"unknown state '{ident.id}'", ident.span, did_you_mean(ident.id, states)))
        return False

    def machine_transition(
        self,
        decl: ast.Machine,
        state: ast.StateDecl,
        transition: ast.Transition,
        states: dict[str, ast.StateDecl],
        scope: Scope,
    ) -> None:
        if state.final:
            self.report(
                error(
                    "E0152",
                    f"transition out of final state '{state.name.id}'",
                    transition.span,
                    "a final state ends the machine; remove `final` or the transition",
                )
            )
        self.known_state(transition.target, states)
        if transition.when is not None:
            guard = Scope(owner=transition, parent=scope)
            guard.params["ctx"] = transition.event
            self.res.scope_locals[transition] = ()
            self.expr(transition.when, guard)
            self.pure_guard(transition.when)
        if transition.action is not None:
            self.machine_action(transition.action, scope)

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

    def machine_action(self, action: ast.Action, scope: Scope) -> None:
        inner = Scope(owner=action, parent=scope)
        inner.params["ctx"] = ast.Ident(span=action.span, id="ctx")
        if action.call is not None:
            self.res.scope_locals[action] = ()
            self.expr(action.call, inner)
            return
        body = action.body or ()
        self.scope(inner, body)
        self.block(body, Place(scope=inner))

    def machine_warnings(self, decl: ast.Machine, states: dict[str, ast.StateDecl]) -> None:
        reachable = self.reachable(decl, states)
        for name, state in states.items():
            if decl.initial and name not in reachable:
                self.report(
                    warning(
                        "W0156",
                        f"state '{name}' cannot be reached",
                        state.name.span,
                        f"no transition leads to it from '{decl.initial[0].id}'",
                    )
                )
            if not state.final and not state.transitions:
                self.report(
                    warning(
                        "W0157",
                        f"state '{name}' has no way out",
                        state.name.span,
                        "add a transition, or mark it `final`",
                    )
                )

    def reachable(self, decl: ast.Machine, states: dict[str, ast.StateDecl]) -> set[str]:
        if not decl.initial or decl.initial[0].id not in states:
            return set(states)  # already an error: do not call every state unreachable
        found, todo = set(), [decl.initial[0].id]
        while todo:
            name = todo.pop()
            if name in found or name not in states:
                continue
            found.add(name)
            todo.extend(t.target.id for t in states[name].transitions)
        return found
