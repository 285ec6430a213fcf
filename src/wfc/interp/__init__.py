"""The interpreter: runs a checked module on the same runtime as compiled code."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

from .. import runtime
from ..check import Checked, error_parents, source_digest
from ..syntax import ast
from ..syntax.names import py_name
from .declarations import RUNNERS
from .frames import Frame
from .machines import machine_class
from .signatures import annotation_of, signature_of
from .statements import Executor

__all__ = ["instantiate"]


class InterpretedDeclaration:
    """A workflow, router or saga run by the interpreter, called like the compiled one."""

    def __init__(self, executor: Executor, decl: ast.Declaration, defaults: dict[str, Any]) -> None:
        self._executor = executor
        self._decl = decl
        self._names = {py_name(p.name.id): p.name.id for p in decl.params}
        self._params = tuple(p.name.id for p in decl.params)
        self._locals = tuple(
            name for name in executor.res.scope_locals.get(decl, ()) if name not in self._params
        )
        self._runner = RUNNERS[type(decl)]
        self.__name__ = self.__qualname__ = py_name(decl.name.id)
        returns = annotation_of(executor.res.return_types.get(decl, "any"))
        self.__signature__ = signature_of(decl.params, defaults, returns)
        self.__doc__ = ast.declaration_doc(decl)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not kwargs and len(args) == len(self._params):  # every argument given, in order
            return self._execute(dict(zip(self._params, args)))
        bound = self.__signature__.bind(*args, **kwargs)
        bound.apply_defaults()
        values = {self._names[name]: value for name, value in bound.arguments.items()}
        return self._execute(values)

    async def run(self, args: list[Any], kwargs: dict[str, Any]) -> Any:
        """A call from wf code: keyword names are wf names, already checked."""
        return await self(*args, **{py_name(k): v for k, v in kwargs.items()})

    async def _execute(self, values: dict[str, Any]) -> Any:
        decl, executor = self._decl, self._executor
        if decl not in executor.res.guards:
            return await self._body(*values.values())
        rt = runtime.current()
        options = await executor.guard_options(decl, Frame(dict(values)), rt)
        return await executor.guard(decl).run(rt, self._body, tuple(values.values()), **options)

    async def _body(self, *args: Any) -> Any:
        """One run of the declaration's body, given its arguments in order."""
        decl, executor = self._decl, self._executor
        values = dict(zip(self._params, args))
        for name in self._locals:
            values[name] = None
        return await self._runner(executor, decl, Frame(values), runtime.current())


def instantiate(checked: Checked, path: Path, used: dict[str, Any]) -> ModuleType:
    """A module object exposing the same names as the compiled module would.

    `used` holds what each `use` binds (the caller imports handler modules).
    """
    res = checked.resolution
    module = ModuleType(f"{path.stem}_wf", f"Workflows interpreted from {path.name}.")
    globals_: dict[str, Any] = dict(used)
    executor = Executor(res, globals_)
    for error, parent in error_parents(checked.module):
        globals_[error.name.id] = _error_class(error, parent, globals_, module.__name__, res)
    for decl in checked.module.decls:
        if isinstance(decl, ast.ConstDecl):
            globals_[decl.name.id] = _run_now(executor.evaluate(decl.value, None, runtime.current()))
    for decl in checked.module.decls:
        if isinstance(decl, (ast.Workflow, ast.Router, ast.Saga)):
            globals_[decl.name.id] = InterpretedDeclaration(executor, decl, _defaults(executor, decl))
        elif isinstance(decl, ast.Machine):
            globals_[decl.name.id] = machine_class(
                executor, decl, _defaults(executor, decl), _run_now, module.__name__
            )
    for name, value in globals_.items():
        setattr(module, py_name(name), value)
    source = (path.name, source_digest(checked.source))
    module.__wf_source__ = source  # type: ignore[attr-defined]
    runtime.declare(
        source, *(value for value in globals_.values() if isinstance(value, InterpretedDeclaration))
    )
    return module


def _error_class(
    decl: ast.ErrorDecl, parent: str | None, globals_: dict[str, Any], module: str, res: Any
) -> type:
    """The class of an `error`, as the compiled module defines it."""
    base: type = runtime.WorkflowFailed
    if parent is not None:
        base = globals_[parent] if parent in res.errors else runtime.ERROR_TYPES[parent]
    name, wf_name = py_name(decl.name.id), decl.name.id
    doc = f"`error {wf_name}` ({res.location(decl)}): raised by `fail`, caught by `catch {wf_name}`."
    return type(name, (base,), {"__module__": module, "__qualname__": name, "__doc__": doc})


def _defaults(executor: Executor, decl: ast.Declaration | ast.Machine) -> dict[str, Any]:
    """Parameter defaults, computed once when the module loads (as Python does)."""
    return {
        p.name.id: _run_now(executor.evaluate(p.default, None, runtime.current()))
        for p in decl.params
        if p.default is not None
    }


def _run_now(coroutine: Any) -> Any:
    """Run a coroutine that never suspends (a constant expression) to its value."""
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return stop.value
    coroutine.close()
    raise AssertionError("a constant expression suspended")
