"""Expressions, compiled once into closures: the same order and operations as the compiled code.

Each expression node becomes a `Code`: a function of `(frame, rt)` and whether it
suspends. One that cannot suspend (no handler, workflow or dynamic call inside) is
a plain function, so evaluating it costs no coroutine; one that can is a coroutine
function. A node's code is built on first use and kept.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from inspect import isawaitable
from types import CoroutineType
from typing import Any, NamedTuple

from .. import runtime
from ..check import CallKind, Kind, Resolution
from ..runtime import Runtime
from ..runtime._steps import begin_step
from ..runtime._values import COMPARISONS
from ..syntax import ast
from ..syntax.names import py_name
from .frames import Frame
from .policies import build_guard

BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_BUILTINS: dict[str, Any] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "map": dict,
    "range": range,
    "min": min,
    "max": max,
    "sum": sum,
    "abs": abs,
    "round": round,
    "keys": runtime.keys,
    "values": runtime.values,
    "items": runtime.items,
    "lower": runtime.lower,
    "upper": runtime.upper,
    "strip": runtime.strip,
    "split": runtime.split,
    "join": runtime.join,
    "chunks": runtime.chunks,
    "attempt": runtime.attempt,
    "matches": runtime.matches,
    "regex": runtime.regex,
}


class Code(NamedTuple):
    """A compiled node: `fn(frame, rt)` gives its value (awaited first if `suspends`)."""

    fn: Callable[[Any, Runtime], Any]
    suspends: bool


class Evaluator:
    """Compiles and evaluates expressions of one module; `globals` holds consts, uses, decls."""

    def __init__(self, res: Resolution, globals_: dict[str, Any]) -> None:
        self.res = res
        self.globals = globals_
        self._codes: dict[ast.Node, Code] = {}
        self._guards: dict[ast.Node, runtime.Guard] = {}
        # an `if`'s code -> its (test, body) pairs and else body (statements.Executor._branching)
        self._choosers: dict[Callable[..., Any], tuple[list[tuple[Any, Code]], Code | None]] = {}

    async def evaluate(self, expr: ast.Expr, frame: Frame | None, rt: Runtime) -> Any:
        fn, suspends = self.code(expr)
        return await fn(frame, rt) if suspends else fn(frame, rt)

    def code(self, expr: ast.Expr) -> Code:
        code = self._codes.get(expr)
        if code is None:
            code = self._codes[expr] = getattr(self, f"compile_{type(expr).__name__}")(expr)
        return code

    def strict(self, operands: list[ast.Expr], apply: Callable[..., Any]) -> Code:
        """`apply` of the operands' values, evaluated left to right, all of them."""
        codes = [self.code(operand) for operand in operands]
        if len(codes) == 2 and not codes[0].suspends and codes[1].suspends:
            (first, _), (second, _) = codes  # `total + h.f(x)`

            async def then_await(frame: Frame, rt: Runtime) -> Any:
                value = first(frame, rt)
                return apply(value, await second(frame, rt))

            return Code(then_await, True)
        if any(code.suspends for code in codes):

            async def run(frame: Frame, rt: Runtime) -> Any:
                values = []
                for fn, suspends in codes:
                    values.append(await fn(frame, rt) if suspends else fn(frame, rt))
                return apply(*values)

            return Code(run, True)
        fns = [code.fn for code in codes]
        if len(fns) == 1:
            (only,) = fns
            return Code(lambda frame, rt: apply(only(frame, rt)), False)
        if len(fns) == 2:
            return Code(self.pair(operands[0], operands[1], fns[0], fns[1], apply), False)
        return Code(lambda frame, rt: apply(*[fn(frame, rt) for fn in fns]), False)

    def pair(self, left: Any, right: ast.Expr, first: Any, second: Any, apply: Any) -> Any:
        """`apply(left, right)` with the commonest operands read in place: a local, a
        literal, or an operation on a local and a literal (`i % 4 == 0` is one call)."""
        if isinstance(right, ast.Literal):
            constant = right.value
            if self._is_local(left):
                name = left.id
                return lambda frame, rt: apply(frame.vars[name], constant)
            inner = self._local_op_literal(left)
            if inner is not None:
                op, inner_name, inner_constant = inner
                return lambda frame, rt: apply(
                    op(
                        frame.vars[inner_name],
                        inner_constant,
                    ),
                    constant,
                )
            return lambda frame, rt: apply(first(frame, rt), constant)
        if self._is_local(left):
            name = left.id
            inner = self._local_op_literal(right)
            if inner is not None:  # `total + i * 2`
                op, inner_name, inner_constant = inner
                return lambda frame, rt: apply(
                    frame.vars[name],
                    op(
                        frame.vars[inner_name],
                        inner_constant,
                    ),
                )
            return lambda frame, rt: apply(frame.vars[name], second(frame, rt))
        return lambda frame, rt: apply(first(frame, rt), second(frame, rt))

    def _local_op_literal(self, expr: ast.Expr) -> tuple[Callable[[Any, Any], Any], str, Any] | None:
        """`(op, name, value)` if `expr` is `name op value` (a binary operation or one comparison)."""
        if isinstance(expr, ast.BinOp):
            op, operands = BINARY[expr.op], (expr.left, expr.right)
        elif isinstance(expr, ast.Compare) and len(expr.ops) == 1:
            op, operands = COMPARISONS[expr.ops[0]], (expr.left, expr.comparators[0])
        else:
            return None
        left, right = operands
        if self._is_local(left) and isinstance(right, ast.Literal):
            assert isinstance(left, ast.Name)
            return op, left.id, right.value
        return None

    def _is_local(self, expr: ast.Expr) -> bool:
        """A local of the innermost scope: in the frame's own variables from its start."""
        return (
            isinstance(expr, ast.Name)
            and self.res.names[expr] is Kind.LOCAL
            and expr not in self.res.outer_locals
        )

    # ---- atoms -----------------------------------------------------------
    def compile_Name(self, expr: ast.Name) -> Code:
        kind, name = self.res.names[expr], expr.id
        if kind is Kind.LOCAL and expr in self.res.outer_locals:
            return Code(lambda frame, rt: frame.get(name), False)
        if kind is Kind.LOCAL:
            return Code(lambda frame, rt: frame.vars[name], False)
        if kind is Kind.BUILTIN and name in ("now", "uuid"):
            if name == "now":
                return Code(lambda frame, rt: rt.clock.now, False)
            return Code(lambda frame, rt: rt.uuid, False)
        if kind is Kind.BUILTIN:
            return constant(_BUILTINS[name])
        if kind is Kind.ERROR:
            return constant(runtime.ERROR_TYPES[name])
        if kind is Kind.EXCEPTION:
            return constant(getattr(builtins, name))
        globals_ = self.globals  # filled as the module loads: looked up when run
        return Code(lambda frame, rt: globals_[name], False)

    def compile_Literal(self, expr: ast.Literal) -> Code:
        return constant(expr.value)

    def compile_Duration(self, expr: ast.Duration) -> Code:
        return constant(expr.seconds)

    def compile_Rate(self, expr: ast.Rate) -> Code:
        return constant(expr.per_second)

    def compile_FString(self, expr: ast.FString) -> Code:
        """Each field is evaluated, then formatted, before the next one is evaluated."""
        parts = [
            (part, None) if isinstance(part, str) else (part.spec, self.code(part.value))
            for part in expr.parts
        ]

        async def run(frame: Frame, rt: Runtime) -> Any:
            text = ""
            for piece, code in parts:
                if code is None:
                    text += piece
                else:
                    value = await code.fn(frame, rt) if code.suspends else code.fn(frame, rt)
                    text += format(value, piece)
            return text

        if any(code is not None and code.suspends for _, code in parts):
            return Code(run, True)

        def run_now(frame: Frame, rt: Runtime) -> Any:
            text = ""
            for piece, code in parts:
                text += piece if code is None else format(code.fn(frame, rt), piece)
            return text

        return Code(run_now, False)

    def compile_ListExpr(self, expr: ast.ListExpr) -> Code:
        return self.strict(list(expr.items), lambda *items: list(items))

    def compile_MapExpr(self, expr: ast.MapExpr) -> Code:
        keys = expr.keys
        return self.strict(list(expr.values), lambda *values: dict(zip(keys, values)))

    def compile_Attr(self, expr: ast.Attr) -> Code:
        name = expr.name
        if expr in self.res.handler_attrs:
            return self.strict([expr.value], lambda base: getattr(base, name))
        if expr.safe:
            return self.strict([expr.value], lambda base: runtime.attr_or_null(base, name))
        return self.strict([expr.value], lambda base: runtime.attr(base, name))

    def compile_Index(self, expr: ast.Index) -> Code:
        return self.strict([expr.value, expr.index], runtime.index)

    def compile_Slice(self, expr: ast.Slice) -> Code:
        none = ast.Literal(span=expr.span, value=None)  # a bound left out
        return self.strict([expr.value, expr.start or none, expr.stop or none], runtime.sliced)

    # ---- calls -----------------------------------------------------------
    def compile_Call(self, expr: ast.Call) -> Code:
        kind = self.res.calls[expr]
        if kind is CallKind.BUILTIN or kind is CallKind.ERROR:  # a plain call: nothing to await
            values = [*expr.args, *(keyword.value for keyword in expr.keywords)]
            split = _splitter(len(expr.args), [keyword.name for keyword in expr.keywords])
            return self.strict([expr.func, *values], lambda fn, *vals: _apply(fn, *split(vals)))
        arguments = self.arguments(expr)
        if kind is CallKind.STEP:
            return self.step(expr, arguments)
        function = self.code(expr.func)

        async def declaration(frame: Frame, rt: Runtime) -> Any:
            fn = await function.fn(frame, rt) if function.suspends else function.fn(frame, rt)
            args, kwargs = await arguments.fn(frame, rt) if arguments.suspends else arguments.fn(frame, rt)
            return await fn.run(list(args), kwargs)

        async def dynamic(frame: Frame, rt: Runtime) -> Any:
            fn = await function.fn(frame, rt) if function.suspends else function.fn(frame, rt)
            args, kwargs = await arguments.fn(frame, rt) if arguments.suspends else arguments.fn(frame, rt)
            return await runtime.call(fn, *args, **kwargs)

        return Code(declaration if kind is CallKind.DECL else dynamic, True)

    def arguments(self, call: ast.Call) -> Code:
        """A call's values as `(positional, keywords)`."""
        split = _splitter(len(call.args), [keyword.name for keyword in call.keywords])
        values = [*call.args, *(keyword.value for keyword in call.keywords)]
        return self.strict(values, lambda *vals: split(vals))

    def step(
        self,
        call: ast.Call,
        arguments: Code,
        into: str | None = None,
        combine: tuple[Callable[[Frame, Runtime], Any], Callable[[Any, Any], Any]] | None = None,
    ) -> Code:
        """A handler call: its arguments, then the runtime's step (events, look up, call,
        await, error note), the one the compiled code inlines. With `into`, the statement
        `into = call` in one coroutine; with `combine` too, `(left, op)`, the statement
        `into = left op call` (left evaluated first)."""
        target, location = self.res.step_targets[call], self.res.location(call)
        lookup, begin, failed = self.handler(call.func), begin_step, Runtime.step_failed
        left, apply = combine if combine is not None else (None, None)
        # `runtime.step`'s second half written out in each: one coroutine less per step.
        if not arguments.suspends and not call.keywords and len(call.args) == 1:
            only = self.code(call.args[0]).fn  # the commonest step: one argument

            async def one(frame: Frame, rt: Runtime) -> Any:
                first = None if left is None else left(frame, rt)
                result = begin(rt, target, location, lookup, only(frame, rt))
                if result.__class__ is CoroutineType or isawaitable(result):
                    try:
                        result = await result
                    except BaseException as exc:
                        raise failed(rt, exc, target, location)
                if rt.observers:
                    rt.event("step.end", target)
                if into is None:
                    return result
                frame.vars[into] = result if apply is None else apply(first, result)
                return None

            return Code(one, True)
        argument_fn, suspends = arguments

        async def run(frame: Frame, rt: Runtime) -> Any:
            first = None if left is None else left(frame, rt)
            args, kwargs = await argument_fn(frame, rt) if suspends else argument_fn(frame, rt)
            result = begin(rt, target, location, lookup, *args, **kwargs)
            if result.__class__ is CoroutineType or isawaitable(result):
                try:
                    result = await result
                except BaseException as exc:
                    raise failed(rt, exc, target, location)
            if rt.observers:
                rt.event("step.end", target)
            if into is None:
                return result
            frame.vars[into] = result if apply is None else apply(first, result)
            return None

        return Code(run, True)

    def handler(self, func: ast.Expr) -> Callable[[], Any]:
        """A step's handler lookup: a `use`d name, or an attribute chain of one (getattr)."""
        if isinstance(func, ast.Attr) and isinstance(func.value, ast.Name):
            module, attribute, globals_ = func.value.id, func.name, self.globals
            return lambda: getattr(globals_[module], attribute)
        if isinstance(func, ast.Attr):
            base, name = self.handler(func.value), func.name
            return lambda: getattr(base(), name)
        assert isinstance(func, ast.Name)
        globals_, name = self.globals, func.id
        return lambda: globals_[name]

    # ---- policies --------------------------------------------------------
    def guard(self, site: ast.Node) -> runtime.Guard:
        """The runtime guard of a site with policies, built on first use."""
        guard = self._guards.get(site)
        if guard is None:
            guard = self._guards[site] = build_guard(self.res.guards[site], self.exception_type)
        return guard

    def exception_type(self, dotted: ast.Dotted) -> Any:
        raise NotImplementedError  # the Executor knows the module's exception types

    def compile_Guarded(self, expr: ast.Guarded) -> Code:
        call = expr.call
        assert isinstance(call, ast.Call)
        rename = self.res.calls[call] is CallKind.DECL

        async def run(frame: Frame, rt: Runtime) -> Any:
            args = [await self.evaluate(arg, frame, rt) for arg in call.args]
            kwargs = {kw.name: await self.evaluate(kw.value, frame, rt) for kw in call.keywords}
            if rename:
                kwargs = {py_name(name): value for name, value in kwargs.items()}
            options = await self.guard_options(expr, frame, rt)
            function = await self.evaluate(call.func, frame, rt)
            return await self.guard(expr).run(rt, function, tuple(args), kwargs, **options)

        return Code(run, True)

    async def guard_options(self, site: ast.Node, frame: Frame | None, rt: Runtime) -> dict[str, Any]:
        """The call site's keys and fallback, evaluated as the compiled code does."""
        spec = self.res.guards[site]
        options = {keyword: await self.evaluate(value, frame, rt) for keyword, value in spec.site_keys()}
        fallback = spec.get("fallback")
        if fallback is not None and fallback.fallback is not None:
            if fallback.calls:
                options["fallback"] = await self.evaluate(fallback.fallback, frame, rt)
            else:
                value = fallback.fallback
                options["fallback"] = lambda: self.evaluate(value, frame, rt)
        return options

    # ---- operators -------------------------------------------------------
    def compile_BinOp(self, expr: ast.BinOp) -> Code:
        return self.strict([expr.left, expr.right], BINARY[expr.op])

    def compile_Logical(self, expr: ast.Logical) -> Code:
        (left, left_suspends), (right, right_suspends) = self.code(expr.left), self.code(expr.right)
        decide = _LOGICAL[expr.op]
        if left_suspends or right_suspends:

            async def run(frame: Frame, rt: Runtime) -> Any:
                value = await left(frame, rt) if left_suspends else left(frame, rt)
                if decide(value):
                    return value
                return await right(frame, rt) if right_suspends else right(frame, rt)

            return Code(run, True)

        def run_now(frame: Frame, rt: Runtime) -> Any:
            value = left(frame, rt)
            return value if decide(value) else right(frame, rt)

        return Code(run_now, False)

    def compile_Not(self, expr: ast.Not) -> Code:
        return self.strict([expr.operand], operator.not_)

    def compile_Neg(self, expr: ast.Neg) -> Code:
        return self.strict([expr.operand], operator.neg)

    def compile_Compare(self, expr: ast.Compare) -> Code:
        """`a < b < c`: each comparator evaluated only while the chain holds."""
        left = self.code(expr.left)
        chain = [(COMPARISONS[op], self.code(item)) for op, item in zip(expr.ops, expr.comparators)]
        if len(chain) == 1:
            return self.strict([expr.left, expr.comparators[0]], chain[0][0])

        async def run(frame: Frame, rt: Runtime) -> Any:
            value = await left.fn(frame, rt) if left.suspends else left.fn(frame, rt)
            result: Any = True
            for compare, (fn, suspends) in chain:
                right = await fn(frame, rt) if suspends else fn(frame, rt)
                result = compare(value, right)
                if not result:
                    return result
                value = right
            return result

        if left.suspends or any(code.suspends for _, code in chain):
            return Code(run, True)

        def run_now(frame: Frame, rt: Runtime) -> Any:
            value = left.fn(frame, rt)
            result: Any = True
            for compare, (fn, _) in chain:
                right = fn(frame, rt)
                result = compare(value, right)
                if not result:
                    return result
                value = right
            return result

        return Code(run_now, False)


# `a op b` returns `a` when this holds of it, else `b`
_LOGICAL: dict[str, Callable[[Any], bool]] = {
    "??": lambda value: value is not None,
    "and": operator.not_,
    "or": bool,
}


def constant(value: Any) -> Code:
    return Code(lambda frame, rt: value, False)


def _splitter(positional: int, names: list[str]) -> Callable[[tuple], tuple[tuple, dict[str, Any]]]:
    """Evaluated call values -> (positional arguments, keyword arguments)."""
    if not names:
        return lambda values: (values, {})
    return lambda values: (values[:positional], dict(zip(names, values[positional:])))


def _apply(function: Any, args: tuple, kwargs: dict[str, Any]) -> Any:
    return function(*args, **kwargs)
