"""Which handler calls inside an expression can be emitted inline, ahead of their line.

A step written as a statement (`x = h.f(a)`) is emitted inline: call, then await
only what is awaitable. Inside an expression (`total + h.f(a)`) it would go through
the runtime's `_wf.step` helper: a lambda and one more coroutine per call. Moving
the call to its own inline statement just before the line is exact only when
nothing the line evaluates before the call is left behind to run after it. So a
call is moved when everything the line evaluates before it is a literal, a name
(reading a local has no effect and cannot fail) or another moved call; a call in
the right operand of `and`, `or` or `??` runs only sometimes, and is never moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..syntax import ast

_PURE = (ast.Literal, ast.Duration, ast.Rate, ast.Name)


def inline_steps(expr: ast.Expr, is_step: Callable[[ast.Expr], bool]) -> set[ast.Call]:
    """The step calls of `expr` (one line's value) that may be emitted ahead of it."""
    moved: set[ast.Call] = set()
    _visit(expr, True, is_step, moved)
    return moved


def _visit(expr: ast.Expr, clean: bool, is_step: Callable[[ast.Expr], bool], moved: set[ast.Call]) -> bool:
    """Walk `expr` in evaluation order; whether the line is still clean after it."""
    if isinstance(expr, _PURE):
        return clean
    if isinstance(expr, ast.Call) and clean and is_step(expr):
        moved.add(expr)  # its arguments are emitted ahead of it, on lines of their own
        return True
    if isinstance(expr, ast.Compare):  # `a < b` both run; `< c` only if `a < b`
        clean = _visit(expr.left, clean, is_step, moved)
        return _visit_partly(list(expr.comparators), clean, is_step, moved)
    if isinstance(expr, (ast.Logical, ast.FString)):
        return _visit_partly(_operands(expr), clean, is_step, moved)
    for child in _operands(expr):
        clean = _visit(child, clean, is_step, moved)
    # building a list or a map cannot fail; every other operation may
    return clean and isinstance(expr, (ast.ListExpr, ast.MapExpr))


def _visit_partly(
    operands: list[ast.Expr], clean: bool, is_step: Callable[[ast.Expr], bool], moved: set[ast.Call]
) -> bool:
    """Operands of which only the first surely runs before an operation that may fail:
    `a and b`, `a < b < c` (short-circuits), `f"{a:d}{b}"` (`a` is formatted before
    `b` runs)."""
    for operand in operands:
        _visit(operand, clean, is_step, moved)
        clean = False
    return False


def _operands(expr: ast.Expr) -> list[ast.Expr]:
    """`expr`'s sub-expressions in the order Python evaluates them."""
    operands = _OPERANDS.get(type(expr))
    return [] if operands is None else operands(expr)


_OPERANDS: dict[type, Callable[[Any], list[ast.Expr]]] = {
    ast.Call: lambda e: [*e.args, *(keyword.value for keyword in e.keywords)],
    ast.FString: lambda e: [part.value for part in e.parts if isinstance(part, ast.FormattedValue)],
    ast.Guarded: lambda e: [],  # emitted by its own statement form; never inside a moved line
    ast.MapExpr: lambda e: list(e.values),
    ast.ListExpr: lambda e: list(e.items),
    ast.Attr: lambda e: [e.value],
    ast.Index: lambda e: [e.value, e.index],
    ast.Slice: lambda e: [part for part in (e.value, e.start, e.stop) if part is not None],
    ast.BinOp: lambda e: [e.left, e.right],
    ast.Logical: lambda e: [e.left, e.right],
    ast.Not: lambda e: [e.operand],
    ast.Neg: lambda e: [e.operand],
}
