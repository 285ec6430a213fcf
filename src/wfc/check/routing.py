"""Checks of routers and saga steps: route names and order, weights, step placement."""

from __future__ import annotations

from ..syntax import ast
from .host import CheckerHost
from .places import Label, Loop, Place, error
from .policies import dotted_parts
from .scopes import Scope


class RoutingChecks(CheckerHost):
    """Mixed into the Resolver: the router and saga parts of checking."""

    def router(self, decl: ast.Router) -> None:
        scope = self.parameters(decl)
        self.guard_site(decl, decl.policies, scope, decl.name.id, step=False)
        self.res.scope_locals[decl] = ()
        routes = (*decl.routes, decl.default) if decl.default else decl.routes
        for position, route in enumerate(decl.routes):
            self.res.route_names[route] = route.name.id if route.name else f"route_{position}"
        if decl.default is not None:
            self.res.route_names[decl.default] = "default"
        for route in routes:
            self.route(decl, route, scope)
        self.route_order(decl)

    def route(self, decl: ast.Router, route: ast.Route, scope: Scope) -> None:
        if route.when is not None:
            self.expr(route.when, scope)
        for option, what in ((route.priority, "priority"), (route.weight, "weight")):
            if option is not None and number(option) is None:
                self.report(
                    error(
                        "E0145",
                        f"a route's {what} must be a number from "
                        f"-{MAX_ROUTE_NUMBER:_} to {MAX_ROUTE_NUMBER:_}",
                        option.span,
                    )
                )
        self.route_weight(decl, route)
        if route.target is not None:
            self.expr(route.target, scope)
            return
        assert route.body is not None
        inner = Scope(owner=route, parent=scope)
        self.scope(inner, route.body)
        self.block(route.body, Place(scope=inner))

    def route_weight(self, decl: ast.Router, route: ast.Route) -> None:
        if route.weight is not None and decl.strategy != "weighted":
            self.report(
                error(
                    "E0143",
                    "`weight` applies only in a weighted router",
                    route.weight.span,
                    f"declare `router {decl.name.id}(...) weighted`",
                )
            )
            return
        weight = 1.0 if route.weight is None else number(route.weight)
        if weight is not None and weight <= 0 and route.weight is not None:
            self.report(error("E0144", "a route's weight must be positive", route.weight.span))
        self.res.route_weights[route] = weight or 0.0

    def route_order(self, decl: ast.Router) -> None:
        """Order routes by priority (higher first), ties in declaration order."""
        seen: dict[str, ast.Route] = {}
        for route in decl.routes:
            name = self.res.route_names[route]
            if name in seen and route.name is not None:
                self.report(
                    error(
                        "E0132",
                        f"duplicate route name '{name}'",
                        route.name.span,
                        "route names appear in `route` events: give each route its own",
                        labels=[Label((seen[name].name or seen[name]).span, "first used here")],
                    )
                )
            seen[name] = route
        order = tuple(sorted(decl.routes, key=lambda r: -(number(r.priority) or 0) if r.priority else 0))
        self.res.route_order[decl] = order

    def stmt_Step(self, stmt: ast.Step, place: Place) -> None:
        if not place.saga:
            self.report(
                error(
                    "E0130",
                    "`step` outside a saga",
                    stmt.span,
                    "declare the steps in a `saga`, or call the handler directly",
                )
            )
        elif place.barrier is not None or place.loop is Loop.ITEM:
            self.report(
                error("E0131", "a saga step cannot stand in a parallel block or item body", stmt.span)
            )
        for call in (stmt.call, stmt.compensate):
            if call is None:
                continue
            inner = call.call if isinstance(call, ast.Guarded) else call
            if not isinstance(inner, ast.Call):
                self.report(error("E0133", "a saga step and its compensation must be calls", call.span))
            self.expr(call, place.scope)
        self.res.step_names[stmt] = stmt.name.id if stmt.name else step_label(stmt.call)


MAX_ROUTE_NUMBER = 1_000_000
"""Priorities and weights are ranks and proportions: larger magnitudes mean nothing more."""


def number(expr: ast.Expr | None) -> float | None:
    """The value of a numeric literal (possibly negated) within the route range, else None."""
    if isinstance(expr, ast.Neg):
        inner = number(expr.operand)
        return None if inner is None else -inner
    value = expr.value if isinstance(expr, ast.Literal) else None
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and -MAX_ROUTE_NUMBER <= value <= MAX_ROUTE_NUMBER
    ):
        return float(value)
    return None


def step_label(call: ast.Expr) -> str:
    """An unnamed step is known by what it calls: `notify.order_placed`."""
    target = call.call if isinstance(call, ast.Guarded) else call
    func = target.func if isinstance(target, ast.Call) else target
    parts = dotted_parts(func)
    return ".".join(parts) if parts else "step"


def dotted_text(expr: ast.Expr) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    assert isinstance(expr, ast.Attr)
    return f"{dotted_text(expr.value)}.{expr.name}"
