"""The Python signature of an interpreted workflow, router, saga or machine: the same
names, defaults and annotations as the compiled one's, so callers cannot tell them apart."""

from __future__ import annotations

import inspect
from typing import Any

from ..syntax import ast
from ..syntax.names import py_name

# A declared parameter type as the compiled code annotates it (`codegen.declarations._TYPES`);
# a dotted type (a class of a handler module) is annotated Any here.
_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list[Any],
    "map": dict[str, Any],
    "any": Any,
    "none": None,
}


def annotation_of(declared: str) -> Any:
    """A wf type (`str`, `map?`, a dotted type) as the compiled code's annotation evaluates."""
    optional = declared.endswith("?")
    base = Any if "." in declared else _TYPES.get(declared.rstrip("?"), Any)
    return base | None if optional and base is not Any else base


def signature_of(
    params: tuple[ast.Param, ...], defaults: dict[str, Any], returns: Any = Any
) -> inspect.Signature:
    """`defaults` holds the evaluated default of each parameter that has one, by wf name."""
    return inspect.Signature(
        [
            inspect.Parameter(
                py_name(param.name.id),
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=defaults.get(param.name.id, inspect.Parameter.empty),
                annotation=_annotation(param.type),
            )
            for param in params
        ],
        return_annotation=returns,
    )


def _annotation(declared: ast.Dotted | None) -> Any:
    return Any if declared is None else annotation_of(declared.text)
