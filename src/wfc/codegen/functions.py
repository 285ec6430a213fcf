"""The functions codegen writes: what each is for, and what it tracks while written."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class FunctionKind(Enum):
    """What a generated function is for."""

    WORKFLOW = "workflow"
    SAGA = "saga"
    ROUTER = "router"
    ROUTE = "route"  # a route's `do { }` target
    BRANCH = "branch"  # a branch of a parallel block
    ITEM = "item"  # an item of a `for` that maps or runs in parallel
    STAGE = "stage"  # the body of a stage with policies
    UNDO = "undo"  # a saga step's compensation
    ACTION = "action"  # a machine's action


@dataclass(slots=True)
class GeneratedFunction:
    """One generated function: a workflow, a parallel branch or a map item."""

    kind: FunctionKind
    name: str  # the declaration's name, for its end event
    end_event: str | None = None  # "workflow.end" or "saga.end" where `return` ends one
    stages: list[str] = field(default_factory=list)  # stages open in this function
    loop_marks: list[int] = field(default_factory=list)  # len(stages) at each loop
    try_depth: int = 0  # how many `try` bodies of this function enclose the code

    def may_observe_failed_assignment(self) -> bool:
        """Whether code could read a variable after a step assigning it failed.

        Only a `catch` in this function, a concurrently running parallel
        branch, or the next attempt of a stage with policies could; elsewhere a
        step may assign its variable directly.
        """
        return self.try_depth > 0 or self.kind in (FunctionKind.BRANCH, FunctionKind.STAGE)
