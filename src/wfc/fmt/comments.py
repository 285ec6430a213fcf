"""Finding the comments of a source file (the parser drops them)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKENS = re.compile(r"""f?"(?:[^"\\\n]|\\.)*"|f?'(?:[^'\\\n]|\\.)*'|#[^\n]*""")


@dataclass(frozen=True, slots=True)
class Comment:
    line: int
    text: str  # from `#` to the end of the line, trailing spaces removed
    own_line: bool  # nothing but white space before it on its line


def find_comments(source: str) -> list[Comment]:
    """Every comment, in order; `#` inside string literals is not a comment."""
    comments = []
    for match in _TOKENS.finditer(source):
        if not match.group().startswith("#"):
            continue
        start = match.start()
        line_start = source.rfind("\n", 0, start) + 1
        own_line = not source[line_start:start].strip()
        line = source.count("\n", 0, start) + 1
        comments.append(Comment(line, match.group().rstrip(), own_line))
    return comments
