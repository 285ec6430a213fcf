"""Value operations whose meaning wf defines: member access, indexing, builtins.

Both backends call these, so `a.b` means the same thing compiled and interpreted.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from inspect import isawaitable
from typing import Any

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
"""wf's comparison operators, Python's own (the interpreter and the route solver use them;
compiled code writes the operators)."""


def attr(value: Any, name: str) -> Any:
    """`value.name`: a mapping's `.get(name)`, otherwise `getattr`."""
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name)


def attr_or_null(value: Any, name: str) -> Any:
    """`value?.name`: null when `value` is null, else `value.name`."""
    return None if value is None else attr(value, name)


def sliced(value: Any, start: Any, stop: Any) -> Any:
    """`value[start:stop]`: Python's slicing of a list or a string (a bound may be null)."""
    if not isinstance(value, (list, tuple, str)):
        raise TypeError(f"only a list or a string can be sliced, not {type(value).__name__}")
    return value[start:stop]


def matches(text: str, pattern: str) -> bool:
    """`matches(s, "*.csv")`: whether all of `s` matches the glob `pattern` (`*`, `?`,
    `[abc]`), case-sensitively."""
    import fnmatch  # only programs that use it pay for it

    return fnmatch.fnmatchcase(text, pattern)


def regex(text: str, pattern: str) -> list[Any]:
    """`regex(s, pattern)`: every match of the regular expression in `s`, as Python's
    `re.findall` gives them (with groups: a list of each match's groups); [] for none."""
    import re

    return [list(found) if isinstance(found, tuple) else found for found in re.findall(pattern, text)]


def index(value: Any, key: Any) -> Any:
    """`value[key]`: a mapping's `.get(key)`, otherwise ordinary indexing."""
    if isinstance(value, Mapping):
        return value.get(key)
    return value[key]


async def call(function: Any, /, *args: Any, **kwargs: Any) -> Any:
    """Call a value that is not a handler; await the result if it is awaitable."""
    result = function(*args, **kwargs)
    if isawaitable(result):
        result = await result
    return result


def keys(mapping: Mapping[Any, Any]) -> list[Any]:
    return list(mapping.keys())


def values(mapping: Mapping[Any, Any]) -> list[Any]:
    return list(mapping.values())


def items(mapping: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    return list(mapping.items())


def lower(text: str) -> str:
    return text.lower()


def upper(text: str) -> str:
    return text.upper()


def strip(text: str, chars: str | None = None) -> str:
    return text.strip(chars)


def split(text: str, sep: str | None = None, maxsplit: int = -1) -> list[str]:
    return text.split(sep, maxsplit)


def join(parts: Iterable[Any], sep: str = "") -> str:
    """Join `parts` with `sep`, turning each part into text with `str`."""
    return sep.join([part if isinstance(part, str) else str(part) for part in parts])


def chunks(items_: Iterable[Any], size: int) -> list[list[Any]]:
    """Split `items_` into lists of `size` items (the last may be shorter)."""
    if not isinstance(size, int) or size < 1:
        raise ValueError(f"chunks() size must be a positive integer, not {size!r}")
    out: list[list[Any]] = []
    batch: list[Any] = []
    for item in items_:
        batch.append(item)
        if len(batch) == size:
            out.append(batch)
            batch = []
    if batch:
        out.append(batch)
    return out
