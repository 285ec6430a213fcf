"""Formatting the generated module: black's layout, pinned to Python 3.11 and 88 columns.

black is the formatter of record. `ruff format` produces the same bytes on the code
wfc generates, 100-400x faster: when ruff is installed (`pip install wfc-lang[fast]`)
it formats, and black is used otherwise, or when `WFC_FORMATTER=black` is set. The
tests prove the two agree byte for byte on every golden module, on a 10,000-line
generated source and on random programs (tests/test_formatting.py); a ruff that fails
for any reason falls back to black, never to unformatted text.
"""

from __future__ import annotations

import gc
import os
import subprocess

FORMATTERS = ("ruff", "black")
_RUFF_ARGUMENTS = ["format", "--isolated", "--line-length", "88", "--target-version", "py311", "-"]


def format_python(text: str) -> str:
    """`text` formatted as black formats it (by ruff where available)."""
    if os.environ.get("WFC_FORMATTER", "ruff") != "black":
        formatted = format_with_ruff(text)
        if formatted is not None:
            return formatted
    return format_with_black(text)


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
    import black

    mode = black.Mode(target_versions={black.TargetVersion.PY311}, line_length=88)
    was_enabled = gc.isenabled()
    gc.freeze()  # what exists already is never scanned while black runs
    gc.disable()
    try:
        parts = []
        for chunk in top_level_chunks(text):
            parts.append(black.format_str(chunk, mode=mode).strip("\n"))
            gc.collect(0)
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
    return "\n\n\n".join(part for part in parts if part) + "\n"


def top_level_chunks(text: str) -> list[str]:
    """`text` cut before each top-level `def`, `async def` and `class` (with the
    comment lines right above it)."""
    chunks: list[str] = []
    current: list[str] = []
    for line in text.splitlines(keepends=True):
        if line.startswith(("def ", "async def ", "class ")) and current:
            attached = 0
            while attached < len(current) and current[-1 - attached].startswith("#"):
                attached += 1
            cut = len(current) - attached
            chunks.append("".join(current[:cut]))
            current = current[cut:]
        current.append(line)
    chunks.append("".join(current))
    return chunks
