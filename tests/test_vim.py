"""The Vim/Neovim files of editors/vim, run the way the editors read them: headless Vim
and Neovim dump the syntax group of every character of the corpus (golden file), indent
it, and fill the quickfix list from `wfc check` through the ftplugin's errorformat."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import ROOT, require_tool
from editor_words import missing_words

VIM = ROOT / "editors" / "vim"
CORPUS = ROOT / "tests" / "editors" / "corpus.wf"
GOLDEN = ROOT / "tests" / "editors" / "corpus.vim.txt"
DUMP = ROOT / "tests" / "editors" / "dump_syntax.vim"
EDITORS = pytest.mark.parametrize("editor", ["vim", "nvim"])


def headless(editor: str, file: str, *commands: str) -> None:
    program = require_tool(editor, "apt-get install vim neovim")
    args = [program, "-u", "NONE", "-i", "NONE", "-N", "-es", "--cmd", f"set rtp^={VIM}",
            "-c", "filetype plugin indent on", "-c", "syntax on", "-c", f"e {file}"]
    for command in (*commands, "qa!"):
        args += ["-c", command]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stdout + out.stderr


@EDITORS
def test_every_character_of_the_corpus_gets_its_golden_syntax_group(editor, tmp_path) -> None:
    dumped = tmp_path / "dump.txt"
    headless(editor, str(CORPUS), f"source {DUMP}", f"call DumpSyntax('{dumped}')")
    if os.environ.get("WFC_UPDATE_GOLDEN") == "1" and editor == "vim":
        GOLDEN.write_text(dumped.read_text(encoding="utf-8"), encoding="utf-8")
    assert GOLDEN.exists(), "no golden dump: run with WFC_UPDATE_GOLDEN=1 and review it"
    assert dumped.read_text(encoding="utf-8") == GOLDEN.read_text(encoding="utf-8")


@EDITORS
def test_indenting_the_corpus_changes_nothing(editor, tmp_path) -> None:
    copy = tmp_path / "corpus.wf"
    copy.write_text(CORPUS.read_text(encoding="utf-8"), encoding="utf-8")
    headless(editor, str(copy), "normal! gg=G", "w")
    assert copy.read_text(encoding="utf-8") == CORPUS.read_text(encoding="utf-8")


@EDITORS
def test_make_fills_the_quickfix_list_from_wfc_check(editor, tmp_path) -> None:
    broken = tmp_path / "broken.wf"
    broken.write_text("workflow w() {\n    break\n}\nrouter r(x) {\n    route when x > 1 -> 1\n}\n",
                      encoding="utf-8")
    found = tmp_path / "qf.json"
    headless(editor, str(broken), "let &makeprg = 'python -m wfc check %'", "silent make!",
             f"call writefile([json_encode(getqflist())], '{found}')")
    entries = [(e["lnum"], e["col"], e["type"]) for e in json.loads(found.read_text()) if e["valid"]]
    assert (2, 5, "e") in entries and (4, 8, "w") in entries


def test_every_word_of_the_language_is_in_the_syntax_file() -> None:
    assert missing_words((VIM / "syntax" / "wf.vim").read_text(encoding="utf-8")) == set()
