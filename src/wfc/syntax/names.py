"""The only two ways user text enters generated code: `py_name` and `py_literal`.

`py_name` lives beside the syntax because both backends expose the same Python
names (a parameter `len` is `len_` in compiled and interpreted signatures).
"""

from __future__ import annotations

import builtins
import keyword
import math
import unicodedata

PYTHON_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)

# Builtins the generated code calls by name; a wf name equal to one is renamed.
_USED_BUILTINS = frozenset(
    [
        "len",
        "str",
        "int",
        "float",
        "bool",
        "list",
        "dict",
        "range",
        "min",
        "max",
        "sum",
        "abs",
        "round",
        "format",
        "isinstance",
        "getattr",
        "object",
        "Exception",
        "BaseException",
    ]
)
_RESERVED = (
    frozenset(keyword.kwlist)
    | frozenset(keyword.softkwlist)
    | _USED_BUILTINS
    | PYTHON_EXCEPTIONS
    | {"_rt", "_obs"}  # locals of every generated function
)
GENERATED_PREFIX = "_wf"


def py_name(name: str) -> str:
    """The Python identifier for a wf name: injective, idempotent on its output.

    Names the generated code reserves (`_wf...`, dunders) gain a `_wfu_` prefix;
    keywords and builtins the generated code uses gain a trailing `_`, as do
    names that already are such a word plus underscores, so no two collide.
    """
    name = unicodedata.normalize("NFKC", name)
    if name.startswith(GENERATED_PREFIX) or (name.startswith("__") and name.endswith("__")):
        result = f"{GENERATED_PREFIX}u_{name}"
    elif name.rstrip("_") in _RESERVED or not name.rstrip("_"):
        result = name + "_"
    else:
        result = name
    assert result.isidentifier() and not keyword.iskeyword(result), result
    return result


def py_literal(value: object) -> str:
    """Python source for a literal value: str, int, float, bool or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    if value is None or isinstance(value, (str, int, float, bool)):
        return repr(value)
    raise TypeError(f"not a literal: {value!r}")


def comment_text(text: str) -> str:
    """Text safe to put in a `#` comment: printable, on one line."""
    return "".join(char if char.isprintable() else "?" for char in text)
