"""Policies: `policy` blocks and `with` clauses -> one checked `GuardSpec` per site.

Every argument but `key:`, a fallback and a fallback `value:` must be a
constant (a literal, a duration, a rate, or a const), so its type and range
are checked here and the runtime gets plain values.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from ..diagnostics import Label, did_you_mean
from ..runtime import ERROR_TYPES
from ..syntax import ast
from .host import CheckerHost
from .places import error
from .resolution import POLICY_ORDER, PURE_CALLS, GuardSpec, Kind, PolicySpec
from .scopes import Scope

_WINDOWS = ("fixed_window", "sliding_window")
_MISSING = object()

# An argument's checker: (resolver, value, scope, named policy or None) -> value or _MISSING.
Check = Callable[[Any, ast.Expr, "Scope | None", "str | None"], Any]


class PolicyChecks(CheckerHost):
    """Mixed into the Resolver: checks policy blocks and `with` clauses."""

    def guard_site(
        self, site: ast.Node, uses: tuple[ast.PolicyUse, ...], scope: Scope | None, target: str, step: bool
    ) -> None:
        """Check the `with` clause of `site` and record its policies."""
        if not uses:
            return
        by_kind, retries = self.in_force(self.policy_specs(uses, scope, None, ()))
        once = by_kind.get("idempotent")
        if isinstance(site, ast.Stage) and once is not None and once.key is None:
            self.report(
                error(
                    "E0164",
                    "`idempotent` on a stage needs a `key`",
                    site.name.span,
                    "a stage has no arguments to tell one run from another: write `idempotent(key: ...)`",
                )
            )
            del by_kind["idempotent"]
        ordered = tuple(
            spec
            for kind in POLICY_ORDER
            if kind in by_kind
            for spec in (retries if kind == "retry" else [by_kind[kind]])
        )
        module = self.res.module_name
        located = site.call if isinstance(site, ast.Guarded) else site

        def state(kind: str) -> str:
            spec = by_kind.get(kind) or (by_kind.get("bulkhead") if kind == "limit" else None)
            if spec is not None and spec.shared is not None:
                return f"{module}.{spec.shared}"
            return f"{module}:{located.span.line}:{located.span.column}"

        self.res.guards[site] = GuardSpec(
            target=target,
            location=self.res.location(located),
            step=step,
            policies=ordered,
            qualname=f"{module}.{target}",
            breaker_state=state("breaker"),
            limit_state=state("limit"),
        )

    def in_force(self, specs: list[PolicySpec]) -> tuple[dict[str, PolicySpec], list[PolicySpec]]:
        """The policies a site keeps, by kind, and its retries: a later policy of a kind
        replaces an earlier one, except retries for disjoint errors, which each govern
        their own; a rate `limit` and a `limit(concurrent:)` are one kind here."""
        by_kind: dict[str, PolicySpec] = {}
        retries: list[PolicySpec] = []
        for spec in specs:
            if spec.kind == "retry" and self.joins(retries, spec):
                retries.append(spec)
                continue
            if spec.kind == "retry":
                retries = [spec]
            if spec.kind in ("limit", "bulkhead"):
                by_kind.pop("bulkhead" if spec.kind == "limit" else "limit", None)
            by_kind[spec.kind] = spec
        return by_kind, retries

    def joins(self, retries: list[PolicySpec], spec: PolicySpec) -> bool:
        """Whether the retry `spec` joins `retries` (each with its own errors) rather than
        replacing them: all of them have `on` lists and are written in one list (the same
        `with` clause, or the same `policy` block). Lists that share a type, or a type
        and its parent, are an error: which retry governs that error? A retry from
        elsewhere replaces them, as a later policy of any kind does."""
        if not retries or spec.exceptions is None or spec.shared != retries[0].shared:
            return False
        if any(r.exceptions is None for r in retries):
            return False
        for earlier in retries:
            for dotted in spec.exceptions:
                other = next((d for d in earlier.exceptions or () if self.overlapping(dotted, d)), None)
                if other is not None and dotted not in self._overlaps:
                    self._overlaps.add(dotted)  # once, however many sites use the policy
                    self.report(
                        error(
                            "E0193",
                            f"two retries on one call both handle '{dotted.text}'",
                            dotted.span,
                            "give each error type to one retry: the lists must not share a type "
                            "(nor a type and its parent)",
                            labels=[Label(other.span, f"'{other.text}' is retried here too")],
                        )
                    )
                    return True  # reported: keep both, the site is an error anyway
        return True

    def overlapping(self, first: ast.Dotted, second: ast.Dotted) -> bool:
        a, b = self.lineage(first), self.lineage(second)
        return first.text in b or second.text in a

    def lineage(self, dotted: ast.Dotted) -> set[str]:
        """The names of a type and its known parents: declared errors up the chain,
        the runtime's and Python's by their classes; a `use`d type only by itself."""
        kind, name = self.res.catch_kinds.get(dotted), dotted.text
        names = {name}
        while kind is Kind.ERROR_TYPE and name in self.res.errors:
            parent = self.res.errors[name].parent
            name = "WorkflowFailed" if parent is None else parent.id
            kind = Kind.ERROR_TYPE if name in self.res.errors else Kind.ERROR
            names.add(name)
        cls = ERROR_TYPES.get(name) if kind is Kind.ERROR else getattr(builtins, name, None)
        if kind in (Kind.ERROR, Kind.EXCEPTION) and isinstance(cls, type):
            names.update(base.__name__ for base in cls.__mro__ if issubclass(base, BaseException))
        elif kind is Kind.USE:  # an exception class of the application's, parents unknown
            names.update(("Exception", "BaseException"))
        return names

    def named_policy(self, name: str, chain: tuple[str, ...] = ()) -> tuple[PolicySpec, ...]:
        """The policies of `policy NAME { }`, checked once however often it is used."""
        if name not in self._named:
            decl = self.res.policies[name]
            if name in KINDS:
                self.report(
                    error(
                        "E0168",
                        f"a policy cannot be named '{name}', like a policy kind",
                        decl.name.span,
                        f"rename it, for example '{name}_policy'",
                    )
                )
            self._named[name] = ()  # while its items are checked: a use of it is a cycle
            self._named[name] = tuple(self.policy_specs(decl.policies, None, name, (*chain, name)))
        return self._named[name]

    def policy_specs(
        self, uses: tuple[ast.PolicyUse, ...], scope: Scope | None, named: str | None, chain: tuple[str, ...]
    ) -> list[PolicySpec]:
        specs: list[PolicySpec] = []
        for use in uses:
            name = use.name.id
            if use.args is None and name in self.res.policies:
                if name in chain:
                    self.report(
                        error(
                            "E0167",
                            f"policy '{name}' includes itself",
                            use.span,
                            "remove the reference that closes the cycle",
                        )
                    )
                    continue
                specs.extend(self.named_policy(name, chain))
            elif name in KINDS:
                spec = self.policy_call(use, scope, named)
                if spec is not None:
                    specs.append(spec)
            else:
                candidates = [*KINDS, *self.res.policies]
                self.report(
                    error("E0160", f"unknown policy '{name}'", use.name.span, did_you_mean(name, candidates))
                )
        return specs

    def policy_call(self, use: ast.PolicyUse, scope: Scope | None, named: str | None) -> PolicySpec | None:
        kind = use.name.id
        schema = KINDS[kind]
        values: dict[str, Any] = {}
        for position, arg in enumerate(use.args or ()):
            name = arg.name or (POSITIONAL.get(kind) if position == 0 else None)
            if name is None and kind in POSITIONAL:
                self.report(
                    error(
                        "E0161",
                        f"'{kind}' takes one argument without a name",
                        arg.span,
                        f"name the others: `{kind}(..., {_first_argument(kind)}: ...)`"
                        if kind != "fallback"
                        else "give a handler or `value: ...`",
                    )
                )
            elif name is None:
                self.report(
                    error(
                        "E0161",
                        f"'{kind}' takes named arguments",
                        arg.span,
                        f"write `{kind}({_first_argument(kind)}: ...)`",
                    )
                )
            elif name not in schema:
                self.report(
                    error(
                        "E0161",
                        f"'{kind}' has no argument '{name}'",
                        arg.span,
                        did_you_mean(name, schema) or f"its arguments: {', '.join(schema)}",
                    )
                )
            elif name in values:
                self.report(error("E0165", f"argument '{name}' is given twice", arg.span))
            else:
                values[name] = schema[name](self, arg.value, scope, named)
        return self.policy_spec(use, kind, values, named)

    def policy_spec(
        self, use: ast.PolicyUse, kind: str, values: dict[str, Any], named: str | None
    ) -> PolicySpec | None:
        required = REQUIRED.get(kind)
        if required and not any(name in values for name in required):
            self.report(
                error(
                    "E0164",
                    f"'{kind}' needs {' or '.join(f'`{n}`' for n in required)}",
                    use.span,
                    EXAMPLES[kind],
                )
            )
            return None
        if _MISSING in values.values():
            return None
        if kind == "breaker" and not self.breaker_mode(use, values):
            return None
        if kind == "limit" and not (self.limit_mode(use, values) and self.window_limit(use, values)):
            return None
        if kind == "fallback" and not self.fallback_mode(use, values):
            return None
        return build_spec(kind, values, named)

    def fallback_mode(self, use: ast.PolicyUse, values: dict[str, Any]) -> bool:
        """A handler or a value, not both; a handler's call is a step of its own, named
        as written (`values["step"]`)."""
        if "handler" in values and "value" in values:
            self.report(error("E0165", "a fallback is a handler or a value, not both", use.span))
            return False
        if "handler" in values and self.is_handler(values["handler"]):
            values["step"] = ".".join(dotted_parts(values["handler"]) or ())
        return True

    def window_limit(self, use: ast.PolicyUse, values: dict[str, Any]) -> bool:
        """A window algorithm allows a whole count per window, with no `burst`."""
        if values.get("algorithm") in _WINDOWS:
            if "burst" in values:
                self.report(
                    error(
                        "E0169",
                        f"`burst` does not apply to the {values['algorithm']} algorithm",
                        use.span,
                        "a window allows the rate's count per window: remove `burst`",
                    )
                )
                return False
            if not values["rate"][0].is_integer():
                self.report(
                    error(
                        "E0163",
                        "a window allows a whole number of calls",
                        use.span,
                        "give the rate a whole count, such as `90/m` for 1.5/s",
                    )
                )
                return False
        return True

    def breaker_mode(self, use: ast.PolicyUse, values: dict[str, Any]) -> bool:
        """Consecutive failures or a failure rate over a window: one or the other."""
        problem = None
        if "failure_rate" in values:
            if "failures" in values:
                problem = "a breaker counts `failures` in a row or a `failure_rate`, not both"
            elif values["failure_rate"] <= 0:
                problem = "`failure_rate` must be above 0 (at 0 every call would open it)"
            elif values.get("min_calls", 0) > values.get("window", 100):
                problem = "`min_calls` cannot exceed the `window` of calls it is counted in"
        elif "window" in values or "min_calls" in values:
            problem = "`window` and `min_calls` belong to a failure-rate breaker: add `failure_rate`"
        if problem is not None:
            self.report(
                error(
                    "E0198",
                    problem,
                    use.span,
                    "write `breaker(failures: 5)`, or `breaker(failure_rate: 0.5, window: 20, min_calls: 10)`",
                )
            )
        return problem is None

    def limit_mode(self, use: ast.PolicyUse, values: dict[str, Any]) -> bool:
        """A rate (permits per period) or a concurrency cap (calls in flight): one or the other."""
        problem = None
        if "concurrent" in values:
            extra = [name for name in ("rate", "burst", "algorithm") if name in values]
            if extra:
                problem = f"`{extra[0]}` belongs to a rate limit, not to `concurrent` (calls in flight)"
        elif "queue" in values:
            problem = "`queue` belongs to a concurrency limit: add `concurrent`"
        if problem is not None:
            self.report(
                error(
                    "E0199",
                    problem,
                    use.span,
                    "a `limit` is a rate, `limit(rate: 10/s)`, or a cap on calls in flight, "
                    "`limit(concurrent: 5, queue: 20)`",
                )
            )
        return problem is None

    # ---- argument values -------------------------------------------------
    def folded(self, expr: ast.Expr, scope: Scope | None) -> ast.Expr:
        """The literal behind `expr`: through consts, and `-` before a number."""
        seen: set[str] = set()
        while (
            isinstance(expr, ast.Name) and self.lookup(expr.id, scope) is Kind.CONST and expr.id not in seen
        ):
            seen.add(expr.id)
            expr = self.res.consts[expr.id].value
        if isinstance(expr, ast.Neg):
            inner = self.folded(expr.operand, scope)
            if isinstance(inner, ast.Literal) and _is_number(inner.value):
                return ast.Literal(span=expr.span, value=-inner.value)  # type: ignore[operator]
        return expr

    def policy_exceptions(self, expr: ast.Expr) -> tuple[ast.Dotted, ...] | Any:
        items = expr.items if isinstance(expr, ast.ListExpr) else (expr,)
        if not items:
            self.report(
                error(
                    "E0162",
                    "`on` needs at least one exception type",
                    expr.span,
                    "leave `on` out to handle every exception",
                )
            )
            return _MISSING
        found: list[ast.Dotted] = []
        for item in items:
            parts = dotted_parts(item)
            if parts is None:
                self.report(
                    error(
                        "E0162",
                        "`on` takes exception types",
                        item.span,
                        "write `on: [ConnectionError, TimeoutError]`",
                    )
                )
                return _MISSING
            dotted = ast.Dotted(span=item.span, parts=parts)
            self.exception_type(dotted)
            if dotted not in self.res.catch_kinds:
                return _MISSING
            found.append(dotted)
        return tuple(found)


def dotted_parts(expr: ast.Expr) -> tuple[str, ...] | None:
    if isinstance(expr, ast.Name):
        return (expr.id,)
    if isinstance(expr, ast.Attr) and not expr.safe:
        head = dotted_parts(expr.value)
        return None if head is None else (*head, expr.name)
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _first_argument(kind: str) -> str:
    return next(iter(KINDS[kind]))


# ---- argument checkers ------------------------------------------------------
# The documented ranges (docs/language.md): past them a value means nothing more,
# and the runtime's arithmetic (backoff, refill, deadlines) must stay finite.
MAX_COUNT = 1_000_000  # attempts, failures, successes, half_open, burst
MAX_WINDOW = 10_000  # a failure-rate breaker's calls, kept one bit each
MAX_SECONDS = 365 * 24 * 3600.0  # any duration argument: a year
MAX_FACTOR = 1000.0
MAX_RATE_COUNT = 1_000_000.0  # the count of a rate, per its unit


def _integer(minimum: int, maximum: int = MAX_COUNT) -> Check:
    def check(self, expr, scope, named):
        value = self.folded(expr, scope)
        if not (isinstance(value, ast.Literal) and _is_number(value.value) and _whole(value.value)):
            self.report(error("E0162", "expected a whole number", expr.span))
            return _MISSING
        if not minimum <= value.value <= maximum:
            self.report(
                error(
                    "E0163",
                    f"expected a whole number from {minimum} to {maximum:_}, found {_shown(value.value)}",
                    expr.span,
                )
            )
            return _MISSING
        return int(value.value)

    return check


def _number(minimum: float, maximum: float) -> Check:
    def check(self, expr, scope, named):
        value = self.folded(expr, scope)
        if not (isinstance(value, ast.Literal) and _is_number(value.value)):
            self.report(error("E0162", "expected a number", expr.span))
            return _MISSING
        if not minimum <= value.value <= maximum:
            self.report(
                error(
                    "E0163",
                    f"expected a number from {minimum:g} to {maximum:g}, found {_shown(value.value)}",
                    expr.span,
                )
            )
            return _MISSING
        return value.value

    return check


def _whole(value: int | float) -> bool:
    return isinstance(value, int) or value.is_integer()


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:21]}..."


def _duration(positive: bool) -> Check:
    def check(self, expr, scope, named):
        value = self.folded(expr, scope)
        if isinstance(value, ast.Neg) and isinstance(self.folded(value.operand, scope), ast.Duration):
            self.report(error("E0163", "a duration cannot be negative", expr.span))
            return _MISSING
        if not isinstance(value, ast.Duration):
            found = "a number" if isinstance(value, ast.Literal) and _is_number(value.value) else "this"
            self.report(
                error(
                    "E0162",
                    f"expected a duration, found {found}",
                    expr.span,
                    "write a duration such as `500ms`, `2s` or `1m`",
                )
            )
            return _MISSING
        if positive and value.seconds <= 0:
            self.report(error("E0163", "expected a duration longer than 0", expr.span))
            return _MISSING
        if value.seconds > MAX_SECONDS:
            self.report(
                error("E0163", f"a policy duration is at most 8760h (a year), found {value.text}", expr.span)
            )
            return _MISSING
        return value.seconds

    return check


def _rate(self, expr, scope, named):
    if not isinstance(expr, ast.Rate):
        self.report(error("E0162", "expected a rate", expr.span, "write a rate such as `10/s` or `600/m`"))
        return _MISSING
    count = expr.count
    if count <= 0:
        self.report(error("E0163", "a rate must be more than 0", expr.span))
        return _MISSING
    if count > MAX_RATE_COUNT:
        self.report(
            error(
                "E0163",
                f"a rate's count is at most {MAX_RATE_COUNT:_.0f} per unit",
                expr.span,
                "a faster rate is no limit at all: leave the limit out",
            )
        )
        return _MISSING
    return count, expr.period


def _choice(*options: str) -> Check:
    def check(self, expr, scope, named):
        if isinstance(expr, ast.Name) and expr.id in options:
            return expr.id
        found = expr.id if isinstance(expr, ast.Name) else ""
        self.report(
            error(
                "E0162",
                f"expected one of {', '.join(options)}",
                expr.span,
                did_you_mean(found, options) if found else None,
            )
        )
        return _MISSING

    return check


def _boolean(self, expr, scope, named):
    value = self.folded(expr, scope)
    if isinstance(value, ast.Literal) and isinstance(value.value, bool):
        return value.value
    self.report(error("E0162", "expected true or false", expr.span))
    return _MISSING


def _exceptions(self, expr, scope, named):
    return self.policy_exceptions(expr)


def _call_site_value(self, expr, scope, named):
    if named is not None:
        self.report(
            error(
                "E0166",
                f"`key` cannot stand in policy '{named}'",
                expr.span,
                "a key is evaluated at the call: give it in the `with` clause there",
            )
        )
        return _MISSING
    self.expr(expr, scope)
    return expr


def _fallback_callable(self, expr, scope, named):
    self.expr(expr, scope)
    is_decl = isinstance(expr, ast.Name) and self.res.names.get(expr) is Kind.DECL
    if not (is_decl or self.is_handler(expr)):
        self.report(
            error(
                "E0162",
                "a fallback is a handler or a workflow",
                expr.span,
                "name a function bound by `use`, or write `fallback(value: ...)`",
            )
        )
        return _MISSING
    return expr


def _fallback_value(self, expr, scope, named):
    self.expr(expr, scope)
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and self.res.calls.get(node) not in PURE_CALLS:
            self.report(
                error(
                    "E0162",
                    "a fallback value cannot call handlers or workflows",
                    node.span,
                    "write `fallback(handler)` to call one instead",
                )
            )
            return _MISSING
    return expr


KINDS: dict[str, dict[str, Check]] = {
    "retry": {
        "attempts": _integer(1),
        "backoff": _choice("exponential", "linear", "fixed"),
        "delay": _duration(False),
        "max_delay": _duration(False),
        "factor": _number(1.0, MAX_FACTOR),
        "jitter": _number(0.0, 1.0),
        "max_time": _duration(True),
        "on": _exceptions,
    },
    "timeout": {"duration": _duration(True)},
    "breaker": {
        "failures": _integer(1),
        "failure_rate": _number(0.0, 1.0),
        "window": _integer(1, MAX_WINDOW),
        "min_calls": _integer(1, MAX_WINDOW),
        "reset": _duration(True),
        "half_open": _integer(1),
        "successes": _integer(1),
        "on": _exceptions,
        "key": _call_site_value,
    },
    "limit": {
        "rate": _rate,
        "burst": _integer(1),
        "algorithm": _choice("token_bucket", "sliding_window", "fixed_window", "leaky_bucket"),
        "concurrent": _integer(1),
        "queue": _integer(0),
        "wait": _boolean,
        "max_wait": _duration(False),
        "key": _call_site_value,
    },
    "idempotent": {"key": _call_site_value, "ttl": _duration(True)},
    "fallback": {"handler": _fallback_callable, "value": _fallback_value, "on": _exceptions},
}
POSITIONAL = {"timeout": "duration", "fallback": "handler"}
REQUIRED = {"timeout": ("duration",), "limit": ("rate", "concurrent"), "fallback": ("handler", "value")}
EXAMPLES = {
    "timeout": "write `timeout(10s)`",
    "limit": "write `limit(rate: 10/s)` or `limit(concurrent: 5)`",
    "fallback": "write `fallback(cache.last_known)` or `fallback(value: null)`",
}


def build_spec(kind: str, values: dict[str, Any], named: str | None) -> PolicySpec:
    """The runtime's view of one checked policy."""
    exceptions = values.pop("on", None)
    key = values.pop("key", None)
    if kind == "fallback":
        calls = "handler" in values
        step = (("step", values["step"]),) if "step" in values else ()
        return PolicySpec(
            kind=kind,
            options=(("calls", calls), *step),
            exceptions=exceptions,
            fallback=values.get("handler" if calls else "value"),
            calls=calls,
            shared=named,
        )
    if kind == "timeout":
        return PolicySpec(kind=kind, options=(("seconds", values["duration"]),), shared=named)
    if kind == "limit" and "concurrent" in values:
        return PolicySpec(kind="bulkhead", options=tuple(values.items()), key=key, shared=named)
    if kind == "limit":
        permits, period = values.pop("rate")
        values = {"permits": permits, "period": period, **values}
    if kind == "idempotent":
        values["explicit"] = key is not None
    if kind == "retry" and "max_time" in values and "attempts" not in values:
        values["attempts"] = None  # as many as `max_time` allows
    return PolicySpec(kind=kind, options=tuple(values.items()), exceptions=exceptions, key=key, shared=named)
