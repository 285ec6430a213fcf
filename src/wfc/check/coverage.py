"""Which branch each input takes: findings on routers, machine guards and `if` chains.

- E0146: a route that can never be chosen (routes before it take every input it
  matches, or its condition never holds);
- W0147: two routes of a `first` router at the same priority (or two guarded
  transitions on one event) that both match some input, so declaration order decides;
- W0148: a router's `default`, or an `if` chain's `else`, that can never run;
- W0142: a `first` router without `default` that some input leaves unrouted;
- W0149: an `if`/`elif` branch that is never taken;
- W0158: a machine transition that is never taken.

Each finding comes from `Solver`, and names a witness input where one exists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..diagnostics import Diagnostic
from ..syntax import ast
from .places import Label, error, warning
from .resolution import Resolution
from .routing import number
from .solver import GAVE_UP, UNKNOWN, Constraint, Solver


def check_coverage(module: ast.Module, res: Resolution) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for decl in module.decls:
        if isinstance(decl, ast.Router) and decl in res.route_order:
            found.extend(_Router(decl, res).findings())
        elif isinstance(decl, ast.Machine):
            found.extend(_machine(decl, res))
    for node in ast.walk(module.decls):
        if isinstance(node, ast.If):
            found.extend(_if_chain(node, res))
    return found


class _Branches:
    """Conditions tried in order, the first that holds wins (a `first` router, one
    machine event, an `if` chain); an absent condition always holds."""

    def __init__(self, res: Resolution, tests: Sequence[ast.Expr | None], span_of: ast.Node) -> None:
        self.tests = [
            test if test is not None else ast.Literal(span=span_of.span, value=True) for test in tests
        ]
        self.solver = Solver(res, [test for test in tests if test is not None])

    def taken(self, position: int) -> Any:
        """An input that reaches branch `position` (None: none does; GAVE_UP)."""
        return self.solver.solve(
            [
                *(Constraint(test, False) for test in self.tests[:position]),
                Constraint(self.tests[position], True),
            ]
        )

    def evaluated(self, position: int) -> Any:
        """An input on which every condition evaluates and branch `position`'s holds (the
        `all` and `weighted` routers evaluate them all before choosing)."""
        return self.solver.solve(
            [*(Constraint(test, None) for test in self.tests), Constraint(self.tests[position], True)]
        )

    def none_taken(self) -> Any:
        return self.solver.solve([Constraint(test, False) for test in self.tests])

    def both(self, first: int, second: int) -> Any:
        """An input that reaches `first` and also satisfies `second`'s condition."""
        return self.solver.solve(
            [
                *(Constraint(test, False) for test in self.tests[:first]),
                Constraint(self.tests[first], True),
                Constraint(self.tests[second], True),
            ]
        )

    def exact(self, *positions: int) -> bool:
        """Whether these conditions (and the ones before the first) are all transparent,
        so a witness found for them is an input the program really treats that way."""
        last = max(positions)
        return not any(self.solver.opaque_in(test) for test in self.tests[: last + 1])

    def coverers(self, position: int) -> list[int]:
        """The earlier branches that take some input `position` matches."""
        return [
            earlier
            for earlier in range(position)
            if self.solver.solve(
                [Constraint(self.tests[earlier], True), Constraint(self.tests[position], True)]
            )
            is not None
        ]

    def never_holds(self, position: int) -> bool:
        return self.solver.solve([Constraint(self.tests[position], True)]) is None

    def witness(self, env: dict[Any, Any]) -> str:
        inputs = self.solver.inputs(env)
        return (
            ", ".join(f"{name} = {json.dumps(value, ensure_ascii=False)}" for name, value in inputs.items())
            or "any input"
        )

    def as_json(self, env: dict[Any, Any]) -> str:
        return json.dumps(self.solver.inputs(env), ensure_ascii=False, sort_keys=True)

    def first_holding(self, env: dict[Any, Any], before: int) -> int | None:
        """The branch before `before` that takes the input `env`, if it is known."""
        for position in range(before):
            truth = self.solver.truth(self.tests[position], env)
            if truth is True:
                return position
            if truth is UNKNOWN:
                return None
        return None


class _Router:
    def __init__(self, decl: ast.Router, res: Resolution) -> None:
        self.decl, self.res = decl, res
        self.routes = list(res.route_order[decl])
        self.branches = _Branches(res, [route.when for route in self.routes], decl)
        self.never: set[int] = set()

    def name(self, position: int) -> str:
        return self.res.route_names[self.routes[position]]

    def findings(self) -> list[Diagnostic]:
        found = [
            finding
            for position in range(len(self.routes))
            if (finding := self.never_chosen(position)) is not None
        ]
        if self.decl.strategy == "first":
            found += self.overlaps()
        found += self.leftovers()
        return found

    def never_chosen(self, position: int) -> Diagnostic | None:
        first = self.decl.strategy == "first"
        reachable = self.branches.taken(position) if first else self.branches.evaluated(position)
        if reachable is not None:
            return None
        self.never.add(position)
        route = self.routes[position]
        message = f"route '{self.name(position)}' can never be chosen"
        fix = "fix its condition, or remove the route"
        if self.branches.never_holds(position):
            return error("E0146", message, route.span, fix, notes=["its condition never holds"])
        if not first:
            return error(
                "E0146",
                message,
                route.span,
                fix,
                notes=[
                    "whenever its condition holds, another route's fails with an error, and this "
                    "router evaluates every condition first"
                ],
            )
        coverers = self.branches.coverers(position)
        names = ", ".join(f"'{self.name(earlier)}'" for earlier in coverers)
        note = (
            f"{'route' if len(coverers) == 1 else 'routes'} {names} before it "
            f"take{'s' if len(coverers) == 1 else ''} every input it matches"
        )
        example = self.branches.solver.solve([Constraint(self.branches.tests[position], True)])
        witness = None
        if isinstance(example, dict) and self.branches.exact(position):
            taker = self.branches.first_holding(example, position)
            if taker is not None:
                note += f" ({self.branches.witness(example)} goes to '{self.name(taker)}')"
                witness = self.branches.as_json(example)
        notes = [note]
        if self.routes != list(self.decl.routes):
            notes.append("routes are tried by priority, then in the order written")
        labels = [Label(self.routes[earlier].span, "tried first") for earlier in coverers]
        return error(
            "E0146",
            message,
            route.span,
            "reorder the routes, give this one a higher `priority`, or narrow the ones before it",
            labels=labels,
            notes=notes,
            witness=witness,
        )

    def overlaps(self) -> list[Diagnostic]:
        found = []
        for later in range(len(self.routes)):
            if later in self.never or self.routes[later].when is None:
                continue
            for earlier in range(later):
                if (
                    not self.same_priority(earlier, later)
                    or self.routes[earlier].when is None
                    or not self.branches.exact(earlier, later)
                ):
                    continue
                env = self.branches.both(earlier, later)
                if isinstance(env, dict):
                    found.append(
                        warning(
                            "W0147",
                            f"routes '{self.name(earlier)}' and '{self.name(later)}' both match "
                            f"{self.branches.witness(env)}",
                            self.routes[later].span,
                            "give the route that should win a higher `priority`, or make the "
                            "conditions exclusive",
                            labels=[Label(self.routes[earlier].span, "wins: it is written first")],
                            witness=self.branches.as_json(env),
                        )
                    )
                    break
        return found

    def same_priority(self, first: int, second: int) -> bool:
        def rank(route: ast.Route) -> float:
            return number(route.priority) or 0.0 if route.priority is not None else 0.0

        return rank(self.routes[first]) == rank(self.routes[second])

    def leftovers(self) -> list[Diagnostic]:
        env = self.branches.none_taken()
        default = self.decl.default
        if default is not None:
            if env is None:
                return [
                    warning(
                        "W0148",
                        f"the default of router '{self.decl.name.id}' can never run",
                        default.span,
                        "remove it, or narrow the routes that were meant to leave inputs to it",
                        notes=["every input matches one of its routes"],
                    )
                ]
            return []
        if self.decl.strategy != "first" or env is None:
            return []
        witness, notes = None, ["without one, the router returns null when no route matches"]
        if isinstance(env, dict) and self.routes and self.branches.exact(len(self.routes) - 1):
            notes = [f"no route takes {self.branches.witness(env)}: the router returns null for it"]
            witness = self.branches.as_json(env)
        return [
            warning(
                "W0142",
                f"router '{self.decl.name.id}' has no default",
                self.decl.name.span,
                "add `default -> ...`",
                notes=notes,
                witness=witness,
            )
        ]


def _machine(decl: ast.Machine, res: Resolution) -> list[Diagnostic]:
    found = []
    for state in decl.states:
        events: dict[str, list[ast.Transition]] = {}
        for transition in state.transitions:
            events.setdefault(transition.event.id, []).append(transition)
        for transitions in events.values():
            if len(transitions) > 1:
                found.extend(_event(transitions, res))
    return found


def _event(transitions: list[ast.Transition], res: Resolution) -> list[Diagnostic]:
    branches = _Branches(res, [t.when for t in transitions], transitions[0])
    found = []
    for position, transition in enumerate(transitions):
        if position == 0:
            continue
        if branches.taken(position) is None:
            found.append(
                warning(
                    "W0158",
                    f"this transition on '{transition.event.id}' is never taken",
                    transition.span,
                    "reorder the transitions, or narrow the guards before it",
                    labels=[
                        Label(transitions[earlier].span, "tried first")
                        for earlier in branches.coverers(position)
                    ],
                    notes=[_shadowed_note(branches, transitions, position)],
                )
            )
            continue
        for earlier in range(position):
            if (
                transitions[earlier].when is None
                or transition.when is None
                or not branches.exact(earlier, position)
            ):
                continue
            env = branches.both(earlier, position)
            if isinstance(env, dict):
                found.append(
                    warning(
                        "W0147",
                        f"the transitions on '{transition.event.id}' on lines "
                        f"{transitions[earlier].span.line} and {transition.span.line} both match "
                        f"{branches.witness(env)}",
                        transition.span,
                        "make the guards exclusive",
                        labels=[Label(transitions[earlier].span, "wins: it is written first")],
                        witness=branches.as_json(env),
                    )
                )
                break
    return found


def _shadowed_note(branches: _Branches, transitions: list[ast.Transition], position: int) -> str:
    if branches.never_holds(position):
        return "its guard never holds"
    coverers = [transitions[earlier] for earlier in branches.coverers(position)]
    unguarded = next((t for t in coverers if t.when is None), None)
    if unguarded is not None:
        return f"the transition on line {unguarded.span.line} has no guard and wins"
    lines = ", ".join(str(t.span.line) for t in coverers)
    plural = len(coverers) > 1
    return (
        f"the transition{'s' * plural} on line{'s' * plural} {lines} before it "
        f"take{'s' * (not plural)} every `send` it would"
    )


def _if_chain(stmt: ast.If, res: Resolution) -> list[Diagnostic]:
    branches = _Branches(res, [branch.test for branch in stmt.branches], stmt)
    found = []
    for position, branch in enumerate(stmt.branches):
        if branches.taken(position) is None:
            never = branches.never_holds(position)
            found.append(
                warning(
                    "W0149",
                    f"this {'if' if position == 0 else 'elif'} branch is never taken",
                    branch.test.span,
                    "fix the condition, or remove the branch" if never else "reorder the branches",
                    labels=[]
                    if never
                    else [
                        Label(stmt.branches[earlier].test.span, "tried first")
                        for earlier in branches.coverers(position)
                    ],
                    notes=[
                        "its condition never holds"
                        if never
                        else "the conditions before it hold whenever it does"
                    ],
                )
            )
    if stmt.orelse is not None and branches.none_taken() is None:
        where = stmt.orelse[0].span if stmt.orelse else stmt.span
        found.append(
            warning(
                "W0148",
                "this `else` never runs",
                where,
                "remove it, or fix the conditions",
                notes=["one of the conditions before it always holds"],
            )
        )
    return found


__all__ = ["GAVE_UP", "check_coverage"]
