"""The compiler holds itself to its standard: src/ is formatted by ruff, passes the
lint rules chosen in pyproject.toml, and type-checks with mypy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("command", [("ruff", "format", "--check", "src"), ("ruff", "check", "src"),
                                     ("mypy",)], ids=" ".join)
def test_src_passes(command) -> None:
    result = run(*command)
    assert result.returncode == 0, result.stdout + result.stderr
