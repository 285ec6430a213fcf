"""An indenting line writer for generated Python."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator


class Writer:
    def __init__(self) -> None:
        self._lines: list[str] = []
        self._depth = 0

    def line(self, text: str = "") -> None:
        self._lines.append("    " * self._depth + text if text else "")

    @contextmanager
    def indent(self) -> Iterator[None]:
        self._depth += 1
        start = len(self._lines)
        try:
            yield
        finally:
            if len(self._lines) == start:
                self.line("pass")
            self._depth -= 1

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"
