"""Name resolution and placement rules, one declaration at a time."""

from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable
from dataclasses import replace

from ..diagnostics import Diagnostic, did_you_mean
from ..runtime import MAX_LIMIT
from ..syntax import ast
from ..syntax.names import PYTHON_EXCEPTIONS
from .machines import MachineChecks
from .places import Barrier, Label, Loop, Place, error
from .policies import PolicyChecks, dotted_parts
from .resolution import (
    BUILTIN_FUNCTIONS,
    BUILTIN_TYPES,
    ERROR_NAMES,
    CallKind,
    Kind,
    Resolution,
    Unwind,
)
from .routing import RoutingChecks, dotted_text
from .scopes import Scope, assigned_names, collect, has_item_scope

Report = Callable[[Diagnostic], None]


class Resolver(RoutingChecks, MachineChecks, PolicyChecks):
    def __init__(self, res: Resolution, report: Report) -> None:
        self.res = res
        self.report = report
        self._named = {}
        self._overlaps = set()
        self._scopes: dict[ast.For, Scope] = {}
        self._const_order: dict[str, int] = {}
        self._sending = None

    def declare_const(self, name: str, order: int) -> None:
        """A const is declared at position `order`: a const may only use earlier ones."""
        self._const_order[name] = order

    # ---- declarations ----------------------------------------------------
    def workflow(self, decl: ast.Workflow | ast.Saga) -> None:
        scope = self.parameters(decl)
        if isinstance(decl, ast.Saga) and decl.unwind:
            self.unwind_options(decl)
        self.guard_site(decl, decl.policies, scope, decl.name.id, step=False)
        self.scope(scope, decl.body)
        self.block(decl.body, Place(scope=scope, saga=isinstance(decl, ast.Saga)))

    def unwind_options(self, saga: ast.Saga) -> None:
        """`unwind(failed_step: true, stop_on_error: true)`: each a known name, given once,
        `true` or `false`."""
        values: dict[str, bool] = {}
        for option in saga.unwind:
            name, value = option.name.id, option.value
            if name not in UNWIND_OPTIONS:
                self.report(
                    error(
                        "E0197",
                        f"unknown `unwind` option '{name}'",
                        option.name.span,
                        did_you_mean(name, UNWIND_OPTIONS)
                        or "the options are `failed_step` and `stop_on_error`",
                    )
                )
            elif name in values:
                self.report(error("E0197", f"`{name}` is given twice", option.name.span))
            elif not (isinstance(value, ast.Literal) and isinstance(value.value, bool)):
                self.report(error("E0197", f"`{name}` takes `true` or `false`", value.span))
            else:
                values[name] = value.value
        self.res.unwinds[saga] = Unwind(**values)
        if values.get("failed_step"):
            self.res.undone_if_failed.update(
                node
                for node in ast.walk(saga.body)
                if isinstance(node, ast.Step) and node.compensate is not None
            )

    def parameters(self, decl: ast.Declaration | ast.Machine) -> Scope:
        scope = Scope(owner=decl, parent=None)
        for param in decl.params:
            if param.name.id in scope.params:
                self.report(error("E0112", f"duplicate parameter '{param.name.id}'", param.name.span))
            scope.params[param.name.id] = param.name
            if param.type is not None:
                self.type_annotation(param.type)
                if param.type.text in self.res.machines:
                    scope.machines[param.name.id] = param.type.text
            if param.default is not None:
                self.constant(param.default, None)
        if not isinstance(decl, ast.Machine) and decl.returns is not None:
            self.type_annotation(decl.returns)
        self.parameter_order(decl.params)
        return scope

    def parameter_order(self, params: tuple[ast.Param, ...]) -> None:
        seen_default = False
        for param in params:
            if param.default is not None:
                seen_default = True
            elif seen_default:
                self.report(
                    error(
                        "E0115",
                        f"parameter '{param.name.id}' without a default follows one with a default",
                        param.span,
                        "move it before the parameters that have defaults, or give it one",
                    )
                )

    def scope(self, scope: Scope, body: tuple[ast.Stmt, ...]) -> None:
        for loop in collect(scope, body):
            inner = Scope(owner=loop, parent=scope)
            inner.params[loop.var.id] = loop.var
            self.res.item_scopes.add(loop)
            self.scope(inner, loop.body)
            self._scopes[loop] = inner
        self.res.scope_locals[scope.owner] = tuple(scope.assigned)
        for name, ident in scope.assigned.items():
            self.assignable(ident)
            if scope.parent is not None and name in set(scope.parent.visible()):
                self.report(
                    error(
                        "E0108",
                        f"cannot assign to '{name}' of the enclosing scope here",
                        ident.span,
                        "each item of a parallel or assigned `for` has its own "
                        "variables; choose another name and `yield` the value",
                    )
                )

    def constant(self, expr: ast.Expr, before: int | None) -> None:
        """Check an expression that must be computable when the module loads."""
        for node in ast.walk(expr):
            if isinstance(node, (ast.Call, ast.Guarded)):
                self.report(
                    error(
                        "E0113",
                        "this must be a constant expression",
                        node.span,
                        "use literals, consts and operators only",
                    )
                )
                return
        self.expr(expr, None)
        for node in ast.walk(expr):
            if isinstance(node, ast.Name) and self.res.names.get(node) is Kind.CONST:
                order = self._const_order.get(node.id, 0)
                if before is not None and order >= before:
                    self.report(
                        error(
                            "E0116",
                            f"const '{node.id}' is used before its declaration",
                            node.span,
                            "declare it above this line",
                        )
                    )

    def type_annotation(self, dotted: ast.Dotted) -> None:
        head = dotted.parts[0]
        if len(dotted.parts) == 1 and (head in BUILTIN_TYPES or head in self.res.machines):
            return
        if head in self.res.uses:
            return
        self.report(
            error(
                "E0118",
                f"unknown type '{dotted.text}'",
                dotted.span,
                did_you_mean(head, [*BUILTIN_TYPES, *self.res.uses, *self.res.machines]),
            )
        )

    def assignable(self, ident: ast.Ident) -> None:
        name = ident.id
        for table, what in (
            (self.res.consts, "const"),
            (self.res.uses, "imported name"),
            (self.res.decls, "declaration"),
        ):
            if name in table:
                self.report(
                    error(
                        "E0111",
                        f"cannot assign to {what} '{name}'",
                        ident.span,
                        "choose another name for the variable",
                    )
                )

    # ---- statements ------------------------------------------------------
    def block(self, body: Iterable[ast.Stmt], place: Place) -> None:
        for stmt in body:
            getattr(self, f"stmt_{type(stmt).__name__}")(stmt, place)

    def stmt_Assign(self, stmt: ast.Assign, place: Place) -> None:
        self.expr(stmt.value, place.scope)
        if place.scope is not None:
            made = self.machine_made(stmt.value)
            if made is not None:
                place.scope.machines[stmt.target.id] = made
            else:
                place.scope.machines.pop(stmt.target.id, None)

    def machine_made(self, value: ast.Expr) -> str | None:
        """The machine `Order(...)` makes, for the events later sent to the variable."""
        is_made = isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
        if is_made and self.res.names.get(value.func) is Kind.MACHINE:  # type: ignore[union-attr,arg-type]
            return value.func.id  # type: ignore[union-attr]
        return None

    def machine_sent(self, expr: ast.Call, scope: Scope | None) -> None:
        """`m.send("event")` or `m.can("event")` on a value whose machine is known
        (a parameter of a machine's type, or a variable made by one): a known event."""
        func = expr.func
        if not (
            isinstance(func, ast.Attr) and func.name in ("send", "can") and isinstance(func.value, ast.Name)
        ):
            return
        while scope is not None and func.value.id not in scope.machines:
            if scope.binds(func.value.id):
                return
            scope = scope.parent
        if scope is None or not expr.args:
            return
        event = expr.args[0]
        if isinstance(event, ast.Literal) and isinstance(event.value, str):
            self.known_event(self.res.machines[scope.machines[func.value.id]], event.value, event.span)

    def stmt_ExprStmt(self, stmt: ast.ExprStmt, place: Place) -> None:
        self.expr(stmt.value, place.scope)

    def stmt_Stage(self, stmt: ast.Stage, place: Place) -> None:
        if stmt.when is not None:
            self.expr(stmt.when, place.scope)
        if stmt.policies:
            self.guard_site(stmt, stmt.policies, place.scope, stmt.name.id, step=False)
            # The policies run the body as one unit (retried whole): control cannot leave it.
            place = replace(
                place,
                loop=None,
                may_return=False,
                may_yield=False,
                barrier=Barrier.STAGE,
                saga=False,
            )
        self.block(stmt.body, place)

    def stmt_If(self, stmt: ast.If, place: Place) -> None:
        for branch in stmt.branches:
            self.expr(branch.test, place.scope)
            self.block(branch.body, place)
        self.block(stmt.orelse or (), place)

    def stmt_For(self, stmt: ast.For, place: Place) -> None:
        self.expr(stmt.iterable, place.scope)
        for option in (stmt.limit, stmt.timeout):
            if option is not None:
                self.expr(option, place.scope)
        self.fan_out_limit(stmt.limit, place.scope)
        if stmt.limit is not None and not stmt.concurrent:
            self.report(
                error(
                    "E0114",
                    "`limit` applies only to a parallel `for`",
                    stmt.limit.span,
                    "write `parallel for` to run items concurrently",
                )
            )
        if has_item_scope(stmt):
            inner = Place(
                scope=self._scopes[stmt],
                loop=Loop.ITEM,
                may_return=False,
                may_yield=stmt.into is not None,
                barrier=None,
                saga=place.saga,
                caught=place.caught,
            )
            if stmt.where is not None:
                self.expr(stmt.where, inner.scope)
            self.block(stmt.body, inner)
        else:
            if stmt.where is not None:
                self.expr(stmt.where, place.scope)
            self.block(stmt.body, replace(place, loop=Loop.LOOP, barrier=None))

    def fan_out_limit(self, expr: ast.Expr | None, scope: Scope) -> None:
        """A constant `limit` must be a whole number in the runtime's range."""
        value = None if expr is None else self.folded(expr, scope)
        if not isinstance(value, ast.Literal) or value.value is None or isinstance(value.value, str):
            return  # computed at run time: the runtime checks it
        number = value.value
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_LIMIT:
            assert expr is not None
            self.report(
                error(
                    "E0123",
                    f"`limit` must be a whole number from 1 to {MAX_LIMIT:_}",
                    expr.span,
                    "a limit is how many items run at once",
                )
            )

    def race(self, stmt: ast.Parallel, scope: Scope) -> None:
        """`parallel first` / `quorum K`: winners, so no `on error continue`; a constant
        K is a whole number from 1 to the number of branches."""
        if not stmt.first and stmt.quorum is None:
            return
        kind = "first" if stmt.first else "quorum"
        if stmt.keep_going:
            self.report(
                error(
                    "E0194",
                    f"`parallel {kind}` ends with its winners: `on error continue` has no place in it",
                    stmt.span,
                    f"a failed branch of `parallel {kind}` is already no loss while others can win",
                )
            )
        value = None if stmt.quorum is None else self.folded(stmt.quorum, scope)
        if not isinstance(value, ast.Literal) or value.value is None or isinstance(value.value, str):
            return  # computed at run time: the runtime checks it
        number, count = value.value, len(stmt.body)
        if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= count:
            assert stmt.quorum is not None
            self.report(
                error(
                    "E0195",
                    f"a quorum of {number!r} out of {count} branch(es)",
                    stmt.quorum.span,
                    f"a quorum is how many branches must succeed: a whole number from 1 to {count}",
                )
            )

    def stmt_While(self, stmt: ast.While, place: Place) -> None:
        for expr in (stmt.test, stmt.max, stmt.timeout):
            if expr is not None:
                self.expr(expr, place.scope)
        self.block(stmt.body, replace(place, loop=Loop.LOOP, barrier=None))

    def stmt_Repeat(self, stmt: ast.Repeat, place: Place) -> None:
        for expr in (stmt.max, stmt.timeout):
            if expr is not None:
                self.expr(expr, place.scope)
        self.block(stmt.body, replace(place, loop=Loop.LOOP, barrier=None))
        self.expr(stmt.until, place.scope)

    def stmt_Break(self, stmt: ast.Break, place: Place) -> None:
        if place.loop is Loop.LOOP:
            return
        if place.barrier:
            message = f"`break` cannot leave {place.barrier.value}"
        elif place.loop is Loop.ITEM:
            message = "`break` cannot end a parallel or assigned `for`"
        else:
            message = "`break` outside a loop"
        self.report(error("E0104", message, stmt.span))

    def stmt_Continue(self, stmt: ast.Continue, place: Place) -> None:
        if place.loop is not None:
            return
        message = (
            f"`continue` cannot leave {place.barrier.value}" if place.barrier else "`continue` outside a loop"
        )
        self.report(error("E0105", message, stmt.span))

    def stmt_Parallel(self, stmt: ast.Parallel, place: Place) -> None:
        for expr in (stmt.limit, stmt.timeout, stmt.quorum):
            if expr is not None:
                self.expr(expr, place.scope)
        self.fan_out_limit(stmt.limit, place.scope)
        self.race(stmt, place.scope)
        branch = replace(place, loop=None, may_return=False, may_yield=False, barrier=Barrier.PARALLEL)
        self.block(stmt.body, branch)
        if not stmt.first and stmt.quorum is None:
            self.dataflow(stmt)

    def dataflow(self, stmt: ast.Parallel) -> None:
        """A branch that reads a variable a sibling assigns waits for that sibling: record
        each branch's dependencies; a cycle of them could never start (E0196)."""
        writes = [set(assigned_names((branch,))) for branch in stmt.body]
        reads = [
            {
                node.id
                for node in ast.walk(branch)
                if isinstance(node, ast.Name) and self.res.names.get(node) is Kind.LOCAL
            }
            for branch in stmt.body
        ]
        deps = tuple(
            tuple(j for j in range(len(stmt.body)) if j != i and writes[j] & reads[i])
            for i in range(len(stmt.body))
        )
        if not any(deps):
            return
        cycle = _cycle(deps)
        if cycle is not None:
            first, second = stmt.body[cycle[0]], stmt.body[cycle[1]]
            shared = sorted(writes[cycle[1]] & reads[cycle[0]])
            self.report(
                error(
                    "E0196",
                    "the branches of this `parallel` block wait for each other in a circle",
                    first.span,
                    "a branch waits for the siblings whose variables it reads: break the circle by "
                    "moving one read after the block",
                    labels=[
                        Label(
                            second.span,
                            f"this branch assigns `{shared[0]}`, read by the first, and waits too",
                        )
                    ],
                )
            )
            return
        self.res.branch_deps[stmt] = deps

    def stmt_Try(self, stmt: ast.Try, place: Place) -> None:
        self.block(stmt.body, place)
        for handler in stmt.handlers:
            for dotted in handler.types:
                self.exception_type(dotted)
            self.block(handler.body, replace(place, caught=handler))

    def stmt_Return(self, stmt: ast.Return, place: Place) -> None:
        if not place.may_return:
            where = place.barrier.value if place.barrier else "the body of a parallel or assigned `for`"
            help = _RETURN_HELP.get(place.barrier) if place.barrier else "use `yield` for an item's value"
            self.report(error("E0107", f"`return` inside {where}", stmt.span, help))
        if stmt.value is not None:
            self.expr(stmt.value, place.scope)

    def stmt_Yield(self, stmt: ast.Yield, place: Place) -> None:
        if not place.may_yield:
            self.report(
                error(
                    "E0106",
                    "`yield` outside a `for` whose result is assigned",
                    stmt.span,
                    "assign the loop's result: `results = for x in items { yield f(x) }`",
                )
            )
        self.expr(stmt.value, place.scope)

    def stmt_Fail(self, stmt: ast.Fail, place: Place) -> None:
        if stmt.value is not None:
            self.expr(stmt.value, place.scope)
        elif place.caught is None:
            self.report(
                error(
                    "E0192",
                    "`fail` alone raises the error a `catch` caught, and there is none here",
                    stmt.span,
                    'give the error to raise: `fail "reason"` or `fail Declined("reason")`',
                )
            )
        else:
            self.res.reraise[stmt] = place.caught

    def stmt_Require(self, stmt: ast.Require, place: Place) -> None:
        self.expr(stmt.test, place.scope)
        if stmt.message is not None:
            self.expr(stmt.message, place.scope)

    def stmt_Emit(self, stmt: ast.Emit, place: Place) -> None:
        if stmt.value is not None:
            self.expr(stmt.value, place.scope)

    def stmt_Wait(self, stmt: ast.Wait, place: Place) -> None:
        self.expr(stmt.duration, place.scope)

    def stmt_Select(self, stmt: ast.Select, place: Place) -> None:
        """Each arm's timer, signal or call waits in a branch of its own (like a parallel
        block's), then the winner's block runs where the `select` stands."""
        head = replace(place, loop=None, may_return=False, may_yield=False, barrier=Barrier.PARALLEL)
        for arm in stmt.arms:
            if arm.target is not None:
                self.assignable(arm.target)
            for expr in (arm.wait, arm.call):
                if expr is not None:
                    self.expr(expr, head.scope)
            self.block(arm.body, place)

    def stmt_Receive(self, stmt: ast.Receive, place: Place) -> None:
        if stmt.target is not None:
            self.assignable(stmt.target)
        if stmt.timeout is not None:
            self.expr(stmt.timeout, place.scope)

    # ---- expressions -----------------------------------------------------
    def expr(self, expr: ast.Expr, scope: Scope | None) -> None:
        getattr(self, f"expr_{type(expr).__name__}")(expr, scope)

    def expr_Name(self, expr: ast.Name, scope: Scope | None) -> None:
        kind = self.lookup(expr.id, scope)
        if kind is None:
            candidates = [*(scope.visible() if scope else ()), *self.module_names(), *BUILTIN_FUNCTIONS]
            self.report(
                error("E0101", f"unknown name '{expr.id}'", expr.span, did_you_mean(expr.id, candidates))
            )
            return
        if kind is Kind.LOCAL:
            if scope is None:
                raise AssertionError("module-level code has no locals")
            if not scope.binds(expr.id):
                self.res.outer_locals.add(expr)
        self.res.names[expr] = kind

    def expr_Literal(self, expr: ast.Literal, scope: Scope | None) -> None:
        pass

    expr_Duration = expr_Rate = expr_Literal

    def expr_FString(self, expr: ast.FString, scope: Scope | None) -> None:
        for part in expr.parts:
            if isinstance(part, ast.FormattedValue):
                self.expr(part.value, scope)
                self.format_spec(part, scope)

    def format_spec(self, part: ast.FormattedValue, scope: Scope | None) -> None:
        """A spec applied to a constant is tried now, so it cannot fail at run time."""
        value = self.folded(part.value, scope)
        if not part.spec or not isinstance(value, (ast.Literal, ast.Duration)):
            return
        constant = value.value if isinstance(value, ast.Literal) else value.seconds
        try:
            format(constant, part.spec)
        except (ValueError, TypeError) as exc:
            shown = "null" if constant is None else f"{type(constant).__name__} {value_text(constant)}"
            self.report(
                error(
                    "E0124",
                    f"format spec '{part.spec}' does not apply to {shown}",
                    part.span,
                    f"Python's format() says: {exc}",
                )
            )

    def expr_ListExpr(self, expr: ast.ListExpr, scope: Scope | None) -> None:
        for item in expr.items:
            self.expr(item, scope)

    def expr_MapExpr(self, expr: ast.MapExpr, scope: Scope | None) -> None:
        for value in expr.values:
            self.expr(value, scope)

    def expr_Attr(self, expr: ast.Attr, scope: Scope | None) -> None:
        self.expr(expr.value, scope)
        if not expr.safe and self.is_handler(expr.value):
            self.res.handler_attrs.add(expr)

    def expr_Index(self, expr: ast.Index, scope: Scope | None) -> None:
        self.expr(expr.value, scope)
        self.expr(expr.index, scope)

    def expr_Slice(self, expr: ast.Slice, scope: Scope | None) -> None:
        for part in (expr.value, expr.start, expr.stop):
            if part is not None:
                self.expr(part, scope)

    def expr_Call(self, expr: ast.Call, scope: Scope | None) -> None:
        self.expr(expr.func, scope)
        seen: set[str] = set()
        for arg in expr.args:
            self.expr(arg, scope)
        for kw in expr.keywords:
            if kw.name in seen:
                self.report(error("E0120", f"keyword argument '{kw.name}' is given twice", kw.span))
            seen.add(kw.name)
            self.expr(kw.value, scope)
        self.res.calls[expr] = kind = self.call_kind(expr.func)
        self.machine_sent(expr, scope)
        if isinstance(expr.func, ast.Name) and self.res.names.get(expr.func) is Kind.ERROR_TYPE:
            self.error_arguments(expr)
        if kind is CallKind.STEP:
            self.res.step_targets[expr] = dotted_text(expr.func)
        elif kind is CallKind.DECL:
            assert isinstance(expr.func, ast.Name)
            self.check_arguments(expr, self.res.decls[expr.func.id])

    def expr_BinOp(self, expr: ast.BinOp, scope: Scope | None) -> None:
        self.expr(expr.left, scope)
        self.expr(expr.right, scope)

    expr_Logical = expr_BinOp

    def expr_Not(self, expr: ast.Not, scope: Scope | None) -> None:
        self.expr(expr.operand, scope)

    expr_Neg = expr_Not

    def expr_Compare(self, expr: ast.Compare, scope: Scope | None) -> None:
        self.expr(expr.left, scope)
        for item in expr.comparators:
            self.expr(item, scope)

    def expr_Guarded(self, expr: ast.Guarded, scope: Scope | None) -> None:
        if not isinstance(expr.call, ast.Call):
            self.report(
                error(
                    "E0109",
                    "`with` policies apply to a call",
                    expr.call.span,
                    "call a handler or workflow here, or move the policies to a stage",
                )
            )
            self.expr(expr.call, scope)
            return
        self.expr(expr.call, scope)
        kind = self.res.calls.get(expr.call)
        if kind is CallKind.BUILTIN:
            self.report(
                error(
                    "E0109",
                    "`with` policies apply to a handler or workflow call",
                    expr.call.span,
                    "builtins cannot fail the way policies handle",
                )
            )
            return
        target = self.res.step_targets.get(expr.call) or _call_text(expr.call.func)
        self.guard_site(expr, expr.policies, scope, target, step=kind is CallKind.STEP)

    # ---- error types -----------------------------------------------------
    def error_type(self, decl: ast.ErrorDecl) -> None:
        """An `error` declaration: its parent is an error declared above it, or one of
        the runtime's (`WorkflowError` and its kinds)."""
        if decl.parent is None:
            return
        parent, declared = decl.parent.id, list(self.res.errors)
        if parent in declared[: declared.index(decl.name.id)]:
            return
        later = parent in self.res.errors
        if parent in ERROR_NAMES and not later:
            return
        self.report(
            error(
                "E0190",
                f"'{parent}' is declared after '{decl.name.id}'"
                if later
                else f"'{parent}' is not an error type",
                decl.parent.span,
                f"declare `error {parent}` above this one"
                if later
                else did_you_mean(parent, [*declared, *ERROR_NAMES])
                or "a parent is an `error` declared above, or one of the runtime's errors",
            )
        )

    def error_arguments(self, call: ast.Call) -> None:
        """`Declined("reason", code=402)`: one message at most, then named fields."""
        if len(call.args) > 1:
            self.report(
                error(
                    "E0191",
                    "an error takes one message; other values are named fields",
                    call.args[1].span,
                    "name it: `code=402`",
                )
            )
        for kw in call.keywords:
            if kw.name in ERROR_RESERVED_FIELDS or kw.name.startswith("_"):
                self.report(
                    error(
                        "E0191",
                        f"'{kw.name}' cannot be an error's field: the error itself has it",
                        kw.span,
                        "choose another name",
                    )
                )

    # ---- helpers ---------------------------------------------------------

    def lookup(self, name: str, scope: Scope | None) -> Kind | None:
        while scope is not None:
            if scope.binds(name):
                return Kind.LOCAL
            scope = scope.parent
        res = self.res
        if name in res.consts:
            return Kind.CONST
        if name in res.uses:
            return Kind.USE
        if name in res.decls:
            return Kind.DECL
        if name in res.machines:
            return Kind.MACHINE
        if name in res.errors:
            return Kind.ERROR_TYPE
        if name in BUILTIN_FUNCTIONS:
            return Kind.BUILTIN
        if name in ERROR_NAMES:
            return Kind.ERROR
        if name in PYTHON_EXCEPTIONS:
            return Kind.EXCEPTION
        return None

    def module_names(self) -> list[str]:
        return [*self.res.consts, *self.res.uses, *self.res.decls, *self.res.machines, *self.res.errors]

    def is_handler(self, expr: ast.Expr) -> bool:
        """Whether `expr` is a `use`-bound name or a plain attribute chain of one."""
        if isinstance(expr, ast.Name):
            return self.res.names.get(expr) is Kind.USE
        return isinstance(expr, ast.Attr) and expr in self.res.handler_attrs

    def call_kind(self, func: ast.Expr) -> CallKind:
        if isinstance(func, ast.Name):
            kind = self.res.names.get(func)
            if kind is Kind.BUILTIN:
                return CallKind.BUILTIN
            if kind is Kind.DECL:
                return CallKind.DECL
            if kind is Kind.ERROR_TYPE or kind is Kind.ERROR:
                return CallKind.ERROR
        return CallKind.STEP if self.is_handler(func) else CallKind.DYNAMIC

    def check_arguments(self, call: ast.Call, decl: ast.Declaration) -> None:
        params = [param.name.id for param in decl.params]
        name = decl.name.id
        if len(call.args) > len(params):
            self.report(
                error(
                    "E0119",
                    f"'{name}' takes {len(params)} argument(s), but {len(call.args)} were given",
                    call.span,
                )
            )
            return
        given = set(params[: len(call.args)])
        for kw in call.keywords:
            if kw.name not in params:
                self.report(
                    error(
                        "E0119",
                        f"'{name}' has no parameter '{kw.name}'",
                        kw.span,
                        did_you_mean(kw.name, params),
                    )
                )
            elif kw.name in given:
                self.report(error("E0119", f"argument '{kw.name}' is given twice", kw.span))
            given.add(kw.name)
        missing = [p.name.id for p in decl.params if p.default is None and p.name.id not in given]
        if missing:
            self.report(error("E0119", f"missing argument '{missing[0]}' in call to '{name}'", call.span))

    def exception_type(self, dotted: ast.Dotted) -> None:
        head = dotted.parts[0]
        kind = Kind.USE if head in self.res.uses else None
        if head in self.res.errors:
            kind = Kind.ERROR_TYPE
        elif head in ERROR_NAMES:
            kind = Kind.ERROR
        elif kind is None and head in PYTHON_EXCEPTIONS:
            kind = Kind.EXCEPTION
        if kind is None or (kind is not Kind.USE and len(dotted.parts) > 1):
            candidates = [*self.res.errors, *ERROR_NAMES, *PYTHON_EXCEPTIONS, *self.res.uses]
            self.report(
                error(
                    "E0117",
                    f"unknown exception type '{dotted.text}'",
                    dotted.span,
                    did_you_mean(head, candidates),
                )
            )
            return
        self.res.catch_kinds[dotted] = kind


# What an error object already has: a field of that name would hide or break it.
UNWIND_OPTIONS = ("failed_step", "stop_on_error")
ERROR_RESERVED_FIELDS = frozenset(["message", "fields", "args", "with_traceback", "add_note"])


def _cycle(deps: tuple[tuple[int, ...], ...]) -> tuple[int, int] | None:
    """Two branches on a cycle of `deps` (a branch, and the one it waits for), or None."""
    state = [0] * len(deps)  # 0 unseen, 1 on the current path, 2 done

    def visit(node: int) -> tuple[int, int] | None:
        state[node] = 1
        for dep in deps[node]:
            if state[dep] == 1:
                return node, dep
            if state[dep] == 0 and (found := visit(dep)) is not None:
                return found
        state[node] = 2
        return None

    for start in range(len(deps)):
        if state[start] == 0 and (found := visit(start)) is not None:
            return found
    return None


_RETURN_HELP = {Barrier.STAGE: "set a variable in the stage and `return` after it"}


def _call_text(func: ast.Expr) -> str:
    """How events name a guarded call that is not a step: `helper`, `obj.method`."""
    parts = dotted_parts(func)
    return ".".join(parts) if parts else "call"


def value_text(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 30 else f"{text[:27]}..."


def python_keyword(name: str) -> bool:
    return keyword.iskeyword(name) or keyword.issoftkeyword(name)
