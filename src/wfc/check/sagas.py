"""What a saga leaves undone: findings on its steps and compensations.

- W0170: a step without `compensate` followed by a step that can fail: if the later
  step fails, the earlier one's effect stays (`compensate none` says there is none);
- W0171: a compensation that calls its own step's handler does it again, not undo it;
- W0172: a compensation that reads a variable assigned only after its step (it is
  evaluated with the variables as they stood when the step finished);
- H0173: steps that retry while no compensation does: a compensation that fails once
  leaves the effect in place.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..diagnostics import Diagnostic
from ..syntax import ast
from .places import hint, warning
from .resolution import Resolution
from .routing import step_label


def check_sagas(module: ast.Module, res: Resolution) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for decl in module.decls:
        if isinstance(decl, ast.Saga):
            found.extend(_saga(decl, res))
    return found


def _saga(saga: ast.Saga, res: Resolution) -> list[Diagnostic]:
    statements = [node for node in ast.walk(saga.body) if isinstance(node, _STATEMENTS)]
    steps = [node for node in statements if isinstance(node, ast.Step)]
    first_assigned = _first_assignments(saga, statements)
    found: list[Diagnostic] = []
    for number, step in enumerate(steps):
        label = res.step_names.get(step) or step_label(step.call)
        found.extend(_left_undone(step, label, steps[number + 1 :], res))
        if step.compensate is not None:
            found.extend(_repeats_its_step(step, label))
            found.extend(_late_reads(step, label, statements.index(step), first_assigned))
    found.extend(_unretried_compensations(saga, steps, res))
    return found


def _left_undone(step: ast.Step, label: str, later: list[ast.Step], res: Resolution) -> list[Diagnostic]:
    if step.compensate is not None or step.compensate_none or not later:
        return []
    return [
        warning(
            "W0170",
            f"if `{res.step_names.get(later[0]) or step_label(later[0].call)}` fails, "
            f"`{label}` is not undone",
            step.span,
            "add `compensate CALL` to undo it, or `compensate none` if it has no effect to undo",
        )
    ]


def _repeats_its_step(step: ast.Step, label: str) -> list[Diagnostic]:
    assert step.compensate is not None
    if not step_label(step.compensate) == step_label(step.call) != "step":
        return []
    return [
        warning(
            "W0171",
            f"the compensation of `{label}` calls {step_label(step.call)}, its own handler",
            step.compensate.span,
            "a compensation undoes the step's effect: call the handler that reverses it",
        )
    ]


def _unretried_compensations(saga: ast.Saga, steps: list[ast.Step], res: Resolution) -> list[Diagnostic]:
    compensations = [step.compensate for step in steps if step.compensate is not None]
    if (
        not compensations
        or not any(_retries(step.call, res) for step in steps)
        or any(_retries(compensation, res) for compensation in compensations)
    ):
        return []
    return [
        hint(
            "H0173",
            f"the steps of saga `{saga.name.id}` retry, its compensations do not",
            compensations[0].span,
            "a compensation that fails once leaves the effect in place: give it a retry "
            "(`compensate CALL with retry(...)`)",
        )
    ]


# The statements a saga's body walks through, in source order (not expressions).
_STATEMENTS = (ast.Assign, ast.Step, ast.For, ast.Receive)


def _first_assignments(saga: ast.Saga, statements: Sequence[ast.Node]) -> dict[str, int]:
    """Each variable's first assignment, by its index in `statements` (parameters: -1)."""
    first = {param.name.id: -1 for param in saga.params}
    for index, stmt in enumerate(statements):
        for name in _assigned(stmt):
            first.setdefault(name, index)
    return first


def _assigned(stmt: ast.Node) -> list[str]:
    if isinstance(stmt, ast.Assign):
        return [stmt.target.id]
    if isinstance(stmt, ast.Step) and stmt.name is not None:
        return [stmt.name.id]
    if isinstance(stmt, ast.Receive) and stmt.target is not None:
        return [stmt.target.id]
    if isinstance(stmt, ast.For):
        return [stmt.var.id] + ([stmt.into.id] if stmt.into is not None else [])
    return []


def _late_reads(step: ast.Step, label: str, index: int, first_assigned: dict[str, int]) -> list[Diagnostic]:
    assert step.compensate is not None
    found = []
    reported: set[str] = set()
    for node in ast.walk(step.compensate):
        if isinstance(node, ast.Name) and first_assigned.get(node.id, -1) > index and node.id not in reported:
            reported.add(node.id)
            found.append(
                warning(
                    "W0172",
                    f"the compensation of `{label}` reads `{node.id}`, assigned only after the step",
                    node.span,
                    "a compensation sees the variables as they were when its step finished: pass "
                    "what it needs from the step's own result or from values set before it",
                )
            )
    return found


def _retries(call: ast.Expr, res: Resolution) -> bool:
    """Whether `call` carries a retry policy, itself or through a named policy."""
    if not isinstance(call, ast.Guarded):
        return False
    for use in call.policies:
        if use.name.id == "retry":
            return True
        named = res.policies.get(use.name.id)
        if (
            use.args is None
            and named is not None
            and any(inner.name.id == "retry" for inner in named.policies)
        ):
            return True
    return False
