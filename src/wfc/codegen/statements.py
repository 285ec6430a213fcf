"""Statements -> Python source: one `emit_<Node>` per statement kind."""

from __future__ import annotations

from ..check import CallKind, Kind, Resolution
from ..check.resolution import GuardSpec
from ..check.scopes import assigned_names
from ..runtime import STAGE, WORKFLOW
from ..syntax import ast
from ..syntax.names import comment_text, py_literal, py_name
from .expressions import AND, ATOM, CMP, NOT, Temps, is_atomic
from .functions import FunctionKind, GeneratedFunction
from .inline import inline_steps
from .policies import PolicyEmitter
from .writer import Writer

END = py_literal(STAGE.end)  # a stage's end event, also written where control flow leaves it


class StmtEmitter(PolicyEmitter):
    def __init__(self, res: Resolution, temps: Temps, out: Writer) -> None:
        super().__init__(res, temps)
        self.out = out
        self.frame = GeneratedFunction(kind=FunctionKind.WORKFLOW, name="", end_event=WORKFLOW.end)
        self.guard_names = {}  # sites with policies -> their `_wf.Guard`
        self.inline_calls: set[ast.Call] = set()  # steps in expressions emitted ahead of their line
        # `catch` blocks with a `fail` alone inside: the name their error is kept under
        catches = dict.fromkeys(res.reraise.values())
        self.caught_names = {handler: f"_wf_caught{n}" for n, handler in enumerate(catches, 1)}
        self.deferred: list[str] = []  # module-level functions to write after the declaration

    def block(self, body: tuple[ast.Stmt, ...]) -> None:
        for stmt in body:
            getattr(self, f"emit_{type(stmt).__name__}")(stmt)

    def where(self, node: ast.Node) -> str:
        return comment_text(self.res.location(node))

    # ---- steps and values ------------------------------------------------
    def is_step(self, expr: ast.Expr) -> bool:
        return isinstance(expr, ast.Call) and self.res.calls.get(expr) is CallKind.STEP

    def assign_value(self, dest: str, expr: ast.Expr) -> None:
        if isinstance(expr, ast.Guarded):
            self.guarded_into(expr, dest)
        elif self.is_step(expr):
            self.step_into(expr, dest)  # type: ignore[arg-type]
        else:
            self.out.line(f"{dest} = {self.line_expr(expr)}")

    def line_expr(self, expr: ast.Expr) -> str:
        """Code for the value of a line of its own: its steps that may be are emitted
        inline ahead of it (codegen/inline.py), each into a temporary."""
        self.inline_calls |= inline_steps(expr, self.is_step)
        return self.expr(expr)

    def emit_Call(self, expr: ast.Call) -> tuple[str, int]:
        if expr not in self.inline_calls:
            return super().emit_Call(expr)
        temp = self.temps.new("r")
        self.step_into(expr, temp)
        return temp, ATOM

    def value_code(self, expr: ast.Expr, force: bool = False) -> str:
        """Code for `expr`'s value, after emitting what must run first."""
        if is_atomic(expr) and not force:
            return self.expr(expr)
        temp = self.temps.new("r")
        self.assign_value(temp, expr)
        return temp

    def hoisted(self, values: tuple[ast.Expr, ...]) -> list[str]:
        """Code for each of a call's values, computed ahead where they must be.

        Left to right, as the interpreter does: once one must be computed ahead,
        every non-literal one is, so none is read after another's awaits.
        """
        hoist = not all(is_atomic(value) for value in values)
        return [
            self.value_code(value, force=hoist and not isinstance(value, ast.Literal)) for value in values
        ]

    def step_into(
        self,
        call: ast.Call,
        dest: str,
        retry_guard: str | None = None,
        admitting: tuple[str, GuardSpec] | None = None,
    ) -> None:
        """A handler call, inline: arguments first, then events, call, await.

        With `retry_guard` (a site whose only policy is `retry`), the attempt runs in
        a loop and that guard's `retry_delay` decides after each failure: the
        runtime's own retry semantics, without a coroutine per call. With
        `admitting` (a site whose only policies are `breaker` and `limit`: its guard
        and policies), the guard admits the attempt and counts its outcome in place.
        """
        out = self.out
        values = (*call.args, *(k.value for k in call.keywords))
        keys = admitting[1].site_keys() if admitting is not None else []
        codes = self.hoisted((*values, *(value for _, value in keys)))
        codes, key_codes = codes[: len(values)], codes[len(values) :]
        target = py_literal(self.res.step_targets[call])
        # A failed attempt must leave `dest` as it was: a `catch`, a parallel branch, a
        # stage's next attempt or this call's own retry (`x = h.f(x) with retry()`) reads it.
        direct = dest.startswith("_wf_") or (
            retry_guard is None and not self.frame.may_observe_failed_assignment()
        )
        result = dest if direct else self.temps.new("r")
        if admitting is not None:
            guard, spec = admitting
            keywords = [(keyword, code) for (keyword, _), code in zip(keys, key_codes)]
            count_success = self.admitted_step(call, codes, result, target, guard, spec, keywords)
            out.observed(f'_rt.event("step.end", {target})')
            count_success()
        elif retry_guard is None:
            self.step_attempt(call, codes, result, target, lambda failed: out.line(f"raise {failed}"))
        else:
            self.retried_step(call, codes, result, target, retry_guard)
        if result != dest:
            out.line(f"{dest} = {result}")
        if admitting is None:
            out.observed(f'_rt.event("step.end", {target})')

    def step_attempt(
        self, call: ast.Call, codes: list[str], result: str, target: str, on_error, attempt: str | None = None
    ) -> None:
        """`step.start`, then the call and its await; `on_error(failed)` ends the except
        block, given the code of the error to raise (`Runtime.step_failed` decides it).
        In a retry loop counting in `attempt`, retries call through `_wf.on_attempt`, so
        that `attempt()` tells the handler which one it is."""
        out = self.out
        out.observed(f'_rt.event("step.start", {target})')
        out.line(f"# {self.where(call)}")
        if self.temps.declares(result):
            out.line(f"{result}: _wf.Value")
        out.line("try:")
        with out.indent():
            function, arguments = self.sub(call.func, 9), self.arguments(call, codes)
            # In a durable run the journal calls the handler, or replays its outcome.
            journaled = f"{target}, {py_literal(self.res.location(call))}, {function}"
            invoke = (
                f"({function}({arguments}) if _rt.journal is None else "
                f"_rt.journal.step({journaled}{', ' if arguments else ''}{arguments}))"
            )
            if attempt is None:
                out.line(f"{result} = {invoke}")
            else:  # a retry goes through `on_attempt`, so that `attempt()` says which it is
                out.line(f"if {attempt} == 1:")
                with out.indent():
                    out.line(f"{result} = {invoke}")
                out.line("else:")
                with out.indent():
                    out.line(
                        f"{result} = _wf.on_attempt({attempt}, _rt, {journaled}{', ' if arguments else ''}{arguments})"
                    )
            # A coroutine is by far the common case: test its class before the general check.
            out.line(f"if {result}.__class__ is _wf_coroutine or _wf.isawaitable({result}):")
            with out.indent():
                out.line(f"{result} = await {result}")
        out.line("except BaseException as _wf_e:")
        with out.indent():
            on_error(f"_rt.step_failed(_wf_e, {target}, {py_literal(self.res.location(call))})")

    def exit_events(self, stages: list[str], workflow: bool) -> None:
        """`stage.end` for stages being left (innermost first), then the end of the
        workflow or saga if `workflow` (the declaration itself is being left)."""
        events = [f"_rt.event({END}, {py_literal(name)})" for name in reversed(stages)]
        if workflow and self.frame.end_event:
            events.append(f"_rt.event({py_literal(self.frame.end_event)}, {py_literal(self.frame.name)})")
        if events:
            self.out.observed(*events)

    # ---- simple statements -----------------------------------------------
    def emit_Assign(self, stmt: ast.Assign) -> None:
        self.assign_value(py_name(stmt.target.id), stmt.value)

    def emit_ExprStmt(self, stmt: ast.ExprStmt) -> None:
        if isinstance(stmt.value, ast.Guarded):
            self.guarded_into(stmt.value, self.temps.new("r"))
        elif self.is_step(stmt.value):
            self.step_into(stmt.value, self.temps.new("r"))  # type: ignore[arg-type]
        else:
            self.out.line(self.line_expr(stmt.value))

    def emit_Step(self, stmt: ast.Step) -> None:
        """A saga step: run it, then record its compensation with today's variables.

        The compensation is a module-level function (`deferred`, written after the
        saga) called with the runtime and the variables it reads, as they are now:
        recording it costs a tuple, not a closure.
        """
        assert self.frame.kind is FunctionKind.SAGA, "the checker keeps steps in the saga's own body"
        out, name = self.out, py_literal(self.res.step_names[stmt])
        out.line(f"_wf_step = {name}")
        failed_too = stmt in self.res.undone_if_failed
        undo, names = self.compensation(stmt) if failed_too else (None, [])
        if failed_too:  # its compensation, should it fail: its own variable is null
            own = stmt.name.id if stmt.name is not None else None
            before = ", ".join(["_rt", *("None" if v == own else py_name(v) for v in names)])
            out.line(f"_wf_failing = ({name}, {undo}, ({before}{',' if not names else ''}))")
        if stmt.name is not None:
            self.assign_value(py_name(stmt.name.id), stmt.call)
        else:
            self.emit_ExprStmt(ast.ExprStmt(span=stmt.span, value=stmt.call))
        if not failed_too:
            undo, names = self.compensation(stmt)
        if undo is not None:
            arguments = ", ".join(["_rt", *(py_name(variable) for variable in names)])
            out.line(f"_wf_done.append(({name}, {undo}, ({arguments}{',' if not names else ''})))")
        out.line("_wf_step = None")
        if failed_too:
            out.line("_wf_failing = None")

    def compensation(self, stmt: ast.Step) -> tuple[str | None, list[str]]:
        """The step's compensation function (written after the saga) and the variables
        it is called with; None for a step without one."""
        if stmt.compensate is None:
            return None, []
        names = list(
            dict.fromkeys(
                node.id
                for node in ast.walk(stmt.compensate)
                if isinstance(node, ast.Name) and self.res.names.get(node) is Kind.LOCAL
            )
        )
        undo = self.temps.new("undo")
        self.undo_function(undo, stmt, names)
        return undo, names

    def undo_function(self, undo: str, stmt: ast.Step, names: list[str]) -> None:
        """`async def undo(_rt, *names)`: the step's compensation, at module level."""
        assert stmt.compensate is not None
        writer, self.out = self.out, Writer()
        try:
            params = "".join(f", {py_name(variable)}: _wf.Value" for variable in names)
            body = (ast.ExprStmt(span=stmt.compensate.span, value=stmt.compensate),)
            header = f"async def {undo}(_rt: _wf.Runtime{params}) -> _wf.Value:"
            self.function(header, FunctionKind.UNDO, stmt, body, prologue="_obs = _rt.observers")
            self.deferred.append(self.out.text())
        finally:
            self.out = writer

    def emit_Return(self, stmt: ast.Return) -> None:
        code = "None" if stmt.value is None else self.value_code(stmt.value)
        self.exit_events(self.frame.stages, workflow=True)
        self.out.line(f"return {code}")

    def emit_Yield(self, stmt: ast.Yield) -> None:
        code = self.value_code(stmt.value)
        self.exit_events(self.frame.stages, workflow=False)
        self.out.line(f"return {code}")

    def emit_Break(self, stmt: ast.Break) -> None:
        self.exit_events(self.frame.stages[self.frame.loop_marks[-1] :], workflow=False)
        self.out.line("break")

    def emit_Continue(self, stmt: ast.Continue) -> None:
        frame = self.frame
        if not frame.loop_marks:  # the body of a map item: end the item with null
            self.exit_events(frame.stages, workflow=False)
            self.out.line("return None")
            return
        self.exit_events(frame.stages[frame.loop_marks[-1] :], workflow=False)
        self.out.line("continue")

    def emit_Fail(self, stmt: ast.Fail) -> None:
        value = stmt.value
        if value is None:  # the error its `catch` caught, unchanged
            self.out.line(f"raise {self.caught_names[self.res.reraise[stmt]]}")
        elif self._error_type(value) or (isinstance(value, ast.Call) and self._error_type(value.func)):
            code = self.expr(value)
            self.out.line(f"raise {code}" if isinstance(value, ast.Call) else f"raise {code}()")
        else:
            self.out.line(f"raise _wf.failure({self.expr(value)})")

    def _error_type(self, expr: ast.Expr) -> bool:
        """Whether `expr` names an `error` declared in the module."""
        return isinstance(expr, ast.Name) and self.res.names.get(expr) is Kind.ERROR_TYPE

    def emit_Require(self, stmt: ast.Require) -> None:
        message = "None" if stmt.message is None else self.expr(stmt.message)
        self.out.line(f"if not {self.sub(stmt.test, CMP + 1)}:")
        with self.out.indent():
            self.out.line(f"raise _wf.unmet({message}, {py_literal(stmt.source)})")

    def emit_Emit(self, stmt: ast.Emit) -> None:
        value = "None" if stmt.value is None else self.expr(stmt.value)
        self.out.line(f"await _rt.publish({py_literal(stmt.topic.text)}, {value})")

    def emit_SendEvent(self, stmt: ast.SendEvent) -> None:
        value = "None" if stmt.value is None else self.expr(stmt.value)
        self.out.line(f"_wf_self.raise_event({py_literal(stmt.event.id)}, {value})")

    def emit_Wait(self, stmt: ast.Wait) -> None:
        self.out.line(f"await _rt.sleep({self.expr(stmt.duration)})")

    def emit_Receive(self, stmt: ast.Receive) -> None:
        timeout = "None" if stmt.timeout is None else self.expr(stmt.timeout)
        call = f"await _rt.receive({py_literal(stmt.signal.id)}, {timeout})"
        self.out.line(call if stmt.target is None else f"{py_name(stmt.target.id)} = {call}")

    # ---- compound statements ---------------------------------------------
    def emit_Stage(self, stmt: ast.Stage) -> None:
        out = self.out
        name = py_literal(stmt.name.id)
        out.line(f"# {self.where(stmt)} stage {comment_text(stmt.name.id)}")
        if stmt.when is None:
            self.stage_body(stmt)
            return
        out.line(f"if {self.expr(stmt.when)}:")
        with out.indent():
            self.stage_body(stmt)
        out.line("else:")
        with out.indent():
            out.observed(f"_rt.event({py_literal(STAGE.skip)}, {name})")

    def stage_body(self, stmt: ast.Stage) -> None:
        out = self.out
        name = py_literal(stmt.name.id)
        out.line("try:")
        with out.indent():
            out.observed(f"_rt.event({py_literal(STAGE.start)}, {name})")
            if stmt in self.guard_names:
                self.guarded_stage(stmt)
            else:
                self.frame.stages.append(stmt.name.id)
                self.block(stmt.body)
                self.frame.stages.pop()
            out.observed(f"_rt.event({END}, {name})")
        out.line("except Exception as _wf_e:")
        with out.indent():
            out.line(f"_rt.failed({py_literal(STAGE.error)}, {name}, _wf_e)")
            out.line("raise")

    def emit_If(self, stmt: ast.If) -> None:
        for position, branch in enumerate(stmt.branches):
            keyword = "if" if position == 0 else "elif"
            self.out.line(f"{keyword} {self.expr(branch.test)}:")
            with self.out.indent():
                self.block(branch.body)
        if stmt.orelse is not None:
            self.out.line("else:")
            with self.out.indent():
                self.block(stmt.orelse)

    def loop_body(self, body: tuple[ast.Stmt, ...]) -> None:
        self.frame.loop_marks.append(len(self.frame.stages))
        self.block(body)
        self.frame.loop_marks.pop()

    def emit_For(self, stmt: ast.For) -> None:
        if stmt in self.res.item_scopes:
            self.map_items(stmt)
            return
        out = self.out
        if stmt.timeout is None:
            iterable, deadline = self.expr(stmt.iterable), None
        else:  # the deadline is evaluated once, after the iterable
            iterable = self.value_code(stmt.iterable, force=True)
            deadline = self.value_code(stmt.timeout, force=True)
        out.line(f"for {py_name(stmt.var.id)} in {iterable}:")
        with out.indent():
            if deadline is None:
                self.loop_body(stmt.filtered_body())
                return
            out.line(f"async with _rt.timeout({deadline}):")
            with out.indent():
                self.loop_body(stmt.filtered_body())

    def map_items(self, stmt: ast.For) -> None:
        call = self.res.single_step(stmt)
        if call is None:
            function = self.temps.new("item")
            self.function(
                f"async def {function}({py_name(stmt.var.id)}: _wf.Value) -> _wf.Value:",
                FunctionKind.ITEM,
                stmt,
                stmt.body,
                where=stmt.where,
            )
            mapper, options = "map_items", [f"_rt, {function}, {self.expr(stmt.iterable)}"]
        else:  # each item is the one step: the runtime calls the handler, looked up per item
            self.out.line(f"# {self.where(call)}")
            target, location = py_literal(self.res.step_targets[call]), py_literal(self.res.location(call))
            handler = f"lambda: {self.sub(call.func, 9)}"
            mapper, options = (
                "map_calls",
                [f"_rt, {target}, {location}, {handler}, {self.expr(stmt.iterable)}"],
            )
        if stmt.concurrent:
            options.append("concurrent=True")
        if stmt.limit is not None:
            options.append(f"limit={self.expr(stmt.limit)}")
        if stmt.timeout is not None:
            options.append(f"timeout={self.expr(stmt.timeout)}")
        if stmt.skip_errors:
            options.append("skip_errors=True")
        if stmt.where is not None:
            options.append("filtered=True")
        options.append(f"name={py_literal(stmt.var.id)}")
        mapped = f"await _wf.{mapper}({', '.join(options)})"
        self.out.line(f"{py_name(stmt.into.id)} = {mapped}" if stmt.into else mapped)

    def function(
        self,
        header: str,
        kind: FunctionKind,
        owner: ast.Node,
        body: tuple[ast.Stmt, ...],
        nonlocal_names: list[str] | None = None,
        prologue: str | None = None,
        where: ast.Expr | None = None,
    ) -> None:
        """A nested function for an item or a branch, with its own frame (`prologue`:
        a first line, for a module-level function that has no enclosing `_obs`)."""
        outer = self.frame
        self.frame = GeneratedFunction(kind=kind, name=outer.name)
        self.out.line(header)
        with self.out.indent():
            if prologue is not None:
                self.out.line(prologue)
            if nonlocal_names:
                self.out.line("nonlocal " + ", ".join(py_name(n) for n in nonlocal_names))
            self.declare_locals(self.res.scope_locals.get(owner, ()))
            if where is not None:  # an item left out by `where` gives the runtime's marker
                self.out.line(f"if not {self.sub(where, NOT)}:")
                with self.out.indent():
                    self.out.line("return _wf.LEFT_OUT")
            self.block(body)
        self.frame = outer

    def declare_locals(self, names: tuple[str, ...]) -> None:
        """Every variable, first null; a wf variable may hold any value in turn."""
        for name in names:
            self.out.line(f"{py_name(name)}: _wf.Value = None")

    def emit_While(self, stmt: ast.While) -> None:
        def loop() -> None:
            if stmt.max is not None:
                self.counted_loop("_", stmt.max, lambda: f"not {self.sub(stmt.test, CMP + 1)}", stmt.body)
                return
            self.out.line(f"while {self.expr(stmt.test)}:")
            with self.out.indent():
                self.loop_body(stmt.body)

        self.with_deadline(stmt.timeout, loop)

    def emit_Repeat(self, stmt: ast.Repeat) -> None:
        def loop() -> None:
            if stmt.max is not None:
                count = self.temps.new("i")
                self.counted_loop(
                    count, stmt.max, lambda: f"{count} and {self.sub(stmt.until, AND + 1)}", stmt.body
                )
                return
            first = self.temps.new("first")
            self.out.line(f"{first} = True")
            self.out.line(f"while {first} or not {self.sub(stmt.until, CMP + 1)}:")
            with self.out.indent():
                self.out.line(f"{first} = False")
                self.loop_body(stmt.body)

        self.with_deadline(stmt.timeout, loop)

    def counted_loop(self, counter: str, limit: ast.Expr, stop, body: tuple[ast.Stmt, ...]) -> None:
        """At most `limit` iterations, each first leaving the loop if `stop()` holds."""
        out = self.out
        out.line(f"for {counter} in range({self.expr(limit)}):")
        with out.indent():
            out.line(f"if {stop()}:")
            with out.indent():
                out.line("break")
            self.loop_body(body)

    def with_deadline(self, timeout: ast.Expr | None, emit_body) -> None:
        if timeout is None:
            emit_body()
            return
        self.out.line(f"async with _rt.timeout({self.expr(timeout)}):")
        with self.out.indent():
            emit_body()

    def emit_Parallel(self, stmt: ast.Parallel) -> None:
        functions: list[str] = []
        assigned: list[list[str]] = []
        for branch in stmt.body:
            names = assigned_names((branch,))
            function = self.temps.new("branch")
            self.function(
                f"async def {function}() -> _wf.Value:", FunctionKind.BRANCH, branch, (branch,), names
            )
            functions.append(function)
            assigned.append(names)
        options = [f"_rt, ({', '.join(functions)}{',' if len(functions) == 1 else ''})"]
        call = f"await _wf.parallel({', '.join(options + self.parallel_options(stmt))}"
        if not stmt.keep_going and not stmt.first and stmt.quorum is None:
            self.out.line(call + ")")
            return
        failed = self.temps.new("failed")
        self.out.line(f"{failed} = {call}{', keep_going=True' if stmt.keep_going else ''})")
        for position, names in enumerate(assigned):
            if names:
                self.out.line(f"if {failed}[{position}]:")
                with self.out.indent():
                    self.out.line(" = ".join(py_name(n) for n in names) + " = None")

    def emit_Select(self, stmt: ast.Select) -> None:
        """Each arm's head in a function of its own, raced by `_wf.select`; then the
        winner's block, here."""
        functions = []
        for arm in stmt.arms:
            function = self.temps.new("arm")
            header = f"async def {function}() -> _wf.Value:"
            if arm.signal is not None:
                self.out.line(header)
                with self.out.indent():
                    self.out.line(f"return await _rt.receive({py_literal(arm.signal.id)}, None)")
            else:
                head: ast.Stmt = (
                    ast.Wait(span=arm.span, duration=arm.wait)
                    if arm.wait is not None
                    else ast.Yield(span=arm.span, value=arm.call)  # type: ignore[arg-type]
                )
                self.function(header, FunctionKind.BRANCH, arm, (head,))
            functions.append(function)
        won, value = self.temps.new("won"), self.temps.new("selected")
        arms = f"({', '.join(functions)}{',' if len(functions) == 1 else ''})"
        site = py_literal(self.res.location(stmt))
        self.out.line(f"{won}, {value} = await _wf.select(_rt, {arms}, {site})")
        for position, arm in enumerate(stmt.arms):
            self.out.line(f"{'if' if position == 0 else 'elif'} {won} == {position}:")
            with self.out.indent():
                if arm.target is not None:
                    self.out.line(f"{py_name(arm.target.id)} = {value}")
                self.block(arm.body)

    def parallel_options(self, stmt: ast.Parallel) -> list[str]:
        """`_wf.parallel`'s keywords for the block: limit, timeout, a race's need, and
        a dataflow block's dependencies."""
        options = []
        if stmt.limit is not None:
            options.append(f"limit={self.expr(stmt.limit)}")
        if stmt.timeout is not None:
            options.append(f"timeout={self.expr(stmt.timeout)}")
        if stmt.first or stmt.quorum is not None:  # the losers' variables are nulled, as the failed ones'
            need = "1" if stmt.first else self.expr(stmt.quorum)  # type: ignore[arg-type]
            options += [f"need={need}", f"site={py_literal(self.res.location(stmt))}"]
        deps = self.res.branch_deps.get(stmt)
        if deps is not None:  # a dataflow block: each branch waits for the ones it reads
            waits = ", ".join("(" + "".join(f"{n}, " for n in needed).rstrip(" ") + ")" for needed in deps)
            options.append(f"after=({waits},)")
        return options

    def emit_Try(self, stmt: ast.Try) -> None:
        out = self.out
        out.line("try:")
        with out.indent():
            self.frame.try_depth += 1
            self.block(stmt.body)
            self.frame.try_depth -= 1
        for handler in stmt.handlers:
            types = [self.exception_code(dotted) for dotted in handler.types]
            caught = "Exception" if not types else types[0] if len(types) == 1 else f"({', '.join(types)})"
            # A handler with a `fail` alone keeps its error under a name of its own.
            error = self.caught_names.get(handler) or ("_wf_e" if handler.name else None)
            out.line(f"except {caught} as {error}:" if error else f"except {caught}:")
            with out.indent():
                if handler.name is not None:
                    out.line(f"{py_name(handler.name.id)} = {error}")
                self.block(handler.body)

    def exception_code(self, dotted: ast.Dotted) -> str:
        kind = self.res.catch_kinds[dotted]
        head, *rest = dotted.parts
        if kind is Kind.ERROR:
            return f"_wf.{head}"
        if kind is Kind.EXCEPTION:
            return head
        if kind is Kind.ERROR_TYPE:
            return py_name(head)
        code = py_name(head)
        for part in rest:
            code = f"getattr({code}, {py_literal(part)})" if not part.isidentifier() else f"{code}.{part}"
        return code
