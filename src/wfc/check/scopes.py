"""Which names each scope binds, found before any reference is resolved.

A declaration is one scope, like a Python function. The body of a `for` whose
result is assigned, or that runs in parallel, is a scope of its own per item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..syntax import ast


@dataclass(slots=True, eq=False)
class Scope:
    owner: ast.Node  # a declaration, an item-scoped `for` or a route's `do` block
    parent: Scope | None
    params: dict[str, ast.Ident] = field(default_factory=dict)  # or the loop variable
    assigned: dict[str, ast.Ident] = field(default_factory=dict)  # first binding of each
    machines: dict[str, str] = field(default_factory=dict)  # a variable -> the machine it holds

    def binds(self, name: str) -> bool:
        return name in self.params or name in self.assigned

    def visible(self) -> Iterable[str]:
        scope: Scope | None = self
        while scope is not None:
            yield from scope.params
            yield from scope.assigned
            scope = scope.parent


def has_item_scope(loop: ast.For) -> bool:
    return loop.into is not None or loop.concurrent


def collect(scope: Scope, body: tuple[ast.Stmt, ...]) -> list[ast.For]:
    """Record what `body` binds in `scope`; return the item-scoped loops met."""
    nested: list[ast.For] = []
    for stmt in body:
        _collect_stmt(scope, stmt, nested)
    return nested


def _bind(scope: Scope, ident: ast.Ident) -> None:
    if not scope.binds(ident.id):
        scope.assigned[ident.id] = ident


def _collect_stmt(scope: Scope, stmt: ast.Stmt, nested: list[ast.For]) -> None:
    match stmt:
        case ast.Assign(target=target):
            _bind(scope, target)
        case ast.Step(name=ast.Ident() as name):
            _bind(scope, name)
        case ast.Receive(target=ast.Ident() as target):
            _bind(scope, target)
        case ast.Select(arms=arms):
            nested.extend(_collect_arms(scope, arms))
        case ast.For() if has_item_scope(stmt):
            if stmt.into is not None:
                _bind(scope, stmt.into)
            nested.append(stmt)
        case ast.For(var=var, body=body):
            _bind(scope, var)
            nested.extend(collect(scope, body))
        case ast.Stage(body=body) | ast.While(body=body) | ast.Repeat(body=body) | ast.Parallel(body=body):
            nested.extend(collect(scope, body))
        case ast.If(branches=branches, orelse=orelse):
            for branch in branches:
                nested.extend(collect(scope, branch.body))
            nested.extend(collect(scope, orelse or ()))
        case ast.Try(body=body, handlers=handlers):
            nested.extend(collect(scope, body))
            for handler in handlers:
                if handler.name is not None:
                    _bind(scope, handler.name)
                nested.extend(collect(scope, handler.body))


def _collect_arms(scope: Scope, arms: tuple[ast.SelectArm, ...]) -> list[ast.For]:
    nested: list[ast.For] = []
    for arm in arms:
        if arm.target is not None:
            _bind(scope, arm.target)
        nested.extend(collect(scope, arm.body))
    return nested


def assigned_names(body: tuple[ast.Stmt, ...]) -> list[str]:
    """The names `body` binds in its scope, in order: what a parallel branch sets."""
    scratch = Scope(owner=None, parent=None)  # type: ignore[arg-type]
    collect(scratch, body)
    return list(scratch.assigned)
