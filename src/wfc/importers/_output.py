"""What an import writes: names, wf literals, the handler module of stubs, the `.wf` text.

Everything taken from the imported file (names, settings, code) reaches the output only
as a quoted string, a comment or a docstring escaped here, or as an identifier made of
`[a-z0-9_]`, so no file can put code into what `wfc import` writes.
"""

from __future__ import annotations

import json
import keyword
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..check.resolution import BUILTIN_FUNCTIONS
from ..fmt.expressions import map_key, quote
from ..syntax.lexing import RESERVED

# Names a variable must not take: it would hide a builtin of wf or of Python.
_BUILTINS = frozenset([*BUILTIN_FUNCTIONS, "dict", "object", "type", "print", "input", "any", "all"])


class Names:
    """Unique lower_snake_case identifiers that are neither wf nor Python keywords."""

    def __init__(self, taken: set[str] | None = None) -> None:
        self.taken = set(taken or ())

    def fresh(self, text: str, fallback: str = "node") -> str:
        base = identifier(text) or fallback
        if base in RESERVED or keyword.iskeyword(base) or keyword.issoftkeyword(base) or base in _BUILTINS:
            base += "_"
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}_{number}", number + 1
        self.taken.add(name)
        return name


def identifier(text: str) -> str:
    """`Send e-mail (Gmail)` -> `send_e_mail_gmail`; ASCII only; "" when nothing is left."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", ascii_text)
    name = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")[:40].rstrip("_")
    return f"n_{name}" if name[:1].isdigit() else name


def literal(value: Any) -> str:
    """A wf literal for a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else quote(str(value))
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{map_key(str(key))}: {literal(item)}" for key, item in value.items()) + "}"
    return quote(str(value))


def mapping(value: Any) -> dict[str, Any]:
    """`value` if the export has a map there, else an empty one: exports omit what is unset."""
    return value if isinstance(value, dict) else {}


def dicts(value: Any) -> list[dict[str, Any]]:
    """The maps in `value` if it is a list: exports are read leniently, item by item."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def count(value: Any, default: int, most: int = 100) -> int:
    """A small positive count from an export, or `default` when it is not one."""
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 < value <= most else default


# The tests both tools' conditions make, as wf text of `left` and `right`.
_TESTS = {
    "contains": "{right} in {left}",
    "not contains": "{right} not in {left}",
    "in": "{left} in {right}",
    "not in": "{left} not in {right}",
    "null": "{left} == null",
    "not null": "{left} != null",
    "empty": "not {left}",
    "not empty": "bool({left})",
    "regex": "len(regex({left}, {right})) > 0",
    "not regex": "len(regex({left}, {right})) == 0",
}


def comparison(test: str, left: str, right: str) -> str | None:
    """`left TEST right` in wf: a comparison operator or a name of `_TESTS`; None if
    the test has no wf form."""
    if test in ("==", "!=", ">", "<", ">=", "<="):
        return f"{left} {test} {right}"
    shape = _TESTS.get(test)
    return None if shape is None else shape.format(left=left, right=right)


def comment(text: str) -> str:
    """One line of comment text: no line breaks."""
    return " ".join(str(text).split())


@dataclass(frozen=True, slots=True)
class Stub:
    """A function of the handler module that stands for one node."""

    name: str
    node: str  # the node's name in the source
    kind: str  # the node's type in the source
    settings: dict[str, Any]
    arguments: tuple[str, ...]  # the keyword arguments the workflow passes
    todo: str  # what the body should do
    body: tuple[str, ...] = ()  # a real body instead of the TODO (helpers, not nodes)


@dataclass
class Imported:
    """The result of an import: the `.wf` text, the handler module, what to look at."""

    wf: str
    handlers: str
    warnings: list[str] = field(default_factory=list)


def handler_module(tool: str, title: str, stubs: list[Stub]) -> str:
    lines = [
        f'"""Handlers for the wf workflow imported from {tool}: {_doc(repr(title))}.',
        "",
        "Each function stands for a node that reaches outside the workflow: its docstring holds",
        "the node's settings. Replace each TODO body with the real call, and return what the",
        "docstring says the workflow reads.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import Any",
    ]
    for stub in stubs:
        lines += ["", "", *_stub(tool, stub)]
    return "\n".join(lines) + "\n"


def _stub(tool: str, stub: Stub) -> list[str]:
    arguments = ", ".join(f"{name}: Any = None" for name in stub.arguments)
    signature = (
        f"async def {stub.name}(*, {arguments}) -> Any:" if arguments else f"async def {stub.name}() -> Any:"
    )
    settings = json.dumps(stub.settings, indent=2, sort_keys=True, ensure_ascii=True, default=str)
    if stub.body:  # a helper the import wrote in full
        return [signature, f'    """{_doc(stub.todo)}"""', *(f"    {line}" for line in stub.body)]
    doc = [
        f'    """{tool} node {_doc(repr(stub.node))} ({_doc(stub.kind)}).',
        "",
        *(f"    {_doc(line)}" for line in _wrap_text(stub.todo)),
        "",
        "    Settings:",
        *(f"        {_doc(line)}" for line in settings.splitlines()),
        '    """',
    ]
    body = [
        "    # TODO: replace with the real call",
        f"    raise NotImplementedError({repr('TODO: port the ' + tool + ' node ' + repr(stub.node))})",
    ]
    return [signature, *doc, *body]


def _wrap_text(text: str, width: int = 80) -> list[str]:
    lines, current = [], ""
    for word in comment(text).split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    return [*lines, current] if current else [""]


def _doc(text: str) -> str:
    """Text safe inside a triple-quoted docstring or a comment line."""
    cleaned = "".join(char if char.isprintable() else " " for char in text)
    return cleaned.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def wf_module(tool: str, title: str, handlers: str, declarations: list[str], todos: int) -> str:
    header = [f"# Imported from {tool} by `wfc import`: {comment(repr(title))}."]
    if todos:
        header.append(
            f"# {todos} TODO{'s' if todos != 1 else ''} below: what could not be translated is kept as text."
        )
    header.append(f"# The handlers are stubs in {handlers}.py: fill them in.")
    return "\n".join([*header, f"use {handlers} as h", "", *declarations])
