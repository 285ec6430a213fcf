"""Where a statement stands (and, for the checker's modules, the diagnostic makers)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..diagnostics import Label, error, hint, warning
from ..syntax import ast
from .scopes import Scope

__all__ = ["Barrier", "Label", "Loop", "Place", "error", "hint", "warning"]


class Loop(Enum):
    """The loop a statement stands in, innermost."""

    LOOP = "loop"  # `break` and `continue` act on it
    ITEM = "item"  # an item body of a parallel or assigned `for`: `continue` only


class Barrier(Enum):
    """What control cannot leave (the value reads in a message: "cannot leave ...")."""

    PARALLEL = "a parallel block"
    STAGE = "a stage with policies"


@dataclass(frozen=True, slots=True)
class Place:
    """Where a statement stands: what `break`, `continue`, `return`, `yield` may do."""

    scope: Scope
    loop: Loop | None = None
    may_return: bool = True
    may_yield: bool = False
    barrier: Barrier | None = None  # why control cannot leave
    saga: bool = False  # saga steps may stand here
    caught: ast.Catch | None = None  # the innermost `catch` around: what `fail` alone raises
