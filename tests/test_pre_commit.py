"""The pre-commit hooks (.pre-commit-hooks.yaml), run by pre-commit itself on a real
repository: `pre-commit try-repo` installs this project as a hook repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, require_tool

pytestmark = pytest.mark.slow


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=folder, check=True, capture_output=True)


@pytest.fixture(scope="module")
def hooks(tmp_path_factory):
    """Run one hook of this repository on the files of a scratch git repository."""
    require_tool("pre-commit", "python -m pip install -e '.[test]'")
    home = tmp_path_factory.mktemp("pre-commit-home")  # its hook environments, made once

    def run(folder: Path, hook: str) -> subprocess.CompletedProcess[str]:
        git(folder, "add", "-A")
        env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PRE_COMMIT_COLOR": "never",
               # a checkout with changes is tried as a temporary commit: a fresh machine
               # has no git identity to make it with
               "GIT_AUTHOR_NAME": "wfc tests", "GIT_AUTHOR_EMAIL": "tests@example.com",
               "GIT_COMMITTER_NAME": "wfc tests", "GIT_COMMITTER_EMAIL": "tests@example.com"}
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--all-files"],
            cwd=folder, capture_output=True, text=True, env=env, timeout=600,
        )

    return run


@pytest.fixture
def project(tmp_path) -> Path:
    git(tmp_path, "init", "-q")
    return tmp_path


def test_wfc_fmt_rewrites_an_unformatted_file_and_stops_the_commit(hooks, project) -> None:
    wf = project / "a.wf"
    wf.write_text("workflow w(x){return x}\n", encoding="utf-8")
    first = hooks(project, "wfc-fmt")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout
    assert wf.read_text(encoding="utf-8") == "workflow w(x) {\n    return x\n}\n"
    again = hooks(project, "wfc-fmt")
    assert again.returncode == 0, again.stdout + again.stderr


def test_wfc_check_stops_a_commit_with_an_error(hooks, project) -> None:
    (project / "a.wf").write_text("workflow w(summary) { return summry }\n", encoding="utf-8")
    bad = hooks(project, "wfc-check")
    assert bad.returncode == 1 and "error[E0101]: unknown name 'summry'" in bad.stdout
    (project / "a.wf").write_text("workflow w(summary) { return summary }\n", encoding="utf-8")
    assert hooks(project, "wfc-check").returncode == 0


def test_wfc_compile_check_stops_a_commit_with_a_stale_module(hooks, project) -> None:
    wf = project / "a.wf"
    wf.write_text("workflow w(x) {\n    return x\n}\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "wfc", "compile", str(wf)], check=True, capture_output=True)
    assert hooks(project, "wfc-compile-check").returncode == 0
    wf.write_text("workflow w(x) {\n    return [x]\n}\n", encoding="utf-8")  # edited, not recompiled
    stale = hooks(project, "wfc-compile-check")
    assert stale.returncode == 1 and "a_wf.py" in stale.stdout
