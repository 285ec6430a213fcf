"""The call graph between a module's declarations: recursion is an error."""

from __future__ import annotations

from ..diagnostics import Diagnostic
from ..syntax import ast
from .resolution import CallKind, Resolution
from .resolver import error


def check_cycles(res: Resolution) -> list[Diagnostic]:
    """One diagnostic per call that closes a cycle, in declaration order."""
    edges: dict[str, list[tuple[str, ast.Call]]] = {name: [] for name in res.decls}
    for call, kind in res.calls.items():
        if kind is CallKind.DECL and isinstance(call.func, ast.Name):
            caller = _caller_of(res, call)
            if caller is not None:
                edges[caller].append((call.func.id, call))
    diagnostics: list[Diagnostic] = []
    state: dict[str, str] = {}  # "active" while on the path, "done" after

    def visit(name: str, path: list[str]) -> None:
        state[name] = "active"
        for callee, call in sorted(edges[name], key=lambda edge: edge[1].span.start):
            if state.get(callee) == "active":
                cycle = path[path.index(callee) :] + [name, callee] if callee != name else [name, name]
                cycle = list(dict.fromkeys(cycle[:-1])) + [callee]
                diagnostics.append(
                    error(
                        "E0103",
                        f"recursive call: {' -> '.join(cycle)}",
                        call.span,
                        "wf has no recursion; use a loop instead",
                    )
                )
            elif callee not in state:
                visit(callee, path + [name])
        state[name] = "done"

    for name in res.decls:
        if name not in state:
            visit(name, [])
    return diagnostics


def _caller_of(res: Resolution, call: ast.Call) -> str | None:
    for name, decl in res.decls.items():
        if decl.span.start <= call.span.start and call.span.end <= decl.span.end:
            return name
    return None
