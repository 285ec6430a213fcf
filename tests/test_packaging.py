"""The wheel and the sdist: built by `python -m build`, installed into a fresh virtual
environment with no development tools, they compile and run a workflow, and carry the
grammar, `py.typed`, the diagnostic pages and the editor files; each optional extra
installs and imports."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, require_module

pytestmark = pytest.mark.slow


def sh(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=900)
    assert result.returncode == 0, f"{args}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    require_module("build", "python -m pip install -e '.[test]'")
    out = tmp_path_factory.mktemp("dist")
    sh(sys.executable, "-m", "build", "--outdir", out, ROOT)  # the sdist, then the wheel from it
    return out


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with only the wheel (and its dependencies) in it."""
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, with_pip=True)
    wheel = next(dist.glob("*.whl"))
    sh(env / "bin" / "python", "-m", "pip", "install", "-q", wheel)
    return env


def test_the_wheel_and_sdist_carry_what_users_need(dist) -> None:
    wheel = zipfile.ZipFile(next(dist.glob("*.whl"))).namelist()
    for needed in ("wfc/grammar/wf.lark", "wfc/py.typed", "wfc/errors/E0101.md", "wfc/runtime/__init__.py"):
        assert needed in wheel
    data = "wfc_lang-0.1.0.data/data/share/"
    for needed in ("vim/vimfiles/syntax/wf.vim", "vim/vimfiles/ftdetect/wf.vim", "vim/vimfiles/indent/wf.vim",
                   "vim/vimfiles/ftplugin/wf.vim", "wfc/vscode/package.json",
                   "wfc/vscode/syntaxes/wf.tmLanguage.json"):
        assert data + needed in wheel
    assert not [name for name in wheel if name.startswith(("tests/", "examples/"))]
    sdist = tarfile.open(next(dist.glob("*.tar.gz"))).getnames()
    for needed in ("README.md", "LICENSE", "src/wfc/grammar/wf.lark", "editors/vim/syntax/wf.vim",
                   "tests/test_golden.py", "examples/summary.wf"):
        assert f"wfc_lang-0.1.0/{needed}" in sdist
    assert not [name for name in sdist if "node_modules" in name or name.endswith(".pyc")]


def test_a_fresh_environment_compiles_and_runs_a_workflow(installed, tmp_path) -> None:
    python, wfc = installed / "bin" / "python", installed / "bin" / "wfc"
    freeze = sh(python, "-m", "pip", "list", "--format=freeze").stdout
    names = {line.split("==")[0].lower() for line in freeze.splitlines()}
    assert not names & {"pytest", "hypothesis", "mypy", "ruff", "pyright"}  # no development tools
    for name in ("summary.wf", "fake_llm.py", "text_tools.py"):
        (tmp_path / name).write_bytes((EXAMPLES / name).read_bytes())
    sh(wfc, "compile", "summary.wf", cwd=tmp_path)
    ran = sh(wfc, "run", "summary.wf", "summarize", "--backend", "compiled", "--arg", "content=One. Two.",
             cwd=tmp_path)
    assert '"style": "concise"' in ran.stdout
    assert sh(python, "-m", "wfc", "explain", "E0101", cwd=tmp_path).stdout.startswith("# E0101")
    assert (installed / "share" / "vim" / "vimfiles" / "syntax" / "wf.vim").is_file()
    # n8n exports are JSON: no extra needed; Dify's YAML asks for the `dify` extra
    n8n = sh(wfc, "import", "n8n", ROOT / "tests" / "imports" / "n8n" / "order_intake.json", "-o", "intake.wf",
             cwd=tmp_path)
    assert "wrote intake.wf" in n8n.stderr and (tmp_path / "intake_handlers.py").is_file()
    dify = subprocess.run([wfc, "import", "dify", ROOT / "tests" / "imports" / "dify" / "support_triage.yml"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert dify.returncode == 1 and "pip install 'wfc-lang[dify]'" in dify.stderr


@pytest.mark.parametrize("extra, module", [("redis", "redis"), ("lsp", "wfc.lsp"), ("otel", "wfc.otel"),
                                           ("pygments", "wfc.highlight"), ("dify", "yaml"),
                                           ("temporal", "wfc.temporal")])
def test_each_extra_installs_and_imports(dist, installed, extra, module) -> None:
    python = installed / "bin" / "python"
    wheel = next(dist.glob("*.whl"))
    sh(python, "-m", "pip", "install", "-q", f"{wheel}[{extra}]")
    sh(python, "-c", f"import {module}")
