"""The states of a machine by path (`active.paying`): its shape, with every
`initial` and transition target resolved to a path, and each naming problem
reported. The checker, both backends and the diagrams read this one shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..diagnostics import Diagnostic, Label, did_you_mean, error
from . import ast


@dataclass(slots=True)
class Chart:
    """A machine's states by path (`active.paying`), as checked: what both backends
    and the diagrams read, so that none of them resolves a state name again."""

    states: dict[str, ast.StateDecl]  # every state by path, in document order
    initial: str  # the machine's initial state
    initials: dict[str, str]  # a compound state -> its `initial` child (else its first)
    targets: dict[ast.Ident, str]  # a transition's target or an `initial` -> the path
    flat: bool  # no state has states inside it


def moves(state: ast.StateDecl) -> Iterator[ast.Transition]:
    """Every transition out of a state: `on`, `after` and its invocations' arms."""
    yield from state.transitions
    yield from state.delays
    for invoke in state.invokes:
        yield from invoke.done
        yield from invoke.error


def state_paths(states: tuple[ast.StateDecl, ...], parent: str = "") -> list[tuple[str, ast.StateDecl]]:
    """Every state under `states` with its path, in document order (duplicates kept:
    for tools that read a file the checker may refuse)."""
    found: list[tuple[str, ast.StateDecl]] = []
    for state in states:
        path = f"{parent}.{state.name.id}" if parent else state.name.id
        found += [(path, state), *state_paths(state.states, path)]
    return found


def assigned_fields(code: ast.Node, fields: list[str]) -> list[str]:
    """The data fields an action assigns (anywhere in it), in declaration order: what
    it writes back when it completes."""
    assigned = {node.target.id for node in ast.walk(code) if isinstance(node, ast.Assign)}
    return [field for field in fields if field in assigned]


class ChartBuilder:
    """A machine's shape from its AST: state paths, initials and targets resolved,
    each problem reported (the checker reports them; `wfc graph` ignores them)."""

    def __init__(self, report: Callable[[Diagnostic], None]) -> None:
        self.report = report

    def machine_chart(self, decl: ast.Machine) -> Chart:
        chart = Chart(states={}, initial="", initials={}, targets={}, flat=True)
        self.machine_children(chart, "", decl.states)
        chart.flat = all(not s.states and s.history is None for s in chart.states.values())
        self.machine_initial(decl, chart)
        for path, state in chart.states.items():
            for transition in moves(state):
                if transition.target is not None:
                    self.known_target(chart, path, transition.target)
        return chart

    def machine_children(self, chart: Chart, parent: str, states: tuple[ast.StateDecl, ...]) -> None:
        seen: dict[str, ast.StateDecl] = {}
        for state in states:
            name = state.name.id
            if name in seen:
                self.report(
                    error(
                        "E0153",
                        f"duplicate state '{name}'",
                        state.name.span,
                        "rename one of the states, or merge them",
                        labels=[Label(seen[name].name.span, "first declared here")],
                    )
                )
                continue
            seen[name] = state
            path = f"{parent}.{name}" if parent else name
            chart.states[path] = state
            self.machine_children(chart, path, state.states)

    def machine_initial(self, decl: ast.Machine, chart: Chart) -> None:
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
            chart.initial = self.known_child(chart, "", ident) or ""
        for path, state in chart.states.items():
            for extra in state.initial[1:]:
                self.report(error("E0154", f"state '{path}' has one initial state", extra.span))
            for ident in state.initial[:1]:
                found = self.known_child(chart, path, ident)
                if found is not None:
                    chart.initials[path] = found

    def known_child(self, chart: Chart, parent: str, ident: ast.Ident) -> str | None:
        """An `initial` names a state inside its own (compound) state."""
        path = f"{parent}.{ident.id}" if parent else ident.id
        if path in chart.states and chart.states[path].history is None:
            chart.targets[ident] = path
            return path
        inside = [p[len(parent) + 1 :] if parent else p for p in chart.states if _below(p, parent)]
        self.report(error("E0151", f"unknown state '{ident.id}'", ident.span, did_you_mean(ident.id, inside)))
        return None

    def known_target(self, chart: Chart, source: str, ident: ast.Ident) -> None:
        """A target is looked up from the source's parent outwards (its siblings
        first), then inside the source itself: the nearest state of that name."""
        parent = source.rpartition(".")[0]
        scopes = [parent, source]
        while parent:
            parent = parent.rpartition(".")[0]
            scopes.append(parent)
        for scope in scopes:
            path = f"{scope}.{ident.id}" if scope else ident.id
            if path in chart.states:
                chart.targets[ident] = path
                return
        names = {p.rsplit(".", 1)[-1] for p in chart.states} | set(chart.states)
        self.report(error("E0151", f"unknown state '{ident.id}'", ident.span, did_you_mean(ident.id, names)))


def chart_of(decl: ast.Machine) -> Chart:
    """The shape of a machine, whatever its errors (for diagrams of any file)."""
    return ChartBuilder(lambda diagnostic: None).machine_chart(decl)


def _below(path: str, parent: str) -> bool:
    return not parent or path.startswith(parent + ".")
