"""Policies -> one module-level `_wf.Guard` per site, and the calls that run through it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

from ..check import CallKind, Resolution
from ..check.resolution import GuardSpec, PolicySpec
from ..check.scopes import assigned_names
from ..syntax import ast
from ..syntax.names import py_literal, py_name
from .expressions import ATOM, ExprEmitter
from .functions import FunctionKind
from .writer import Writer


def guard_names(module: ast.Module, res: Resolution) -> dict[ast.Node, str]:
    """A name for every site with policies, numbered in source order."""
    sites = (node for node in ast.walk(module) if node in res.guards)
    return {site: f"_wf_guard{number}" for number, site in enumerate(sites, 1)}


def shared_policies(sites: Iterable[GuardSpec]) -> dict[PolicySpec, str]:
    """Names for the policy objects of `policy` blocks that sites use: each is
    emitted once (`_wf_policy_upstream_retry = _wf.Retry(...)`) and shared by the sites."""
    names: dict[PolicySpec, str] = {}
    for spec in sites:
        for policy in spec.policies:
            if policy.shared is not None and policy.kind != "fallback" and policy not in names:
                name = f"_wf_policy_{py_name(policy.shared)}_{policy.kind}"
                # A block's second retry (each governs its own errors) is `..._retry2`.
                earlier = sum(
                    1 for other in names if (other.shared, other.kind) == (policy.shared, policy.kind)
                )
                names[policy] = f"{name}{earlier + 1}" if earlier else name
    return names


def shared_definitions(shared: dict[PolicySpec, str], exception_code) -> list[str]:
    return [f"{name} = {_policy_code(policy, exception_code)}" for policy, name in shared.items()]


def guard_definition(name: str, spec: GuardSpec, exception_code, shared: dict[PolicySpec, str]) -> str:
    """`_wf_guardN = _wf.Guard(...)`: the site's policies, built once at import."""
    parts = [py_literal(spec.target), py_literal(spec.location)]
    if not spec.step:
        parts.append("step=False")
    retries = [shared.get(policy) or _policy_code(policy, exception_code) for policy in spec.retries()]
    for policy in spec.policies:
        if policy.kind == "retry":
            if policy is spec.retries()[0]:  # several retries: one tuple, in source order
                parts.append(f"retry={retries[0] if len(retries) == 1 else _tuple(retries)}")
            continue
        code = shared.get(policy) or _policy_code(policy, exception_code)
        parts.append(f"{policy.kind}={code}")
    if spec.get("idempotent") is not None:
        parts.append(f"qualname={py_literal(spec.qualname)}")
    if spec.get("breaker") is not None:
        parts.append(f"breaker_state={py_literal(spec.breaker_state)}")
    if spec.get("limit") is not None or spec.get("bulkhead") is not None:
        parts.append(f"limit_state={py_literal(spec.limit_state)}")
    return f"{name} = _wf.Guard({', '.join(parts)})"


def _policy_code(policy: PolicySpec, exception_code) -> str:
    """`_wf.Retry(attempts=3, ...)`: the class and arguments the checker lowered it to."""
    options = [f"{name}={py_literal(value)}" for name, value in policy.options]
    if policy.exceptions is not None:
        types = [exception_code(dotted) for dotted in policy.exceptions]
        options.append(f"on=({', '.join(types)}{',' if len(types) == 1 else ''})")
    return f"_wf.{policy.runtime_class}({', '.join(options)})"


def _simple_retry(spec: GuardSpec) -> bool:
    """One retry, counted by attempts alone: what the inline retry loop handles (more
    retries, or `max_time`, go through `Guard.run`)."""
    retries = spec.retries()
    return len(retries) == 1 and dict(retries[0].options).get("max_time") is None


def _tuple(codes: list[str]) -> str:
    return f"({', '.join(codes)}{',' if len(codes) == 1 else ''})"


class PolicyEmitter(ExprEmitter, ABC):
    """The StmtEmitter's part for calls, stages and retry loops under policies; what
    it needs from the StmtEmitter is declared here."""

    guard_names: dict[ast.Node, str]  # sites with policies -> their `_wf.Guard`
    out: Writer

    @abstractmethod
    def where(self, node: ast.Node) -> str:
        """`file.wf:line:col` of a node, for a comment."""

    @abstractmethod
    def hoisted(self, values: tuple[ast.Expr, ...]) -> list[str]:
        """Codes for values evaluated in order before a call (temporaries where needed)."""

    @abstractmethod
    def step_into(
        self,
        call: ast.Call,
        dest: str,
        retry_guard: str | None = None,
        admitting: tuple[str, GuardSpec] | None = None,
    ) -> None:
        """A handler call, inline, its result in `dest`."""

    @abstractmethod
    def step_attempt(
        self,
        call: ast.Call,
        codes: list[str],
        result: str,
        target: str,
        on_error: Callable[[str], None],
        attempt: str | None = None,
    ) -> None:
        """`step.start`, the call and its await; `on_error` writes the except body."""

    @abstractmethod
    def function(
        self,
        header: str,
        kind: FunctionKind,
        owner: ast.Node,
        body: tuple[ast.Stmt, ...],
        nonlocal_names: list[str] | None = None,
        prologue: str | None = None,
    ) -> None:
        """A nested function for an item or a branch, with its own frame."""

    def guarded_into(self, expr: ast.Guarded, dest: str) -> None:
        """A call with policies: arguments and call-site values first, then the guard."""
        call = expr.call
        assert isinstance(call, ast.Call)
        spec = self.res.guards[expr]
        kind = self.res.calls[call]
        kinds = {policy.kind for policy in spec.policies}
        if kind is CallKind.STEP and kinds == {"retry"} and _simple_retry(spec):
            self.step_into(call, dest, retry_guard=self.guard_names[expr])
            return
        if kind is CallKind.STEP and kinds <= {"breaker", "limit"}:
            self.step_into(call, dest, admitting=(self.guard_names[expr], spec))
            return
        keywords = [py_name(kw.name) if kind is CallKind.DECL else kw.name for kw in call.keywords]
        inputs = self.guard_inputs(spec, call.args, tuple(kw.value for kw in call.keywords), keywords)
        func = self.sub(call.func, ATOM)
        self.out.line(f"# {self.where(call)}")
        self.out.line(f"{dest} = await {self.guard_names[expr]}.run(_rt, {func}{inputs})")

    def guard_inputs(
        self, spec: GuardSpec, args: tuple[ast.Expr, ...], kwargs: tuple[ast.Expr, ...], keywords: list[str]
    ) -> str:
        """`, (args), {kwargs}, key=..., fallback=...`: what `Guard.run` takes after the
        function, computing ahead what must be (arguments first, then the keys)."""
        keys = spec.site_keys()
        codes = self.hoisted((*args, *kwargs, *(value for _, value in keys)))
        arg_codes, kw_codes = codes[: len(args)], codes[len(args) : len(args) + len(kwargs)]
        parts = [_tuple(arg_codes)] if args or kwargs else []
        if kwargs:
            parts.append("{" + ", ".join(f"{py_literal(k)}: {c}" for k, c in zip(keywords, kw_codes)) + "}")
        parts += [f"{keyword}={code}" for (keyword, _), code in zip(keys, codes[len(args) + len(kwargs) :])]
        fallback = spec.get("fallback")
        if fallback is not None and fallback.fallback is not None:
            code = self.expr(fallback.fallback)
            parts.append(f"fallback={code}" if fallback.calls else f"fallback=lambda: {code}")
        return "".join(f", {part}" for part in parts)

    def guarded_stage(self, stmt: ast.Stage) -> None:
        """The body as a function the guard can run (and re-run); it sets the
        declaration's variables, and the checker keeps control flow inside it."""
        body = self.temps.new("stage")
        self.function(
            f"async def {body}() -> _wf.Value:",
            FunctionKind.STAGE,
            stmt,
            stmt.body,
            assigned_names(stmt.body),
        )
        inputs = self.guard_inputs(self.res.guards[stmt], (), (), [])
        self.out.line(f"await {self.guard_names[stmt]}.run(_rt, {body}{inputs})")

    def guarded_entry(self, decl: ast.Declaration, body: str) -> None:
        """`return await guard.run(...)` of a declaration whose body is the function `body`."""
        names = [py_name(param.name.id) for param in decl.params]
        args = f", {_tuple(names)}" if names else ""
        inputs = self.guard_inputs(self.res.guards[decl], (), (), [])
        self.out.line(f"return await {self.guard_names[decl]}.run(_rt, {body}{args}{inputs})")

    def admitted_step(
        self,
        call: ast.Call,
        codes: list[str],
        result: str,
        target: str,
        guard: str,
        spec: GuardSpec,
        keys: list[tuple[str, str]],
    ) -> Callable[[], None]:
        """The attempt after the guard's `enter` (breaker admission, limiter permit),
        a failure counted by its `outcome`; returns what writes the success's count,
        which comes after `step.end` as in `Guard.run`. Both calls are synchronous
        unless the store must be awaited or a permit waited for: no coroutine per
        call. `keys` are the site's keys, as `Guard.enter`'s keywords and codes."""
        out = self.out
        admission = self.temps.new("admission")
        out.line(f"{admission} = {guard}.enter(_rt{''.join(f', {kw}={code}' for kw, code in keys)})")
        out.line(f"if {admission}.__class__ is _wf_coroutine:")
        with out.indent():
            out.line(f"{admission} = await {admission}")
        if spec.get("breaker") is None:  # a limiter alone has nothing to count
            self.step_attempt(call, codes, result, target, lambda failed: out.line(f"raise {failed}"))
            return lambda: None
        pending = self.temps.new("pending")

        def count(error: str, extra: str = "") -> None:
            out.line(f"{pending} = {guard}.outcome(_rt, {admission}, {error}{extra})")
            out.line(f"if {pending} is not None:")
            with out.indent():
                out.line(f"await {pending}")

        def count_failure(failed: str) -> None:
            out.line(f"_wf_e = {failed}")
            count("_wf_e")
            out.line("raise _wf_e")

        self.step_attempt(call, codes, result, target, count_failure)
        # A keyed breaker's success may let its record expire once idle: it needs the key.
        return lambda: count("None", "".join(f", {kw}={code}" for kw, code in keys if kw == "breaker_key"))

    def retried_step(self, call: ast.Call, codes: list[str], result: str, target: str, guard: str) -> None:
        """The attempt in a loop; after a failure `guard.retry_delay` says how long
        to wait, or to give up: the runtime decides, with no coroutine per call."""
        out = self.out
        attempt, delay = self.temps.new("attempt"), self.temps.new("delay")

        def give_up_or_wait(failed: str) -> None:
            out.line(f"_wf_e = {failed}")
            out.line(f"{delay} = {guard}.retry_delay(_rt, _wf_e, {attempt})")
            out.line(f"if {delay} is None:")
            with out.indent():
                out.line("raise _wf_e")

        out.line(f"{attempt} = 1")
        out.line("while True:")
        with out.indent():
            self.step_attempt(call, codes, result, target, give_up_or_wait, attempt)
            out.line("else:")
            with out.indent():
                out.line("break")
            out.line(f"if {delay}:  # never sleep(0) for a zero delay")
            with out.indent():
                out.line(f"await _rt.clock.sleep({delay})")
            out.line(f"{attempt} += 1")
