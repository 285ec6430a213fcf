"""AST -> Graph: machines as state diagrams, the rest as flowcharts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

from ..fmt.expressions import ExprPrinter
from ..syntax import ast
from ..syntax.states import Chart, chart_of
from .model import Graph

_text = ExprPrinter().text


# The checker's dataflow dependencies of `parallel` blocks (`Resolution.branch_deps`),
# while a build runs: a branch is drawn after the branches whose variables it reads.
_DEPS: ContextVar[Mapping[ast.Parallel, tuple[tuple[int, ...], ...]]] = ContextVar(
    "wfc_graph_deps", default=MappingProxyType({})
)


# The checker's machine shapes (`Resolution.charts`), while a build runs.
_CHARTS: ContextVar[Mapping[ast.Machine, Chart]] = ContextVar(
    "wfc_graph_charts", default=MappingProxyType({})
)


def build(
    module: ast.Module,
    name: str | None = None,
    branch_deps: Mapping[ast.Parallel, tuple[tuple[int, ...], ...]] | None = None,
    charts: Mapping[ast.Machine, Chart] | None = None,
) -> list[Graph]:
    """Graphs of the module's declarations (or of the one called `name`); with the
    checker's `branch_deps`, dataflow blocks are drawn as the DAG they run as."""
    token = _DEPS.set(branch_deps or {})
    charts_token = _CHARTS.set(charts or {})
    try:
        graphs = []
        for decl in module.decls:
            if isinstance(decl, (ast.Use, ast.ConstDecl, ast.PolicyDecl, ast.ErrorDecl)):
                continue
            if name is None or decl.name.id == name:
                graphs.append(_BUILDERS[type(decl)](decl))
        return graphs
    finally:
        _DEPS.reset(token)
        _CHARTS.reset(charts_token)


def machine_graph(decl: ast.Machine) -> Graph:
    """States as nodes (compound and parallel ones around their children), and one
    edge per transition, labelled with its event (or delay), guard and action."""
    chart = _CHARTS.get().get(decl) or chart_of(decl)
    graph = Graph(decl.name.id, "state")
    ids = _state_nodes(graph, chart)
    graph.initial = ids.get(chart.initial)
    graph.finals = [ids[path] for path, state in chart.states.items() if state.final]
    for path, state in chart.states.items():
        for t, label in _labelled_moves(state):
            if t.when is not None:
                label += f" [{_text(t.when)}]"
            if t.action is not None:
                label += f" / {_action(t.action)}"
            target = chart.targets.get(t.target) if t.target is not None else path
            if target in ids:
                graph.connect([ids[path]], ids[target], label)
    return graph


def _state_nodes(graph: Graph, chart: Chart) -> dict[str, str]:
    """A node per state (a history state drawn as H or H*); path -> node."""
    ids: dict[str, str] = {}
    starts: dict[str, str] = {}  # a compound state's node -> the path of its first state
    for path, state in chart.states.items():
        label = ("H*" if state.history == "deep" else "H") if state.history else state.name.id
        shape = "history" if state.history else "round"
        ids[path] = graph.node(label, shape, ids.get(path.rpartition(".")[0]))
        children = [child for child in state.states if child.history is None]
        if children:
            graph.containers[ids[path]] = "parallel" if state.parallel else "compound"
            if not state.parallel:
                starts[ids[path]] = chart.initials.get(path, f"{path}.{children[0].name.id}")
    graph.inner_initials = {node: ids[path] for node, path in starts.items() if path in ids}
    return ids


def _labelled_moves(state: ast.StateDecl) -> list[tuple[ast.Transition, str]]:
    moves = [(t, t.event.id) for t in state.transitions]
    moves += [(t, f"after {_text(t.delay)}") for t in state.delays if t.delay is not None]
    for invoke in state.invokes:
        moves += [(t, f"{t.event.id} of {_text(invoke.call)}") for t in (*invoke.done, *invoke.error)]
    return moves


def _action(action: ast.Action) -> str:
    return _text(action.call) if action.call is not None else "{ ... }"


def router_graph(decl: ast.Router) -> Graph:
    graph = Graph(decl.name.id, "flow")
    start = graph.node(
        f"router {decl.name.id}({', '.join(p.name.id for p in decl.params)}) {decl.strategy}", "decision"
    )
    routes = sorted(decl.routes, key=lambda r: 0)  # declaration order; labels carry priorities
    for position, route in enumerate(routes):
        name = route.name.id if route.name else f"route_{position}"
        label = name if route.when is None else f"{name}: {_text(route.when)}"
        if route.priority is not None:
            label += f" (priority {_text(route.priority)})"
        if route.weight is not None:
            label += f" (weight {_text(route.weight)})"
        graph.connect([start], _target(graph, route), label)
    if decl.default is not None:
        graph.connect([start], _target(graph, decl.default), "default", dashed=True)
    return graph


def _target(graph: Graph, route: ast.Route) -> str:
    if route.target is not None:
        return graph.node(_text(route.target), "round")
    node = graph.node("do", "round")
    _flow(graph, route.body or (), [node])
    return node


def workflow_graph(decl: ast.Workflow | ast.Saga) -> Graph:
    kind = "saga" if isinstance(decl, ast.Saga) else "workflow"
    graph = Graph(decl.name.id, "flow")
    start = graph.node(f"{kind} {decl.name.id}({', '.join(p.name.id for p in decl.params)})", "start")
    body = decl.body[1:] if ast.docstring(decl.body) is not None else decl.body
    ends = _flow(graph, body, [start])
    if ends:
        graph.connect(ends, graph.node("done", "end"))  # "end" is a Mermaid keyword
    return graph


def _flow(graph: Graph, body: tuple[ast.Stmt, ...], previous: list[str], label: str = "") -> list[str]:
    """Add `body` after the nodes in `previous` (the first edge labelled `label`);
    return the nodes that control leaves the body from."""
    for stmt in body:
        previous = _stmt(graph, stmt, previous, label)
        label = ""
    return previous


def _stmt(graph: Graph, stmt: ast.Stmt, previous: list[str], label: str = "") -> list[str]:
    """Draw one statement after `previous`; the nodes control leaves it from."""
    draw = _DRAW.get(type(stmt))
    if draw is not None:
        return draw(graph, stmt, previous, label)
    node = graph.node(_simple_label(stmt), "end" if isinstance(stmt, (ast.Return, ast.Fail)) else "box")
    graph.connect(previous, node, label)
    return [] if isinstance(stmt, (ast.Return, ast.Fail, ast.Break, ast.Continue)) else [node]


def _stage(graph: Graph, stmt: ast.Stage, previous: list[str], label: str) -> list[str]:
    title = f"stage {stmt.name.id}" + (f" when {_text(stmt.when)}" if stmt.when is not None else "")
    node = graph.node(title, "decision" if stmt.when is not None else "box")
    graph.connect(previous, node, label)
    ends = _flow(graph, stmt.body, [node])
    return ends + ([node] if stmt.when is not None else [])


def _if(graph: Graph, stmt: ast.If, previous: list[str], label: str) -> list[str]:
    ends: list[str] = []
    for position, branch in enumerate(stmt.branches):
        node = graph.node(_text(branch.test), "decision")
        graph.connect(previous, node, label if position == 0 else "no")
        ends += _flow(graph, branch.body, [node], "yes")
        previous = [node]
    if stmt.orelse is None:
        return ends + previous
    return ends + (_flow(graph, stmt.orelse, previous, "no") or [])


def _loop(graph: Graph, stmt: ast.For | ast.While | ast.Repeat, previous: list[str], label: str) -> list[str]:
    node = graph.node(_loop_label(stmt), "decision")
    graph.connect(previous, node, label)
    graph.connect(_flow(graph, stmt.body, [node]), node, "next", dashed=True)
    return [node]


def _parallel(graph: Graph, stmt: ast.Parallel, previous: list[str], label: str) -> list[str]:
    kind = "first" if stmt.first else "all" if stmt.quorum is None else "quorum"
    fork = graph.node("parallel" if kind == "all" else f"parallel {kind}", "decision")
    graph.connect(previous, fork, label)
    join = graph.node("join", "round")
    deps = _DEPS.get().get(stmt) or tuple(() for _ in stmt.body)
    ends: dict[int, list[str]] = {}

    def draw(position: int) -> list[str]:
        if position not in ends:  # its inputs first: the checker made sure there is no circle
            inputs = [end for needed in deps[position] for end in draw(needed)]
            ends[position] = _stmt(graph, stmt.body[position], inputs or [fork])
        return ends[position]

    for position in range(len(stmt.body)):
        draw(position)
    fed = {needed for needs in deps for needed in needs}
    for position in range(len(stmt.body)):
        if position not in fed:  # what no other branch waits for ends at the join
            graph.connect(ends[position], join)
    return [join]


def _select(graph: Graph, stmt: ast.Select, previous: list[str], label: str) -> list[str]:
    node = graph.node("select: the first to happen", "decision")
    graph.connect(previous, node, label)
    ends: list[str] = []
    for arm in stmt.arms:
        target = "" if arm.target is None else f"{arm.target.id} = "
        if arm.wait is not None:
            title = f"wait {_text(arm.wait)}"
        elif arm.signal is not None:
            title = f"{target}receive {arm.signal.id}"
        else:
            title = target + _text(arm.call)  # type: ignore[arg-type]
        head = graph.node(title, "round")
        graph.connect([node], head)
        ends += _flow(graph, arm.body, [head]) or [head]
    return ends


def _try(graph: Graph, stmt: ast.Try, previous: list[str], label: str) -> list[str]:
    node = graph.node("try", "box")
    graph.connect(previous, node, label)
    ends = _flow(graph, stmt.body, [node])
    for handler in stmt.handlers:
        title = "catch " + (", ".join(t.text for t in handler.types) or "any")
        catch = graph.node(title, "round")
        graph.connect([node], catch, "error", dashed=True)
        ends += _flow(graph, handler.body, [catch])
    return ends


def _step(graph: Graph, stmt: ast.Step, previous: list[str], label: str) -> list[str]:
    title = f"step {stmt.name.id + ' = ' if stmt.name else ''}{_text(stmt.call)}"
    node = graph.node(title)
    graph.connect(previous, node, label)
    if stmt.compensate is not None:
        undo = graph.node(f"compensate {_text(stmt.compensate)}", "round")
        graph.connect([node], undo, "on failure", dashed=True)
    return [node]


_DRAW: dict[type, Callable[[Graph, Any, list[str], str], list[str]]] = {
    ast.Stage: _stage,
    ast.If: _if,
    ast.For: _loop,
    ast.While: _loop,
    ast.Repeat: _loop,
    ast.Parallel: _parallel,
    ast.Select: _select,
    ast.Try: _try,
    ast.Step: _step,
}


def _loop_label(stmt: ast.For | ast.While | ast.Repeat) -> str:
    if isinstance(stmt, ast.For):
        prefix = f"{stmt.into.id} = " if stmt.into else ""
        where = f" where {_text(stmt.where)}" if stmt.where is not None else ""
        return f"{prefix}{'parallel ' if stmt.concurrent else ''}for {stmt.var.id} in {_text(stmt.iterable)}{where}"
    if isinstance(stmt, ast.While):
        return f"while {_text(stmt.test)}"
    return f"repeat until {_text(stmt.until)}"


def _simple_label(stmt: ast.Stmt) -> str:
    if isinstance(stmt, ast.Assign):
        return f"{stmt.target.id} = {_text(stmt.value)}"
    if isinstance(stmt, ast.Require):
        return f"require {stmt.source}"
    if isinstance(stmt, ast.Emit):
        return f"emit {stmt.topic.text}"
    if isinstance(stmt, ast.Return):
        return "return" if stmt.value is None else f"return {_text(stmt.value)}"
    if isinstance(stmt, ast.Receive):
        target = "" if stmt.target is None else f"{stmt.target.id} = "
        timeout = "" if stmt.timeout is None else f" timeout {_text(stmt.timeout)}"
        return f"{target}receive {stmt.signal.id}{timeout}"
    value = getattr(stmt, "value", None) or getattr(stmt, "duration", None)
    word = type(stmt).__name__.lower().replace("exprstmt", "")
    return (f"{word} {_text(value)}" if value is not None else word).strip()


_BUILDERS: dict[type, Callable[[Any], Graph]] = {
    ast.Machine: machine_graph,
    ast.Router: router_graph,
    ast.Workflow: workflow_graph,
    ast.Saga: workflow_graph,
}
