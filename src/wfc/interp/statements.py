"""Statements, compiled once into closures: one `compile_<Node>` per statement kind.

A statement's code, run on a frame, returns None when it runs to its end, or the
`Signal` (return, yield, break, continue) that ends its block early. As with
expressions (expressions.py), a statement that cannot suspend is a plain function.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

from .. import runtime
from ..check import CallKind, Kind
from ..check.scopes import assigned_names
from ..runtime import STAGE, Runtime, unmet
from ..syntax import ast
from .expressions import BINARY, Code, Evaluator, constant
from .frames import BREAK, CONTINUE, MACHINE, Break, Continue, Frame, Return, Signal, Yield


class Executor(Evaluator):
    async def block(self, body: tuple[ast.Stmt, ...], frame: Frame, rt: Runtime) -> Signal | None:
        """Run statements; the signal that ended them early, if one did."""
        fn, suspends = self.block_code(body)
        return await fn(frame, rt) if suspends else fn(frame, rt)

    def block_code(self, body: tuple[ast.Stmt, ...]) -> Code:
        key = _BodyKey(body)
        code = self._codes.get(key)  # type: ignore[call-overload]
        if code is None:
            code = self._codes[key] = self._compile_block(body)  # type: ignore[index]
        return code

    def _compile_block(self, body: tuple[ast.Stmt, ...]) -> Code:
        codes = [self.code(stmt) for stmt in body]  # type: ignore[arg-type]
        if len(codes) == 1:
            return codes[0]
        if any(code.suspends for code in codes):

            async def run(frame: Frame, rt: Runtime) -> Signal | None:
                for fn, suspends in codes:
                    signal = await fn(frame, rt) if suspends else fn(frame, rt)
                    if signal is not None:
                        return signal
                return None

            return Code(run, True)
        fns = [code.fn for code in codes]

        def run_now(frame: Frame, rt: Runtime) -> Signal | None:
            for fn in fns:
                signal = fn(frame, rt)
                if signal is not None:
                    return signal
            return None

        return Code(run_now, False)

    # ---- simple statements -----------------------------------------------
    def compile_Assign(self, stmt: ast.Assign) -> Code:
        name = stmt.target.id
        if isinstance(stmt.value, ast.Call) and self.res.calls[stmt.value] is CallKind.STEP:
            return self.step(stmt.value, self.arguments(stmt.value), into=name)
        value, suspends = self.code(stmt.value)
        if suspends and isinstance(stmt.value, ast.BinOp):
            (left, left_suspends), (right, _) = self.code(stmt.value.left), self.code(stmt.value.right)
            operand = stmt.value.right
            if (
                not left_suspends
                and isinstance(operand, ast.Call)
                and self.res.calls[operand] is CallKind.STEP
            ):
                # `total = total + h.f(x)`: the step's own coroutine does it all
                combine = (left, BINARY[stmt.value.op])
                return self.step(operand, self.arguments(operand), into=name, combine=combine)
            if not left_suspends:  # `total = total + f(x)`: one coroutine, not two
                apply = BINARY[stmt.value.op]

                async def operate(frame: Frame, rt: Runtime) -> None:
                    first = left(frame, rt)
                    frame.vars[name] = apply(first, await right(frame, rt))

                return Code(operate, True)
        if suspends:

            async def run(frame: Frame, rt: Runtime) -> None:
                frame.vars[name] = await value(frame, rt)

            return Code(run, True)

        def run_now(frame: Frame, rt: Runtime) -> None:
            frame.vars[name] = value(frame, rt)

        return Code(run_now, False)

    def compile_ExprStmt(self, stmt: ast.ExprStmt) -> Code:
        return self.strict([stmt.value], _nothing)

    def compile_Return(self, stmt: ast.Return) -> Code:
        if stmt.value is None:
            return constant(Return(None))
        return self.strict([stmt.value], Return)

    def compile_Yield(self, stmt: ast.Yield) -> Code:
        return self.strict([stmt.value], Yield)

    def compile_Break(self, stmt: ast.Break) -> Code:
        return constant(BREAK)

    def compile_Continue(self, stmt: ast.Continue) -> Code:
        return constant(CONTINUE)

    def compile_Fail(self, stmt: ast.Fail) -> Code:
        if stmt.value is None:  # the error its `catch` caught, unchanged
            handler = self.res.reraise[stmt]

            def reraise(frame: Frame, rt: Runtime) -> None:
                raise frame.get(handler)  # type: ignore[arg-type]

            return Code(reraise, False)
        return self.strict([stmt.value], _fail)

    def compile_Require(self, stmt: ast.Require) -> Code:
        source, message = stmt.source, stmt.message

        async def run(frame: Frame, rt: Runtime) -> None:
            if await self.evaluate(stmt.test, frame, rt):
                return
            raise unmet(None if message is None else await self.evaluate(message, frame, rt), source)

        if self.code(stmt.test).suspends or (message is not None and self.code(message).suspends):
            return Code(run, True)
        test = self.code(stmt.test).fn
        words = None if message is None else self.code(message).fn

        def run_now(frame: Frame, rt: Runtime) -> None:
            if test(frame, rt):
                return
            raise unmet(None if words is None else words(frame, rt), source)

        return Code(run_now, False)

    def compile_Emit(self, stmt: ast.Emit) -> Code:
        topic, value = stmt.topic.text, stmt.value

        async def run(frame: Frame, rt: Runtime) -> None:
            await rt.publish(topic, None if value is None else await self.evaluate(value, frame, rt))

        return Code(run, True)

    def compile_SendEvent(self, stmt: ast.SendEvent) -> Code:
        event, value = stmt.event.id, stmt.value
        if value is None:

            def send_now(frame: Frame, rt: Runtime) -> None:
                frame.get(MACHINE).raise_event(event, None)

            return Code(send_now, False)

        async def run(frame: Frame, rt: Runtime) -> None:
            frame.get(MACHINE).raise_event(event, await self.evaluate(value, frame, rt))

        return Code(run, True)

    def compile_Wait(self, stmt: ast.Wait) -> Code:
        async def run(frame: Frame, rt: Runtime) -> None:
            await rt.sleep(await self.evaluate(stmt.duration, frame, rt))

        return Code(run, True)

    def compile_Receive(self, stmt: ast.Receive) -> Code:
        async def run(frame: Frame, rt: Runtime) -> None:
            timeout = None if stmt.timeout is None else await self.evaluate(stmt.timeout, frame, rt)
            value = await rt.receive(stmt.signal.id, timeout)
            if stmt.target is not None:
                frame.set(stmt.target.id, value)

        return Code(run, True)

    def compile_Step(self, stmt: ast.Step) -> Code:
        name = self.res.step_names[stmt]
        failed_too = stmt in self.res.undone_if_failed
        compensate = stmt.compensate
        own = {stmt.name.id: None} if stmt.name is not None else {}

        async def run(frame: Frame, rt: Runtime) -> None:
            saga = frame.saga
            saga.step = name
            if failed_too:  # its compensation, with the variables as they are, its own null
                assert compensate is not None
                before = Frame({**frame.vars, **own})
                saga.starting(lambda: self.evaluate(compensate, before, rt))
            value = await self.evaluate(stmt.call, frame, rt)
            if stmt.name is not None:
                frame.set(stmt.name.id, value)
            if compensate is None:
                saga.completed(None)
                return
            frozen = Frame(dict(frame.vars))  # the variables as they are when the step completed

            async def undo() -> None:
                await self.evaluate(compensate, frozen, rt)

            saga.completed(undo)

        return Code(run, True)

    # ---- compound statements ---------------------------------------------
    def compile_Stage(self, stmt: ast.Stage) -> Code:
        name, when = stmt.name.id, stmt.when
        body, suspends = self.block_code(stmt.body)
        guarded = stmt in self.res.guards

        async def run(frame: Frame, rt: Runtime) -> Signal | None:
            if when is not None and not await self.evaluate(when, frame, rt):
                if rt.observers:  # the check in place: no call when nobody observes
                    STAGE.skipped(rt, name)
                return None
            if rt.observers:  # the check in place: no call when nobody observes
                STAGE.started(rt, name)
            try:
                if guarded:
                    options = await self.guard_options(stmt, frame, rt)
                    signal = await self.guard(stmt).run(
                        rt, lambda: self.block(stmt.body, frame, rt), **options
                    )
                    if not isinstance(signal, Signal):  # a fallback's value: a stage has none
                        signal = None
                else:
                    signal = await body(frame, rt) if suspends else body(frame, rt)
            except Exception as exc:
                STAGE.failed(rt, name, exc)
                raise
            if rt.observers:  # the check in place: no call when nobody observes
                STAGE.ended(rt, name)
            return signal

        return Code(run, True)

    def compile_If(self, stmt: ast.If) -> Code:
        branches = [(self.code(branch.test), self.block_code(branch.body)) for branch in stmt.branches]
        orelse = None if stmt.orelse is None else self.block_code(stmt.orelse)
        parts = [code for pair in branches for code in pair] + ([orelse] if orelse else [])
        if any(code.suspends for code in parts):
            if not any(test.suspends for test, _ in branches):
                return self._branching(branches, orelse)

            async def run(frame: Frame, rt: Runtime) -> Signal | None:
                for (test, test_suspends), (body, body_suspends) in branches:
                    if await test(frame, rt) if test_suspends else test(frame, rt):
                        return await body(frame, rt) if body_suspends else body(frame, rt)
                if orelse is None:
                    return None
                return await orelse.fn(frame, rt) if orelse.suspends else orelse.fn(frame, rt)

            return Code(run, True)
        plain = [(test.fn, body.fn) for test, body in branches]
        otherwise = None if orelse is None else orelse.fn

        def run_now(frame: Frame, rt: Runtime) -> Signal | None:
            for test, body in plain:
                if test(frame, rt):
                    return body(frame, rt)
            return None if otherwise is None else otherwise(frame, rt)

        return Code(run_now, False)

    def _branching(self, branches: list[tuple[Code, Code]], orelse: Code | None) -> Code:
        """An `if` whose tests cannot suspend but a body can. Its tests and bodies are kept
        (`_choosers`), so a loop around the `if` picks and runs the body itself, with no
        coroutine or call for the `if` (compile_For)."""
        tests = [(test.fn, body) for test, body in branches]

        def choose(frame: Frame, rt: Runtime) -> Code | None:
            for test, body in tests:
                if test(frame, rt):
                    return body
            return orelse

        async def run(frame: Frame, rt: Runtime) -> Signal | None:
            chosen = choose(frame, rt)
            if chosen is None:
                return None
            return await chosen.fn(frame, rt) if chosen.suspends else chosen.fn(frame, rt)

        self._choosers[run] = (tests, orelse)
        return Code(run, True)

    def compile_For(self, stmt: ast.For) -> Code:
        if stmt in self.res.item_scopes:
            return self.map_items(stmt)
        name, timeout = stmt.var.id, stmt.timeout
        (iterable, iterable_suspends), (body, body_suspends) = (
            self.code(stmt.iterable),
            self.block_code(stmt.filtered_body()),
        )

        branches = self._choosers.get(body)
        if branches is not None and timeout is None and not iterable_suspends:
            tests, orelse = branches
            # (test, body, whether the body suspends), flat: no unpacking of a Code per item
            arms = tuple((test, body_code.fn, body_code.suspends) for test, body_code in tests)
            otherwise = None if orelse is None else (None, orelse.fn, orelse.suspends)

            async def branching(frame: Frame, rt: Runtime) -> Signal | None:
                variables = frame.vars
                for item in iterable(frame, rt):
                    variables[name] = item
                    for arm in arms:  # the `if`'s choice, in this frame
                        if arm[0](frame, rt):
                            break
                    else:
                        if otherwise is None:
                            continue
                        arm = otherwise
                    signal = await arm[1](frame, rt) if arm[2] else arm[1](frame, rt)
                    if signal is not None and signal is not CONTINUE:
                        return None if signal is BREAK else signal
                return None

            return Code(branching, True)

        async def run(frame: Frame, rt: Runtime) -> Signal | None:
            items = await iterable(frame, rt) if iterable_suspends else iterable(frame, rt)
            deadline = None if timeout is None else await self.evaluate(timeout, frame, rt)
            for item in items:
                frame.vars[name] = item
                if deadline is None:
                    signal = await body(frame, rt) if body_suspends else body(frame, rt)
                else:
                    async with rt.timeout(deadline):
                        signal = await body(frame, rt) if body_suspends else body(frame, rt)
                if signal is not None and signal is not CONTINUE:
                    return None if signal is BREAK else signal
            return None

        if iterable_suspends or body_suspends or timeout is not None:
            return Code(run, True)

        def run_now(frame: Frame, rt: Runtime) -> Signal | None:
            variables = frame.vars
            for item in iterable(frame, rt):
                variables[name] = item
                signal = body(frame, rt)
                if signal is not None and signal is not CONTINUE:
                    return None if signal is BREAK else signal
            return None

        return Code(run_now, False)

    def map_items(self, stmt: ast.For) -> Code:
        call = self.res.single_step(stmt)
        if call is not None:
            return self.map_calls(stmt, call)
        names, var = self.res.scope_locals.get(stmt, ()), stmt.var.id
        body, suspends = self.block_code(stmt.body)
        where = None if stmt.where is None else self.code(stmt.where)

        async def item_body(frame: Frame, rt: Runtime, item: Any) -> Any:
            inner = Frame({name: None for name in names}, frame)
            inner.vars[var] = item
            if where is not None:
                test = await where.fn(inner, rt) if where.suspends else where.fn(inner, rt)
                if not test:
                    return runtime.LEFT_OUT
            signal = await body(inner, rt) if suspends else body(inner, rt)
            return signal.value if isinstance(signal, Yield) else None

        async def run(frame: Frame, rt: Runtime) -> None:
            iterable, options = await self.map_options(stmt, frame, rt)
            values = await runtime.map_items(
                rt, lambda item: item_body(frame, rt, item), iterable, filtered=where is not None, **options
            )
            if stmt.into is not None:
                frame.set(stmt.into.id, values)

        return Code(run, True)

    def map_calls(self, stmt: ast.For, call: ast.Call) -> Code:
        """A mapping `for` whose each item is one step (`Resolution.single_step`)."""
        target, location = self.res.step_targets[call], self.res.location(call)
        lookup = self.handler(call.func)

        async def run(frame: Frame, rt: Runtime) -> None:
            iterable, options = await self.map_options(stmt, frame, rt)
            values = await runtime.map_calls(rt, target, location, lookup, iterable, **options)
            if stmt.into is not None:
                frame.set(stmt.into.id, values)

        return Code(run, True)

    async def map_options(self, stmt: ast.For, frame: Frame, rt: Runtime) -> tuple[Any, dict[str, Any]]:
        """A mapping `for`'s iterable, then the options of its map, evaluated in order."""
        iterable = await self.evaluate(stmt.iterable, frame, rt)
        limit = None if stmt.limit is None else await self.evaluate(stmt.limit, frame, rt)
        timeout = None if stmt.timeout is None else await self.evaluate(stmt.timeout, frame, rt)
        options = {
            "concurrent": stmt.concurrent,
            "limit": limit,
            "timeout": timeout,
            "skip_errors": stmt.skip_errors,
            "name": stmt.var.id,
        }
        return iterable, options

    def compile_While(self, stmt: ast.While) -> Code:
        body = self.block_code(stmt.body)

        async def loop(frame: Frame, rt: Runtime) -> Signal | None:
            if stmt.max is None:
                while await self.evaluate(stmt.test, frame, rt):
                    signal = await _run(body, frame, rt)
                    if signal is not None and signal is not CONTINUE:
                        return None if signal is BREAK else signal
                return None
            for _ in range(await self.evaluate(stmt.max, frame, rt)):
                if not await self.evaluate(stmt.test, frame, rt):
                    return None
                signal = await _run(body, frame, rt)
                if signal is not None and signal is not CONTINUE:
                    return None if signal is BREAK else signal
            return None

        return self.with_deadline(stmt.timeout, loop)

    def compile_Repeat(self, stmt: ast.Repeat) -> Code:
        body = self.block_code(stmt.body)

        async def loop(frame: Frame, rt: Runtime) -> Signal | None:
            count = 0
            bound = None if stmt.max is None else await self.evaluate(stmt.max, frame, rt)
            while bound is None or count < bound:
                if count and await self.evaluate(stmt.until, frame, rt):
                    return None
                count += 1
                signal = await _run(body, frame, rt)
                if signal is not None and signal is not CONTINUE:
                    return None if signal is BREAK else signal
            return None

        return self.with_deadline(stmt.timeout, loop)

    def with_deadline(self, timeout: ast.Expr | None, loop: Callable[[Frame, Runtime], Any]) -> Code:
        if timeout is None:
            return Code(loop, True)

        async def run(frame: Frame, rt: Runtime) -> Signal | None:
            async with rt.timeout(await self.evaluate(timeout, frame, rt)):
                return await loop(frame, rt)

        return Code(run, True)

    def compile_Parallel(self, stmt: ast.Parallel) -> Code:
        branches = [self.code(inner) for inner in stmt.body]  # type: ignore[arg-type]
        site = self.res.location(stmt)

        async def run(frame: Frame, rt: Runtime) -> None:
            limit = None if stmt.limit is None else await self.evaluate(stmt.limit, frame, rt)
            timeout = None if stmt.timeout is None else await self.evaluate(stmt.timeout, frame, rt)
            need = 1 if stmt.first else None
            if stmt.quorum is not None:
                need = await self.evaluate(stmt.quorum, frame, rt)
            failed = await runtime.parallel(
                rt,
                [_bound(code, frame, rt) for code in branches],
                limit=limit,
                timeout=timeout,
                keep_going=stmt.keep_going,
                need=need,
                site=site,
                after=self.res.branch_deps.get(stmt),
            )
            for inner, did_fail in zip(stmt.body, failed):
                if did_fail:
                    for name in assigned_names((inner,)):
                        frame.set(name, None)

        return Code(run, True)

    def compile_Select(self, stmt: ast.Select) -> Code:
        bodies = [self.block_code(arm.body) for arm in stmt.arms]
        site = self.res.location(stmt)

        def head(arm: ast.SelectArm, frame: Frame, rt: Runtime) -> Any:
            async def wait_for() -> Any:
                if arm.wait is not None:
                    return await rt.sleep(await self.evaluate(arm.wait, frame, rt))
                if arm.signal is not None:
                    return await rt.receive(arm.signal.id, None)
                return await self.evaluate(arm.call, frame, rt)  # type: ignore[arg-type]

            return wait_for

        async def run(frame: Frame, rt: Runtime) -> Signal | None:
            won, value = await runtime.select(rt, [head(arm, frame, rt) for arm in stmt.arms], site)
            target = stmt.arms[won].target
            if target is not None:
                frame.set(target.id, value)
            body, suspends = bodies[won]
            return await body(frame, rt) if suspends else body(frame, rt)

        return Code(run, True)

    def compile_Try(self, stmt: ast.Try) -> Code:
        body = self.block_code(stmt.body)
        handlers = [(handler, self.block_code(handler.body)) for handler in stmt.handlers]
        reraised = set(self.res.reraise.values())

        async def run(frame: Frame, rt: Runtime) -> Signal | None:
            try:
                return await _run(body, frame, rt)
            except BaseException as exc:
                for handler, handler_body in handlers:
                    if isinstance(exc, self.caught_types(handler)):
                        if handler.name is not None:
                            frame.set(handler.name.id, exc)
                        if handler in reraised:  # kept for a `fail` alone: the node is its key
                            frame.vars[handler] = exc  # type: ignore[index]
                        return await _run(handler_body, frame, rt)
                raise

        return Code(run, True)

    def caught_types(self, handler: ast.Catch) -> tuple[type[BaseException], ...]:
        if not handler.types:
            return (Exception,)
        return tuple(self.exception_type(dotted) for dotted in handler.types)

    def exception_type(self, dotted: ast.Dotted) -> Any:
        kind = self.res.catch_kinds[dotted]
        head, *rest = dotted.parts
        if kind is Kind.ERROR:
            return runtime.ERROR_TYPES[head]
        if kind is Kind.EXCEPTION:
            return getattr(builtins, head)
        value = self.globals[head]
        for part in rest:
            value = getattr(value, part)
        return value


class _BodyKey:
    """A statement list as a key of the code cache: by identity, like the nodes."""

    __slots__ = ("body",)

    def __init__(self, body: tuple[ast.Stmt, ...]) -> None:
        self.body = body

    def __hash__(self) -> int:
        return id(self.body)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _BodyKey) and other.body is self.body


async def _run(code: Code, frame: Frame, rt: Runtime) -> Any:
    return await code.fn(frame, rt) if code.suspends else code.fn(frame, rt)


def _bound(code: Code, frame: Frame, rt: Runtime) -> Callable[[], Any]:
    async def run() -> None:
        await _run(code, frame, rt)

    return run


def _nothing(value: Any) -> None:
    return None


def _fail(value: Any) -> None:
    raise runtime.failure(value)


__all__ = ["Break", "Continue", "Executor", "Return", "Yield"]
