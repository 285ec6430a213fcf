"""`wfc diff`: what changed between two versions of a wf program, by meaning.

Both versions are parsed and checked; each is reduced to an *outline*, the items a
reader cares about (declarations and their signatures, bodies, saga steps, routes and
their order, machine states and transitions, named policies, consts, error types, `use`s), each
with a canonical text, so layout and comments never show up as changes. Then, for
every workflow, saga and router both versions declare, it says up to where a durable
run started under the old version can resume under the new one: a journal entry is
known by its handler call's `line:col` and target, so a run resumes while the calls it
has journaled are where they were (the check `Runtime.resume` makes when it replays).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .check import Checked, Resolution
from .check.resolution import CallKind
from .check.routing import step_label
from .fmt.expressions import ExprPrinter
from .syntax import ast
from .syntax.states import state_paths

_TEXT = ExprPrinter()


@dataclass(frozen=True, slots=True)
class Change:
    change: str  # "added", "removed", "changed", "reordered"
    item: str  # e.g. "route fast of pick"
    old: str | None
    new: str | None

    def line(self) -> str:
        sign = {"added": "+", "removed": "-"}.get(self.change, "~")
        if self.change == "added":
            return f"{sign} {self.item}: {self.new}" if self.new else f"{sign} {self.item}"
        if self.change == "removed":
            return f"{sign} {self.item}"
        return f"{sign} {self.item}: {self.old} -> {self.new}"


@dataclass(frozen=True, slots=True)
class Resumption:
    declaration: str
    resumes: str  # "all": every run resumes; "until": runs not past `until`; "none"
    until: str | None = None  # the first handler call that moved or changed

    def line(self) -> str:
        if self.resumes == "all":
            return f"resume: runs of {self.declaration} resume (its handler calls are where they were)"
        if self.resumes == "none":
            return (
                f"resume: runs of {self.declaration} that journaled a call are refused "
                f"({self.until} moved or changed)"
            )
        return (
            f"resume: runs of {self.declaration} resume until they reach {self.until}; "
            "runs past it are refused"
        )


def diff(old: Checked, new: Checked) -> tuple[list[Change], list[Resumption]]:
    """The changes from `old` to `new`, and how durable runs of `old` resume under `new`."""
    before, after = outline(old.module, old.resolution), outline(new.module, new.resolution)
    # The parts of a declaration that only one version has go with it, unlisted.
    alone = {
        item.split(" ", 1)[1]
        for item in before.keys() ^ after.keys()
        if item.split(" ", 1)[0] in _DECLARATION_KINDS
    }
    changes = [
        Change("removed", item, before[item], None)
        for item in before
        if item not in after and not _part_of(item, alone)
    ]
    for item, text in after.items():
        if item not in before:
            if not _part_of(item, alone):
                changes.append(Change("added", item, None, text))
        elif before[item] != text:
            changes.append(
                Change("reordered" if item.startswith("order of") else "changed", item, before[item], text)
            )
    return changes, resumptions(old, new)


_DECLARATION_KINDS = ("workflow", "saga", "router", "machine")


def _part_of(item: str, declarations: set[str]) -> bool:
    """Whether `item` belongs to (and is not itself) one of `declarations`."""
    return any(
        item.endswith(f" of {name}") or item.endswith(f"body of {kind} {name}")
        for name in declarations
        for kind in _DECLARATION_KINDS
    )


def outline(module: ast.Module, res: Resolution) -> dict[str, str]:
    """Every item of `module` with its canonical text, in source order."""
    items: dict[str, str] = {}
    for decl in module.decls:
        if isinstance(decl, ast.Use):
            items[f"use {decl.bound}"] = decl.path.text
        elif isinstance(decl, ast.ConstDecl):
            items[f"const {decl.name.id}"] = _TEXT.text(decl.value)
        elif isinstance(decl, ast.PolicyDecl):
            items[f"policy {decl.name.id}"] = _TEXT.policies(decl.policies)
        elif isinstance(decl, ast.ErrorDecl):
            items[f"error {decl.name.id}"] = "WorkflowFailed" if decl.parent is None else decl.parent.id
        elif isinstance(decl, ast.Machine):
            _machine(decl, items)
        else:
            _declaration(decl, res, items)
    return items


def _declaration(decl: ast.Workflow | ast.Saga | ast.Router, res: Resolution, items: dict[str, str]) -> None:
    kind = type(decl).__name__.lower()
    name = decl.name.id
    with_policies = f" with {_TEXT.policies(decl.policies)}" if decl.policies else ""
    returns = f" -> {decl.returns.text}" if decl.returns is not None else ""
    items[f"{kind} {name}"] = f"({_params(decl.params)}){returns}{with_policies}"
    if isinstance(decl, ast.Router):
        _router(decl, res, items)
        return
    if isinstance(decl, ast.Saga):
        _saga_steps(decl, res, items)
    items[f"body of {kind} {name}"] = f"{len(decl.body)} statements, {_digest(decl.body)}"


def _router(decl: ast.Router, res: Resolution, items: dict[str, str]) -> None:
    name = decl.name.id
    items[f"strategy of {name}"] = decl.strategy
    routes = [*decl.routes, *([decl.default] if decl.default else [])]
    for route in routes:
        items[f"route {res.route_names.get(route, '?')} of {name}"] = _route(route)
    items[f"order of routes of {name}"] = ", ".join(res.route_names.get(r, "?") for r in routes)


def _saga_steps(decl: ast.Saga, res: Resolution, items: dict[str, str]) -> None:
    name = decl.name.id
    steps = [node for node in ast.walk(decl.body) if isinstance(node, ast.Step)]
    for step in steps:
        undo = (
            "none"
            if step.compensate_none
            else "-"
            if step.compensate is None
            else _TEXT.text(step.compensate)
        )
        items[f"step {res.step_names.get(step) or step_label(step.call)} of {name}"] = (
            f"{_TEXT.text(step.call)} compensate {undo}"
        )
    items[f"order of steps of {name}"] = ", ".join(
        res.step_names.get(step) or step_label(step.call) for step in steps
    )


def _machine(decl: ast.Machine, items: dict[str, str]) -> None:
    name = decl.name.id
    items[f"machine {name}"] = f"({_params(decl.params)}) initial " + ", ".join(
        ident.id for ident in decl.initial
    )
    if decl.data:
        items[f"data of {name}"] = ", ".join(f"{f.name.id}: {_TEXT.text(f.value)}" for f in decl.data)
    for path, state in state_paths(decl.states):
        kind = "final " if state.final else "parallel " if state.parallel else ""
        kind += f"{state.history} history " if state.history else ""
        initial = f" initial {state.initial[0].id}" if state.initial else ""
        items[f"state {path} of {name}"] = (
            kind + f"enter {_actions(state.enter)} exit {_actions(state.exit)}" + initial
        )
        for transition in (*state.transitions, *state.delays):
            event = f"after {_TEXT.text(transition.delay)}" if transition.delay else transition.event.id
            _transition(items, f"{path} --{event}-->", transition, name)
        for invoke in state.invokes:
            call = _TEXT.text(invoke.call)
            items[f"invoke {call} in {path} of {name}"] = "-"
            for arm in (*invoke.done, *invoke.error):
                _transition(items, f"{path} --{arm.event.id} of {call}-->", arm, name)


def _transition(items: dict[str, str], head: str, transition: ast.Transition, name: str) -> None:
    guard = f" when {_TEXT.text(transition.when)}" if transition.when else ""
    action = f" do {_actions((transition.action,))}" if transition.action else ""
    target = transition.target.id if transition.target is not None else "(stays)"
    items[f"transition {head} {target} of {name}"] = f"{guard}{action}".strip() or "-"


def _actions(actions: tuple[ast.Action, ...]) -> str:
    if not actions:
        return "-"
    return "; ".join(_TEXT.text(a.call) if a.call is not None else f"{{{_digest(a.body)}}}" for a in actions)


def _route(route: ast.Route) -> str:
    parts = [f"when {_TEXT.text(route.when)}" if route.when else "always"]
    if route.priority is not None:
        parts.append(f"priority {_TEXT.text(route.priority)}")
    if route.weight is not None:
        parts.append(f"weight {_TEXT.text(route.weight)}")
    parts.append(
        f"-> {_TEXT.text(route.target)}" if route.target is not None else f"do {{{_digest(route.body)}}}"
    )
    return " ".join(parts)


def _params(params: tuple[ast.Param, ...]) -> str:
    return ", ".join(
        param.name.id
        + (f": {param.type.text}" if param.type else "")
        + (f" = {_TEXT.text(param.default)}" if param.default else "")
        for param in params
    )


def _digest(tree: Any) -> str:
    """A short, layout-free fingerprint of statements (shown when they changed)."""
    import hashlib

    return "#" + hashlib.sha256(ast.dump(tree).encode()).hexdigest()[:8]


# ---- durable runs --------------------------------------------------------------------
def journaled_calls(decl: ast.Node, res: Resolution) -> list[tuple[int, int, str]]:
    """The handler calls of `decl` in source order: (line, column, target), what a
    journal entry of a step is known by (with the file name, which a deploy keeps)."""
    calls = []
    for node in ast.walk(decl):
        if isinstance(node, ast.Call) and res.calls.get(node) is CallKind.STEP:
            calls.append((node.span.line, node.span.column, step_label(node)))
    return calls


def resumptions(old: Checked, new: Checked) -> list[Resumption]:
    before = {d.name.id: d for d in old.module.decls if isinstance(d, (ast.Workflow, ast.Saga, ast.Router))}
    after = {d.name.id: d for d in new.module.decls if isinstance(d, (ast.Workflow, ast.Saga, ast.Router))}
    found = []
    for name, decl in before.items():
        if name not in after:
            continue
        old_calls = journaled_calls(decl, old.resolution)
        new_calls = journaled_calls(after[name], new.resolution)
        same = 0
        while same < min(len(old_calls), len(new_calls)) and old_calls[same] == new_calls[same]:
            same += 1
        if same == len(old_calls):
            found.append(Resumption(name, "all"))
        else:
            line, column, target = old_calls[same]
            where = f"{target} at {line}:{column}"
            found.append(Resumption(name, "none" if same == 0 else "until", where))
    return found


def as_json(changes: list[Change], resumes: list[Resumption]) -> dict[str, Any]:
    return {
        "changes": [{"change": c.change, "item": c.item, "old": c.old, "new": c.new} for c in changes],
        "resume": [{"declaration": r.declaration, "resumes": r.resumes, "until": r.until} for r in resumes],
    }
