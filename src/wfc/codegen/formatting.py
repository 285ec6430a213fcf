"""Formatting the generated module: black's layout, pinned to Python 3.11 and 88 columns.

black is the formatter of record. `ruff format` produces the same bytes on the code
wfc generates, 100-400x faster, with one known exception: black 24+ lays out
conditional expressions (`a if c else b`, which `??` and weighted routes generate)
inside brackets its own way, splits an over-long `if a or f(x):` inside the call's
brackets, and leaves a line that cannot fit (deep in nested blocks) where black wraps
it in parentheses. So when ruff is installed (`pip install wfc-lang[fast]`) it formats
the module, and black re-formats each top-level definition that holds a conditional
expression other than the whole value of an assignment or a `return`, such a split
condition or a line over 88 columns; black formats everything when ruff is missing, fails, or
`WFC_FORMATTER=black` is set. The tests prove the result byte-identical to black's
on every golden module, on a 10,000-line generated source and on random programs
(tests/test_formatting.py, tests/properties/test_fuzz.py).
"""

from __future__ import annotations

import ast
import gc
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

FORMATTERS = ("ruff", "black")
_RUFF_ARGUMENTS = ["format", "--isolated", "--line-length", "88", "--target-version", "py311", "-"]


def format_python(text: str) -> str:
    """`text` formatted as black formats it (by ruff where that is the same)."""
    if os.environ.get("WFC_FORMATTER", "ruff") == "black":
        return format_with_black(text)
    formatted = format_with_ruff(text)
    if formatted is None:
        return format_with_black(text)
    raw_chunks, done_chunks = top_level_chunks(text), top_level_chunks(formatted)
    if len(raw_chunks) != len(done_chunks):  # never seen; black is always right
        return format_with_black(text)
    redo = [
        has_conditional_expression(raw)
        or _SPLIT_CALL_IN_CONDITION.search(done) is not None
        or any(len(line) > 88 for line in done.splitlines())  # black splits those its own way
        for raw, done in zip(raw_chunks, done_chunks)
    ]
    if not any(redo):
        return formatted
    with _black_mode() as format_chunk:
        parts = [
            format_chunk(raw) if again else done.strip("\n")
            for raw, done, again in zip(raw_chunks, done_chunks, redo)
        ]
    return "\n\n\n".join(part for part in parts if part) + "\n"


# The other known difference: an `if`/`while` condition `a or f(x)` too long for its
# line (deep in nested blocks) is split inside the last call's brackets by ruff and
# wrapped in parentheses by black.
_SPLIT_CALL_IN_CONDITION = re.compile(r"^ *(?:if|elif|while) .* (?:or|and) .*[\w\]\)]\($", re.MULTILINE)


def has_conditional_expression(chunk: str) -> bool:
    """Whether `chunk` (whole top-level statements) holds `a if c else b` anywhere but
    as the whole value of an assignment or a `return` (where black and ruff agree:
    the step protocol's `x = (call if _rt.journal is None else ...)` stays with ruff)."""
    if " else " not in chunk:
        return False
    tree = ast.parse(chunk)
    whole_values = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.Return)) and node.value is not None
    }
    return any(isinstance(node, ast.IfExp) and id(node) not in whole_values for node in ast.walk(tree))


def ruff_binary() -> str | None:
    """The ruff executable of the `ruff` package, if it is installed."""
    try:
        from ruff.__main__ import find_ruff_bin
    except ImportError:
        return None
    try:
        return str(find_ruff_bin())
    except FileNotFoundError:
        return None


def format_with_ruff(text: str) -> str | None:
    """`ruff format` of `text`, or None if ruff is missing or fails."""
    binary = ruff_binary()
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [binary, *_RUFF_ARGUMENTS], input=text.encode(), capture_output=True, check=False, timeout=120
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.decode() if done.returncode == 0 else None


def format_with_black(text: str) -> str:
    """black, one top-level definition at a time (black is slow to import).

    Each top-level definition is formatted on its own, joined by the two blank
    lines black puts between them (tests/test_codegen.py proves the result equal
    to black on the whole text): black's cost and memory stay proportional to
    the largest definition, not the module. The cyclic GC is paused while black
    runs, and only the young garbage of each definition is collected: black
    runs 2-3x faster, with memory still bounded.
    """
    with _black_mode() as format_chunk:
        parts = [format_chunk(chunk) for chunk in top_level_chunks(text)]
    return "\n\n\n".join(part for part in parts if part) + "\n"


@contextmanager
def _black_mode() -> Iterator[Any]:
    """A function formatting one chunk with black (stripped of blank lines around it),
    with the cyclic GC paused meanwhile and only each chunk's young garbage collected."""
    import black

    mode = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)

    def format_chunk(chunk: str) -> str:
        formatted = black.format_str(chunk, mode=mode).strip("\n")
        gc.collect(0)
        return formatted

    was_enabled = gc.isenabled()
    gc.freeze()  # what exists already is never scanned while black runs
    gc.disable()
    try:
        yield format_chunk
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def top_level_chunks(text: str) -> list[str]:
    """`text` cut before each top-level `def`, `async def` and `class` (with the
    comment and decorator lines right above it)."""
    chunks: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("def ", "async def ", "class ")) and current:
            attached = 0
            while attached < len(current) and current[-1 - attached].startswith(("#", "@")):
                attached += 1
            cut = len(current) - attached
            chunks.append("".join(current[:cut]))
            current = current[cut:]
        current.append(line)
    chunks.append("".join(current))
    return chunks
