"""The postlexer: newline handling, map-or-block braces, reserved words.

Lark's contextual lexer lets a keyword lex as a NAME wherever the keyword is not
expected; that is what makes soft keywords work (`max(a, b)`, `limit = 3`). Hard
keywords must never be names, so the postlexer rejects them here.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token

RESERVED = frozenset(
    [
        "use",
        "as",
        "const",
        "policy",
        "workflow",
        "stage",
        "router",
        "saga",
        "compensate",
        "machine",
        "do",
        "when",
        "parallel",
        "for",
        "in",
        "while",
        "repeat",
        "until",
        "break",
        "continue",
        "yield",
        "return",
        "fail",
        "require",
        "else",
        "if",
        "elif",
        "try",
        "catch",
        "with",
        "emit",
        "wait",
        "and",
        "or",
        "not",
        "true",
        "false",
        "null",
    ]
)
# After these a `{` opens a block; anywhere else it opens a map literal.
_ENDS_OPERAND = frozenset(
    {
        "NAME",
        "NUMBER",
        "DURATION",
        "RATE",
        "STRING",
        "FSTRING",
        "RPAR",
        "RSQB",
        "RBRACE",
        "TRUE",
        "FALSE",
        "NULL",
    }
)
_BLOCK_KEYWORDS = frozenset(
    {
        "ELSE",
        "TRY",
        "DO",
        "REPEAT",
        "PARALLEL",
        "CATCH",
        "CONTINUE",
        "SKIP",
        "ALL",
        "FIRST",
        "WEIGHTED",
        "SELECT",
    }
)


class ReservedWord(Exception):
    def __init__(self, token: Token) -> None:
        super().__init__(token.value)
        self.token = token


class PostLexer:
    """Turns lark's raw token stream into the one the grammar expects.

    It never looks ahead: the contextual lexer lexes each token in the parser
    state of the tokens passed on so far, so holding one back would mislex the next.
    """

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        brackets: list[str] = []  # "(", "[", "map" or "block"
        prev: Token | None = None  # the last token passed on (None: start of input)
        for token in stream:
            kind = token.type
            if kind == "_NL":
                if _newline_is_noise(brackets, prev):
                    continue
            elif kind == "NAME" and token.value in RESERVED and not _after_dot(prev):
                raise ReservedWord(token)
            else:
                _track(brackets, prev, token)
            yield token
            prev = token


def _after_dot(prev: Token | None) -> bool:
    """A member name (`order.state`) may be any word: it cannot be a keyword there."""
    return prev is not None and prev.value in (".", "?.")


def _newline_is_noise(brackets: list[str], prev: Token | None) -> bool:
    if brackets and brackets[-1] != "block":
        return True
    return prev is None or prev.type in ("_NL", "LBRACE")


def _track(brackets: list[str], prev: Token | None, token: Token) -> None:
    kind = token.type
    if kind in ("LPAR", "LSQB"):
        brackets.append(kind)
    elif kind == "LBRACE":
        opens_block = prev is not None and (prev.type in _ENDS_OPERAND or prev.type in _BLOCK_KEYWORDS)
        brackets.append("block" if opens_block else "map")
    elif kind in ("RPAR", "RSQB", "RBRACE") and brackets:
        brackets.pop()
