"""Running workflows, routers and sagas, as the compiled functions do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from .. import runtime
from ..runtime import SAGA, WORKFLOW, Runtime
from ..syntax import ast
from .frames import Frame, Return
from .statements import Executor


async def run_body(executor: Executor, body: tuple[ast.Stmt, ...], frame: Frame, rt: Runtime) -> Any:
    """Run statements until they end or `return`; the returned value."""
    signal = await executor.block(body, frame, rt)
    return signal.value if isinstance(signal, Return) else None


async def run_workflow(executor: Executor, decl: ast.Workflow, frame: Frame, rt: Runtime) -> Any:
    name = decl.name.id
    WORKFLOW.started(rt, name)
    try:
        result = await run_body(executor, decl.body, frame, rt)
    except Exception as exc:
        WORKFLOW.failed(rt, name, exc)
        raise
    WORKFLOW.ended(rt, name)
    return result


async def run_saga(executor: Executor, decl: ast.Saga, frame: Frame, rt: Runtime) -> Any:
    unwind = executor.res.unwinds.get(decl)
    saga = frame.saga = runtime.Saga(
        rt, decl.name.id, stop_on_error=unwind is not None and unwind.stop_on_error
    )
    SAGA.started(rt, decl.name.id)
    try:
        result = await run_body(executor, decl.body, frame, rt)
    except BaseException as exc:  # cancellations unwind too
        await saga.unwind(exc)
    SAGA.ended(rt, decl.name.id)
    return result


async def run_router(executor: Executor, decl: ast.Router, frame: Frame, rt: Runtime) -> Any:
    order = executor.res.route_order[decl]
    if decl.strategy == "all":
        return await _all_routes(executor, decl, order, frame, rt)
    if decl.strategy == "weighted":
        weights = []
        for route in order:
            matched = route.when is None or await executor.evaluate(route.when, frame, rt)
            weights.append(executor.res.route_weights[route] if matched else 0)
        choice = runtime.pick_weighted(rt, weights)
        if choice is not None:
            return await _take(executor, decl, order[choice], frame, rt)
    else:
        for route in order:
            if route.when is None or await executor.evaluate(route.when, frame, rt):
                return await _take(executor, decl, route, frame, rt)
    if decl.default is not None:
        return await _take(executor, decl, decl.default, frame, rt)
    return None


async def _all_routes(
    executor: Executor, decl: ast.Router, order: tuple[ast.Route, ...], frame: Frame, rt: Runtime
) -> list[Any]:
    matched = [route.when is None or await executor.evaluate(route.when, frame, rt) for route in order]
    results = [await _take(executor, decl, route, frame, rt) for route, hit in zip(order, matched) if hit]
    if decl.default is not None and not any(matched):
        results.append(await _take(executor, decl, decl.default, frame, rt))
    return results


async def _take(executor: Executor, decl: ast.Router, route: ast.Route, frame: Frame, rt: Runtime) -> Any:
    if rt.observers:
        rt.event("route", decl.name.id, {"route": executor.res.route_names[route]})
    if route.target is not None:
        return await executor.evaluate(route.target, frame, rt)
    assert route.body is not None
    names = executor.res.scope_locals.get(route, ())
    return await run_body(executor, route.body, Frame({n: None for n in names}, frame), rt)


RUNNERS: dict[type, Callable[..., Awaitable[Any]]] = {
    ast.Workflow: run_workflow,
    ast.Router: run_router,
    ast.Saga: run_saga,
}
