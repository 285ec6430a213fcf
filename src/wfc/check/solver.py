"""Which inputs make which conditions hold: the solver behind route, guard and `if` findings.

The conditions it understands compare *paths* (a parameter or local and its fields:
`ticket.intent`, `ctx["amount"]`, `order?.total`) with constants, joined by `and`,
`or`, `not` and `??`, and test paths for truthiness. Whether such a condition holds
depends only on where each path's value lies relative to the constants it meets, so a
finite set of *representative* values per path decides it exactly: null, true, false,
each constant, an unequal string and "", and, where a path is ordered, one value below,
between and above its constants. A path whose fields are read can also be a map (empty
or not). Every representative is a real input, evaluated with wf's own operators
(`wfc.runtime`'s member access and Python's comparisons), so an input that raises is
seen to raise and takes no branch.

Anything else in a condition (a call, arithmetic, a comparison of two paths) is an
*opaque* unit: a free boolean, one per occurrence. Free booleans allow more behaviours
than the program has, so a claim that *no* input does something ("this route can
never be chosen") stays true; a claim that some input does (an overlap, an input no
route takes) is only made when the conditions involved have no opaque unit, so every
witness is an input the program really treats that way.

The search assigns one variable at a time and evaluates the constraints with the
variables known so far (three-valued: a unit over an unassigned path is unknown),
cutting a branch as soon as one constraint is decided against it. It gives up, making
no claim, once a question has cost `BUDGET` condition evaluations, or the solver
(one router, machine event or `if` chain) `TOTAL` of them. Paths met by the most
conditions are assigned first, so a shared guard (`and x.enabled` on every route) cuts
the search at once; a constraint once decided stays decided below, so only the
undecided ones are evaluated again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..runtime._values import COMPARISONS, attr, attr_or_null, index
from ..syntax import ast
from .resolution import Kind, Resolution

Path = tuple[Any, ...]  # the root's name, then field names or index keys
BUDGET = 50_000
"""Condition evaluations one question may cost before the solver gives up (claiming nothing)."""
TOTAL = 200_000
"""Condition evaluations all the questions about one group of conditions may cost."""


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


UNKNOWN = _Marker("UNKNOWN")  # depends on a variable not assigned yet
RAISES = _Marker("RAISES")  # evaluating it raises: the condition takes no branch
MAP = _Marker("MAP")  # a path whose fields are their own variables (a non-empty map)
EMPTY = _Marker("EMPTY")  # an empty map: every field reads as null
GAVE_UP = _Marker("GAVE_UP")

_ORDERING = frozenset({"<", "<=", ">", ">="})


@dataclass(frozen=True, slots=True)
class Constraint:
    """The condition `test` must be truthy (`holds`), falsy, or either (None), without raising."""

    test: ast.Expr
    holds: bool | None


@dataclass(slots=True)
class _Facts:
    """What the conditions say about each path: the constants it meets, how it is used."""

    constants: dict[Path, list[Any]] = field(default_factory=dict)
    ordered: set[Path] = field(default_factory=set)
    parents: set[Path] = field(default_factory=set)
    opaque: dict[ast.Expr, int] = field(default_factory=dict)  # unit -> its variable's number


class Solver:
    """Questions about the conditions of one router, machine event or `if` chain."""

    def __init__(self, res: Resolution, tests: Sequence[ast.Expr]) -> None:
        self._res = res
        self._facts = _Facts()
        self._paths: dict[ast.Expr, Path | None] = {}
        self._constants: dict[ast.Expr, Any] = {}
        self._opaque_tests: dict[ast.Expr, bool] = {}
        for test in tests:
            self._learn_truth(test)
        self._variables: list[Any] = self._order_variables(tests)
        self._spent = 0
        self._domains = {var: self._domain(var) for var in self._variables}

    # -- what the conditions are made of ------------------------------------------------

    def opaque_in(self, test: ast.Expr) -> bool:
        """Whether `test` has a unit the solver cannot see into."""
        known = self._opaque_tests.get(test)
        if known is None:
            known = self._opaque_tests[test] = any(node in self._facts.opaque for node in ast.walk(test))
        return known

    def _learn_truth(self, expr: ast.Expr) -> None:
        if isinstance(expr, ast.Logical) and expr.op in ("and", "or"):
            self._learn_truth(expr.left)
            self._learn_truth(expr.right)
        elif isinstance(expr, ast.Not):
            self._learn_truth(expr.operand)
        elif isinstance(expr, ast.Logical) and self._learn_value(expr.left) is not None:
            self._learn_truth(expr.right)  # `a ?? b`: b only matters when a is null
        elif self._learn_value(expr) is None:
            self._facts.opaque.setdefault(expr, len(self._facts.opaque))

    def _learn_value(self, expr: ast.Expr) -> list[Path] | None:
        """The paths a value depends on (learning their constants), or None if opaque."""
        if self._constant(expr) is not _NOT_CONSTANT:
            return []
        path = self._path(expr)
        if path is not None:
            self._facts.constants.setdefault(path, [])
            return [path]
        if isinstance(expr, ast.Logical):
            left, right = self._learn_value(expr.left), self._learn_value(expr.right)
            if left is None or right is None:
                return None
            if expr.op == "??":
                self._meet(left, [self._constant(expr.right)], ordered=False)
            return left + right
        if isinstance(expr, ast.Not):
            return self._learn_value(expr.operand)
        if isinstance(expr, ast.Compare):
            return self._learn_compare(expr)
        return None

    def _learn_compare(self, expr: ast.Compare) -> list[Path] | None:
        operands = (expr.left, *expr.comparators)
        found = [self._learn_value(operand) for operand in operands]
        if not self._modelled(expr, found):
            return None
        paths = [path for group in found for path in (group or [])]
        constants: list[Any] = []
        for operand in operands:
            value = self._constant(operand)
            if value is not _NOT_CONSTANT:
                constants.extend(value if isinstance(value, list) else [value])
        self._meet(paths, constants, ordered=any(op in _ORDERING for op in expr.ops))
        return paths

    def _modelled(self, expr: ast.Compare, found: list[list[Path] | None]) -> bool:
        """Whether a comparison is one path against constants, with `in` over a list."""
        if any(paths is None for paths in found) or sum(1 for paths in found if paths) > 1:
            return False  # an opaque operand, or two paths: their relation is not modelled
        return not any(
            op in ("in", "not in") and (paths or type(self._constant(right)) is not list)
            for op, right, paths in zip(expr.ops, expr.comparators, found[1:])
        )

    def _meet(self, paths: list[Path], constants: list[Any], ordered: bool) -> None:
        for path in paths:
            known = self._facts.constants.setdefault(path, [])
            known.extend(value for value in constants if _scalar(value))
            if ordered:
                self._facts.ordered.add(path)

    def _path(self, expr: ast.Expr) -> Path | None:
        if expr in self._paths:
            return self._paths[expr]
        path = self._paths[expr] = self._find_path(expr)
        return path

    def _find_path(self, expr: ast.Expr) -> Path | None:
        if isinstance(expr, ast.Name):
            return (expr.id,) if self._res.names.get(expr) is Kind.LOCAL else None
        if isinstance(expr, ast.Attr):
            base = self._path(expr.value)
            if base is None:
                return None
            self._facts.parents.add(base)
            return (*base, expr.name)
        if isinstance(expr, ast.Index):
            key = self._constant(expr.index)
            base = self._path(expr.value)
            if base is None or type(key) not in (str, int):
                return None
            self._facts.parents.add(base)
            return (*base, key)
        return None

    def _constant(self, expr: ast.Expr) -> Any:
        """A literal's value (a list of literals, a negated number, a `const`), or _NOT_CONSTANT."""
        if expr in self._constants:
            return self._constants[expr]
        value = self._constants[expr] = self._find_constant(expr)
        return value

    def _find_constant(self, expr: ast.Expr) -> Any:
        if isinstance(expr, ast.Literal):
            return expr.value
        if isinstance(expr, ast.Neg):
            inner = self._constant(expr.operand)
            numeric = type(inner) in (int, float)
            return -inner if numeric else _NOT_CONSTANT
        if isinstance(expr, ast.ListExpr):
            items = [self._constant(item) for item in expr.items]
            return _NOT_CONSTANT if any(i is _NOT_CONSTANT or not _scalar(i) for i in items) else items
        if isinstance(expr, ast.Name) and self._res.names.get(expr) is Kind.CONST:
            decl = self._res.consts.get(expr.id)
            return _NOT_CONSTANT if decl is None else self._constant(decl.value)
        return _NOT_CONSTANT

    # -- the variables and their representative values -----------------------------------

    def _order_variables(self, tests: Sequence[ast.Expr]) -> list[Any]:
        """Paths met by the most conditions first (a parent counts its fields' meetings,
        so it comes before them), then the opaque units."""
        met: dict[Path, int] = {}
        for test in tests:
            for node in ast.walk(test):
                path = self._path(node) if isinstance(node, (ast.Name, ast.Attr, ast.Index)) else None
                for length in range(1, len(path) + 1 if path else 0):
                    met[path[:length]] = met.get(path[:length], 0) + 1  # type: ignore[index]
        paths = sorted(
            self._facts.constants.keys() | self._facts.parents, key=lambda p: (-met.get(p, 0), len(p))
        )
        return [*paths, *sorted(self._facts.opaque.values())]

    def _domain(self, var: Any) -> list[Any]:
        if isinstance(var, int):
            return [True, False]
        constants = self._facts.constants.get(var, [])
        values: list[Any] = [MAP, EMPTY] if var in self._facts.parents else []
        if var in self._facts.ordered:  # 0 and "" too: truthiness sets them apart
            values += _between([*constants, 0, ""])
        values += constants  # the values a witness most likely shows come first
        if any(type(c) in (str, int, float) for c in constants):
            values += [_fresh(constants), ""]
        values += [True, False, None]
        unique: dict[tuple[type, Any], Any] = {}
        for value in values:
            unique.setdefault((type(value), value if not isinstance(value, _Marker) else id(value)), value)
        return list(unique.values())

    # -- questions ---------------------------------------------------------------------

    def solve(self, constraints: Sequence[Constraint]) -> dict[Any, Any] | None | _Marker:
        """An assignment under which every constraint holds, None if there is none,
        GAVE_UP when the budget ran out first."""
        self._allowed = min(BUDGET, TOTAL - self._spent)
        try:
            found = self._search(list(constraints), {}, 0)
        except _OutOfBudget:
            return GAVE_UP
        return None if found is None else self._fewest(constraints, found)

    def _search(self, undecided: list[Constraint], env: dict[Any, Any], depth: int) -> dict[Any, Any] | None:
        self._spent += len(undecided)
        self._allowed -= len(undecided)
        if self._allowed < 0:
            raise _OutOfBudget
        still = []
        for constraint in undecided:
            verdict = self._verdict(constraint, env)
            if verdict is False:
                return None
            if verdict is None:
                still.append(constraint)
        if not still:
            return dict(env)
        if depth == len(self._variables):
            return None
        var = self._variables[depth]
        for value in self._domains[var]:
            env[var] = value
            found = self._search(still, env, depth + 1)
            if found is not None:
                return found
        del env[var]
        return None

    def _fewest(self, constraints: Sequence[Constraint], env: dict[Any, Any]) -> dict[Any, Any]:
        """Leave out each variable the constraints hold without: a witness shows what matters."""
        for var in reversed(list(env)):
            value = env.pop(var)
            if not all(self._verdict(c, env) for c in constraints):
                env[var] = value
        return env

    def _verdict(self, constraint: Constraint, env: dict[Any, Any]) -> bool | None:
        truth = self.truth(constraint.test, env)
        if truth is UNKNOWN:
            return None
        if truth is RAISES:
            return False
        return constraint.holds is None or truth is constraint.holds

    def truth(self, expr: ast.Expr, env: dict[Any, Any]) -> Any:
        """True or False, RAISES, or UNKNOWN while a variable it needs is unassigned."""
        number = self._facts.opaque.get(expr)
        if number is not None:
            return env.get(number, UNKNOWN)
        if isinstance(expr, ast.Logical) and expr.op in ("and", "or"):
            left = self.truth(expr.left, env)
            if left is UNKNOWN or left is RAISES:
                return left
            if left is (expr.op == "or"):
                return left
            return self.truth(expr.right, env)
        if isinstance(expr, ast.Not):
            inner = self.truth(expr.operand, env)
            return inner if isinstance(inner, _Marker) else not inner
        if isinstance(expr, ast.Logical):  # `??`
            left = self.value(expr.left, env)
            if isinstance(left, _Marker):
                return left
            return self.truth(expr.right, env) if left is None else _truthy(left)
        value = self.value(expr, env)
        return value if isinstance(value, _Marker) else _truthy(value)

    def value(self, expr: ast.Expr, env: dict[Any, Any]) -> Any:
        constant = self._constant(expr)
        if constant is not _NOT_CONSTANT:
            return constant
        if isinstance(expr, (ast.Name, ast.Attr, ast.Index)):
            read = self._read(expr, env)
            return _SOME_MAP if read is MAP else read
        if isinstance(expr, ast.Compare):
            return self._compare(expr, env)
        if isinstance(expr, ast.Not):
            inner = self.truth(expr.operand, env)
            return inner if isinstance(inner, _Marker) else not inner
        assert isinstance(expr, ast.Logical)
        left = self.value(expr.left, env)
        if isinstance(left, _Marker):
            return left
        if expr.op == "??":
            return self.value(expr.right, env) if left is None else left
        if _truthy(left) is (expr.op == "or"):
            return left
        return self.value(expr.right, env)

    def _read(self, expr: ast.Expr, env: dict[Any, Any]) -> Any:
        """A path's value; MAP while its fields are variables of their own."""
        path = self._path(expr)
        assert path is not None
        if len(path) == 1:
            return _held(env.get(path, UNKNOWN))
        assert isinstance(expr, (ast.Attr, ast.Index))
        base = self._read(expr.value, env)
        if base is MAP:
            return _held(env.get(path, UNKNOWN))
        if isinstance(base, _Marker):
            return base
        try:
            if isinstance(expr, ast.Index):
                return index(base, path[-1])
            return (attr_or_null if expr.safe else attr)(base, path[-1])
        except Exception:
            return RAISES

    def _compare(self, expr: ast.Compare, env: dict[Any, Any]) -> Any:
        left = self.value(expr.left, env)
        for op, comparator in zip(expr.ops, expr.comparators):
            if isinstance(left, _Marker):
                return left
            right = self.value(comparator, env)
            if isinstance(right, _Marker):
                return right
            try:
                outcome = COMPARISONS[op](left, right)
            except Exception:
                return RAISES
            if not outcome:
                return outcome
            left = right
        return True

    # -- witnesses ---------------------------------------------------------------------

    def inputs(self, env: dict[Any, Any]) -> dict[str, Any]:
        """The parameters (and locals) an assignment stands for, as plain values."""
        roots = sorted({var[0] for var in env if isinstance(var, tuple)})
        return {root: self._build((root,), env) for root in roots}

    def _build(self, path: Path, env: dict[Any, Any]) -> Any:
        held = env.get(path, MAP if path in self._facts.parents else None)
        if held is EMPTY:
            return {}
        if held is not MAP:
            return held
        built: dict[Any, Any] = {}
        for var in self._variables:
            if isinstance(var, tuple) and len(var) == len(path) + 1 and var[:-1] == path and _in(var, env):
                value = self._build(var, env)
                if value is not None:
                    built[var[-1]] = value
        return built or {"_": True}  # a non-empty map, whatever its fields

    def variables(self) -> Iterator[Any]:
        return iter(self._variables)


class _OutOfBudget(Exception):
    pass


_NOT_CONSTANT = _Marker("NOT_CONSTANT")
_SOME_MAP = {"...": True}  # what a MAP is when compared or tested: a non-empty map


def _scalar(value: Any) -> bool:
    return value is None or type(value) in (bool, int, float, str)


def _in(path: Path, env: dict[Any, Any]) -> bool:
    """Whether the witness needs `path`: it, or a field under it, is assigned."""
    return any(isinstance(var, tuple) and var[: len(path)] == path for var in env)


def _held(value: Any) -> Any:
    return {} if value is EMPTY else value


def _truthy(value: Any) -> Any:
    if value is MAP:
        return True
    try:
        return bool(value)
    except Exception:
        return RAISES


def _fresh(constants: list[Any]) -> str:
    """A string equal to no constant: what "anything else" looks like in a witness."""
    taken = {c for c in constants if type(c) is str}
    candidate, number = "other", 1
    while candidate in taken:
        number += 1
        candidate = f"other{number}"
    return candidate


def _between(constants: list[Any]) -> list[Any]:
    """Values below, between and above the ordered constants (numbers and strings apart)."""
    found: list[Any] = []
    numbers = sorted({c for c in constants if type(c) in (int, float)})
    if numbers:
        found += [numbers[0] - 1]
        found += [n + 1 for n in numbers if type(n) is int]  # the next integer, for `x > 3`
        found += [numbers[-1] + 1]
        found += [low + (high - low) / 2 for low, high in zip(numbers, numbers[1:])]
    strings = sorted({c for c in constants if type(c) is str})
    found += [s + "\x00" for s in strings]
    return found
