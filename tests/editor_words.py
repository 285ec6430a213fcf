"""The words every syntax file must know, for the editors' drift tests."""

from __future__ import annotations

import re

from wfc import highlight
from wfc.check.policies import KINDS


def missing_words(text: str) -> set[str]:
    """The keywords, soft keywords, constants, policy kinds, builtins and error types of
    the language (the Pygments lexer's lists, which test_pygments checks against the
    grammar and the checker) that `text` does not contain."""
    words = set(re.findall(r"[A-Za-z_]\w*", text))
    expected = (set(highlight.KEYWORDS) | set(highlight.CONSTANTS) | set(highlight.SOFT_KEYWORDS)
                | set(KINDS) | set(highlight.BUILTINS) | set(highlight.ERROR_TYPES))
    return expected - words
