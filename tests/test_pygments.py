"""The Pygments lexer, as Pygments finds and runs it: registered by the package's entry
point, no `Error` token on any wf file of the project, a golden token stream of the
corpus, and no word of the language missing from it (the drift test)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT

if os.environ.get("CI") == "true":  # CI installs it (the test extra): never skip there
    import pygments  # noqa: F401
else:
    pytest.importorskip("pygments", reason="pip install 'wfc-lang[pygments]'")
from pygments.lexers import get_lexer_by_name, get_lexer_for_filename  # noqa: E402
from pygments.token import Error, Whitespace  # noqa: E402

from wfc import highlight  # noqa: E402
from wfc.api import analyze  # noqa: E402
from wfc.check.policies import KINDS  # noqa: E402
from wfc.check.resolution import BUILTIN_FUNCTIONS, BUILTIN_TYPES, ERROR_NAMES  # noqa: E402
from wfc.syntax.lexing import RESERVED  # noqa: E402

CORPUS = ROOT / "tests" / "editors" / "corpus.wf"
GOLDEN = ROOT / "tests" / "editors" / "corpus.pygments.txt"
WF_FILES = sorted(EXAMPLES.glob("*.wf")) + sorted((ROOT / "tests").rglob("*.wf"))


def stream(source: str) -> str:
    lexer = get_lexer_by_name("wf")
    return "".join(f"{str(kind).removeprefix('Token.'):<22} {value!r}\n"
                   for kind, value in lexer.get_tokens(source) if kind not in Whitespace)


def test_pygments_finds_the_lexer_by_name_alias_and_file_name() -> None:
    for found in (get_lexer_by_name("wf"), get_lexer_by_name("wfc"), get_lexer_for_filename("a.wf")):
        assert type(found).__name__ == "WfLexer"


@pytest.mark.parametrize("path", WF_FILES, ids=lambda path: path.name)
def test_no_error_token_in_any_wf_file(path: Path) -> None:
    lexer = get_lexer_by_name("wf")
    errors = [value for kind, value in lexer.get_tokens(path.read_text(encoding="utf-8"))
              if kind in Error]
    assert errors == []


def test_the_corpus_checks_and_its_tokens_match_the_golden_stream() -> None:
    source = CORPUS.read_text(encoding="utf-8")
    analyze(source, "corpus.wf")  # a real program: every construct as the grammar has it
    if os.environ.get("WFC_UPDATE_GOLDEN") == "1":
        GOLDEN.write_text(stream(source), encoding="utf-8")
    assert GOLDEN.exists(), "no golden stream: run with WFC_UPDATE_GOLDEN=1 and review it"
    assert stream(source) == GOLDEN.read_text(encoding="utf-8")


def test_highlights_the_parts_that_matter() -> None:
    tokens = list(get_lexer_by_name("wf").get_tokens(
        'saga s(x) {\n    step hold = shop.h(f"{x:>3} {len(x)}") with retry(attempts: 2)\n'
        '        compensate none\n    wait 250ms\n}\n'))
    kinds = {value: str(kind) for kind, value in tokens if kind not in Whitespace}
    assert kinds["saga"] == "Token.Keyword.Declaration" and kinds["s"] == "Token.Name.Function"
    assert kinds["hold"] == "Token.Name.Label" and kinds["retry"] == "Token.Name.Builtin"
    assert kinds["attempts"] == "Token.Name.Attribute" and kinds["250ms"] == "Token.Literal.Number.Float"
    assert kinds["len"] == "Token.Name.Builtin"  # code inside an f-string field
    assert kinds["{"] == "Token.Literal.String.Interpol" and kinds["none"] == "Token.Keyword.Pseudo"


def test_every_word_of_the_language_is_in_the_lexer() -> None:
    grammar = (ROOT / "src" / "wfc" / "grammar" / "wf.lark").read_text(encoding="utf-8")
    grammar_words = set(re.findall(r'"([A-Za-z_]\w*)"', grammar))
    lexer_words = set(highlight.KEYWORDS) | set(highlight.CONSTANTS) | set(highlight.SOFT_KEYWORDS)
    assert RESERVED <= set(highlight.KEYWORDS) | set(highlight.CONSTANTS)
    assert grammar_words <= lexer_words, grammar_words - lexer_words
    assert set(KINDS) <= set(highlight.POLICY_KINDS)
    assert {arg for args in KINDS.values() for arg in args} <= set(highlight.POLICY_ARGUMENTS)
    assert set(BUILTIN_FUNCTIONS) | set(BUILTIN_TYPES) <= set(highlight.BUILTINS)
    assert set(ERROR_NAMES) <= set(highlight.ERROR_TYPES)
