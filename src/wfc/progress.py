"""Live progress of `wfc run` on a terminal: one status line on stderr, redrawn in place.

An observer keeps what the run's events say is going on (stages done and running, items
done of each `for` that yields, retries and waits in progress); a ticker redraws the line
ten times a second, and the line is erased when the run ends, so the terminal keeps only
the result. `wfc run` uses it only when stderr is a terminal (never with `--quiet` or
`--json-events`).
"""

from __future__ import annotations

import asyncio
import shutil
import time
from typing import Any, TextIO

_ERASE = "\r\x1b[2K"  # to the line's start, then clear it
_TICK = 0.1  # seconds between redraws


class Progress:
    """The observer and the status line of one run."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._started = time.monotonic()
        self._stages_done = 0
        self._stages: list[str] = []  # running, outermost first
        self._maps: dict[str, tuple[int, int | None]] = {}  # loop variable -> (done, total)
        self._retries: dict[str, tuple[int, float]] = {}  # target -> (next attempt, due at)
        self._waits: list[float] = []  # when each wait in progress ends
        self._shown = ""

    def observe(self, event: Any) -> None:
        kind, name, fields = event.kind, event.name, event.fields
        if kind == "stage.start":
            self._stages.append(name)
        elif kind in ("stage.end", "stage.error"):
            if name in self._stages:
                self._stages.remove(name)
            self._stages_done += kind == "stage.end"
        elif kind in ("map.start", "map.item"):
            done, total = fields.get("done", 0), fields.get("total")
            if total is not None and done >= total and kind == "map.item":
                self._maps.pop(name, None)  # finished: the line keeps to what is going on
            else:
                self._maps[name] = (done, total)
        elif kind == "retry":
            self._retries[name] = (fields["attempt"] + 1, time.monotonic() + fields["delay"])
        elif kind in ("step.start", "step.end", "step.error"):
            self._retries.pop(name, None)
        elif kind == "wait":
            self._waits.append(time.monotonic() + fields["seconds"])

    def line(self) -> str:
        """The status line as it stands now."""
        now = time.monotonic()
        parts = [f"wfc: {now - self._started:.1f}s"]
        if self._stages or self._stages_done:
            running = f"stage {self._stages[-1]}, " if self._stages else ""
            parts.append(f"{running}{self._stages_done} stage{'s' if self._stages_done != 1 else ''} done")
        for name, (done, total) in list(self._maps.items())[-2:]:
            parts.append(f"{name} {done}/{total}" if total is not None else f"{name} {done} done")
        for target, (attempt, due) in self._retries.items():
            parts.append(f"retrying {target} (attempt {attempt} in {max(0.0, due - now):.1f}s)")
        self._waits = [end for end in self._waits if end > now]
        if self._waits:
            parts.append(f"waiting {max(self._waits) - now:.1f}s")
        return " | ".join(parts)

    def draw(self) -> None:
        width = shutil.get_terminal_size((80, 24)).columns
        text = self.line()[: max(10, width - 1)]
        if text != self._shown:
            self._stream.write(_ERASE + text)
            self._stream.flush()
            self._shown = text

    def erase(self) -> None:
        if self._shown:
            self._stream.write(_ERASE)
            self._stream.flush()
            self._shown = ""

    async def ticking(self) -> None:
        """Redraw until cancelled (then erase the line)."""
        try:
            while True:
                self.draw()
                await asyncio.sleep(_TICK)
        finally:
            self.erase()
