"""Generated modules are typed: every golden module, and an application that imports
them and uses their results, pass `mypy --strict`."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import EXAMPLES, ROOT

GOLDEN = ROOT / "tests" / "golden"


def test_generated_modules_and_an_application_pass_mypy_strict() -> None:
    modules = sorted(str(path) for path in GOLDEN.glob("*_wf.py"))
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(GOLDEN), str(EXAMPLES)])}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         *modules, str(ROOT / "tests" / "typed" / "app.py")],
        capture_output=True, text=True, env=env, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"no issues found in {len(modules) + 1} source files" in result.stdout
