"""Parse tree -> AST: one method per grammar rule, each building one node."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from lark import Token, v_args

from ..diagnostics import Span
from . import ast
from .declarations import DeclarationBuilder
from .nodes import SyntaxProblem, identifier, span_of
from .strings import StringError, decode, split_fstring

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _items(children: list[Any]) -> tuple[Any, ...]:
    return tuple(child for child in children if child is not None)


@v_args(meta=True)
class ToAst(DeclarationBuilder):
    """Builds the AST. `parse_expr` parses the inside of f-string fields."""

    def __init__(self, source: str, parse_expr: Callable[[str], ast.Expr]) -> None:
        super().__init__()
        self._source = source
        self._parse_expr = parse_expr

    # ---- declarations ----------------------------------------------------
    def module(self, meta, decls):
        return ast.Module(span=_module_span(meta, self._source), decls=_items(decls))

    def use_decl(self, meta, children):
        path, alias = children
        return ast.Use(span=span_of(meta), path=path, alias=alias and self._ident(alias))

    def dotted(self, meta, names):
        return ast.Dotted(span=span_of(meta), parts=tuple(identifier(n) for n in names))

    def const_decl(self, meta, children):
        name, value = children
        return ast.ConstDecl(span=span_of(meta), name=self._ident(name), value=value)

    def error_decl(self, meta, children):
        name, parent = children
        return ast.ErrorDecl(
            span=span_of(meta), name=self._ident(name), parent=parent and self._ident(parent)
        )

    def policy_decl(self, meta, children):
        name, *policies = children
        return ast.PolicyDecl(span=span_of(meta), name=self._ident(name), policies=_items(policies))

    def returns(self, meta, children):
        return children[0]

    def params(self, meta, children):
        return tuple(children)

    def param(self, meta, children):
        name, type_, default = children
        return ast.Param(span=span_of(meta), name=self._ident(name), type=type_, default=default)

    # ---- policies --------------------------------------------------------
    def with_clause(self, meta, policies):
        return tuple(policies)

    def policy_ref(self, meta, children):
        return ast.PolicyUse(span=span_of(meta), name=self._ident(children[0]), args=None)

    def policy_call(self, meta, children):
        name, args = children
        return ast.PolicyUse(span=span_of(meta), name=self._ident(name), args=args or ())

    def policy_args(self, meta, children):
        return tuple(children)

    def policy_arg(self, meta, children):
        name, value = children
        return ast.PolicyArg(span=span_of(meta), name=name, value=value)

    def arg_name(self, meta, children):
        return identifier(children[0])

    def rate(self, meta, children):
        text = str(children[0])
        number, unit = text.split("/")
        count = float_value(number, span_of(meta))
        return ast.Rate(span=span_of(meta), count=count, period=_UNIT_SECONDS[unit], text=text)

    # ---- statements ------------------------------------------------------
    def block(self, meta, statements):
        return _items(statements)

    def assign(self, meta, children):
        target, value = children
        return ast.Assign(span=span_of(meta), target=self._ident(target), value=value)

    def assign_for(self, meta, children):
        target, loop = children
        return replace(loop, span=span_of(meta), into=self._ident(target))

    def expr_stmt(self, meta, children):
        return ast.ExprStmt(span=span_of(meta), value=children[0])

    def guarded(self, meta, children):
        value, policies = children
        if policies is None:
            return value
        return ast.Guarded(span=span_of(meta), call=value, policies=policies)

    def stage(self, meta, children):
        name, policies, when, body = children
        return ast.Stage(
            span=span_of(meta),
            name=self._ident(name),
            policies=policies or (),
            when=when,
            body=body,
        )

    def if_stmt(self, meta, children):
        test, body, *rest = children
        orelse = rest.pop()
        first = ast.IfBranch(span=span_of(meta), test=test, body=body)
        return ast.If(span=span_of(meta), branches=(first, *rest), orelse=orelse)

    def elif_clause(self, meta, children):
        test, body = children
        return ast.IfBranch(span=span_of(meta), test=test, body=body)

    def for_stmt(self, meta, children):
        return children[0]

    def for_loop(self, meta, children):
        concurrent, var, iterable, where, limit, timeout, skip, body = children
        return ast.For(
            span=span_of(meta),
            var=self._ident(var),
            iterable=iterable,
            body=body,
            concurrent=concurrent is not None,
            limit=limit,
            timeout=timeout,
            skip_errors=bool(skip),
            into=None,
            where=where,
        )

    def skip_errors(self, meta, children):
        return True

    def keep_going(self, meta, children):
        return True

    def while_stmt(self, meta, children):
        test, max_, timeout, body = children
        return ast.While(span=span_of(meta), test=test, max=max_, timeout=timeout, body=body)

    def repeat_stmt(self, meta, children):
        max_, timeout, body, until = children
        return ast.Repeat(span=span_of(meta), body=body, until=until, max=max_, timeout=timeout)

    def break_stmt(self, meta, children):
        return ast.Break(span=span_of(meta))

    def continue_stmt(self, meta, children):
        return ast.Continue(span=span_of(meta))

    def parallel_stmt(self, meta, children):
        _, race, limit, timeout, keep_going, body = children
        return ast.Parallel(
            span=span_of(meta),
            limit=limit,
            timeout=timeout,
            keep_going=bool(keep_going),
            body=body,
            first=race == ("first",),
            quorum=race[1] if race is not None and race[0] == "quorum" else None,
        )

    def race_first(self, meta, children):
        return ("first",)

    def race_quorum(self, meta, children):
        return ("quorum", children[0])

    def try_stmt(self, meta, children):
        body, *handlers = children
        return ast.Try(span=span_of(meta), body=body, handlers=tuple(handlers))

    def catch_clause(self, meta, children):
        types, name, body = children
        return ast.Catch(span=span_of(meta), types=types or (), name=name and self._ident(name), body=body)

    def catch_types(self, meta, children):
        return tuple(children)

    def return_stmt(self, meta, children):
        return ast.Return(span=span_of(meta), value=children[0])

    def yield_stmt(self, meta, children):
        return ast.Yield(span=span_of(meta), value=children[0])

    def fail_stmt(self, meta, children):
        return ast.Fail(span=span_of(meta), value=children[0])

    def require_stmt(self, meta, children):
        test, message = children
        source = self._source[test.span.start : test.span.end]
        return ast.Require(span=span_of(meta), test=test, message=message, source=source)

    def emit_stmt(self, meta, children):
        topic, value = children
        return ast.Emit(span=span_of(meta), topic=topic, value=value)

    def wait_stmt(self, meta, children):
        return ast.Wait(span=span_of(meta), duration=children[0])

    def select_stmt(self, meta, children):
        return ast.Select(span=span_of(meta), arms=tuple(arm for arm in children if arm is not None))

    def wait_arm(self, meta, children):
        duration, body = children
        return self._arm(meta, None, body, wait=duration)

    def receive_arm(self, meta, children):
        target, signal, body = children
        return self._arm(meta, target, body, signal=self._ident(signal))

    def call_arm(self, meta, children):
        target, call, body = children
        return self._arm(meta, target, body, call=call)

    def _arm(self, meta, target, body, wait=None, signal=None, call=None) -> ast.SelectArm:
        return ast.SelectArm(
            span=span_of(meta),
            target=None if target is None else self._ident(target),
            wait=wait,
            signal=signal,
            call=call,
            body=body,
        )

    def receive_stmt(self, meta, children):
        target, signal, timeout = children
        return ast.Receive(
            span=span_of(meta),
            target=None if target is None else self._ident(target),
            signal=self._ident(signal),
            timeout=timeout,
        )

    # ---- expressions -----------------------------------------------------
    def coalesce(self, meta, children):
        return ast.Logical(span=span_of(meta), op="??", left=children[0], right=children[1])

    def or_(self, meta, children):
        return ast.Logical(span=span_of(meta), op="or", left=children[0], right=children[1])

    def and_(self, meta, children):
        return ast.Logical(span=span_of(meta), op="and", left=children[0], right=children[1])

    def not_(self, meta, children):
        return ast.Not(span=span_of(meta), operand=children[0])

    def compare(self, meta, children):
        return ast.Compare(
            span=span_of(meta),
            left=children[0],
            ops=tuple(children[1::2]),
            comparators=tuple(children[2::2]),
        )

    def comp_op(self, meta, tokens):
        return " ".join(str(token) for token in tokens)

    def binop(self, meta, children):
        left, op, right = children
        return ast.BinOp(span=span_of(meta), op=str(op), left=left, right=right)

    def neg(self, meta, children):
        return ast.Neg(span=span_of(meta), operand=children[1])

    def call(self, meta, children):
        func, args = children
        positional: list[ast.Expr] = []
        keywords: list[ast.Keyword] = []
        for arg in args or ():
            if isinstance(arg, ast.Keyword):
                keywords.append(arg)
            elif keywords:
                raise SyntaxProblem(
                    "positional argument after a keyword argument",
                    arg.span,
                    "move the positional arguments before the keyword arguments",
                )
            else:
                positional.append(arg)
        return ast.Call(span=span_of(meta), func=func, args=tuple(positional), keywords=tuple(keywords))

    def args(self, meta, children):
        return tuple(children)

    def kwarg(self, meta, children):
        name, value = children
        return ast.Keyword(span=span_of(meta), name=identifier(name), value=value)

    def attr(self, meta, children):
        return ast.Attr(span=span_of(meta), value=children[0], name=identifier(children[1]), safe=False)

    def safe_attr(self, meta, children):
        return ast.Attr(span=span_of(meta), value=children[0], name=identifier(children[1]), safe=True)

    def slice(self, meta, children):
        value, start, stop = children
        return ast.Slice(span=span_of(meta), value=value, start=start, stop=stop)

    def index(self, meta, children):
        return ast.Index(span=span_of(meta), value=children[0], index=children[1])

    def name(self, meta, children):
        return ast.Name(span=span_of(meta), id=identifier(children[0]))

    def number(self, meta, children):
        return ast.Literal(span=span_of(meta), value=number_value(str(children[0]), span_of(meta)))

    def duration(self, meta, children):
        text = str(children[0])
        unit = "ms" if text.endswith("ms") else text[-1]
        seconds = float_value(text[: -len(unit)], span_of(meta)) * _UNIT_SECONDS[unit]
        if math.isinf(seconds):
            raise SyntaxProblem(
                "this duration is too long to represent",
                span_of(meta),
                "a duration must be finite; leave out the timeout or wait instead",
            )
        return ast.Duration(span=span_of(meta), seconds=seconds, text=text)

    def string(self, meta, children):
        token = children[0]
        return ast.Literal(span=span_of(meta), value=self._decode(token, token[1:-1], 1))

    def fstring(self, meta, children):
        token = children[0]
        body = token[2:-1]
        try:
            pieces = split_fstring(body)
        except StringError as exc:
            raise SyntaxProblem(str(exc), _inner_span(token, 2 + exc.offset, 1)) from None
        parts: list[str | ast.FormattedValue] = []
        for piece in pieces:
            if not piece.is_expr:
                parts.append(self._decode(token, piece.text, 2 + piece.offset))
                continue
            value = self._field(token, piece)
            span = _inner_span(token, 2 + piece.offset, len(piece.text))
            parts.append(ast.FormattedValue(span=span, value=value, spec=piece.spec))
        return ast.FString(span=span_of(meta), parts=tuple(parts))

    def _field(self, token: Token, piece: Any) -> ast.Expr:
        """Parse an f-string field on its own, then move its spans to where it
        stands. (Parsing it behind a blanked copy of the text before it made
        fields quadratic in the file's size.) Strings never span lines, so
        every node of the field lies on the token's line."""
        offset = 2 + piece.offset
        value = self._parse_expr(piece.text)
        start, line, column = _position(token)
        return _shifted(value, start + offset, line, column + offset - 1)

    def true(self, meta, children):
        return ast.Literal(span=span_of(meta), value=True)

    def false(self, meta, children):
        return ast.Literal(span=span_of(meta), value=False)

    def null(self, meta, children):
        return ast.Literal(span=span_of(meta), value=None)

    def list_(self, meta, children):
        return ast.ListExpr(span=span_of(meta), items=_items(children))

    def map_(self, meta, children):
        entries = _items(children)
        return ast.MapExpr(
            span=span_of(meta),
            keys=tuple(key for key, _ in entries),
            values=tuple(value for _, value in entries),
        )

    def entry(self, meta, children):
        key, value = children
        text = self._decode(key, key[1:-1], 1) if key.type == "STRING" else identifier(key)
        return (text, value)

    # ---- helpers ---------------------------------------------------------
    def _ident(self, token: Token) -> ast.Ident:
        return ast.Ident(span=span_of(token), id=identifier(token))

    def _decode(self, token: Token, body: str, offset: int) -> str:
        try:
            return decode(body)
        except StringError as exc:
            raise SyntaxProblem(str(exc), _inner_span(token, offset + exc.offset, 2)) from None


def number_value(text: str, span: Span) -> int | float:
    """A number literal's value; Python's limits are syntax errors, not crashes."""
    digits = text.replace("_", "")
    if any(mark in digits for mark in ".eE"):
        value = float(digits)
        if math.isinf(value):
            raise SyntaxProblem(
                "this number is too large: it would be infinity", span, "write a smaller number"
            )
        return value
    if len(digits) > _MAX_INT_DIGITS:
        raise SyntaxProblem(
            f"this integer has {len(digits)} digits, more than the "
            f"{_MAX_INT_DIGITS} Python allows in a literal",
            span,
            "keep very large numbers in a handler, or as text",
        )
    return int(digits)


def float_value(text: str, span: Span) -> float:
    """A number literal as a float (durations, rates), finite."""
    try:
        value = float(number_value(text, span))
    except OverflowError:
        value = math.inf
    if math.isinf(value):
        raise SyntaxProblem("this number is too large: it would be infinity", span, "write a smaller number")
    return value


_MAX_INT_DIGITS = 4300  # CPython's default int max str digits


def _inner_span(token: Token, offset: int, width: int) -> Span:
    start, line, column = _position(token)
    start, column = start + offset, column + offset
    return Span(start, start + width, line, column, line, column + width)


def _position(token: Token) -> tuple[int, int, int]:
    """Where a token starts: offset, line, column (lark always sets them for a
    lexed token; its types allow None)."""
    return token.start_pos or 0, token.line or 1, token.column or 1


def _shifted(value: Any, offset: int, line: int, columns: int) -> Any:
    """`value` (a node, a tuple of them, or a leaf), parsed alone from one line,
    with its spans moved `offset` characters on, to `line`, `columns` to the right."""
    if isinstance(value, ast.Node):
        changes = {
            name: _shifted(getattr(value, name), offset, line, columns)
            for name in value.__dataclass_fields__
            if name != "span"
        }
        span = value.span
        moved = Span(
            span.start + offset,
            span.end + offset,
            line,
            span.column + columns,
            line,
            span.end_column + columns,
        )
        return replace(value, span=moved, **changes)
    if isinstance(value, tuple):
        return tuple(_shifted(item, offset, line, columns) for item in value)
    return value


def _module_span(meta: Any, source: str) -> Span:
    if getattr(meta, "empty", True):
        return Span(0, len(source), 1, 1, 1, 1)
    return span_of(meta)
