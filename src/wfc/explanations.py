"""The pages that explain each diagnostic code, shipped with the package (`errors/`)."""

from __future__ import annotations

import re
from importlib import resources

_CODE = re.compile(r"[EWH]\d{4}")


def _pages() -> dict[str, resources.abc.Traversable]:
    folder = resources.files("wfc") / "errors"
    return {page.name.removesuffix(".md"): page for page in folder.iterdir() if page.name.endswith(".md")}


def explanation(code: str) -> str | None:
    """The page of `code` (any case), or None if there is no such code."""
    code = code.strip().upper()
    if not _CODE.fullmatch(code):
        return None
    page = _pages().get(code)
    return None if page is None else page.read_text(encoding="utf-8")


def titles() -> dict[str, str]:
    """Every code and the title of its page, in code order."""
    found = {}
    for code, page in sorted(_pages().items()):
        first = page.read_text(encoding="utf-8").split("\n", 1)[0]
        found[code] = first.removeprefix("# ").removeprefix(f"{code}: ")
    return found
