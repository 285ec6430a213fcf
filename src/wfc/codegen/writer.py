"""An indenting line writer for generated Python."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

OBSERVED = "if _obs:"


class Writer:
    def __init__(self) -> None:
        self._lines: list[str] = []
        self._depth = 0
        self._open_observed: tuple[int, int] | None = None  # (depth, line count) after one

    def line(self, text: str = "") -> None:
        self._lines.append("    " * self._depth + text if text else "")

    def observed(self, *statements: str) -> None:
        """Emit `if _obs:` and `statements`, joining the block just before it.

        Event emission is the hot path's only per-statement overhead, so two
        adjacent observer blocks become one check.
        """
        if self._open_observed != (self._depth, len(self._lines)):
            self.line(OBSERVED)
        self._depth += 1
        for statement in statements:
            self.line(statement)
        self._depth -= 1
        self._open_observed = (self._depth, len(self._lines))

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
