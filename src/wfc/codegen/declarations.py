"""Workflows, routers and sagas -> `async def` functions."""

from __future__ import annotations

from ..runtime import SAGA, WORKFLOW
from ..syntax import ast
from ..syntax.names import py_literal, py_name
from .functions import FunctionKind, GeneratedFunction
from .statements import StmtEmitter

_TYPES = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list[_wf.Value]",
    "map": "dict[str, _wf.Value]",
    "any": "_wf.Value",
    "none": "None",
}


def emit_declaration(emitter: StmtEmitter, decl: ast.Declaration) -> None:
    out = emitter.out
    params = ", ".join(param_code(emitter, param) for param in decl.params)
    name = py_name(decl.name.id)
    if decl in emitter.guard_names:
        name = emit_guarded_entry(emitter, decl, params)
    out.line(f"async def {name}({params}) -> {returns_code(emitter, decl)}:")
    with out.indent():
        body = decl.routes if isinstance(decl, ast.Router) else decl.body
        if isinstance(decl, ast.Router):
            emit_router(emitter, decl)
        elif isinstance(decl, ast.Saga):
            emit_saga(emitter, decl, prologue(emitter, decl, body))
        else:
            emit_workflow(emitter, decl, prologue(emitter, decl, body))


def emit_guarded_entry(emitter: StmtEmitter, decl: ast.Declaration, params: str) -> str:
    """`async def w(...)` that runs the body under the declaration's policies;
    returns the name of the function that holds the body."""
    out = emitter.out
    body = f"_wf_body_{py_name(decl.name.id)}"
    out.line(f"async def {py_name(decl.name.id)}({params}) -> {returns_code(emitter, decl)}:")
    with out.indent():
        prologue(emitter, decl, getattr(decl, "body", ()), with_locals=False)
        emitter.frame = GeneratedFunction(kind=FunctionKind.WORKFLOW, name=decl.name.id)
        emitter.guarded_entry(decl, body)
    out.line()
    out.line()
    return body


def prologue(emitter: StmtEmitter, decl: ast.Declaration, body, with_locals: bool = True) -> tuple:
    """Docstring, runtime, observers and locals; returns the body after the docstring."""
    out = emitter.out
    doc = ast.declaration_doc(decl)
    if doc is not None:
        out.line(py_literal(doc))
    if ast.docstring(body) is not None:
        body = body[1:]
    out.line("_rt = _wf.current()")
    out.line("_obs = _rt.observers  # the live list: observers added later are seen")
    if with_locals:
        emitter.declare_locals(emitter.res.scope_locals.get(decl, ()))
    return body


def emit_workflow(emitter: StmtEmitter, decl: ast.Workflow, body: tuple[ast.Stmt, ...]) -> None:
    out = emitter.out
    name = py_literal(decl.name.id)
    emitter.frame = GeneratedFunction(kind=FunctionKind.WORKFLOW, name=decl.name.id, end_event=WORKFLOW.end)
    out.line("try:")
    with out.indent():
        out.observed(f"_rt.event({py_literal(WORKFLOW.start)}, {name})")
        emitter.block(body)
        if not ends_with_return(body):
            emitter.exit_events([], workflow=True)
    out.line("except Exception as _wf_e:")
    with out.indent():
        out.line(f"_rt.failed({py_literal(WORKFLOW.error)}, {name}, _wf_e)")
        out.line("raise")


def emit_saga(emitter: StmtEmitter, decl: ast.Saga, body: tuple[ast.Stmt, ...]) -> None:
    out = emitter.out
    emitter.frame = GeneratedFunction(kind=FunctionKind.SAGA, name=decl.name.id, end_event=SAGA.end)
    out.line("_wf_done: list[_wf.Compensation] = []  # (step, compensation, its arguments)")
    out.line("_wf_step: str | None = None  # the step in progress")
    unwind = emitter.res.unwinds.get(decl)
    failed_step = unwind is not None and unwind.failed_step
    if failed_step:
        out.line("_wf_failing: _wf.Compensation | None = None  # undoes the step in progress")
    out.observed(f"_rt.event({py_literal(SAGA.start)}, {py_literal(decl.name.id)})")
    out.line("try:")
    with out.indent():
        emitter.block(body)
        if not ends_with_return(body):
            emitter.exit_events([], workflow=True)
    out.line("except BaseException as _wf_e:  # cancellations unwind too")
    with out.indent():
        options = ", _wf_failing" if failed_step else ""
        options += ", stop_on_error=True" if unwind is not None and unwind.stop_on_error else ""
        out.line(f"await _wf.unwind(_rt, {py_literal(decl.name.id)}, _wf_step, _wf_done, _wf_e{options})")
        out.line("raise  # not reached: unwind raises")


def emit_router(emitter: StmtEmitter, decl: ast.Router) -> None:
    out = emitter.out
    prologue(emitter, decl, ())
    emitter.frame = GeneratedFunction(kind=FunctionKind.ROUTER, name=decl.name.id)
    order = emitter.res.route_order[decl]
    if decl.strategy == "all":
        emit_all_routes(emitter, decl, order)
        return
    if decl.strategy == "weighted":
        weights = ", ".join(weight_code(emitter, route) for route in order)
        choice = emitter.temps.new("choice")
        out.line(f"{choice} = _wf.pick_weighted(_rt, [{weights}])")
        for position, route in enumerate(order):
            out.line(f"if {choice} == {position}:")
            with out.indent():
                emit_route_return(emitter, decl, route)
    else:
        for route in order:
            if route.when is None:
                emit_route_return(emitter, decl, route)
                return  # the routes after it are unreachable (the checker warns)
            out.line(f"if {emitter.expr(route.when)}:")
            with out.indent():
                emit_route_return(emitter, decl, route)
    if decl.default is not None:
        emit_route_return(emitter, decl, decl.default)
    else:
        out.line("return None")


def weight_code(emitter: StmtEmitter, route: ast.Route) -> str:
    weight = py_literal(emitter.res.route_weights[route])
    return weight if route.when is None else f"{weight} if {emitter.sub(route.when, 1)} else 0"


def emit_all_routes(emitter: StmtEmitter, decl: ast.Router, order: tuple[ast.Route, ...]) -> None:
    """Every condition first, then the targets of the matching routes in order."""
    out = emitter.out
    matched: list[str | None] = []
    for route in order:
        if route.when is None:
            matched.append(None)
            continue
        flag = emitter.temps.new("matched")
        out.line(f"{flag} = {emitter.expr(route.when)}")
        matched.append(flag)
    results = emitter.temps.new("results")
    out.line(f"{results}: list[_wf.Value] = []")
    for route, matched_flag in zip(order, matched):
        if matched_flag is None:
            emit_route_value(emitter, decl, route, f"{results}.append")
            continue
        out.line(f"if {matched_flag}:")
        with out.indent():
            emit_route_value(emitter, decl, route, f"{results}.append")
    if decl.default is not None and None not in matched:
        flags = [flag for flag in matched if flag is not None]
        out.line(f"if not ({' or '.join(flags)}):" if flags else "if True:")
        with out.indent():
            emit_route_value(emitter, decl, decl.default, f"{results}.append")
    out.line(f"return {results}")


def emit_route_return(emitter: StmtEmitter, decl: ast.Router, route: ast.Route) -> None:
    emit_route_value(emitter, decl, route, "return ")


def emit_route_value(emitter: StmtEmitter, decl: ast.Router, route: ast.Route, use: str) -> None:
    """The `route` event, then the target's value handed to `use` (`return `, `x.append`)."""
    out = emitter.out
    name = emitter.res.route_names[route]
    out.observed(f'_rt.event("route", {py_literal(decl.name.id)}, {{"route": {py_literal(name)}}})')
    if route.target is not None:
        code = emitter.value_code(route.target)
    else:
        assert route.body is not None
        function = emitter.temps.new("route")
        emitter.function(f"async def {function}() -> _wf.Value:", FunctionKind.ROUTE, route, route.body)
        code = f"await {function}()"
    out.line(f"{use}{code}" if use.endswith(" ") else f"{use}({code})")


def ends_with_return(body: tuple[ast.Stmt, ...]) -> bool:
    return bool(body) and isinstance(body[-1], ast.Return)


def type_code(declared: str) -> str:
    """A wf type as the annotation Python's type checkers read: `map?` is
    `dict[str, _wf.Value] | None`; a dotted type names the class."""
    optional = declared.endswith("?")
    head, *rest = declared.rstrip("?").split(".")
    code = (_TYPES.get(head) if not rest else None) or ".".join([py_name(head), *rest])
    return f"{code} | None" if optional else code


def returns_code(emitter: StmtEmitter, decl: ast.Declaration) -> str:
    return type_code(emitter.res.return_types.get(decl, "any"))


def param_code(emitter: StmtEmitter, param: ast.Param) -> str:
    code = py_name(param.name.id)
    if param.type is not None and param.type.text in emitter.res.machines:
        code += f': "{py_name(param.type.text)}"'  # a machine's class may be defined further down
    else:
        code += f": {type_code(param.type.text) if param.type is not None else '_wf.Value'}"
    if param.default is not None:
        code += f" = {emitter.expr(param.default)}"
    return code
