"""Helpers for building AST nodes from lark's tokens and metadata."""

from __future__ import annotations

import unicodedata
from typing import Any

from lark import Token

from ..diagnostics import Span


class SyntaxProblem(Exception):
    """A syntax error found while building the AST."""

    def __init__(self, message: str, span: Span, help: str | None = None) -> None:
        super().__init__(message)
        self.span = span
        self.help = help


def span_of(meta: Any) -> Span:
    return Span(meta.start_pos, meta.end_pos, meta.line, meta.column, meta.end_line, meta.end_column)


def identifier(token: Token) -> str:
    """The NFKC form of a name, as Python itself normalises identifiers."""
    text = unicodedata.normalize("NFKC", str(token))
    if not text.isidentifier():
        raise SyntaxProblem(f"'{token}' is not a valid name", span_of(token))
    return text
