"""Generated modules are typed: every golden module, and an application that imports
them and uses their results, pass `mypy --strict` and pyright in strict mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import EXAMPLES, ROOT, require_tool

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


def test_generated_modules_and_an_application_pass_pyright_strict(tmp_path) -> None:
    pyright = require_tool("pyright", "python -m pip install -e '.[test]'")
    modules = sorted(str(path) for path in GOLDEN.glob("*_wf.py"))
    config = tmp_path / "pyrightconfig.json"
    config.write_text(json.dumps({
        "typeCheckingMode": "strict",
        "pythonVersion": "3.11",
        "extraPaths": [str(GOLDEN), str(EXAMPLES), str(ROOT / "src")],
    }), encoding="utf-8")
    result = subprocess.run(
        [pyright, "-p", str(config), "--outputjson", *modules, str(ROOT / "tests" / "typed" / "app.py")],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    report = json.loads(result.stdout)
    problems = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}"
                for d in report["generalDiagnostics"]]
    assert report["summary"]["filesAnalyzed"] >= len(modules) + 1
    assert not problems, "\n".join(problems)
    assert result.returncode == 0, result.stderr
