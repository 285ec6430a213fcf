"""Modules and statements back to canonical wf text, with their comments."""

from __future__ import annotations

from ..syntax import ast
from .comments import Comment, find_comments
from .expressions import ExprPrinter
from .wrap import wrap

INDENT = "    "


def format_source(source: str, module: ast.Module) -> str:
    """The canonical text of `module`, parsed from `source` (for its comments)."""
    printer = Printer(source)
    printer.module(module)
    return printer.text()


class Printer:
    def __init__(self, source: str) -> None:
        self.source_lines = source.split("\n")
        self.comments = find_comments(source)
        self.next_comment = 0
        self.lines: list[str] = []
        self.depth = 0
        self.expr = ExprPrinter()

    # ---- output ----------------------------------------------------------
    def text(self) -> str:
        while self.lines and not self.lines[-1]:
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def line(self, text: str) -> None:
        if not text:
            self.lines.append("")
            return
        self.lines.extend(wrap(INDENT * self.depth + text))

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def comments_before(self, line: int) -> None:
        """Emit, on lines of their own, the comments that stand before `line`;
        a blank line between two of them stays."""
        while self.next_comment < len(self.comments) and self.comments[self.next_comment].line < line:
            comment = self.comments[self.next_comment]
            if self.next_comment > 0 and self.lines and self.lines[-1].lstrip().startswith("#"):
                earlier = self.comments[self.next_comment - 1].line
                if any(not text.strip() for text in self.source_lines[earlier : comment.line - 1]):
                    self.blank()
            self.line(comment.text)
            self.next_comment += 1

    def trailing_comment(self, node: ast.Node) -> None:
        """Append the comment at the end of a one-line statement to its line."""
        if self.next_comment < len(self.comments):
            comment: Comment = self.comments[self.next_comment]
            if not comment.own_line and node.span.line <= comment.line <= node.span.end_line:
                self.lines[-1] += "  " + comment.text
                self.next_comment += 1

    def gap_before(self, previous: ast.Node | None, node: ast.Node) -> None:
        """Keep one blank line where the source had at least one."""
        if previous is None:
            return
        between = self.source_lines[previous.span.end_line : node.span.line - 1]
        if any(not text.strip() for text in between):
            self.blank()

    # ---- declarations ----------------------------------------------------
    def module(self, module: ast.Module) -> None:
        previous: ast.Decl | None = None
        for decl in module.decls:
            grouped = isinstance(decl, (ast.Use, ast.ConstDecl, ast.ErrorDecl)) and type(decl) is type(
                previous
            )
            if previous is not None and not grouped:
                self.blank()
            else:
                self.gap_before(previous, decl)
            self.comments_before(decl.span.line)
            getattr(self, f"decl_{type(decl).__name__}")(decl)
            previous = decl
        self.comments_before(len(self.source_lines) + 1)

    def decl_Use(self, decl: ast.Use) -> None:
        alias = f" as {decl.alias.id}" if decl.alias else ""
        self.line(f"use {decl.path.text}{alias}")
        self.trailing_comment(decl)

    def decl_ConstDecl(self, decl: ast.ConstDecl) -> None:
        self.line(f"const {decl.name.id} = {self.expr.text(decl.value)}")
        self.trailing_comment(decl)

    def decl_ErrorDecl(self, decl: ast.ErrorDecl) -> None:
        parent = f": {decl.parent.id}" if decl.parent else ""
        self.line(f"error {decl.name.id}{parent}")
        self.trailing_comment(decl)

    def decl_PolicyDecl(self, decl: ast.PolicyDecl) -> None:
        self.line(f"policy {decl.name.id} {{")
        self.depth += 1
        for policy in decl.policies:
            self.comments_before(policy.span.line)
            self.line(self.expr.policy(policy))
        self.comments_before(decl.span.end_line)
        self.depth -= 1
        self.line("}")

    def header(self, keyword: str, decl: ast.Declaration, extra: str = "") -> str:
        params = ", ".join(self.param(p) for p in decl.params)
        returns = f" -> {decl.returns.text}" if decl.returns is not None else ""
        policies = f" with {self.expr.policies(decl.policies)}" if decl.policies else ""
        return f"{keyword} {decl.name.id}({params}){returns}{extra}{policies}"

    def param(self, param: ast.Param) -> str:
        text = param.name.id
        if param.type is not None:
            text += f": {param.type.text}"
        if param.default is not None:
            text += f" = {self.expr.text(param.default)}"
        return text

    def decl_Workflow(self, decl: ast.Workflow) -> None:
        self.block(self.header("workflow", decl), decl.body, decl)

    def decl_Saga(self, decl: ast.Saga) -> None:
        options = ", ".join(f"{o.name.id}: {self.expr.text(o.value)}" for o in decl.unwind)
        self.block(self.header("saga", decl, f" unwind({options})" if options else ""), decl.body, decl)

    def decl_Router(self, decl: ast.Router) -> None:
        strategy = "" if decl.strategy == "first" else f" {decl.strategy}"
        self.line(self.header("router", decl, strategy) + " {")
        self.depth += 1
        self.doc_line(decl)
        previous: ast.Node | None = None
        for route in (*decl.routes, *([decl.default] if decl.default else [])):
            self.gap_before(previous, route)
            self.comments_before(route.span.line)
            self.route(route, is_default=route is decl.default)
            previous = route
        self.comments_before(decl.span.end_line)
        self.depth -= 1
        self.line("}")

    def doc_line(self, decl: ast.Router | ast.Machine) -> None:
        """A router's or machine's docstring, as the first line of its body."""
        if decl.doc is not None:
            self.line(self.expr.text(ast.Literal(span=decl.span, value=decl.doc)))

    def decl_Machine(self, decl: ast.Machine) -> None:
        params = ", ".join(self.param(p) for p in decl.params)
        self.line(f"machine {decl.name.id}({params}) {{")
        self.depth += 1
        items: list[ast.Node] = sorted(
            (*decl.initial, *decl.data[:1], *decl.states), key=lambda n: n.span.start
        )
        self.doc_line(decl)
        previous: ast.Node | None = None
        for item in items:
            self.gap_before(previous, item)
            self.comments_before(item.span.line)
            if isinstance(item, ast.DataField):
                fields = ", ".join(f"{f.name.id}: {self.expr.text(f.value)}" for f in decl.data)
                self.line(f"data {{ {fields} }}")
                item = decl.data[-1]
            else:
                self.state_member(item, None)
            previous = item
        self.comments_before(decl.span.end_line)
        self.depth -= 1
        self.line("}")

    def state(self, state: ast.StateDecl) -> None:
        if state.history is not None:
            self.line(f"{'deep ' if state.history == 'deep' else ''}history {state.name.id}")
            self.trailing_comment(state)
            return
        kind = "final " if state.final else "parallel " if state.parallel else ""
        head = f"region {state.name.id}" if state.region else f"{kind}state {state.name.id}"
        members: list[ast.Node] = sorted(
            (
                *state.initial,
                *state.transitions,
                *state.delays,
                *state.invokes,
                *state.enter,
                *state.exit,
                *state.states,
            ),
            key=lambda n: n.span.start,
        )
        if not members and not state.region:
            self.line(head)
            self.trailing_comment(state)
            return
        self.line(head + " {")
        self.depth += 1
        previous = None
        for member in members:
            self.gap_before(previous, member)
            self.comments_before(member.span.line)
            self.state_member(member, state)
            previous = member
        self.comments_before(state.span.end_line)
        self.depth -= 1
        self.line("}")

    def state_member(self, member: ast.Node, state: ast.StateDecl | None) -> None:
        if isinstance(member, ast.Ident):
            self.line(f"initial {member.id}")
            self.trailing_comment(member)
        elif isinstance(member, ast.StateDecl):
            self.state(member)
        elif isinstance(member, ast.Transition):
            self.transition(member)
        elif isinstance(member, ast.Invoke):
            self.line(f"invoke {self.expr.text(member.call)} {{")
            self.depth += 1
            for arm in sorted((*member.done, *member.error), key=lambda n: n.span.start):
                self.comments_before(arm.span.line)
                self.transition(arm)
            self.comments_before(member.span.end_line)
            self.depth -= 1
            self.line("}")
        else:
            assert isinstance(member, ast.Action) and state is not None
            self.action("enter" if member in state.enter else "exit", member, member)

    def transition(self, transition: ast.Transition) -> None:
        if transition.delay is not None:
            text = f"after {self.expr.text(transition.delay)}"
        elif transition.event.span.start == transition.span.start:  # an invocation's `done` or `error`
            text = transition.event.id
        else:
            text = f"on {transition.event.id}"
        if transition.target is not None:
            text += f" -> {transition.target.id}"
        if transition.when is not None:
            text += f" when {self.expr.text(transition.when)}"
        self.action(text, transition.action, transition)

    def action(self, head: str, action: ast.Action | None, owner: ast.Node) -> None:
        if action is None:
            self.line(head)
            self.trailing_comment(owner)
        elif action.call is not None:
            self.line(f"{head} do {self.expr.text(action.call)}")
            self.trailing_comment(owner)
        else:
            self.block(f"{head} do", action.body or (), owner)

    def route(self, route: ast.Route, is_default: bool) -> None:
        parts = ["default"] if is_default else ["route"]
        if route.name is not None:
            parts.append(route.name.id)
        for word, value in (("when", route.when), ("priority", route.priority), ("weight", route.weight)):
            if value is not None:
                parts.append(f"{word} {self.expr.text(value)}")
        head = " ".join(parts)
        if route.target is not None:
            self.line(f"{head} -> {self.expr.text(route.target)}")
            self.trailing_comment(route)
        else:
            self.block(f"{head} do", route.body or (), route)

    # ---- blocks and statements -------------------------------------------
    def block(self, head: str, body: tuple[ast.Stmt, ...], owner: ast.Node, tail: str = "") -> None:
        """`head {`, the statements, then `}` + `tail` (`{ }` when empty)."""
        if not body and not self.has_comments_before(owner.span.end_line):
            self.line(f"{head} {{ }}{tail}")
            return
        self.line(f"{head} {{")
        self.statements(body, owner.span.end_line)
        self.line(f"}}{tail}")

    def has_comments_before(self, line: int) -> bool:
        return self.next_comment < len(self.comments) and self.comments[self.next_comment].line < line

    def statements(self, body: tuple[ast.Stmt, ...], end_line: int) -> None:
        self.depth += 1
        previous = None
        for stmt in body:
            self.gap_before(previous, stmt)
            self.comments_before(stmt.span.line)
            getattr(self, f"stmt_{type(stmt).__name__}")(stmt)
            previous = stmt
        self.comments_before(end_line)
        self.depth -= 1

    def simple(self, stmt: ast.Stmt, text: str) -> None:
        self.line(text)
        self.trailing_comment(stmt)

    def stmt_Assign(self, stmt: ast.Assign) -> None:
        self.simple(stmt, f"{stmt.target.id} = {self.expr.text(stmt.value)}")

    def stmt_ExprStmt(self, stmt: ast.ExprStmt) -> None:
        self.simple(stmt, self.expr.text(stmt.value))

    def stmt_Return(self, stmt: ast.Return) -> None:
        self.simple(stmt, "return" if stmt.value is None else f"return {self.expr.text(stmt.value)}")

    def stmt_Yield(self, stmt: ast.Yield) -> None:
        self.simple(stmt, f"yield {self.expr.text(stmt.value)}")

    def stmt_Break(self, stmt: ast.Break) -> None:
        self.simple(stmt, "break")

    def stmt_Continue(self, stmt: ast.Continue) -> None:
        self.simple(stmt, "continue")

    def stmt_Fail(self, stmt: ast.Fail) -> None:
        self.simple(stmt, "fail" if stmt.value is None else f"fail {self.expr.text(stmt.value)}")

    def stmt_Require(self, stmt: ast.Require) -> None:
        # The condition stays as written: its text is the default error message.
        message = "" if stmt.message is None else f" else {self.expr.text(stmt.message)}"
        if "\n" in stmt.source:
            self.simple(stmt, f"require {stmt.source}{message}")
        else:  # never wrapped either: that would change the text, and so the message
            self.lines.append(INDENT * self.depth + f"require {stmt.source}{message}")
            self.trailing_comment(stmt)

    def stmt_Emit(self, stmt: ast.Emit) -> None:
        value = "" if stmt.value is None else self.expr.text(stmt.value)
        self.simple(stmt, f"emit {stmt.topic.text}({value})")

    def stmt_SendEvent(self, stmt: ast.SendEvent) -> None:
        value = "" if stmt.value is None else f"({self.expr.text(stmt.value)})"
        self.simple(stmt, f"send {stmt.event.id}{value}")

    def stmt_Wait(self, stmt: ast.Wait) -> None:
        self.simple(stmt, f"wait {self.expr.text(stmt.duration)}")

    def stmt_Receive(self, stmt: ast.Receive) -> None:
        target = "" if stmt.target is None else f"{stmt.target.id} = "
        timeout = "" if stmt.timeout is None else f" timeout {self.expr.text(stmt.timeout)}"
        self.simple(stmt, f"{target}receive {stmt.signal.id}{timeout}")

    def stmt_Step(self, stmt: ast.Step) -> None:
        name = f"{stmt.name.id} = " if stmt.name else ""
        self.line(f"step {name}{self.expr.text(stmt.call)}")
        if stmt.compensate is not None or stmt.compensate_none:
            self.depth += 1
            undo = "none" if stmt.compensate is None else self.expr.text(stmt.compensate)
            self.line(f"compensate {undo}")
            self.depth -= 1
        self.trailing_comment(stmt)

    def stmt_Stage(self, stmt: ast.Stage) -> None:
        policies = f" with {self.expr.policies(stmt.policies)}" if stmt.policies else ""
        when = f" when {self.expr.text(stmt.when)}" if stmt.when is not None else ""
        self.block(f"stage {stmt.name.id}{policies}{when}", stmt.body, stmt)

    def stmt_If(self, stmt: ast.If) -> None:
        pieces: list[tuple[str, tuple[ast.Stmt, ...], ast.Node]] = [
            (f"if {self.expr.text(b.test)}", b.body, b) for b in stmt.branches[:1]
        ]
        pieces += [(f"}} elif {self.expr.text(b.test)}", b.body, b) for b in stmt.branches[1:]]
        if stmt.orelse is not None:
            pieces.append(("} else", stmt.orelse, stmt))
        self.chain(pieces, stmt)

    def chain(
        self, pieces: list[tuple[str, tuple[ast.Stmt, ...], ast.Node]], stmt: ast.Node, tail: str = ""
    ) -> None:
        """`if ... } elif ... } else ... }` and `try ... } catch ... }`: blocks joined by `}`."""
        for position, (head, body, _owner) in enumerate(pieces):
            self.line(f"{head} {{")
            end = pieces[position + 1][2].span.line if position + 1 < len(pieces) else stmt.span.end_line
            self.statements(body, end)
        self.line("}" + tail)

    def stmt_For(self, stmt: ast.For) -> None:
        head = f"{stmt.into.id} = " if stmt.into else ""
        head += (
            f"{'parallel ' if stmt.concurrent else ''}for {stmt.var.id} in {self.expr.text(stmt.iterable)}"
        )
        head += self.options(("where", stmt.where), ("limit", stmt.limit), ("timeout", stmt.timeout))
        head += " on error skip" if stmt.skip_errors else ""
        self.block(head, stmt.body, stmt)

    def options(self, *pairs: tuple[str, ast.Expr | None]) -> str:
        return "".join(f" {word} {self.expr.text(value)}" for word, value in pairs if value is not None)

    def stmt_While(self, stmt: ast.While) -> None:
        head = f"while {self.expr.text(stmt.test)}" + self.options(
            ("max", stmt.max), ("timeout", stmt.timeout)
        )
        self.block(head, stmt.body, stmt)

    def stmt_Repeat(self, stmt: ast.Repeat) -> None:
        head = "repeat" + self.options(("max", stmt.max), ("timeout", stmt.timeout))
        self.block(head, stmt.body, stmt, tail=f" until {self.expr.text(stmt.until)}")

    def stmt_Parallel(self, stmt: ast.Parallel) -> None:
        race = (
            " first"
            if stmt.first
            else ""
            if stmt.quorum is None
            else f" quorum {self.expr.text(stmt.quorum)}"
        )
        head = "parallel" + race + self.options(("limit", stmt.limit), ("timeout", stmt.timeout))
        head += " on error continue" if stmt.keep_going else ""
        self.block(head, stmt.body, stmt)

    def stmt_Select(self, stmt: ast.Select) -> None:
        self.line("select {")
        self.depth += 1
        for arm in stmt.arms:
            self.comments_before(arm.span.line)
            self.block(self.arm_head(arm), arm.body, arm)
        self.comments_before(stmt.span.end_line)
        self.depth -= 1
        self.line("}")

    def arm_head(self, arm: ast.SelectArm) -> str:
        target = "" if arm.target is None else f"{arm.target.id} = "
        if arm.wait is not None:
            return f"wait {self.expr.text(arm.wait)}"
        if arm.signal is not None:
            return f"{target}receive {arm.signal.id}"
        return target + self.expr.text(arm.call)  # type: ignore[arg-type]

    def stmt_Try(self, stmt: ast.Try) -> None:
        pieces: list[tuple[str, tuple[ast.Stmt, ...], ast.Node]] = [("try", stmt.body, stmt)]
        for handler in stmt.handlers:
            types = " " + ", ".join(t.text for t in handler.types) if handler.types else ""
            name = f" as {handler.name.id}" if handler.name else ""
            pieces.append((f"}} catch{types}{name}", handler.body, handler))
        self.chain(pieces, stmt)
