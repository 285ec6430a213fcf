"""State machines in the interpreter: `runtime.Machine` subclasses built at load time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import runtime
from ..syntax import ast
from ..syntax.names import py_name
from ..syntax.states import assigned_fields
from .declarations import run_body
from .frames import MACHINE, Frame
from .signatures import signature_of
from .statements import Executor


def machine_class(
    executor: Executor,
    decl: ast.Machine,
    defaults: dict[str, Any],
    run_now: Callable[[Any], Any],
    module: str,
) -> type[runtime.Machine]:
    """A class with the same interface as the compiled one, and its name in `module`
    (what messages that name an instance's type say: `a order_wf.Order`)."""
    machine = _MachineBuilder(executor, decl, run_now).build(defaults)
    machine.__module__ = module
    return machine


class _MachineBuilder:
    """The guards, actions, delays and invocations of one machine, as the runtime's
    tables hold them: closures over the checked AST."""

    def __init__(self, executor: Executor, decl: ast.Machine, run_now: Callable[[Any], Any]) -> None:
        self.executor = executor
        self.decl = decl
        self.chart = executor.res.charts[decl]
        self.run_now = run_now
        self.params = [p.name.id for p in decl.params]
        self.fields = [item.name.id for item in decl.data]

    def build(self, defaults: dict[str, Any]) -> type[runtime.Machine]:
        decl, chart = self.decl, self.chart
        signature = signature_of(decl.params, defaults, returns=None)

        def __init__(self: runtime.Machine, *args: Any, **kwargs: Any) -> None:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            runtime.Machine.__init__(self, dict(bound.arguments))

        states = chart.states.items()
        attributes: dict[str, Any] = {
            "__init__": __init__,
            "__signature__": signature,
            "__doc__": decl.doc,
            "machine": decl.name.id,
            "initial": chart.initial,
            "finals": frozenset(path for path, s in states if s.final),
            "transitions": self.table(),
            "enter_actions": {p: tuple(map(self.action, s.enter)) for p, s in states if s.enter},
            "exit_actions": {p: tuple(map(self.action, s.exit)) for p, s in states if s.exit},
            "delays": {p: tuple(map(self.delay, s.delays)) for p, s in states if s.delays},
            "invokes": {p: tuple(map(self.invoke, s.invokes)) for p, s in states if s.invokes},
        }
        if decl.data:
            attributes["initial_data"] = self.initial_data
        if not chart.flat:
            attributes.update(self.shape())
        return type(py_name(decl.name.id), (runtime.Machine,), attributes)

    def table(self) -> dict[tuple[str, str], tuple[runtime.Transition, ...]]:
        """`on` transitions by (state path, event), in declaration order."""
        table: dict[tuple[str, str], list[ast.Transition]] = {}
        for path, state in self.chart.states.items():
            for t in state.transitions:
                table.setdefault((path, t.event.id), []).append(t)
        return {key: self.transitions(value) for key, value in table.items()}

    def shape(self) -> dict[str, Any]:
        """A statechart's states, in document order, and what kind each is."""
        states = self.chart.states.items()
        return {
            "states": tuple(self.chart.states),
            "initials": dict(self.chart.initials),
            "parallels": frozenset(p for p, s in states if s.parallel),
            "histories": {p: s.history == "deep" for p, s in states if s.history},
        }

    def frame(self, machine: runtime.Machine, ctx: dict, owner: ast.Node) -> Frame:
        values = {name: machine.params[py_name(name)] for name in self.params}
        values.update(machine.data)
        values["ctx"] = ctx
        values[MACHINE] = machine
        values.update((name, None) for name in self.executor.res.scope_locals.get(owner, ()))
        return Frame(values)

    @property
    def initial_data(self) -> Callable[[runtime.Machine], dict[str, Any]]:
        decl, executor, run_now, params = self.decl, self.executor, self.run_now, self.params

        def initial_data(machine: runtime.Machine) -> dict[str, Any]:
            values = Frame({name: machine.params[py_name(name)] for name in params})
            rt = runtime.current()
            return {item.name.id: run_now(executor.evaluate(item.value, values, rt)) for item in decl.data}

        return initial_data

    def pure(self, owner: ast.Node, expr: ast.Expr | None) -> Callable[[Any, dict], Any] | None:
        """A guard, or an `after`'s delay: evaluated at once, never suspending."""
        if expr is None:
            return None
        evaluate, frame, run_now = self.executor.evaluate, self.frame, self.run_now
        return lambda machine, ctx: run_now(evaluate(expr, frame(machine, ctx, owner), runtime.current()))

    def action(self, item: ast.Action | None) -> Callable[[Any, dict], Any] | None:
        if item is None:
            return None
        executor, frame = self.executor, self.frame
        assigned = assigned_fields(item, self.fields)

        async def run(machine: runtime.Machine, ctx: dict) -> None:
            rt = runtime.current()
            values = frame(machine, ctx, item)
            if item.call is not None:
                await executor.evaluate(item.call, values, rt)
            else:
                await run_body(executor, item.body or (), values, rt)
            for name in assigned:  # an action's assignments to data fields land together at its end
                machine.data[name] = values.vars[name]

        return run

    def delay(self, transition: ast.Transition) -> runtime.Delay:
        return runtime.Delay(self.pure(transition, transition.delay), self.transitions((transition,)))  # type: ignore[arg-type]

    def invoke(self, item: ast.Invoke) -> runtime.Invoke:
        executor, frame = self.executor, self.frame

        async def run(machine: runtime.Machine, ctx: dict) -> Any:
            return await executor.evaluate(item.call, frame(machine, ctx, item), runtime.current())

        return runtime.Invoke(run, self.transitions(item.done), self.transitions(item.error))

    def transitions(
        self, moves: tuple[ast.Transition, ...] | list[ast.Transition]
    ) -> tuple[runtime.Transition, ...]:
        targets = self.chart.targets
        return tuple(
            runtime.Transition(
                None if t.target is None else targets[t.target], self.pure(t, t.when), self.action(t.action)
            )
            for t in moves
        )
