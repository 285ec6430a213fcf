"""n8n expressions (`={{ $json.total > 100 }}`, `=Hi {{ $json.name }}`) as wf expressions.

n8n's expressions are JavaScript. The simple ones, which are most of them, read fields
of the current item or of an earlier node's, compare, add and test: those become the wf
expression with the same meaning. Anything else (arrow functions, ternaries, template
literals, most methods) raises `Untranslatable`; the importer then keeps the text as a
marked TODO string and says so. Nothing here evaluates the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..fmt.expressions import map_key, quote
from ..syntax.lexing import RESERVED


class Untranslatable(Exception):
    """The expression uses JavaScript that has no plain wf counterpart here."""


_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?)
    | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_$][A-Za-z0-9_$]*)
    | (?P<op>===|!==|==|!=|<=|>=|&&|\|\||\?\?|\?\.|[<>+\-*/%!()\[\].,{}:])
    )""",
    re.VERBOSE,
)
# JavaScript binary operators: (precedence, wf operator, wf precedence)
_BINARY = {
    "??": (1, "??", 1),
    "||": (2, "or", 2),
    "&&": (3, "and", 3),
    "===": (4, "==", 5),
    "==": (4, "==", 5),
    "!==": (4, "!=", 5),
    "!=": (4, "!=", 5),
    "<": (5, "<", 5),
    "<=": (5, "<=", 5),
    ">": (5, ">", 5),
    ">=": (5, ">=", 5),
    "+": (6, "+", 6),
    "-": (6, "-", 6),
    "*": (7, "*", 7),
    "/": (7, "/", 7),
    "%": (7, "%", 7),
}
_POSTFIX = 9
_METHODS = {"toLowerCase": "lower", "toUpperCase": "upper", "trim": "strip", "toString": "str"}
_GLOBALS = {"String": "str", "parseInt": "int", "parseFloat": "float", "Boolean": "bool"}
_MATH = {"round": "round", "max": "max", "min": "min", "abs": "abs"}  # not floor: int() truncates
_FIELD = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _tokens(text: str) -> list[tuple[str, str]]:
    found, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            if text[position:].strip():
                raise Untranslatable(f"cannot read {text[position:].strip()[:20]!r}")
            break
        kind = match.lastgroup or ""
        found.append((kind, match.group(kind)))
        position = match.end()
    return found


@dataclass(frozen=True, slots=True)
class _Expr:
    text: str
    precedence: int


@dataclass(frozen=True, slots=True)
class _Item:
    """`$('Node').item`, `$input.first()`: an item, whose `.json` is the value."""

    var: str


@dataclass(frozen=True, slots=True)
class _Source:
    """`$('Node')`, `$input`: a node's output, read through `.item`, `.first()`, ..."""

    var: str


class _Parser:
    def __init__(self, text: str, input_var: str | None, node_var: Callable[[str], str | None], mark: str):
        self.tokens = _tokens(text)
        self.at = 0
        self.input_var = input_var
        self.node_var = node_var
        self.mark = mark

    def parse(self) -> str:
        if not self.tokens:
            raise Untranslatable("an empty expression")
        expr = self.binary(0)
        if self.at != len(self.tokens):
            raise Untranslatable(f"unexpected {self.tokens[self.at][1]!r}")
        return expr.text

    def peek(self) -> str:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else ""

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens) or (expected is not None and self.peek() != expected):
            raise Untranslatable(f"expected {expected or 'more'}")
        self.at += 1
        return self.tokens[self.at - 1]

    def binary(self, floor: int) -> _Expr:
        left = self.unary()
        while (operator := self.peek()) in _BINARY and self.tokens[self.at][0] == "op":
            level, wf_op, wf_level = _BINARY[operator]
            if level <= floor:
                break
            self.take()
            right = self.binary(level)
            left = _Expr(
                f"{_wrap(left, wf_level)} {wf_op} {_wrap(right, wf_level + 1)}",
                wf_level,
            )
        return left

    def unary(self) -> _Expr:
        if self.peek() == "!" and self.tokens[self.at][0] == "op":
            self.take()
            return _Expr(f"not {_wrap(self.unary(), 4)}", 4)
        if self.peek() == "-" and self.tokens[self.at][0] == "op":
            self.take()
            return _Expr(f"-{_wrap(self.unary(), 8)}", 8)
        return self.postfix(self.primary())

    def primary(self) -> _Expr | _Item | _Source:
        kind, text = self.take()
        if kind == "number":
            return _Expr(text, _POSTFIX)
        if kind == "string":
            content = _unescape(text[1:-1])
            if self.mark == "'" and ('"' in content or "{" in content or "}" in content):
                raise Untranslatable("a string with quotes or braces inside an f-string field")
            return _Expr(quote(content, self.mark), _POSTFIX)
        if text == "[" and kind == "op":
            return _Expr("[" + ", ".join(self.listed("]")) + "]", _POSTFIX)
        if text == "{" and kind == "op":
            return _Expr("{" + ", ".join(self.listed("}", keyed=True)) + "}", _POSTFIX)
        if text == "(":
            inner = self.binary(0)
            self.take(")")
            return _Expr(inner.text, _POSTFIX if inner.precedence == _POSTFIX else inner.precedence)
        if kind != "name":
            raise Untranslatable(f"unexpected {text!r}")
        return self.name(text)

    def name(self, text: str) -> _Expr | _Item | _Source:
        if text in ("true", "false", "null"):
            return _Expr(text, _POSTFIX)
        if text == "undefined":
            return _Expr("null", _POSTFIX)
        if text.startswith("$"):
            return self.dollar(text)
        if text in _GLOBALS and self.peek() == "(":
            return _Expr(f"{_GLOBALS[text]}({self.arguments()[0]})", _POSTFIX)
        if text == "Math" and self.peek() == ".":
            self.take(".")
            function = _MATH.get(self.take()[1])
            if function is None:
                raise Untranslatable("a Math function")
            return _Expr(f"{function}({', '.join(self.arguments())})", _POSTFIX)
        raise Untranslatable(f"the name {text!r}")

    def dollar(self, text: str) -> _Expr | _Item | _Source:
        """n8n's own names: the current item, another node's items, the time."""
        if text == "$json" and self.input_var:
            return _Expr(self.input_var, _POSTFIX)
        if text == "$input" and self.input_var:
            return _Source(self.input_var)
        if text in ("$now", "$today"):
            return _Expr("now()", _POSTFIX)
        if text == "$" and self.peek() == "(":
            self.take("(")
            return _Source(self.node(self.take()))
        if text == "$node" and self.peek() == "[":
            self.take("[")
            var = self.node(self.take())
            self.take("]")
            return _Item(var)
        raise Untranslatable(f"the name {text!r}")

    def node(self, token: tuple[str, str]) -> str:
        kind, text = token
        var = self.node_var(_unescape(text[1:-1])) if kind == "string" else None
        if var is None:
            raise Untranslatable(f"a reference to node {text}")
        if self.peek() == ")":
            self.take(")")
        return var

    def arguments(self) -> list[str]:
        self.take("(")
        return self.listed(")")

    def listed(self, closer: str, keyed: bool = False) -> list[str]:
        """Items up to `closer`: expressions, or `key: expression` pairs of an object."""
        found = []
        while self.peek() != closer:
            prefix = ""
            if keyed:
                kind, key = self.take()
                if kind not in ("name", "string") or "$" in key:
                    raise Untranslatable(f"the object key {key!r}")
                prefix = map_key(_unescape(key[1:-1]) if kind == "string" else key) + ": "
                self.take(":")
            found.append(prefix + self.binary(0).text)
            if self.peek() != closer:
                self.take(",")
        self.take(closer)
        return found

    def postfix(self, value: _Expr | _Item | _Source) -> _Expr:
        while self.peek() in (".", "?.", "["):
            value = self.member(value)
        if not isinstance(value, _Expr):
            raise Untranslatable("a node's items without `.json`")
        return value

    def member(self, value: _Expr | _Item | _Source) -> _Expr | _Item | _Source:
        operator = self.take()[1]
        if operator == "[":
            key = self.binary(0)
            self.take("]")
            if not isinstance(value, _Expr):
                raise Untranslatable("indexing a node's items")
            return _Expr(f"{_wrap(value, _POSTFIX)}[{key.text}]", _POSTFIX)
        kind, name = self.take()
        if kind != "name":
            raise Untranslatable(f"'.{name}'")
        if isinstance(value, _Source):
            if name in ("first", "last") and self.peek() == "(":
                self.arguments()
                return _Item(value.var)
            if name == "item":
                return _Item(value.var)
            raise Untranslatable(f"'.{name}' of a node")
        if isinstance(value, _Item):
            if name != "json":
                raise Untranslatable(f"'.{name}' of an item")
            return _Expr(value.var, _POSTFIX)
        return self.method_or_field(value, name, operator)

    def method_or_field(self, value: _Expr, name: str, operator: str) -> _Expr:
        target = _wrap(value, _POSTFIX)
        if self.peek() != "(":
            if name == "length":
                return _Expr(f"len({value.text})", _POSTFIX)
            if name.isidentifier() and name not in RESERVED:
                return _Expr(f"{target}{operator}{name}", _POSTFIX)
            if operator == "?.":
                raise Untranslatable(f"'?.{name}'")
            return _Expr(f"{target}[{quote(name, self.mark)}]", _POSTFIX)
        arguments = self.arguments()
        if name in _METHODS and not arguments:
            return _Expr(f"{_METHODS[name]}({value.text})", _POSTFIX)
        if name == "includes" and len(arguments) == 1:
            return _Expr(f"{arguments[0]} in {_wrap(value, 6)}", 5)
        if name in ("join", "split") and len(arguments) == 1:
            return _Expr(f"{name}({value.text}, {arguments[0]})", _POSTFIX)
        raise Untranslatable(f"the method '.{name}()'")


def _wrap(expr: _Expr, level: int) -> str:
    return expr.text if expr.precedence >= level else f"({expr.text})"


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda match: {"n": "\n", "t": "\t"}.get(match.group(1), match.group(1)), text)


def expression(
    text: str, input_var: str | None, node_var: Callable[[str], str | None], mark: str = '"'
) -> str:
    """The wf expression for one n8n expression (the text between `{{` and `}}`)."""
    return _Parser(text, input_var, node_var, mark).parse()


def value(text: str, input_var: str | None, node_var: Callable[[str], str | None]) -> str:
    """The wf expression for an n8n parameter string: a literal, or an expression (a
    leading `=`) that is one `{{ }}` or text with `{{ }}` fields (an f-string)."""
    if not text.startswith("="):
        return quote(text)
    body = text[1:]
    fields = list(_FIELD.finditer(body))
    if (
        len(fields) == 1
        and fields[0].span() == (0, len(body.rstrip()))
        and not body[: fields[0].start()].strip()
    ):
        return expression(fields[0].group(1), input_var, node_var)
    parts, position = [], 0
    for field in fields:
        parts.append(quote(body[position : field.start()], braces=True)[1:-1])
        parts.append("{" + expression(field.group(1), input_var, node_var, mark="'") + "}")
        position = field.end()
    parts.append(quote(body[position:], braces=True)[1:-1])
    return 'f"' + "".join(parts) + '"' if fields else quote(body)
