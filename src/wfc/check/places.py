"""Where a statement stands, and the helpers that make diagnostics."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..diagnostics import Diagnostic, Span
from .scopes import Scope


def error(
    code: str, message: str, span: Span, help: str | None = None, witness: str | None = None
) -> Diagnostic:
    return Diagnostic(severity="error", code=code, message=message, span=span, help=help, witness=witness)


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


def warning(
    code: str, message: str, span: Span, help: str | None = None, witness: str | None = None
) -> Diagnostic:
    return Diagnostic(severity="warning", code=code, message=message, span=span, help=help, witness=witness)


def hint(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    """A suggestion, weaker than a warning: the code may well be right as it is."""
    return Diagnostic(severity="hint", code=code, message=message, span=span, help=help)
