"""Evaluating expressions: the same order and operations as the compiled code."""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

from .. import runtime
from ..check import CallKind, Kind, Resolution
from ..runtime import Runtime
from ..runtime._values import COMPARISONS
from ..syntax import ast
from ..syntax.names import py_name
from .frames import Frame
from .policies import build_guard

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
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
}


class Evaluator:
    """Evaluates expressions of one module; `globals` holds consts, uses, decls."""

    def __init__(self, res: Resolution, globals_: dict[str, Any]) -> None:
        self.res = res
        self.globals = globals_
        self._eval = {
            cls: getattr(self, f"eval_{cls.__name__}")
            for cls in (
                ast.Name,
                ast.Literal,
                ast.Duration,
                ast.Rate,
                ast.FString,
                ast.ListExpr,
                ast.MapExpr,
                ast.Attr,
                ast.Index,
                ast.Call,
                ast.BinOp,
                ast.Logical,
                ast.Not,
                ast.Neg,
                ast.Compare,
                ast.Guarded,
            )
        }
        self._guards: dict[ast.Node, runtime.Guard] = {}

    async def evaluate(self, expr: ast.Expr, frame: Frame | None, rt: Runtime) -> Any:
        return await self._eval[type(expr)](expr, frame, rt)

    async def eval_Name(self, expr: ast.Name, frame: Frame | None, rt: Runtime) -> Any:
        kind = self.res.names[expr]
        if kind is Kind.LOCAL:
            assert frame is not None
            return frame.get(expr.id)
        if kind is Kind.BUILTIN:
            if expr.id == "now":
                return rt.clock.now
            if expr.id == "uuid":
                return rt.uuid
            return _BUILTINS[expr.id]
        if kind is Kind.ERROR:
            return runtime.ERROR_TYPES[expr.id]
        if kind is Kind.EXCEPTION:
            return getattr(builtins, expr.id)
        return self.globals[expr.id]

    async def eval_Literal(self, expr: ast.Literal, frame: Frame | None, rt: Runtime) -> Any:
        return expr.value

    async def eval_Duration(self, expr: ast.Duration, frame: Frame | None, rt: Runtime) -> Any:
        return expr.seconds

    async def eval_Rate(self, expr: ast.Rate, frame: Frame | None, rt: Runtime) -> Any:
        return expr.per_second

    async def eval_FString(self, expr: ast.FString, frame: Frame | None, rt: Runtime) -> Any:
        text = ""
        for part in expr.parts:
            if isinstance(part, str):
                text += part
            else:
                value = await self.evaluate(part.value, frame, rt)
                text += format(value, part.spec)
        return text

    async def eval_ListExpr(self, expr: ast.ListExpr, frame: Frame | None, rt: Runtime) -> Any:
        return [await self.evaluate(item, frame, rt) for item in expr.items]

    async def eval_MapExpr(self, expr: ast.MapExpr, frame: Frame | None, rt: Runtime) -> Any:
        return {key: await self.evaluate(value, frame, rt) for key, value in zip(expr.keys, expr.values)}

    async def eval_Attr(self, expr: ast.Attr, frame: Frame | None, rt: Runtime) -> Any:
        base = await self.evaluate(expr.value, frame, rt)
        if expr in self.res.handler_attrs:
            return getattr(base, expr.name)
        if expr.safe:
            return runtime.attr_or_null(base, expr.name)
        return runtime.attr(base, expr.name)

    async def eval_Index(self, expr: ast.Index, frame: Frame | None, rt: Runtime) -> Any:
        base = await self.evaluate(expr.value, frame, rt)
        return runtime.index(base, await self.evaluate(expr.index, frame, rt))

    async def eval_Call(self, expr: ast.Call, frame: Frame | None, rt: Runtime) -> Any:
        kind = self.res.calls[expr]
        if kind is CallKind.STEP:
            return await self.step(expr, frame, rt)
        if kind is CallKind.DYNAMIC:
            function = await self.evaluate(expr.func, frame, rt)
            args, kwargs = await self.arguments(expr, frame, rt)
            return await runtime.call(function, *args, **kwargs)
        function = await self.evaluate(expr.func, frame, rt)
        args, kwargs = await self.arguments(expr, frame, rt)
        if kind is CallKind.DECL:
            return await function.run(args, kwargs)
        return function(*args, **kwargs)

    async def arguments(
        self, call: ast.Call, frame: Frame | None, rt: Runtime
    ) -> tuple[list[Any], dict[str, Any]]:
        args = [await self.evaluate(arg, frame, rt) for arg in call.args]
        kwargs = {kw.name: await self.evaluate(kw.value, frame, rt) for kw in call.keywords}
        return args, kwargs

    async def step(self, call: ast.Call, frame: Frame | None, rt: Runtime) -> Any:
        """A handler call: its arguments, then the runtime's step (events, look up, call,
        await, error note), the one the compiled code inlines."""
        args, kwargs = await self.arguments(call, frame, rt)
        target, location = self.res.step_targets[call], self.res.location(call)
        return await runtime.step(rt, target, location, lambda: self.handler(call.func), *args, **kwargs)

    def handler(self, func: ast.Expr) -> Any:
        """A step's handler: a `use`d name, or an attribute chain of one (getattr)."""
        if isinstance(func, ast.Attr):
            return getattr(self.handler(func.value), func.name)
        assert isinstance(func, ast.Name)
        return self.globals[func.id]

    # ---- policies --------------------------------------------------------
    def guard(self, site: ast.Node) -> runtime.Guard:
        """The runtime guard of a site with policies, built on first use."""
        guard = self._guards.get(site)
        if guard is None:
            guard = self._guards[site] = build_guard(self.res.guards[site], self.exception_type)
        return guard

    def exception_type(self, dotted: ast.Dotted) -> Any:
        raise NotImplementedError  # the Executor knows the module's exception types

    async def eval_Guarded(self, expr: ast.Guarded, frame: Frame | None, rt: Runtime) -> Any:
        call = expr.call
        assert isinstance(call, ast.Call)
        args, kwargs = await self.arguments(call, frame, rt)
        if self.res.calls[call] is CallKind.DECL:
            kwargs = {py_name(name): value for name, value in kwargs.items()}
        options = await self.guard_options(expr, frame, rt)
        function = await self.evaluate(call.func, frame, rt)
        return await self.guard(expr).run(rt, function, tuple(args), kwargs, **options)

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

    async def eval_BinOp(self, expr: ast.BinOp, frame: Frame | None, rt: Runtime) -> Any:
        left = await self.evaluate(expr.left, frame, rt)
        return _BINARY[expr.op](left, await self.evaluate(expr.right, frame, rt))

    async def eval_Logical(self, expr: ast.Logical, frame: Frame | None, rt: Runtime) -> Any:
        left = await self.evaluate(expr.left, frame, rt)
        if expr.op == "??":
            return left if left is not None else await self.evaluate(expr.right, frame, rt)
        if expr.op == "and":
            return await self.evaluate(expr.right, frame, rt) if left else left
        return left if left else await self.evaluate(expr.right, frame, rt)

    async def eval_Not(self, expr: ast.Not, frame: Frame | None, rt: Runtime) -> Any:
        return not await self.evaluate(expr.operand, frame, rt)

    async def eval_Neg(self, expr: ast.Neg, frame: Frame | None, rt: Runtime) -> Any:
        return -(await self.evaluate(expr.operand, frame, rt))

    async def eval_Compare(self, expr: ast.Compare, frame: Frame | None, rt: Runtime) -> Any:
        left = await self.evaluate(expr.left, frame, rt)
        result: Any = True
        for op, item in zip(expr.ops, expr.comparators):
            right = await self.evaluate(item, frame, rt)
            result = COMPARISONS[op](left, right)
            if not result:
                return result
            left = right
        return result
