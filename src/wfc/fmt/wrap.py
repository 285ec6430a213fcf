"""Wrapping long lines at brackets, one item a line with a trailing comma (as black does).

wf ignores newlines inside `(...)`, `[...]` and map literals, and every
comma-separated list there (arguments, parameters, policy arguments, lists,
maps) takes a trailing comma, so splitting inside a bracket never changes the
meaning. Only brackets holding two or more items are split: a single
parenthesised expression (`emit t(x)`, `(a + b)`) takes no trailing comma.
"""

from __future__ import annotations

LIMIT = 100
INDENT = "    "
_OPEN = {"(": ")", "[": "]", "{": "}"}


def wrap(line: str) -> list[str]:
    """`line` (with its indentation) as one or more lines of at most LIMIT, where it can."""
    if len(line) <= LIMIT:
        return [line]
    indent = line[: len(line) - len(line.lstrip(" "))]
    split = _widest_split(line)
    if split is None:
        return [line]
    start, end, items = split
    lines = [line[: start + 1]]
    for item in items:
        lines.extend(wrap(f"{indent}{INDENT}{item},"))
    lines.append(indent + line[end:])
    return lines


def _widest_split(line: str) -> tuple[int, int, list[str]] | None:
    """The outermost bracket with the most text and at least two items:
    `(index of the opener, index of the closer, the items)`."""
    best: tuple[int, int, list[str]] | None = None
    for opener, closer, commas in _outer_brackets(line):
        items = _items(line, opener, closer, commas)
        if len(items) >= 2 and (best is None or closer - opener > best[1] - best[0]):
            best = (opener, closer, items)
    return best


def _outer_brackets(line: str) -> list[tuple[int, int, list[int]]]:
    """Each outermost bracket pair of `line` (strings skipped): opener, closer and the
    commas directly inside it."""
    stack: list[tuple[int, list[int]]] = []  # (opener index, comma indexes at its depth)
    pairs: list[tuple[int, int, list[int]]] = []
    index = 0
    while index < len(line):
        char = line[index]
        if char in "\"'" or (
            char == "f" and line[index + 1 : index + 2] in ('"', "'") and not _in_name(line, index)
        ):
            index = _string_end(line, index + (char == "f"))
            continue
        if char in _OPEN:
            stack.append((index, []))
        elif char in ")]}" and stack:
            opener, commas = stack.pop()
            if not stack:
                pairs.append((opener, index, commas))
        elif char == "," and stack:
            stack[-1][1].append(index)
        index += 1
    return pairs


def _items(line: str, opener: int, closer: int, commas: list[int]) -> list[str]:
    bounds = [opener, *commas, closer]
    items = [line[a + 1 : b].strip() for a, b in zip(bounds, bounds[1:])]
    return [item for item in items if item]  # a trailing comma leaves an empty last item


def _in_name(line: str, index: int) -> bool:
    return index > 0 and (line[index - 1].isalnum() or line[index - 1] == "_")


def _string_end(line: str, quote_at: int) -> int:
    """The index just after the string literal whose quote is at `quote_at`."""
    quote = line[quote_at]
    index = quote_at + 1
    while index < len(line) and line[index] != quote:
        index += 2 if line[index] == "\\" else 1
    return index + 1
