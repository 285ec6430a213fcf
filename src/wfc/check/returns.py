"""What each workflow, router and saga returns, for Python's type checkers.

A declared `-> TYPE` wins. Otherwise the type is inferred from what the declaration can
return - literals, f-strings, comparisons, lists and maps, parameters of a declared
builtin type, null (a `return` without a value, falling off the end, a first router
without default) - when they all agree, or all but null agree (`str | None`); anything
else is `any`. The result is a wf type name (`str`, `map`, ...), with `?` appended when
null is possible, or a dotted type as written.
"""

from __future__ import annotations

from ..syntax import ast
from .resolution import BUILTIN_TYPES, Resolution

ANY = "any"


def return_type(decl: ast.Workflow | ast.Router | ast.Saga, res: Resolution) -> str:
    if decl.returns is not None:
        return decl.returns.text
    declared = {
        p.name.id: p.type.text for p in decl.params if p.type is not None and p.type.text in BUILTIN_TYPES
    }
    kinds = {_kind(value, declared) for value in _returned(decl)}
    if decl_is_all_router(decl):
        return "list"
    optional = "none" in kinds
    kinds.discard("none")
    if len(kinds) != 1 or ANY in kinds:
        return "none" if not kinds and optional else ANY
    (kind,) = kinds
    return f"{kind}?" if optional else kind


def decl_is_all_router(decl: ast.Node) -> bool:
    return isinstance(decl, ast.Router) and decl.strategy == "all"


def _returned(decl: ast.Workflow | ast.Router | ast.Saga) -> list[ast.Expr | None]:
    """Every value the declaration can return; None stands for null."""
    if isinstance(decl, ast.Router):
        values: list[ast.Expr | None] = []
        for route in (*decl.routes, *([decl.default] if decl.default else [])):
            if route.target is not None:
                values.append(route.target)
            else:
                values.extend(_body_returns(route.body or ()))
        if decl.default is None:
            values.append(None)
        return values
    return _body_returns(decl.body)


def _body_returns(body: tuple[ast.Stmt, ...]) -> list[ast.Expr | None]:
    values: list[ast.Expr | None] = [node.value for node in ast.walk(body) if isinstance(node, ast.Return)]
    if not body or not isinstance(body[-1], (ast.Return, ast.Fail)):
        values.append(None)  # it may fall off the end, returning null
    return values


def _kind(value: ast.Expr | None, declared: dict[str, str]) -> str:
    if value is None:
        return "none"
    if isinstance(value, ast.Guarded):
        return ANY
    if isinstance(value, ast.Literal):
        return {str: "str", bool: "bool", int: "int", float: "float", type(None): "none"}[type(value.value)]
    kinds = {
        ast.FString: "str",
        ast.ListExpr: "list",
        ast.MapExpr: "map",
        ast.Compare: "bool",
        ast.Not: "bool",
    }
    if type(value) in kinds:
        return kinds[type(value)]
    if isinstance(value, ast.Name) and value.id in declared:
        return declared[value.id] if declared[value.id] != ANY else ANY
    return ANY
