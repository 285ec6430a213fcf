"""String literals: Python's escapes, and splitting f-strings into parts."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_ESCAPE = re.compile(
    r"\\(?:(\n)|([\\'\"abfnrtv])|([0-7]{1,3})|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})"
    r"|U([0-9a-fA-F]{8})|N\{([^}]*)\}|(.))",
    re.S,
)
_SIMPLE = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}


_TRUNCATED = {
    "x": "2 hex digits, as in '\\x41'",
    "u": "4 hex digits, as in '\\u00e9'",
    "U": "8 hex digits, as in '\\U0001f600'",
    "N": "a character name, as in '\\N{BULLET}'",
}


class StringError(Exception):
    """A bad escape: `offset` is where it starts within the decoded body."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


def decode(body: str) -> str:
    """Apply Python's escape sequences to the text between the quotes."""
    return _ESCAPE.sub(lambda match: _unescape(match), body)


def _unescape(match: re.Match[str]) -> str:
    newline, simple, octal, hex2, hex4, hex8, named, other = match.groups()
    if newline is not None:
        return ""
    if simple is not None:
        return _SIMPLE[simple]
    if octal is not None:
        return chr(int(octal, 8))
    code = hex2 or hex4 or hex8
    if code is not None:
        value = int(code, 16)
        if value > 0x10FFFF:
            raise StringError(f"escape '\\U{code}' is not a valid code point", match.start())
        return chr(value)
    if named is not None:
        try:
            return unicodedata.lookup(named)
        except KeyError:
            raise StringError(f"unknown character name '{named}'", match.start()) from None
    if other in _TRUNCATED:  # Python rejects these too
        raise StringError(f"'\\{other}' must be followed by {_TRUNCATED[other]}", match.start())
    return "\\" + other  # unknown escapes stay as written, as in Python


@dataclass(frozen=True, slots=True)
class Piece:
    """A part of an f-string body: literal text, or an expression and its spec."""

    text: str
    offset: int  # within the body
    is_expr: bool
    spec: str = ""


def split_fstring(body: str) -> list[Piece]:
    """Split an f-string body at `{expr[:spec]}`; `{{` and `}}` are braces."""
    pieces: list[Piece] = []
    literal: list[str] = []
    literal_start = 0
    i = 0
    while i < len(body):
        char = body[i]
        if char in "{}" and body[i + 1 : i + 2] == char:
            literal.append(char)
            i += 2
        elif char == "}":
            raise StringError("single '}' in f-string; write '}}' for a brace", i)
        elif char == "{":
            if literal:
                pieces.append(Piece("".join(literal), literal_start, False))
                literal = []
            end, colon = _field_end(body, i + 1)
            expr_end = colon if colon is not None else end
            spec = body[colon + 1 : end] if colon is not None else ""
            pieces.append(Piece(body[i + 1 : expr_end], i + 1, True, spec))
            i = end + 1
            literal_start = i
        else:
            if char == "\\" and i + 1 < len(body):
                literal.append(body[i : i + 2])
                i += 2
                continue
            literal.append(char)
            i += 1
    if literal:
        pieces.append(Piece("".join(literal), literal_start, False))
    return pieces


def _field_end(body: str, start: int) -> tuple[int, int | None]:
    """The index of the `}` closing a replacement field, and of its spec colon."""
    depth = 0
    quote: str | None = None
    colon: int | None = None
    for i in range(start, len(body)):
        char = body[i]
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}" and depth:
            depth -= 1
        elif char == "}":
            if not body[start : colon if colon is not None else i].strip():
                raise StringError("empty expression in f-string", start - 1)
            return i, colon
        elif char == ":" and depth == 0 and colon is None:
            colon = i
    raise StringError("unclosed '{' in f-string", start - 1)
