"""Source text -> AST, or syntax diagnostics in human words."""

from __future__ import annotations

import re
from functools import lru_cache

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from ..diagnostics import Diagnostic, Span, error
from . import ast
from .cache import grammar_tables
from .lexing import RESERVED, PostLexer, ReservedWord
from .transform import SyntaxProblem, ToAst, span_of

_EXPRESSION_START = {
    "NAME",
    "NUMBER",
    "STRING",
    "FSTRING",
    "DURATION",
    "TRUE",
    "FALSE",
    "NULL",
    "LPAR",
    "LSQB",
    "LBRACE",
    "MINUS",
    "NOT",
}
_WORDS = {
    "_NL": "a new line",
    "$END": "the end of the file",
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "RATE": "a rate like 10/s",
    "DURATION": "a duration like 5s",
}


@lru_cache(maxsize=1)
def _lark() -> Lark:
    return Lark.open_from_package(
        "wfc",
        "wf.lark",
        ("grammar",),
        parser="lalr",
        lexer="contextual",
        postlex=PostLexer(),
        propagate_positions=True,
        maybe_placeholders=True,
        start=["module", "expr"],
        cache=grammar_tables() or False,
    )


def parse(source: str) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse a module; with syntax errors, None and a diagnostic for each (`recover`)."""
    module, diagnostics = recover(source)
    return (module if not diagnostics else None), diagnostics


MAX_SYNTAX_ERRORS = 20
_TOP_LEVEL = re.compile(r"(use|const|policy|workflow|saga|router|machine)\b")


def recover(source: str) -> tuple[ast.Module | None, list[Diagnostic]]:
    """Parse a module, going on after a syntax error: the top-level declaration that holds
    it is blanked out (its lines kept, empty, so that later positions hold) and the rest is
    parsed again, for up to MAX_SYNTAX_ERRORS errors. The module of what parsed in the end
    comes back too: editors outline and complete the parts of a broken file that parse."""
    diagnostics: list[Diagnostic] = []
    text = source
    while True:
        try:
            return _build(text, "module"), diagnostics
        except _SyntaxFailure as failure:
            found = failure.diagnostic
        last = diagnostics[-1] if diagnostics else None
        if last is not None and (found.line, found.column) <= (last.line, last.column):
            return None, diagnostics  # no progress: what follows cannot be told apart
        diagnostics.append(found)
        blanked = _without_declaration_at(text, found.line)
        if len(diagnostics) >= MAX_SYNTAX_ERRORS or blanked == text:
            return None, diagnostics
        text = blanked


def _without_declaration_at(text: str, line: int) -> str:
    """`text` with the top-level declaration holding `line` (1-based) emptied, line by line."""
    lines = text.split("\n")
    starts = [number for number, content in enumerate(lines) if _TOP_LEVEL.match(content)]
    first = max((number for number in starts if number <= line - 1), default=0)
    after = min((number for number in starts if number > line - 1 and number > first), default=len(lines))
    return "\n".join([*lines[:first], *[""] * (after - first), *lines[after:]])


@lru_cache(maxsize=4096)
def parse_expression(source: str) -> ast.Expr:
    """Parse one expression (raises `_SyntaxFailure`); used for f-string fields. The
    same field text parses to the same tree, and every use gets its own shifted copy
    (transform._shifted), so a field repeated across a file is parsed once."""
    return _build(source, "expr")


_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


def parse_field(text: str) -> ast.Expr:
    """An f-string field: `name` and `name.attr...` (most fields) are built directly,
    the head word parsed once per distinct word, so they cost no parse of their own;
    anything else is `parse_expression`. The trees are the same (tests/test_parser.py)."""
    if _DOTTED.match(text):
        head, *attributes = text.split(".")
        node = parse_expression(head)
        if isinstance(node, ast.Name):
            end = len(head)
            for attribute in attributes:
                end += 1 + len(attribute)
                node = ast.Attr(span=Span(0, end, 1, 1, 1, end + 1), value=node, name=attribute, safe=False)
            return node
    return parse_expression(text)


class _SyntaxFailure(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


# Deeper nesting would overflow the recursive passes after the parser, and the 200
# nested brackets Python's own tokenizer accepts in the generated code, where one
# level of wf becomes up to 1.5 brackets (`??` up to 2: it counts twice). A chain
# of binary operators (`a + b + c`, `a or b or c`) stays flat in Python, so it is
# not nesting; it deepens the tree all the same, up to MAX_TREE_DEPTH levels in all.
MAX_DEPTH = 130
MAX_TREE_DEPTH = 280
_CHAINS = frozenset({"or_", "and_", "binop"})
_WEIGHTS = {"coalesce": 2}


def _build(source: str, start: str):
    try:
        tree = _lark().parse(source, start=start)
        _check_depth(tree)
        return ToAst(source, parse_field).transform(tree)
    except VisitError as exc:
        raise _from_problem(exc.orig_exc, source) from None
    except (UnexpectedInput, ReservedWord) as exc:
        raise _from_problem(exc, source) from None


def _check_depth(tree: Tree) -> None:
    """Reject absurdly deep nesting or absurdly long operator chains, without recursing."""
    stack = [(tree, 1, 1)]
    while stack:
        node, nesting, depth = stack.pop()
        if nesting > MAX_DEPTH or depth > MAX_TREE_DEPTH:
            message = (
                f"this is nested more than {MAX_DEPTH} levels deep"
                if nesting > MAX_DEPTH
                else f"this chains more than {MAX_TREE_DEPTH} operators or calls"
            )
            raise _SyntaxFailure(
                _error(message, span_of(node.meta), "split the expression or block into named steps", "E0003")
            )
        for position, child in enumerate(node.children):
            if isinstance(child, Tree):
                chained = position == 0 and node.data in _CHAINS and child.data in _CHAINS
                weight = 0 if chained else _WEIGHTS.get(child.data, 1)
                stack.append((child, nesting + weight, depth + 1))


def _from_problem(exc: BaseException, source: str) -> _SyntaxFailure:
    if isinstance(exc, _SyntaxFailure):
        return exc
    if isinstance(exc, SyntaxProblem):
        return _SyntaxFailure(_error(exc.args[0], exc.span, exc.help))
    if isinstance(exc, ReservedWord):
        word = exc.token.value
        return _SyntaxFailure(
            _error(
                f"'{word}' is a reserved word and cannot be used as a name",
                span_of(exc.token),
                f"choose another name, such as '{word}_'",
            )
        )
    if isinstance(exc, UnexpectedCharacters):
        return _SyntaxFailure(_unexpected_character(exc, source))
    if isinstance(exc, UnexpectedToken):
        return _SyntaxFailure(_unexpected_token(exc, source))
    raise exc


def _error(message: str, span: Span, help: str | None = None, code: str = "E0001") -> Diagnostic:
    return error(code, message, span, help)


def _point(source: str, pos: int, line: int, column: int, width: int = 1) -> Span:
    return Span(pos, pos + width, line, column, line, column + width)


def _unexpected_character(exc: UnexpectedCharacters, source: str) -> Diagnostic:
    pos = exc.pos_in_stream or 0
    char = source[pos] if pos < len(source) else ""
    span = _point(source, pos, exc.line, exc.column)
    if char in "\"'":
        return _error("unterminated string", span, "close the string on the same line", "E0002")
    if char == "f" and source[pos + 1 : pos + 2] in "\"'":
        return _error("unterminated f-string", span, "close the string on the same line", "E0002")
    shown = char if char.isprintable() else repr(char)[1:-1]
    return _error(f"unexpected character '{shown}'", span, None, "E0002")


def _unexpected_token(exc: UnexpectedToken, source: str) -> Diagnostic:
    token: Token = exc.token
    expected = _describe_expected(exc.expected or set())
    help_text = f"expected {expected}" if expected else None
    if token.type == "$END":
        line, column = _end_position(source)
        span = Span(len(source), len(source), line, column, line, column + 1)
        return _error("unexpected end of file", span, help_text)
    width = max(1, len(str(token))) if token.type != "_NL" else 1
    span = _point(source, token.start_pos or 0, token.line or 1, token.column or 1, width)
    return _error(f"unexpected {_describe_token(token)}", span, help_text)


def _describe_token(token: Token) -> str:
    if token.type == "_NL":
        return "end of line"
    if token.type == "NAME":
        return f"name '{token}'"
    if str(token) in RESERVED or token.type.isalpha() and token.type.lower() == str(token):
        return f"keyword '{token}'"
    return f"'{token}'"


_STATEMENT_START = {
    "RETURN",
    "BREAK",
    "CONTINUE",
    "STAGE",
    "IF",
    "FOR",
    "WHILE",
    "REPEAT",
    "PARALLEL",
    "TRY",
    "YIELD",
    "FAIL",
    "REQUIRE",
    "EMIT",
    "WAIT",
    "STEP",
    "RECEIVE",
    "SELECT",
    "SEND",
}
_DECLARATION_START = {"USE", "CONST", "POLICY", "WORKFLOW", "ROUTER", "SAGA", "MACHINE", "ERROR"}
_OPERATORS = {
    "PLUS",
    "MINUS",
    "STAR",
    "SLASH",
    "DSLASH",
    "PERCENT",
    "AND",
    "OR",
    "DOT",
    "LPAR",
    "LSQB",
    "IN",
    "NOT",
    "EQUAL",
    "LESSTHAN",
    "MORETHAN",
    "ARROW",
    "SAFEDOT",
    "COALESCE",
    "EQEQ",
    "NOTEQ",
    "LESSEQ",
    "MOREEQ",
}


def _describe_expected(expected: set[str]) -> str:
    names = set(expected)
    words: list[str] = []
    for group, word in (
        (_DECLARATION_START, "a declaration"),
        (_STATEMENT_START, "a statement"),
        (_EXPRESSION_START, "an expression"),
    ):
        if len(group & names) >= 3:
            words.append(word)
            names -= group
            names.discard("_NL")
    if len(_OPERATORS & names) >= 4:
        words.append("an operator")
        names -= _OPERATORS
    words += [_WORDS.get(name) or f"'{_terminal_text(name)}'" for name in sorted(names, key=_expected_order)]
    words = list(dict.fromkeys(words))
    if len(words) > 4:
        words = words[:4] + ["..."]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _expected_order(name: str) -> tuple[int, str]:
    return (0 if name in _WORDS else 1, name)


def _terminal_text(name: str) -> str:
    for terminal in _lark().terminals:
        if terminal.name == name:
            pattern = terminal.pattern
            return pattern.value if pattern.type == "str" else name.lower()
    return name.lower()


def _end_position(source: str) -> tuple[int, int]:
    lines = source.split("\n")
    return len(lines), len(lines[-1]) + 1
