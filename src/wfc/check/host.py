"""What the checker's parts need from the `Resolver` that hosts them.

`RoutingChecks`, `MachineChecks` and `PolicyChecks` are mixed into the Resolver;
each derives from `CheckerHost`, so what a part calls on its host is declared here,
typed, and a host that lacks one fails when it is created, not in the middle of a check.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable

from ..diagnostics import Diagnostic
from ..syntax import ast
from .places import Place
from .resolution import Kind, PolicySpec, Resolution
from .scopes import Scope


class CheckerHost(ABC):
    res: Resolution
    report: Callable[[Diagnostic], None]
    _named: dict[str, tuple[PolicySpec, ...]]  # a named policy's specs, once checked
    _overlaps: set[ast.Dotted]  # `on` types reported as retried twice (E0193), once each

    @abstractmethod
    def parameters(self, decl: ast.Declaration | ast.Machine) -> Scope:
        """The scope of a declaration's parameters (reporting duplicates)."""

    @abstractmethod
    def scope(self, scope: Scope, body: tuple[ast.Stmt, ...]) -> None:
        """Collect the variables a body assigns into `scope`."""

    @abstractmethod
    def block(self, body: Iterable[ast.Stmt], place: Place) -> None:
        """Check the statements of a body standing at `place`."""

    @abstractmethod
    def expr(self, expr: ast.Expr, scope: Scope | None) -> None:
        """Resolve the names of an expression (`scope` None: a constant context)."""

    @abstractmethod
    def lookup(self, name: str, scope: Scope | None) -> Kind | None:
        """What a name refers to from `scope`, or None if nothing."""

    @abstractmethod
    def is_handler(self, expr: ast.Expr) -> bool:
        """Whether `expr` is a `use`-bound name or a plain attribute chain of one."""

    @abstractmethod
    def exception_type(self, dotted: ast.Dotted) -> None:
        """Check a name used as an error type."""

    @abstractmethod
    def guard_site(
        self, site: ast.Node, uses: tuple[ast.PolicyUse, ...], scope: Scope | None, target: str, step: bool
    ) -> None:
        """Check the policies of a call, stage or declaration into one GuardSpec."""
