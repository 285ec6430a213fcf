"""The Temporal target: what the asyncio target writes, run as Temporal workflows.

The module `wfc compile --target temporal` writes holds the same functions as the asyncio
target's, imported under Temporal's sandbox rules, then one `@workflow.defn` class per
workflow, router and saga (each runs its function through `wfc.temporal.execute`) and one
activity per handler function the file calls. Both targets therefore share every line of
control flow and policy, and so their meaning. A machine becomes a workflow that takes its
events as signals and answers `state`, `history` and `can` as queries. What cannot mean
the same on Temporal is refused here with E0300: a call of a value that is not a handler.
"""

from __future__ import annotations

from collections.abc import Callable

from ..check import CallKind, Kind, Resolution
from ..diagnostics import CompileError, Diagnostic, error
from ..syntax import ast
from ..syntax.names import py_literal, py_name
from .writer import Writer


def refuse_unsupported(module: ast.Module, res: Resolution) -> None:
    """E0300 for each construct the Temporal target cannot run with the same meaning."""
    found: list[Diagnostic] = []
    for node in ast.walk(module.decls):
        if (
            isinstance(node, ast.Call)
            and res.calls.get(node) is CallKind.DYNAMIC
            and not _machine_call(node, res)
        ):
            found.append(
                _e0300(node.span, "a call of a value cannot run on Temporal", "call a handler bound by `use`")
            )
    if found:
        raise CompileError(sorted(found, key=lambda d: (d.line, d.column)), res.filename)


# What wf code calls on a machine instance: deterministic code of this module.
_MACHINE_METHODS = frozenset(["send", "can", "events", "snapshot"])


def _machine_call(call: ast.Call, res: Resolution) -> bool:
    """A machine of this file made (`Mach(x)`) or driven (`m.send("go")`)."""
    if isinstance(call.func, ast.Name):
        return res.names.get(call.func) is Kind.MACHINE
    return isinstance(call.func, ast.Attr) and call.func.name in _MACHINE_METHODS


def _e0300(span: ast.Span, message: str, help_text: str) -> Diagnostic:
    return error("E0300", message, span, help=help_text)


def imports(out: Writer, module: ast.Module, import_line: Callable[[ast.Use], str]) -> None:
    """The asyncio target's imports, passed through Temporal's sandbox."""
    out.line("from typing import Any")
    out.line()
    out.line("from temporalio import workflow")
    out.line()
    out.line("with workflow.unsafe.imports_passed_through():")
    with out.indent():
        out.line("from wfc import runtime as _wf")
        out.line("from wfc import temporal as _wft")
        for decl in module.decls:
            if isinstance(decl, ast.Use):
                out.line(import_line(decl))


def section(out: Writer, module: ast.Module, res: Resolution, expr: Callable[[ast.Expr], str]) -> None:
    """The workflow classes, the activities and the tables a worker reads."""
    classes = [
        _workflow_class(out, decl, res)
        for decl in module.decls
        if isinstance(decl, (ast.Workflow, ast.Router, ast.Saga, ast.Machine))
    ]
    handlers = _handlers(module, res, expr)
    packages = sorted({decl.path.parts[0] for decl in module.decls if isinstance(decl, ast.Use)})
    out.line()
    out.line()
    out.line("# What `wfc worker` registers: the workflows, and one activity per handler called,")
    out.line("# named by the handler's module and function; steps name them as the file calls them.")
    out.line(f"WORKFLOW_TYPES = {{{', '.join(f'{py_literal(name)}: {cls}' for name, cls in classes)}}}")
    out.line("WORKFLOWS = list(WORKFLOW_TYPES.values())")
    names = sorted({name: function for name, function in handlers.values()}.items())
    out.line(f"ACTIVITIES = {{{', '.join(f'{py_literal(n)}: {f}' for n, f in names)}}}")
    entries = ", ".join(
        f"{py_literal(target)}: {py_literal(handlers[target][0])}" for target in sorted(handlers)
    )
    out.line(f"ACTIVITY_NAMES = {{{entries}}}")
    out.line(f"HANDLER_MODULES = ({''.join(f'{py_literal(p)}, ' for p in packages)})")


def _workflow_class(
    out: Writer, decl: ast.Workflow | ast.Router | ast.Saga | ast.Machine, res: Resolution
) -> tuple[str, str]:
    """The `@workflow.defn` class of one declaration; (its name in wf, the class)."""
    cls = "".join(part[:1].upper() + part[1:] for part in decl.name.id.split("_")) + "Workflow"
    machine = isinstance(decl, ast.Machine)
    about = f"`{decl.name.id}` ({res.location(decl)}) as a Temporal workflow"
    if machine:
        about += ": its events are signals; `state`, `history` and `can` are queries"
    out.line()
    out.line()
    out.line(f"@workflow.defn(name={py_literal(f'{py_name(res.module_name)}.{decl.name.id}')})")
    out.line(f"class {cls}:")
    with out.indent():
        out.line(py_literal(f"{about}."))
        out.line()
        out.line("@workflow.run")
        out.line("async def run(self, *args: Any) -> Any:")
        with out.indent():
            runner = "run_machine" if machine else "execute"
            out.line(f"return await _wft.{runner}({py_name(decl.name.id)}, args, ACTIVITY_NAMES)")
    return decl.name.id, cls


def _handlers(
    module: ast.Module, res: Resolution, expr: Callable[[ast.Expr], str]
) -> dict[str, tuple[str, str]]:
    """Each step's target as the file writes it -> (its activity's name, the function)."""
    uses = {decl.bound: ".".join(decl.path.parts) for decl in module.decls if isinstance(decl, ast.Use)}
    handlers: dict[str, tuple[str, str]] = {}
    for call, kind in res.calls.items():
        if kind is CallKind.STEP:
            target = res.step_targets[call]
            alias, _, rest = target.partition(".")
            handlers[target] = (f"{uses.get(alias, alias)}.{rest}", expr(call.func))
    for spec in res.guards.values():  # a handler fallback is a step, so an activity too
        for policy in spec.policies:
            named = dict(policy.options).get("step") if policy.kind == "fallback" else None
            if named is not None and policy.fallback is not None:
                alias, _, rest = named.partition(".")
                handlers[named] = (f"{uses.get(alias, alias)}.{rest}", expr(policy.fallback))
    return handlers
