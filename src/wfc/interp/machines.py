"""State machines in the interpreter: `runtime.Machine` subclasses built at load time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import runtime
from ..syntax import ast
from ..syntax.names import py_name
from .declarations import run_body
from .frames import Frame
from .signatures import signature_of
from .statements import Executor


def machine_class(
    executor: Executor, decl: ast.Machine, defaults: dict[str, Any], run_now: Callable[[Any], Any]
) -> type[runtime.Machine]:
    """A class with the same interface as the compiled one."""
    params = [p.name.id for p in decl.params]
    signature = signature_of(decl.params, defaults, returns=None)

    def __init__(self: runtime.Machine, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        runtime.Machine.__init__(self, dict(bound.arguments))

    def frame(machine: runtime.Machine, ctx: dict, owner: ast.Node) -> Frame:
        values = {name: machine.params[py_name(name)] for name in params}
        values["ctx"] = ctx
        values.update((name, None) for name in executor.res.scope_locals.get(owner, ()))
        return Frame(values)

    def guard(transition: ast.Transition):
        when = transition.when
        if when is None:
            return None
        return lambda machine, ctx: run_now(
            executor.evaluate(when, frame(machine, ctx, transition), runtime.current())
        )

    def action(item: ast.Action | None):
        if item is None:
            return None

        async def run(machine: runtime.Machine, ctx: dict) -> None:
            rt = runtime.current()
            if item.call is not None:
                await executor.evaluate(item.call, frame(machine, ctx, item), rt)
            else:
                await run_body(executor, item.body or (), frame(machine, ctx, item), rt)

        return run

    transitions: dict[tuple[str, str], list[runtime.Transition]] = {}
    for state in decl.states:
        for t in state.transitions:
            transitions.setdefault((state.name.id, t.event.id), []).append(
                runtime.Transition(t.target.id, guard(t), action(t.action))
            )
    return type(
        py_name(decl.name.id),
        (runtime.Machine,),
        {
            "__init__": __init__,
            "__signature__": signature,
            "__doc__": decl.doc,
            "machine": decl.name.id,
            "initial": decl.initial[0].id,
            "finals": frozenset(s.name.id for s in decl.states if s.final),
            "transitions": {key: tuple(value) for key, value in transitions.items()},
            "enter_actions": {s.name.id: tuple(map(action, s.enter)) for s in decl.states if s.enter},
            "exit_actions": {s.name.id: tuple(map(action, s.exit)) for s in decl.states if s.exit},
        },
    )
