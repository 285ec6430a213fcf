"""The checker: module declarations, name resolution, call graph -> diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic
from ..syntax import ast
from .budget import check_budgets
from .callgraph import check_cycles
from .coverage import check_coverage
from .places import Label
from .resolution import CallKind, Kind, Resolution
from .resolver import Resolver, error, python_keyword
from .returns import return_type
from .sagas import check_sagas

__all__ = ["CallKind", "Checked", "Kind", "Resolution", "check", "error_parents"]


def source_digest(source: str) -> str:
    """The hash of a program's source that durable runs record (the same on both backends)."""
    import hashlib

    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Checked:
    """A module that parsed and checked without errors (warnings may remain)."""

    module: ast.Module
    resolution: Resolution
    source: str
    warnings: tuple[Diagnostic, ...]


def check(module: ast.Module, filename: str, source: str = "") -> tuple[Resolution, list[Diagnostic]]:
    """Check a parsed module; the diagnostics are sorted by position. `source` names
    calls in the budget findings' reasons."""
    res = Resolution(filename=filename)
    diagnostics: list[Diagnostic] = []
    resolver = Resolver(res, diagnostics.append)
    _declare(module, res, resolver, diagnostics)
    for order, decl in enumerate(module.decls):
        if isinstance(decl, ast.ConstDecl):
            resolver.constant(decl.value, order)
        elif isinstance(decl, (ast.Workflow, ast.Saga)):
            resolver.workflow(decl)
        elif isinstance(decl, ast.Router):
            resolver.router(decl)
        elif isinstance(decl, ast.Machine):
            resolver.machine(decl)
        elif isinstance(decl, ast.PolicyDecl):
            resolver.named_policy(decl.name.id)
        elif isinstance(decl, ast.ErrorDecl):
            resolver.error_type(decl)
    for decl in module.decls:
        if isinstance(decl, (ast.Workflow, ast.Router, ast.Saga)):
            res.return_types[decl] = return_type(decl, res)
    diagnostics.extend(check_cycles(res))
    diagnostics.extend(check_sagas(module, res))
    diagnostics.extend(check_coverage(module, res))
    if not any(d.severity == "error" for d in diagnostics):  # budgets need a resolved module
        diagnostics.extend(check_budgets(module, res, source))
    diagnostics.sort(key=Diagnostic.sort_key)
    return res, diagnostics


def _declare(module: ast.Module, res: Resolution, resolver: Resolver, diagnostics: list[Diagnostic]) -> None:
    first: dict[str, ast.Decl] = {}
    for order, decl in enumerate(module.decls):
        name, ident = _declared_name(decl)
        if name in first:
            diagnostics.append(
                error(
                    "E0102",
                    f"'{name}' is declared twice",
                    ident.span,
                    "rename one of them",
                    labels=[Label(_declared_name(first[name])[1].span, "first declared here")],
                )
            )
            continue
        first[name] = decl
        if isinstance(decl, ast.Use):
            _check_import_path(decl, diagnostics)
            res.uses[name] = decl
        elif isinstance(decl, ast.ConstDecl):
            res.consts[name] = decl
            resolver.declare_const(name, order)
        elif isinstance(decl, (ast.Workflow, ast.Router, ast.Saga)):
            res.decls[name] = decl
        elif isinstance(decl, ast.Machine):
            res.machines[name] = decl
        elif isinstance(decl, ast.PolicyDecl):
            res.policies[name] = decl
        elif isinstance(decl, ast.ErrorDecl):
            res.errors[name] = decl


def error_parents(module: ast.Module) -> list[tuple[ast.ErrorDecl, str | None]]:
    """Each `error` of a checked module, in order, and the name of its parent: an error
    of the module (the checker made sure it is declared above), else one of the
    runtime's; None for the default, `WorkflowFailed`."""
    return [
        (decl, None if decl.parent is None else decl.parent.id)
        for decl in module.decls
        if isinstance(decl, ast.ErrorDecl)
    ]


def _declared_name(decl: ast.Decl) -> tuple[str, ast.Node]:
    if isinstance(decl, ast.Use):
        return decl.bound, decl.alias or decl.path
    return decl.name.id, decl.name


def _check_import_path(decl: ast.Use, diagnostics: list[Diagnostic]) -> None:
    for part in decl.path.parts:
        if python_keyword(part) or not part.isidentifier():
            diagnostics.append(
                error(
                    "E0122",
                    f"cannot import '{decl.path.text}': '{part}' is a Python keyword",
                    decl.path.span,
                )
            )
            return
