"""`wfc run`'s live progress line, seen through a real pseudo-terminal."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from wfc.progress import Progress
from wfc.runtime import Event

SOURCE = """use progress_handlers as p
workflow main() {
    stage fetch {
        xs = parallel for x in range(4) limit 1 {
            wait 250ms
            yield p.tick(x)
        }
    }
    return xs
}
"""


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "progress_handlers.py").write_text("def tick(x):\n    return x * 10\n", encoding="utf-8")
    (tmp_path / "slow.wf").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def run_in_terminal(project: Path, *options: str) -> tuple[int, str, str]:
    """Run `wfc run` with stderr on a pseudo-terminal; its exit code, stdout and what the
    terminal showed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wfc", "run", "slow.wf", "main", *options],
        cwd=project, stdout=subprocess.PIPE, stderr=follower, stdin=subprocess.DEVNULL,
        env={**os.environ, "COLUMNS": "200"},
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the process has ended
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    out, _ = process.communicate(timeout=60)
    return process.returncode, out.decode(), shown.decode()


def test_a_terminal_sees_stages_items_and_waits_and_then_only_the_result(project) -> None:
    code, out, shown = run_in_terminal(project)
    assert code == 0 and out.replace(" ", "").replace("\n", "") == "[0,10,20,30]"
    assert "\x1b[2K" in shown  # the line is redrawn in place
    assert "stage fetch" in shown and "x 1/4" in shown and "waiting 0." in shown
    assert shown.endswith("\r\x1b[2K")  # erased at the end: the terminal keeps the result


@pytest.mark.parametrize("option", ["--quiet", "--json-events"])
def test_quiet_and_json_events_draw_no_progress(project, option) -> None:
    code, _, shown = run_in_terminal(project, option)
    assert code == 0 and "\x1b[2K" not in shown and "x 1/4" not in shown
    if option == "--json-events":
        assert '"kind": "map.item"' in shown


def test_no_progress_when_stderr_is_not_a_terminal(project) -> None:
    result = subprocess.run([sys.executable, "-m", "wfc", "run", "slow.wf", "main"], cwd=project,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr == ""


def test_the_line_says_what_is_going_on() -> None:
    class Sink:
        def __init__(self) -> None:
            self.text = ""

        def write(self, text: str) -> None:
            self.text += text

        def flush(self) -> None:
            pass

    progress = Progress(Sink())  # type: ignore[arg-type]
    for kind, name, fields in [
        ("stage.start", "load", {}), ("stage.end", "load", {}), ("stage.start", "enrich", {}),
        ("map.start", "line", {"total": 120, "concurrent": True}),
        ("map.item", "line", {"done": 37, "total": 120}),
        ("map.start", "page", {"total": None, "concurrent": False}),
        ("map.item", "page", {"done": 5, "total": None}),
        ("step.start", "api.fetch", {}), ("step.error", "api.fetch", {}),
        ("retry", "api.fetch", {"attempt": 1, "delay": 2.0}),
    ]:
        progress.observe(Event(kind, name, fields))
    line = progress.line()
    assert "stage enrich, 1 stage done" in line and "line 37/120" in line and "page 5 done" in line
    assert "retrying api.fetch (attempt 2 in 2.0s)" in line or "retrying api.fetch (attempt 2 in 1.9s)" in line
    progress.observe(Event("step.start", "api.fetch", {}))
    progress.observe(Event("map.item", "line", {"done": 120, "total": 120}))
    assert "retrying" not in progress.line() and "line" not in progress.line()
