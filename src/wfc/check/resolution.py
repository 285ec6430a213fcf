"""What the checker learned about a module: side tables keyed by AST node."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from ..runtime import ERROR_TYPES
from ..syntax import ast


class Kind(Enum):
    """What a name refers to."""

    LOCAL = "local"  # a parameter or a variable of the declaration or item scope
    CONST = "const"
    USE = "use"
    DECL = "declaration"
    BUILTIN = "builtin"
    ERROR = "error"  # one of the runtime's predefined error types
    EXCEPTION = "exception"  # a Python builtin exception type
    MACHINE = "machine"  # a state machine class of this module


class CallKind(Enum):
    BUILTIN = "builtin"  # a wf builtin function
    DECL = "declaration"  # a workflow of this module: awaited
    STEP = "step"  # a handler bound by `use`: events, await if awaitable, error note
    DYNAMIC = "dynamic"  # any other value: called, awaited if awaitable


BUILTIN_FUNCTIONS = (
    "len str int float bool list map keys values items range min max sum abs round "
    "lower upper strip split join chunks now uuid"
).split()
BUILTIN_TYPES = ("str", "int", "float", "bool", "list", "map", "any")
ERROR_NAMES = frozenset(ERROR_TYPES)


@dataclass(slots=True)
class Resolution:
    """The checked facts both backends need; the AST itself is never edited."""

    filename: str
    names: dict[ast.Name, Kind] = field(default_factory=dict)
    calls: dict[ast.Call, CallKind] = field(default_factory=dict)
    step_targets: dict[ast.Call, str] = field(default_factory=dict)
    handler_attrs: set[ast.Attr] = field(default_factory=set)  # `inv.reserve`: getattr
    scope_locals: dict[ast.Node, tuple[str, ...]] = field(default_factory=dict)
    item_scopes: set[ast.For] = field(default_factory=set)
    catch_kinds: dict[ast.Dotted, Kind] = field(default_factory=dict)
    uses: dict[str, ast.Use] = field(default_factory=dict)
    consts: dict[str, ast.ConstDecl] = field(default_factory=dict)
    decls: dict[str, ast.Declaration] = field(default_factory=dict)
    route_order: dict[ast.Router, tuple[ast.Route, ...]] = field(default_factory=dict)
    route_names: dict[ast.Route, str] = field(default_factory=dict)
    route_weights: dict[ast.Route, float] = field(default_factory=dict)
    step_names: dict[ast.Step, str] = field(default_factory=dict)
    machines: dict[str, ast.Machine] = field(default_factory=dict)

    def location(self, node: ast.Node) -> str:
        """`file.wf:line:col` of a node, as error notes and comments show it."""
        return f"{self.filename}:{node.span.line}:{node.span.column}"
