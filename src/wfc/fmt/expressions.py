"""Expressions back to wf text, with the fewest parentheses that keep their meaning."""

from __future__ import annotations

import math

from ..syntax import ast
from ..syntax.lexing import RESERVED

COALESCE, OR, AND, NOT, CMP, ADD, MUL, UNARY, POSTFIX = range(1, 10)
_BINARY = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "//": MUL, "%": MUL}
_LOGICAL = {"??": COALESCE, "or": OR, "and": AND}


def quote(text: str, mark: str = '"', braces: bool = False) -> str:
    """A wf string literal for `text` (in an f-string, `braces` doubles `{` and `}`)."""
    out = []
    for char in text:
        if char == "\\" or char == mark:
            out.append("\\" + char)
        elif char in "\n\t\r":
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}[char])
        elif braces and char in "{}":
            out.append(char * 2)
        elif not char.isprintable():
            code = ord(char)
            out.append(
                f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
            )
        else:
            out.append(char)
    return mark + "".join(out) + mark


def map_key(key: str) -> str:
    return key if key.isidentifier() and key not in RESERVED else quote(key)


class ExprPrinter:
    def __init__(self, mark: str = '"') -> None:
        self.mark = mark  # the quote strings use; f-string fields use the other one

    def text(self, expr: ast.Expr) -> str:
        return self.show(expr)[0]

    def sub(self, expr: ast.Expr, minimum: int) -> str:
        text, level = self.show(expr)
        return text if level >= minimum else f"({text})"

    def show(self, expr: ast.Expr) -> tuple[str, int]:
        return getattr(self, f"show_{type(expr).__name__}")(expr)

    def show_Name(self, expr: ast.Name) -> tuple[str, int]:
        return expr.id, POSTFIX + 1

    def show_Literal(self, expr: ast.Literal) -> tuple[str, int]:
        value = expr.value
        if value is None or isinstance(value, bool):
            return {None: "null", True: "true", False: "false"}[value], POSTFIX + 1
        if isinstance(value, str):
            return quote(value, self.mark), POSTFIX + 1
        if isinstance(value, float) and not math.isfinite(value):
            return "1e999", POSTFIX + 1
        return repr(value), POSTFIX + 1

    def show_Duration(self, expr: ast.Duration) -> tuple[str, int]:
        return expr.text, POSTFIX + 1

    def show_Rate(self, expr: ast.Rate) -> tuple[str, int]:
        return expr.text, POSTFIX + 1

    def show_FString(self, expr: ast.FString) -> tuple[str, int]:
        inner = ExprPrinter("'" if self.mark == '"' else '"')
        pieces = []
        for part in expr.parts:
            if isinstance(part, str):
                pieces.append(quote(part, self.mark, braces=True)[1:-1])
                continue
            field = inner.text(part.value)
            field = f" {field} " if field.startswith("{") or field.endswith("}") else field
            pieces.append("{" + field + (f":{part.spec}" if part.spec else "") + "}")
        return "f" + self.mark + "".join(pieces) + self.mark, POSTFIX + 1

    def show_ListExpr(self, expr: ast.ListExpr) -> tuple[str, int]:
        return "[" + ", ".join(self.text(item) for item in expr.items) + "]", POSTFIX + 1

    def show_MapExpr(self, expr: ast.MapExpr) -> tuple[str, int]:
        entries = (f"{map_key(k)}: {self.text(v)}" for k, v in zip(expr.keys, expr.values))
        return "{" + ", ".join(entries) + "}", POSTFIX + 1

    def show_Attr(self, expr: ast.Attr) -> tuple[str, int]:
        return f"{self.sub(expr.value, POSTFIX)}{'?.' if expr.safe else '.'}{expr.name}", POSTFIX

    def show_Index(self, expr: ast.Index) -> tuple[str, int]:
        return f"{self.sub(expr.value, POSTFIX)}[{self.text(expr.index)}]", POSTFIX

    def show_Slice(self, expr: ast.Slice) -> tuple[str, int]:
        start, stop = ("" if part is None else self.text(part) for part in (expr.start, expr.stop))
        return f"{self.sub(expr.value, POSTFIX)}[{start}:{stop}]", POSTFIX

    def show_Call(self, expr: ast.Call) -> tuple[str, int]:
        args = [self.text(arg) for arg in expr.args]
        args += [f"{kw.name}={self.text(kw.value)}" for kw in expr.keywords]
        return f"{self.sub(expr.func, POSTFIX)}({', '.join(args)})", POSTFIX

    def show_BinOp(self, expr: ast.BinOp) -> tuple[str, int]:
        level = _BINARY[expr.op]
        return f"{self.sub(expr.left, level)} {expr.op} {self.sub(expr.right, level + 1)}", level

    def show_Logical(self, expr: ast.Logical) -> tuple[str, int]:
        level = _LOGICAL[expr.op]
        return f"{self.sub(expr.left, level)} {expr.op} {self.sub(expr.right, level + 1)}", level

    def show_Not(self, expr: ast.Not) -> tuple[str, int]:
        return f"not {self.sub(expr.operand, NOT)}", NOT

    def show_Neg(self, expr: ast.Neg) -> tuple[str, int]:
        return f"-{self.sub(expr.operand, UNARY)}", UNARY

    def show_Compare(self, expr: ast.Compare) -> tuple[str, int]:
        parts = [self.sub(expr.left, ADD)]
        for op, item in zip(expr.ops, expr.comparators):
            parts += [op, self.sub(item, ADD)]
        return " ".join(parts), CMP

    def show_Guarded(self, expr: ast.Guarded) -> tuple[str, int]:
        return f"{self.text(expr.call)} with {self.policies(expr.policies)}", COALESCE

    def policies(self, policies: tuple[ast.PolicyUse, ...]) -> str:
        return ", ".join(self.policy(policy) for policy in policies)

    def policy(self, policy: ast.PolicyUse) -> str:
        if policy.args is None:
            return policy.name.id
        args = [
            f"{arg.name}: {self.text(arg.value)}" if arg.name else self.text(arg.value) for arg in policy.args
        ]
        return f"{policy.name.id}({', '.join(args)})"
