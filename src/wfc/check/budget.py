"""Worst-case durations, from the source alone: `wfc check --budget`, and what they imply.

Time passes in a run only where the source says so: `wait`, retry backoff, rate-limit
waits, `receive`, and calls. A handler's own duration is unknown, so a handler call is
unbounded unless a `timeout` (on it, its stage or an enclosing block) bounds it. A
duration that depends on how many items a loop sees is kept as a symbol
(`len(orders)`, or `⌈len(orders)/5⌉` rounds for a `parallel for ... limit 5`), so a
budget is a sum of seconds times products of such symbols, or "unbounded" with the
reason. Branches take the larger of their budgets, term by term (an upper bound, since
every symbol counts something).

Findings (always on in `wfc check`):
- W0180: a call's worst case, retries and all, is longer than a timeout around it:
  if it keeps failing, the timeout cuts it off before its retries have all happened;
- W0181: a retry's total backoff is longer than the `reset` of the breaker on the same
  call: the breaker half-opens while the call is still retrying;
- W0182: a timeout around a retrying call is shorter than its first backoff delay, so
  no retry can ever happen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from random import Random

from ..diagnostics import Diagnostic
from ..runtime._policies import Retry
from ..syntax import ast
from .places import warning
from .resolution import PURE_CALLS, CallKind, GuardSpec, PolicySpec, Resolution

Monomial = tuple[str, ...]  # the symbols multiplied, sorted


@dataclass(frozen=True, slots=True)
class Cost:
    """Seconds per product of symbols; or unbounded, with `why`."""

    terms: tuple[tuple[Monomial, float], ...] = ()
    why: str | None = None

    @staticmethod
    def of(seconds: float) -> Cost:
        return Cost((((), seconds),)) if seconds else ZERO

    @staticmethod
    def unbounded(why: str) -> Cost:
        return Cost(why=why)

    def __add__(self, other: Cost) -> Cost:
        if self.why is not None or other.why is not None:
            return self if self.why is not None else other
        merged = dict(self.terms)
        for monomial, seconds in other.terms:
            merged[monomial] = merged.get(monomial, 0.0) + seconds
        return _cost(merged)

    def most(self, other: Cost) -> Cost:
        """At least as long as either (term by term: every symbol is a count)."""
        if self.why is not None or other.why is not None:
            return self if self.why is not None else other
        merged = dict(self.terms)
        for monomial, seconds in other.terms:
            merged[monomial] = max(merged.get(monomial, 0.0), seconds)
        return _cost(merged)

    def times(self, factor: float = 1.0, symbol: str | None = None) -> Cost:
        if self.why is not None:
            return self
        return _cost(
            {
                tuple(sorted((*monomial, symbol) if symbol else monomial)): seconds * factor
                for monomial, seconds in self.terms
            }
        )

    def capped(self, seconds: float) -> Cost:
        """The budget under a timeout of `seconds`."""
        constant = self.constant()
        return self if constant is not None and constant <= seconds else Cost.of(seconds)

    def constant(self) -> float | None:
        """The seconds, when the budget depends on no symbol and is bounded."""
        if self.why is not None or any(monomial for monomial, _ in self.terms):
            return None
        return sum(seconds for _, seconds in self.terms)

    def at(self, count: Callable[[str], float]) -> float:
        """The seconds once each symbol has a value (`count` gives it); inf if unbounded."""
        if self.why is not None:
            return math.inf
        return sum(
            seconds * math.prod(count(symbol) for symbol in monomial) for monomial, seconds in self.terms
        )

    def text(self) -> str:
        if self.why is not None:
            return f"unbounded: {self.why}"
        if not self.terms:
            return "0s"
        parts = [
            seconds_text(seconds) + "".join(f" × {symbol}" for symbol in monomial)
            for monomial, seconds in self.terms
        ]
        return " + ".join(parts)


ZERO = Cost()


def _cost(terms: dict[Monomial, float]) -> Cost:
    kept = tuple(sorted((monomial, seconds) for monomial, seconds in terms.items() if seconds > 0))
    return Cost(kept) if kept else ZERO


def seconds_text(seconds: float) -> str:
    """`1h 2m 3.5s`, `250ms`: a duration as a person reads it."""
    if seconds == math.inf:
        return "forever"
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, rest = divmod(rest, 60)
    parts = [
        f"{int(hours)}h" if hours else "",
        f"{int(minutes)}m" if minutes else "",
        f"{round(rest, 3):g}s" if rest else "",
    ]
    return " ".join(part for part in parts if part)


@dataclass(slots=True)
class Budget:
    """One line of the tree: what it is, its worst case, what it is made of."""

    label: str
    line: int
    cost: Cost
    parts: list[Budget] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        cost = self.cost
        return {
            "name": self.label,
            "line": self.line,
            "worst_case": cost.text(),
            "seconds": cost.constant(),
            "unbounded": cost.why,
            "parts": [part.as_json() for part in self.parts],
        }

    def lines(self, prefix: str = "", last: bool = True, root: bool = True) -> Iterator[str]:
        branch = "" if root else ("└─ " if last else "├─ ")
        yield f"{prefix}{branch}{self.label}: {self.cost.text()}"
        inner = prefix if root else prefix + ("   " if last else "│  ")
        for number, part in enumerate(self.parts):
            yield from part.lines(inner, number == len(self.parts) - 1, root=False)


@dataclass(frozen=True, slots=True)
class _Enclosing:
    """A timeout around what is being walked: its seconds and what it belongs to."""

    seconds: float
    owner: str


class Budgets:
    """The worst-case budget of every workflow, router and saga of a checked module."""

    def __init__(self, module: ast.Module, res: Resolution, source: str) -> None:
        self._res, self._source = res, source
        self._module = module
        self._done: dict[str, Budget] = {}
        self._walking: set[str] = set()
        self._enclosing: list[_Enclosing] = []
        self.findings: list[Diagnostic] = []

    def all(self) -> list[Budget]:
        return [
            self.declaration(decl)
            for decl in self._module.decls
            if isinstance(decl, (ast.Workflow, ast.Router, ast.Saga))
        ]

    def declaration(self, decl: ast.Workflow | ast.Router | ast.Saga) -> Budget:
        name = decl.name.id
        if name in self._done:
            return self._done[name]
        kind = (
            "router" if isinstance(decl, ast.Router) else "saga" if isinstance(decl, ast.Saga) else "workflow"
        )
        if name in self._walking:  # recursion is an error (E0103); stay total anyway
            return Budget(f"{kind} {name}", decl.span.line, Cost.unbounded(f"`{name}` calls itself"))
        self._walking.add(name)
        saved, self._enclosing = self._enclosing, []
        guard = self._res.guards.get(decl)
        timeout = guard.get("timeout") if guard is not None else None
        if timeout is not None:
            self._enclosing.append(_Enclosing(_seconds(timeout), f"{kind} `{name}`"))
        if isinstance(decl, ast.Router):
            cost, parts = self._router(decl)
        else:
            cost, parts = self._block(decl.body)
        self._enclosing = saved
        self._walking.discard(name)
        if guard is not None:
            cost = self._guarded(guard, cost, decl)
        params = ", ".join(param.name.id for param in decl.params)
        budget = Budget(f"{kind} {name}({params})", decl.span.line, cost, parts)
        self._done[name] = budget
        return budget

    # -- statements ----------------------------------------------------------------------

    def _block(self, body: Iterable[ast.Stmt]) -> tuple[Cost, list[Budget]]:
        total, parts = ZERO, []
        for stmt in body:
            cost, found = self._stmt(stmt)
            total = total + cost
            parts.extend(found)
        return total, parts

    def _stmt(self, stmt: ast.Stmt) -> tuple[Cost, list[Budget]]:
        method = getattr(self, f"_stmt_{type(stmt).__name__}", None)
        if method is not None:
            return method(stmt)
        exprs: list[ast.Expr] = [
            getattr(stmt, name)
            for name in ("value", "test", "message")
            if isinstance(getattr(stmt, name, None), ast.Node)
        ]
        return self._exprs(exprs)

    def _stmt_Stage(self, stmt: ast.Stage) -> tuple[Cost, list[Budget]]:
        guard = self._res.guards.get(stmt)
        timeout = guard.get("timeout") if guard is not None else None
        if timeout is not None:
            self._enclosing.append(_Enclosing(_seconds(timeout), f"stage `{stmt.name.id}`"))
        cost, parts = self._block(stmt.body)
        if timeout is not None:
            self._enclosing.pop()
        when, when_parts = self._exprs([stmt.when] if stmt.when is not None else [])
        if guard is not None:
            cost = self._guarded(guard, cost, stmt)
        cost = when + cost
        return cost, [Budget(f"stage {stmt.name.id}", stmt.span.line, cost, when_parts + parts)]

    def _stmt_If(self, stmt: ast.If) -> tuple[Cost, list[Budget]]:
        tests, parts = self._exprs([branch.test for branch in stmt.branches])
        widest = ZERO
        for body in [branch.body for branch in stmt.branches] + [stmt.orelse or ()]:
            cost, found = self._block(body)
            widest = widest.most(cost)
            parts.extend(found)
        return tests + widest, parts

    def _stmt_For(self, stmt: ast.For) -> tuple[Cost, list[Budget]]:
        items, parts = self._exprs([stmt.iterable])
        timeout = _duration(stmt.timeout)
        if timeout is not None:
            self._enclosing.append(_Enclosing(timeout, f"each item of the `for` on line {stmt.span.line}"))
        body, body_parts = self._block(stmt.body)
        if stmt.where is not None:  # evaluated for every item, whatever it finds
            test, test_parts = self._exprs([stmt.where])
            body, body_parts = test + body, test_parts + body_parts
        if timeout is not None:
            self._enclosing.pop()
            body = body.capped(timeout)
        count = f"len({self._text(stmt.iterable)})"
        if stmt.concurrent:
            limit = _number(stmt.limit) if stmt.limit is not None else 10
            shown = f"{limit:g}" if limit is not None else self._text(stmt.limit)  # type: ignore[arg-type]
            count = f"⌈{count}/{shown}⌉"
        loop = items + body.times(symbol=count)
        label = f"{'parallel ' if stmt.concurrent else ''}for {stmt.var.id} in {self._text(stmt.iterable)}"
        return loop, [Budget(label, stmt.span.line, loop, parts + body_parts)] if body_parts or parts else []

    def _stmt_While(self, stmt: ast.While | ast.Repeat) -> tuple[Cost, list[Budget]]:
        test = stmt.test if isinstance(stmt, ast.While) else stmt.until
        tests, parts = self._exprs([test])
        timeout, rounds = _duration(stmt.timeout), _number(stmt.max)
        if timeout is not None:
            self._enclosing.append(_Enclosing(timeout, f"the loop on line {stmt.span.line}"))
        body, body_parts = self._block(stmt.body)
        if timeout is not None:
            self._enclosing.pop()
        word = "while" if isinstance(stmt, ast.While) else "repeat"
        if rounds is not None:
            loop = (body + tests).times(rounds) + tests
        elif timeout is None:
            loop = Cost.unbounded(f"the `{word}` on line {stmt.span.line} has no `max` or `timeout`")
        else:
            loop = Cost.of(timeout)
        if timeout is not None:
            loop = loop.capped(timeout)
        return loop, [Budget(f"{word} loop", stmt.span.line, loop, parts + body_parts)]

    _stmt_Repeat = _stmt_While

    def _stmt_Parallel(self, stmt: ast.Parallel) -> tuple[Cost, list[Budget]]:
        timeout = _duration(stmt.timeout)
        if timeout is not None:
            self._enclosing.append(_Enclosing(timeout, f"the parallel block on line {stmt.span.line}"))
        branches = [self._stmt(branch) for branch in stmt.body]
        if timeout is not None:
            self._enclosing.pop()
        limit = _number(stmt.limit) if stmt.limit is not None else None
        total = ZERO
        for cost, _ in branches:  # at most `limit` at once: bounded by the sum, else the longest
            total = total + cost if limit is not None and limit < len(branches) else total.most(cost)
        if timeout is not None:
            total = total.capped(timeout)
        parts = [part for _, found in branches for part in found]
        return total, [Budget("parallel block", stmt.span.line, total, parts)]

    def _stmt_Select(self, stmt: ast.Select) -> tuple[Cost, list[Budget]]:
        """Until the first arm happens (a timer bounds it), then the longest block."""
        heads, parts = self._exprs([arm.call for arm in stmt.arms if arm.call is not None])
        if any(arm.signal is not None for arm in stmt.arms):
            heads = heads.most(Cost.unbounded("a `select` waits for a signal"))
        timers = [_duration(arm.wait) for arm in stmt.arms if arm.wait is not None]
        known = [seconds for seconds in timers if seconds is not None]
        if len(known) == len(timers) and len(timers) == len(stmt.arms):
            heads = Cost.of(min(known))
        elif known:
            heads = heads.capped(min(known))
        widest = ZERO
        for arm in stmt.arms:
            cost, found = self._block(arm.body)
            widest = widest.most(cost)
            parts.extend(found)
        total = heads + widest
        return total, [Budget("select", stmt.span.line, total, parts)]

    def _stmt_Try(self, stmt: ast.Try) -> tuple[Cost, list[Budget]]:
        cost, parts = self._block(stmt.body)
        widest = ZERO
        for handler in stmt.handlers:
            handled, found = self._block(handler.body)
            widest = widest.most(handled)
            parts.extend(found)
        return cost + widest, parts

    def _stmt_Wait(self, stmt: ast.Wait) -> tuple[Cost, list[Budget]]:
        label = f"wait {self._text(stmt.duration)}"
        return _waiting(label, stmt, stmt.duration, f"`{label}` waits for a computed duration")

    def _stmt_Receive(self, stmt: ast.Receive) -> tuple[Cost, list[Budget]]:
        label = f"receive {stmt.signal.id}"
        return _waiting(label, stmt, stmt.timeout, f"`{label}` waits for its signal without a timeout")

    def _stmt_Step(self, stmt: ast.Step) -> tuple[Cost, list[Budget]]:
        cost, parts = self._exprs([stmt.call])
        if stmt.compensate is not None:  # the worst case: a later step fails and this one is undone
            undo, undo_parts = self._exprs([stmt.compensate])
            cost = cost + undo
            parts += [Budget(f"undo: {part.label}", part.line, part.cost, part.parts) for part in undo_parts]
        return cost, parts

    # -- expressions -----------------------------------------------------------------------

    def _exprs(self, exprs: Iterable[ast.Expr]) -> tuple[Cost, list[Budget]]:
        total, parts = ZERO, []
        for expr in exprs:
            for cost, budget in self._calls(expr):
                total = total + cost
                if budget is not None:
                    parts.append(budget)
        return total, parts

    def _calls(self, expr: ast.Node) -> Iterator[tuple[Cost, Budget | None]]:
        """The cost of each call in `expr`, arguments first (they run before it)."""
        if isinstance(expr, ast.Guarded):
            inner = expr.call
            if isinstance(inner, ast.Call):
                for argument in (*inner.args, *(keyword.value for keyword in inner.keywords)):
                    yield from self._calls(argument)
            own = self._call(inner) if isinstance(inner, ast.Call) else ZERO
            guard = self._res.guards.get(expr)
            cost = self._guarded(guard, own, expr) if guard is not None else own
            yield cost, Budget(self._text(expr), expr.span.line, cost)
            return
        for child in _children(expr):
            yield from self._calls(child)
        if isinstance(expr, ast.Call):
            cost = self._call(expr)
            kind = self._res.calls.get(expr)
            if kind not in PURE_CALLS:
                yield cost, Budget(self._text(expr), expr.span.line, cost)

    def _call(self, call: ast.Call) -> Cost:
        kind = self._res.calls.get(call)
        if kind in PURE_CALLS:
            return ZERO
        if kind is CallKind.DECL:
            name = call.func.id if isinstance(call.func, ast.Name) else ""
            decl = self._res.decls.get(name)
            return self.declaration(decl).cost if decl is not None else ZERO
        target = self._text(call.func)
        return Cost.unbounded(f"`{target}` has no timeout")

    def _router(self, decl: ast.Router) -> tuple[Cost, list[Budget]]:
        routes = [*decl.routes, *([decl.default] if decl.default else [])]
        tests, parts = self._exprs([route.when for route in decl.routes if route.when is not None])
        chosen = ZERO
        for route in routes:
            if route.target is not None:
                cost, found = self._exprs([route.target])
            else:
                cost, found = self._block(route.body or ())
            chosen = chosen + cost if decl.strategy == "all" else chosen.most(cost)
            name = self._res.route_names.get(route, "route")
            parts.append(Budget(f"route {name}", route.span.line, cost, found))
        return tests + chosen, parts

    # -- policies ----------------------------------------------------------------------

    def _guarded(self, guard: GuardSpec, cost: Cost, site: ast.Node) -> Cost:
        """A call's (or stage's, or declaration's) budget under its policies, inside out:
        timeout, limit, breaker, retry, fallback, idempotent."""
        timeout, limit = guard.get("timeout"), guard.get("limit") or guard.get("bulkhead")
        if timeout is not None:
            cost = cost.capped(_seconds(timeout))
        if limit is not None:
            cost = cost + _limit_wait(limit)
        retries = guard.retries()
        if retries:
            # Each retry governs its own errors: the worst case goes through all of them.
            # A retry bounded by `max_time` begins no later than that after the first
            # attempt: one more attempt then, at most.
            counted = [(retry, *_retry(retry)) for retry in retries]
            one, attempts, backoff, late = cost, 1, 0.0, 0.0
            for retry, count, _, delays in counted:
                if _option(retry, "max_time", 0.0):  # its time bounds it, whatever its attempts
                    late = max(late, _option(retry, "max_time", 0.0))
                    continue
                attempts += count - 1
                backoff += delays * (1 + _option(retry, "jitter", 0.0))
            cost = one.times(attempts) + Cost.of(backoff)
            if late:
                cost = cost + Cost.of(late) + one
            for retry, count, first, delays in counted:
                if count > 1:
                    self._check_retry(guard, retry, cost, first, delays, site)
        fallback = guard.get("fallback")
        if fallback is not None and fallback.calls:
            what = self._text(fallback.fallback) if fallback.fallback is not None else "handler"
            cost = cost + Cost.unbounded(f"the fallback `{what}` has no timeout")
        return cost

    def _check_retry(
        self, guard: GuardSpec, retry: PolicySpec, cost: Cost, first: float, delays: float, site: ast.Node
    ) -> None:
        jitter = _option(retry, "jitter", 0.0)
        backoff = delays * (1 + jitter)
        breaker = guard.get("breaker")
        if breaker is not None and backoff > _option(breaker, "reset", 60.0):
            self.findings.append(
                warning(
                    "W0181",
                    f"the retries of `{guard.target}` back off for up to {seconds_text(backoff)}, "
                    f"longer than its breaker's reset ({seconds_text(_option(breaker, 'reset', 60.0))})",
                    site.span,
                    "the breaker half-opens while the call is still retrying, so its attempts "
                    "keep probing a failing service: lower the retry's delays or raise `reset`",
                )
            )
        if not self._enclosing:
            return
        around = min(self._enclosing, key=lambda enclosing: enclosing.seconds)
        first *= 1 - jitter
        worst = cost.constant()
        if first >= around.seconds:
            self.findings.append(
                warning(
                    "W0182",
                    f"the timeout of {seconds_text(around.seconds)} around `{guard.target}` is "
                    f"shorter than its first backoff delay ({seconds_text(first)})",
                    site.span,
                    f"no retry can happen before the timeout of {around.owner} cuts it off: shorten the "
                    "delay or lengthen the timeout",
                )
            )
        elif worst is not None and worst > around.seconds:
            self.findings.append(
                warning(
                    "W0180",
                    f"`{guard.target}` can take {seconds_text(worst)} with its retries, longer "
                    f"than the timeout of {seconds_text(around.seconds)} around it",
                    site.span,
                    f"if it keeps failing, the timeout of {around.owner} cuts it off before its retries "
                    "have all happened: fewer attempts, shorter delays, or a longer timeout",
                )
            )

    def _text(self, node: ast.Node) -> str:
        text = " ".join(self._source[node.span.start : node.span.end].split())
        text = text.replace("( ", "(").replace(", )", ")").replace(" )", ")")
        return text if len(text) <= 60 else text[:57] + "..."


def _children(node: ast.Node) -> Iterator[ast.Node]:
    for name in node.__dataclass_fields__:
        if name == "span":
            continue
        value = getattr(node, name)
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, ast.Node):
                yield item


def _option(spec: PolicySpec, name: str, default: float) -> float:
    return float(dict(spec.options).get(name, default))


def _seconds(spec: PolicySpec) -> float:
    return _option(spec, "seconds", 0.0)


def _retry(spec: PolicySpec) -> tuple[int, float, float]:
    """Attempts, the first backoff delay and all of them together, before jitter (by the
    runtime's own rule; once a delay reaches `max_delay`, every later one is the cap).
    A retry with `max_time` and no `attempts` counts the attempts whose delays fit in it;
    its time is bounded by `max_time` instead (`_guarded`)."""
    options = {name: value for name, value in spec.options if name != "on"}
    policy = Retry(**{**options, "jitter": 0.0})
    limit = policy.attempts if policy.attempts is not None else _MAX_COUNTED
    first, total = 0.0, 0.0
    for attempt in range(1, limit):
        delay = policy.delay_after(attempt, Exception(), Random(0), total)
        if delay is None:  # past `max_time`
            return attempt, first, total
        first = first or delay
        if delay >= policy.max_delay and policy.attempts is not None:
            return limit, first, total + delay * (limit - attempt)
        total += delay
    return limit, first, total


_MAX_COUNTED = 10_000  # retries bounded only by `max_time`: enough to pass any real one


def _limit_wait(spec: PolicySpec) -> Cost:
    options = dict(spec.options)
    if not options.get("wait", True):
        return ZERO
    if options.get("max_wait") is not None:
        return Cost.of(float(options["max_wait"]))
    return Cost.unbounded("a `limit` without `max_wait` waits as long as other callers hold the permits")


def _waiting(label: str, stmt: ast.Stmt, duration: ast.Expr | None, why: str) -> tuple[Cost, list[Budget]]:
    """A statement that waits as long as a literal duration, else unbounded for `why`."""
    seconds = _duration(duration)
    cost = Cost.of(seconds) if seconds is not None else Cost.unbounded(why)
    return cost, [Budget(label, stmt.span.line, cost)]


def _duration(expr: ast.Expr | None) -> float | None:
    return expr.seconds if isinstance(expr, ast.Duration) else None


def _number(expr: ast.Expr | None) -> float | None:
    if (
        isinstance(expr, ast.Literal)
        and isinstance(expr.value, (int, float))
        and not isinstance(expr.value, bool)
    ):
        return float(expr.value)
    return None


def check_budgets(module: ast.Module, res: Resolution, source: str) -> list[Diagnostic]:
    budgets = Budgets(module, res, source)
    budgets.all()
    return budgets.findings
