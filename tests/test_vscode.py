"""The VS Code extension in editors/vscode, tested with the tools VS Code's own grammar
authors use: `vscode-tmgrammar-snap` against committed scope snapshots of the corpus and
every example (a missing snapshot fails, which the tool alone does not do), and `vsce`
building the .vsix, which must hold the grammar, the language configuration and the
snippets. .ci/run installs Node and the npm packages (`npm ci` in editors/vscode)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, require_tool
from editor_words import missing_words

VSCODE = ROOT / "editors" / "vscode"
SNAPSHOTS = ROOT / "tests" / "editors" / "snapshots"
CASES = [ROOT / "tests" / "editors" / "corpus.wf", *sorted(EXAMPLES.glob("*.wf"))]


def tool(name: str) -> str:
    require_tool("node", "apt-get install nodejs npm")
    path = VSCODE / "node_modules" / ".bin" / name
    if not path.exists():
        message = f"{name} is not installed: run `npm ci` in editors/vscode"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message} (.ci/run must do it)")
        pytest.skip(message)
    return str(path)


def test_every_case_has_a_snapshot_and_the_grammar_still_produces_it(tmp_path) -> None:
    snap = tool("vscode-tmgrammar-snap")
    missing = [case.name for case in CASES if not (SNAPSHOTS / f"{case.name}.snap").exists()]
    assert not missing, f"no snapshot for {missing}: run the tool with -u and review them"
    for case in CASES:
        shutil.copy(case, tmp_path / case.name)
        shutil.copy(SNAPSHOTS / f"{case.name}.snap", tmp_path / f"{case.name}.snap")
    out = subprocess.run([snap, "-g", "syntaxes/wf.tmLanguage.json", f"{tmp_path}/*.wf"],
                         cwd=VSCODE, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]


def test_a_scope_that_differs_from_its_snapshot_fails(tmp_path) -> None:
    snap = tool("vscode-tmgrammar-snap")
    shutil.copy(CASES[0], tmp_path / "corpus.wf")
    expected = (SNAPSHOTS / "corpus.wf.snap").read_text(encoding="utf-8")
    assert "constant.language.wf" in expected
    (tmp_path / "corpus.wf.snap").write_text(
        expected.replace("constant.language.wf", "constant.other.wf"), encoding="utf-8")
    out = subprocess.run([snap, "-g", "syntaxes/wf.tmLanguage.json", f"{tmp_path}/*.wf"],
                         cwd=VSCODE, capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "constant.other.wf" in out.stdout + out.stderr


def test_vsce_packages_the_grammar_configuration_and_snippets(tmp_path) -> None:
    vsce = tool("vsce")
    out = subprocess.run([vsce, "package", "--allow-missing-repository", "--out",
                          str(tmp_path / "wf.vsix")], cwd=VSCODE,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    names = set(zipfile.ZipFile(tmp_path / "wf.vsix").namelist())
    for part in ("extension/package.json", "extension/syntaxes/wf.tmLanguage.json",
                 "extension/language-configuration.json", "extension/snippets/wf.json",
                 "extension/extension.js",
                 "extension/node_modules/vscode-languageclient/package.json"):
        assert part in names
    # the client is shipped, the test tools are not
    assert not any(name.startswith(("extension/node_modules/vscode-tmgrammar-test/",
                                    "extension/node_modules/@vscode/vsce/")) for name in names)


def test_the_client_starts_wfc_lsp_and_parses() -> None:
    node = require_tool("node", "apt-get install nodejs npm")
    out = subprocess.run([node, "--check", str(VSCODE / "extension.js")], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    command = package["contributes"]["configuration"]["properties"]["wf.server.command"]
    assert command["default"] == ["wfc", "lsp"] and package["activationEvents"] == ["onLanguage:wf"]


def test_every_word_of_the_language_is_in_the_textmate_grammar() -> None:
    assert missing_words((VSCODE / "syntaxes" / "wf.tmLanguage.json").read_text(encoding="utf-8")) == set()


def test_snippets_and_configuration_are_valid_json_for_the_declared_language() -> None:
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    [language] = package["contributes"]["languages"]
    assert language["id"] == "wf" and language["extensions"] == [".wf"]
    for path in (VSCODE / "language-configuration.json", VSCODE / "snippets" / "wf.json"):
        json.loads(path.read_text(encoding="utf-8"))
    config = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#"
    snippets = json.loads((VSCODE / "snippets" / "wf.json").read_text(encoding="utf-8"))
    prefixes = {snippet["prefix"] for snippet in snippets.values()}
    assert {"use", "const", "policy", "workflow", "saga", "router", "machine"} <= prefixes


def test_the_snapshots_are_the_cases_and_nothing_else() -> None:
    assert {p.name for p in SNAPSHOTS.glob("*.snap")} == {f"{c.name}.snap" for c in CASES}


def test_the_screenshots_of_each_editor_are_checked_in() -> None:
    shots = ROOT / "docs" / "editors"
    for name in ("vscode", "vim", "neovim", "pygments"):
        data = (shots / f"{name}.png").read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000, name
    readme = (ROOT / "editors" / "README.md").read_text(encoding="utf-8")
    assert all(f"../docs/editors/{name}.png" in readme for name in ("vscode", "vim", "neovim", "pygments"))
