"""Expressions -> Python source, with the fewest parentheses that keep meaning."""

from __future__ import annotations

import keyword

from ..check import CallKind, Kind, Resolution
from ..syntax import ast
from ..syntax.names import py_literal, py_name

# Python precedence levels, lowest first.
COND, OR, AND, NOT, CMP, ADD, MUL, UNARY, AWAIT, ATOM = range(10)
_BINARY = {"+": ADD, "-": ADD, "*": MUL, "/": MUL, "//": MUL, "%": MUL}

# wf builtin -> the Python callable the generated code uses for it.
BUILTINS = {
    "len": "len",
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list",
    "map": "dict",
    "range": "range",
    "min": "min",
    "max": "max",
    "sum": "sum",
    "abs": "abs",
    "round": "round",
    "keys": "_wf.keys",
    "values": "_wf.values",
    "items": "_wf.items",
    "lower": "_wf.lower",
    "upper": "_wf.upper",
    "strip": "_wf.strip",
    "split": "_wf.split",
    "join": "_wf.join",
    "chunks": "_wf.chunks",
    "now": "_rt.clock.now",
    "uuid": "_rt.uuid",
    "attempt": "_wf.attempt",
    "matches": "_wf.matches",
    "regex": "_wf.regex",
}


def is_atomic(expr: ast.Expr) -> bool:
    """Whether evaluating `expr` can neither fail nor have effects."""
    return isinstance(expr, (ast.Literal, ast.Duration, ast.Name))


class Temps:
    """Fresh names for temporaries, numbered in emission order (deterministic)."""

    def __init__(self) -> None:
        self._count = 0
        self._undeclared: set[str] = set()  # results of steps, not yet given their type

    def new(self, stem: str = "t") -> str:
        self._count += 1
        name = f"_wf_{stem}{self._count}"
        if stem == "r":
            self._undeclared.add(name)
        return name

    def declares(self, name: str) -> bool:
        """Whether `name` is a step's result temporary that still needs its type declared
        (once, before its first assignment: a handler's own return type, `None` say,
        must not narrow it, or type checkers flag the `await` that follows)."""
        if name in self._undeclared:
            self._undeclared.remove(name)
            return True
        return False


class ExprEmitter:
    def __init__(self, res: Resolution, temps: Temps) -> None:
        self.res = res
        self.temps = temps

    def expr(self, expr: ast.Expr) -> str:
        return self.emit(expr)[0]

    def sub(self, expr: ast.Expr, minimum: int) -> str:
        code, precedence = self.emit(expr)
        return code if precedence >= minimum else f"({code})"

    def emit(self, expr: ast.Expr) -> tuple[str, int]:
        return getattr(self, f"emit_{type(expr).__name__}")(expr)

    # ---- atoms -----------------------------------------------------------
    def emit_Name(self, expr: ast.Name) -> tuple[str, int]:
        kind = self.res.names[expr]
        if kind is Kind.BUILTIN:
            return BUILTINS[expr.id], ATOM
        if kind is Kind.ERROR:
            return f"_wf.{expr.id}", ATOM
        if kind is Kind.EXCEPTION:
            return expr.id, ATOM
        return py_name(expr.id), ATOM

    def emit_Literal(self, expr: ast.Literal) -> tuple[str, int]:
        return py_literal(expr.value), ATOM

    def emit_Duration(self, expr: ast.Duration) -> tuple[str, int]:
        return py_literal(expr.seconds), ATOM

    def emit_Rate(self, expr: ast.Rate) -> tuple[str, int]:
        return py_literal(expr.per_second), ATOM

    def emit_FString(self, expr: ast.FString) -> tuple[str, int]:
        pieces = [
            py_literal(part) if isinstance(part, str) else self.emit_FormattedValue(part)[0]
            for part in expr.parts
        ]
        if not pieces:
            return '""', ATOM
        return " + ".join(pieces), (ATOM if len(pieces) == 1 else ADD)

    def emit_FormattedValue(self, expr: ast.FormattedValue) -> tuple[str, int]:
        spec = f", {py_literal(expr.spec)}" if expr.spec else ""
        return f"format({self.expr(expr.value)}{spec})", ATOM

    def emit_ListExpr(self, expr: ast.ListExpr) -> tuple[str, int]:
        return "[" + ", ".join(self.expr(item) for item in expr.items) + "]", ATOM

    def emit_MapExpr(self, expr: ast.MapExpr) -> tuple[str, int]:
        entries = (f"{py_literal(k)}: {self.expr(v)}" for k, v in zip(expr.keys, expr.values))
        return "{" + ", ".join(entries) + "}", ATOM

    # ---- postfix ---------------------------------------------------------
    def emit_Attr(self, expr: ast.Attr) -> tuple[str, int]:
        base = self.sub(expr.value, ATOM)
        name = expr.name
        if expr in self.res.handler_attrs:
            if keyword.iskeyword(name):
                return f"getattr({base}, {py_literal(name)})", ATOM
            return f"{base}.{name}", ATOM
        helper = "attr_or_null" if expr.safe else "attr"
        return f"_wf.{helper}({base}, {py_literal(name)})", ATOM

    def emit_Index(self, expr: ast.Index) -> tuple[str, int]:
        return f"_wf.index({self.expr(expr.value)}, {self.expr(expr.index)})", ATOM

    def emit_Slice(self, expr: ast.Slice) -> tuple[str, int]:
        bounds = ["None" if part is None else self.expr(part) for part in (expr.start, expr.stop)]
        return f"_wf.sliced({self.expr(expr.value)}, {', '.join(bounds)})", ATOM

    def emit_Call(self, expr: ast.Call) -> tuple[str, int]:
        kind = self.res.calls[expr]
        args = self.arguments(expr, self.argument_codes(expr))
        if kind is CallKind.BUILTIN:
            assert isinstance(expr.func, ast.Name)
            return f"{BUILTINS[expr.func.id]}({args})", ATOM
        func = self.sub(expr.func, ATOM)
        rest = f", {args}" if args else ""
        if kind is CallKind.DECL:
            return f"await {func}({args})", AWAIT
        if kind is CallKind.ERROR:
            return f"{func}({args})", ATOM
        if kind is CallKind.STEP:
            target = py_literal(self.res.step_targets[expr])
            where = py_literal(self.res.location(expr))
            return f"await _wf.step(_rt, {target}, {where}, lambda: {func}{rest})", AWAIT
        return f"await _wf.call({func}{rest})", AWAIT

    def argument_codes(self, call: ast.Call) -> list[str]:
        return [self.expr(arg) for arg in (*call.args, *(kw.value for kw in call.keywords))]

    def arguments(self, call: ast.Call, codes: list[str]) -> str:
        """`a, b, key=v` from already emitted argument codes."""
        positional = codes[: len(call.args)]
        rename = self.res.calls[call] is CallKind.DECL
        named = []
        for kw, code in zip(call.keywords, codes[len(call.args) :]):
            if rename:
                named.append(f"{py_name(kw.name)}={code}")
            elif keyword.iskeyword(kw.name):
                named.append(f"**{{{py_literal(kw.name)}: {code}}}")
            else:
                named.append(f"{kw.name}={code}")
        return ", ".join([*positional, *named])

    # ---- operators -------------------------------------------------------
    def emit_BinOp(self, expr: ast.BinOp) -> tuple[str, int]:
        level = _BINARY[expr.op]
        return f"{self.sub(expr.left, level)} {expr.op} {self.sub(expr.right, level + 1)}", level

    def emit_Logical(self, expr: ast.Logical) -> tuple[str, int]:
        if expr.op == "??":
            temp = self.temps.new()
            left = self.sub(expr.left, OR)
            right = self.sub(expr.right, COND)
            return f"{temp} if ({temp} := {left}) is not None else {right}", COND
        level = AND if expr.op == "and" else OR
        return f"{self.sub(expr.left, level)} {expr.op} {self.sub(expr.right, level + 1)}", level

    def emit_Not(self, expr: ast.Not) -> tuple[str, int]:
        return f"not {self.sub(expr.operand, NOT)}", NOT

    def emit_Neg(self, expr: ast.Neg) -> tuple[str, int]:
        return f"-{self.sub(expr.operand, UNARY)}", UNARY

    def emit_Compare(self, expr: ast.Compare) -> tuple[str, int]:
        parts = [self.sub(expr.left, ADD)]
        for op, item in zip(expr.ops, expr.comparators):
            parts += [op, self.sub(item, ADD)]
        return " ".join(parts), CMP

    def emit_Guarded(self, expr: ast.Guarded) -> tuple[str, int]:
        raise AssertionError("a call with policies is emitted by StmtEmitter.guarded_into")
