"""Executing statements: one `exec_<Node>` per statement kind."""

from __future__ import annotations

import builtins
from typing import Any

from .. import runtime
from ..check import Kind
from ..check.scopes import assigned_names
from ..runtime import Runtime
from ..syntax import ast
from .expressions import Evaluator
from .frames import BreakSignal, ContinueSignal, Frame, ReturnSignal, Signal, YieldSignal


class Executor(Evaluator):
    async def block(self, body: tuple[ast.Stmt, ...], frame: Frame, rt: Runtime) -> None:
        for stmt in body:
            await getattr(self, f"exec_{type(stmt).__name__}")(stmt, frame, rt)

    # ---- simple statements -----------------------------------------------
    async def exec_Assign(self, stmt: ast.Assign, frame: Frame, rt: Runtime) -> None:
        frame.set(stmt.target.id, await self.evaluate(stmt.value, frame, rt))

    async def exec_ExprStmt(self, stmt: ast.ExprStmt, frame: Frame, rt: Runtime) -> None:
        await self.evaluate(stmt.value, frame, rt)

    async def exec_Return(self, stmt: ast.Return, frame: Frame, rt: Runtime) -> None:
        value = None if stmt.value is None else await self.evaluate(stmt.value, frame, rt)
        raise ReturnSignal(value)

    async def exec_Yield(self, stmt: ast.Yield, frame: Frame, rt: Runtime) -> None:
        raise YieldSignal(await self.evaluate(stmt.value, frame, rt))

    async def exec_Break(self, stmt: ast.Break, frame: Frame, rt: Runtime) -> None:
        raise BreakSignal()

    async def exec_Continue(self, stmt: ast.Continue, frame: Frame, rt: Runtime) -> None:
        raise ContinueSignal()

    async def exec_Fail(self, stmt: ast.Fail, frame: Frame, rt: Runtime) -> None:
        raise runtime.WorkflowFailed(str(await self.evaluate(stmt.value, frame, rt)))

    async def exec_Require(self, stmt: ast.Require, frame: Frame, rt: Runtime) -> None:
        if await self.evaluate(stmt.test, frame, rt):
            return
        default = f"requirement failed: {stmt.source}"
        message = (
            default if stmt.message is None else (await self.evaluate(stmt.message, frame, rt)) or default
        )
        raise runtime.ValidationError(message)

    async def exec_Emit(self, stmt: ast.Emit, frame: Frame, rt: Runtime) -> None:
        value = None if stmt.value is None else await self.evaluate(stmt.value, frame, rt)
        await rt.publish(stmt.topic.text, value)

    async def exec_Wait(self, stmt: ast.Wait, frame: Frame, rt: Runtime) -> None:
        await rt.sleep(await self.evaluate(stmt.duration, frame, rt))

    async def exec_Receive(self, stmt: ast.Receive, frame: Frame, rt: Runtime) -> None:
        timeout = None if stmt.timeout is None else await self.evaluate(stmt.timeout, frame, rt)
        value = await rt.receive(stmt.signal.id, timeout)
        if stmt.target is not None:
            frame.set(stmt.target.id, value)

    async def exec_Step(self, stmt: ast.Step, frame: Frame, rt: Runtime) -> None:
        saga = frame.saga
        saga.step = self.res.step_names[stmt]
        value = await self.evaluate(stmt.call, frame, rt)
        if stmt.name is not None:
            frame.set(stmt.name.id, value)
        if stmt.compensate is None:
            saga.completed(None)
            return
        frozen = Frame(dict(frame.vars))  # the variables as they are when the step completed
        compensate = stmt.compensate

        async def undo() -> None:
            await self.evaluate(compensate, frozen, rt)

        saga.completed(undo)

    # ---- compound statements ---------------------------------------------
    async def exec_Stage(self, stmt: ast.Stage, frame: Frame, rt: Runtime) -> None:
        name = stmt.name.id
        if stmt.when is not None and not await self.evaluate(stmt.when, frame, rt):
            if rt.observers:
                rt.event("stage.skip", name)
            return
        if rt.observers:
            rt.event("stage.start", name)
        try:
            if stmt in self.res.guards:
                options = await self.guard_options(stmt, frame, rt)
                await self.guard(stmt).run(rt, lambda: self.block(stmt.body, frame, rt), **options)
            else:
                await self.block(stmt.body, frame, rt)
        except Signal:
            if rt.observers:
                rt.event("stage.end", name)
            raise
        except Exception as exc:
            rt.failed("stage.error", name, exc)
            raise
        if rt.observers:
            rt.event("stage.end", name)

    async def exec_If(self, stmt: ast.If, frame: Frame, rt: Runtime) -> None:
        for branch in stmt.branches:
            if await self.evaluate(branch.test, frame, rt):
                await self.block(branch.body, frame, rt)
                return
        if stmt.orelse is not None:
            await self.block(stmt.orelse, frame, rt)

    async def loop_body(self, body: tuple[ast.Stmt, ...], frame: Frame, rt: Runtime) -> bool:
        """Run one iteration; False when the loop must stop (`break`)."""
        try:
            await self.block(body, frame, rt)
        except BreakSignal:
            return False
        except ContinueSignal:
            pass
        return True

    async def exec_For(self, stmt: ast.For, frame: Frame, rt: Runtime) -> None:
        if stmt in self.res.item_scopes:
            await self.map_items(stmt, frame, rt)
            return
        iterable = await self.evaluate(stmt.iterable, frame, rt)
        deadline = None if stmt.timeout is None else await self.evaluate(stmt.timeout, frame, rt)
        for item in iterable:
            frame.set(stmt.var.id, item)
            if deadline is None:
                going = await self.loop_body(stmt.body, frame, rt)
            else:
                async with rt.timeout(deadline):
                    going = await self.loop_body(stmt.body, frame, rt)
            if not going:
                break

    async def map_items(self, stmt: ast.For, frame: Frame, rt: Runtime) -> None:
        names = self.res.scope_locals.get(stmt, ())

        async def item_body(item: Any) -> Any:
            inner = Frame({name: None for name in names}, frame)
            inner.vars[stmt.var.id] = item
            try:
                await self.block(stmt.body, inner, rt)
            except YieldSignal as signal:
                return signal.value
            except ContinueSignal:
                return None
            return None

        iterable = await self.evaluate(stmt.iterable, frame, rt)
        limit = None if stmt.limit is None else await self.evaluate(stmt.limit, frame, rt)
        timeout = None if stmt.timeout is None else await self.evaluate(stmt.timeout, frame, rt)
        values = await runtime.map_items(
            rt,
            item_body,
            iterable,
            concurrent=stmt.concurrent,
            limit=limit,
            timeout=timeout,
            skip_errors=stmt.skip_errors,
        )
        if stmt.into is not None:
            frame.set(stmt.into.id, values)

    async def exec_While(self, stmt: ast.While, frame: Frame, rt: Runtime) -> None:
        async def loop() -> None:
            if stmt.max is None:
                while await self.evaluate(stmt.test, frame, rt):
                    if not await self.loop_body(stmt.body, frame, rt):
                        return
                return
            for _ in range(await self.evaluate(stmt.max, frame, rt)):
                if not await self.evaluate(stmt.test, frame, rt):
                    return
                if not await self.loop_body(stmt.body, frame, rt):
                    return

        await self.with_deadline(stmt.timeout, loop, frame, rt)

    async def exec_Repeat(self, stmt: ast.Repeat, frame: Frame, rt: Runtime) -> None:
        async def loop() -> None:
            if stmt.max is None:
                first = True
                while first or not await self.evaluate(stmt.until, frame, rt):
                    first = False
                    if not await self.loop_body(stmt.body, frame, rt):
                        return
                return
            for count in range(await self.evaluate(stmt.max, frame, rt)):
                if count and await self.evaluate(stmt.until, frame, rt):
                    return
                if not await self.loop_body(stmt.body, frame, rt):
                    return

        await self.with_deadline(stmt.timeout, loop, frame, rt)

    async def with_deadline(self, timeout: ast.Expr | None, loop, frame: Frame, rt: Runtime) -> None:
        if timeout is None:
            await loop()
            return
        async with rt.timeout(await self.evaluate(timeout, frame, rt)):
            await loop()

    async def exec_Parallel(self, stmt: ast.Parallel, frame: Frame, rt: Runtime) -> None:
        def branch(inner: ast.Stmt):
            async def run() -> None:
                await getattr(self, f"exec_{type(inner).__name__}")(inner, frame, rt)

            return run

        limit = None if stmt.limit is None else await self.evaluate(stmt.limit, frame, rt)
        timeout = None if stmt.timeout is None else await self.evaluate(stmt.timeout, frame, rt)
        failed = await runtime.parallel(
            rt,
            [branch(inner) for inner in stmt.body],
            limit=limit,
            timeout=timeout,
            keep_going=stmt.keep_going,
        )
        for inner, did_fail in zip(stmt.body, failed):
            if did_fail:
                for name in assigned_names((inner,)):
                    frame.set(name, None)

    async def exec_Try(self, stmt: ast.Try, frame: Frame, rt: Runtime) -> None:
        try:
            await self.block(stmt.body, frame, rt)
        except Signal:
            raise
        except BaseException as exc:
            for handler in stmt.handlers:
                if isinstance(exc, self.caught_types(handler)):
                    if handler.name is not None:
                        frame.set(handler.name.id, exc)
                    await self.block(handler.body, frame, rt)
                    return
            raise

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
