"""Where a statement stands, and the helpers that make diagnostics."""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Diagnostic, Span
from .scopes import Scope


def error(
    code: str, message: str, span: Span, help: str | None = None, witness: str | None = None
) -> Diagnostic:
    return Diagnostic(severity="error", code=code, message=message, span=span, help=help, witness=witness)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a statement stands: what `break`, `continue`, `return`, `yield` may do."""

    scope: Scope
    loop: str | None = None  # "loop", "item" or None
    may_return: bool = True
    may_yield: bool = False
    barrier: str | None = None  # why control cannot leave: "a parallel block"
    saga: bool = False  # saga steps may stand here


def warning(
    code: str, message: str, span: Span, help: str | None = None, witness: str | None = None
) -> Diagnostic:
    return Diagnostic(severity="warning", code=code, message=message, span=span, help=help, witness=witness)


def hint(code: str, message: str, span: Span, help: str | None = None) -> Diagnostic:
    """A suggestion, weaker than a warning: the code may well be right as it is."""
    return Diagnostic(severity="hint", code=code, message=message, span=span, help=help)
