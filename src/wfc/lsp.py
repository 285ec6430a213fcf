"""`wfc lsp`: a language server for wf over stdio (pygls; `pip install 'wfc-lang[lsp]'`).

It gives the checker's diagnostics as the file is edited (the same codes, spans and help
as `wfc check`), an outline of declarations, states and stages, hover on declarations,
builtins, policies and handler calls (the Python function's signature and docstring, read
from its file's syntax tree: nothing runs), go to definition of declarations, named
policies, consts, machine states and handlers (into their Python file), formatting
through `wfc fmt`, and completion of keywords, declared names, builtins, policy kinds and
arguments, machine events, and after `module.` the module's functions. In a file with syntax errors each error is
told, and outline, hover, definition and completion use the declarations that parse
(or, when none do, the last version of the file that did).
"""

from __future__ import annotations

import ast as python_ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types as lsp
from pygls.server import LanguageServer

from . import __version__
from .check import Resolution, check
from .check.machines import events_of
from .check.policies import KINDS
from .check.resolution import BUILTIN_FUNCTIONS
from .diagnostics import Diagnostic, Span
from .fmt.expressions import ExprPrinter
from .syntax import ast
from .syntax.lexing import RESERVED
from .syntax.parser import recover
from .syntax.states import state_paths

_TEXT = ExprPrinter()

SEVERITY = {
    "error": lsp.DiagnosticSeverity.Error,
    "warning": lsp.DiagnosticSeverity.Warning,
    "hint": lsp.DiagnosticSeverity.Hint,
}
BUILTIN_DOCS = {
    "len": "len(x): the number of items of a list, map or string",
    "str": "str(x): x as text",
    "int": "int(x): x as a whole number",
    "float": "float(x): x as a number with a fraction",
    "bool": "bool(x): whether x is truthy",
    "list": "list(x): the items of x as a list",
    "map": "map(x): x as a map",
    "keys": "keys(m): the keys of a map",
    "values": "values(m): the values of a map",
    "items": "items(m): the [key, value] pairs of a map",
    "range": "range(n) or range(start, stop[, step]): a list of whole numbers",
    "min": "min(a, b, ...) or min(xs): the smallest",
    "max": "max(a, b, ...) or max(xs): the largest",
    "sum": "sum(xs): the total of a list of numbers",
    "abs": "abs(x): x without its sign",
    "round": "round(x[, digits]): x rounded",
    "lower": "lower(s): s in lower case",
    "upper": "upper(s): s in upper case",
    "strip": "strip(s): s without surrounding spaces",
    "split": "split(s[, sep]): the parts of s",
    "join": "join(xs, sep): the texts of xs joined",
    "chunks": "chunks(xs, n): the list cut into lists of n items",
    "now": "now(): the current time in seconds (journaled in a durable run)",
    "uuid": "uuid(): a random version-4 UUID from the runtime's seeded source",
    "attempt": "attempt(): which attempt of the innermost retried call this is (1 on the first)",
    "matches": "matches(s, pattern): whether all of s matches the glob pattern (`*`, `?`, `[abc]`)",
    "regex": "regex(s, pattern): every match of the regular expression in s (re.findall)",
}
POLICY_DOCS = {
    "retry": "retry(attempts, backoff, delay, max_delay, factor, jitter, max_time, on): call again after a failure",
    "timeout": "timeout(duration): fail with TimeoutError when the call takes longer",
    "breaker": "breaker(failures | failure_rate, window, min_calls, reset, half_open, successes, on, key): "
    "stop calling a failing service",
    "limit": "limit(rate, burst, algorithm, wait, max_wait, key): at most `rate` calls; "
    "limit(concurrent, queue, wait, max_wait, key): at most `concurrent` calls in flight",
    "idempotent": "idempotent(key, ttl): one execution per key; later callers get its result",
    "fallback": "fallback(handler | value, on): what to return when the call fails",
}
ARGUMENT_DOCS = {
    "attempts": "how many calls in all, the first included",
    "backoff": "exponential, linear or fixed: how the delay grows",
    "delay": "the wait before the second call",
    "max_delay": "no wait longer than this",
    "max_time": "no retry begins later than this after the first attempt (without `attempts`: no other limit)",
    "factor": "what an exponential backoff multiplies the delay by",
    "jitter": "0 to 1: how much of each delay is drawn at random",
    "on": "the error types it applies to (all when absent)",
    "duration": "how long the call may take",
    "failures": "consecutive failures that open the breaker",
    "failure_rate": "the share of failed calls in the window that opens the breaker (0 to 1)",
    "window": "how many recent calls a failure-rate breaker counts (default 100)",
    "min_calls": "calls needed in the window before the rate counts (default: the window)",
    "reset": "how long it stays open before one trial call",
    "half_open": "trial calls let through when half open",
    "successes": "trial successes that close it again",
    "key": "a value that gives each caller its own state (or, for idempotent, the key)",
    "rate": "calls per period: 10/s, 100/m",
    "burst": "calls allowed at once above the rate",
    "algorithm": "token_bucket, sliding_window or fixed_window",
    "wait": "wait for a permit (true) or fail with RateLimited (false)",
    "max_wait": "the longest wait for a permit",
    "concurrent": "how many calls may be in flight at once (a bulkhead)",
    "queue": "how many callers may wait for a slot (default: no bound)",
    "ttl": "how long a result is kept for its key",
    "handler": "the handler called instead when the call fails",
    "value": "the value returned instead when the call fails",
}
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Keywords offered where they can stand: at the top, in a machine, in a router, in a body.
TOP_KEYWORDS = ("use", "const", "error", "policy", "workflow", "saga", "router", "machine")
MACHINE_KEYWORDS = (
    "initial",
    "state",
    "final",
    "on",
    "when",
    "do",
    "enter",
    "exit",
    "parallel",
    "region",
    "history",
    "deep",
    "after",
    "invoke",
    "data",
    "send",
)
ROUTER_KEYWORDS = ("route", "default", "when", "priority", "weight", "do", "return")
BODY_KEYWORDS = tuple(sorted(set(RESERVED) - set(TOP_KEYWORDS) - {"machine", "router", "state", "route"})) + (
    "receive",
    "max",
    "limit",
    "timeout",
    "on",
    "skip",
    "step",
    "where",
    "select",
)


@dataclass
class Document:
    """What the server knows of one open file: its last text that parsed, checked."""

    module: ast.Module | None = None
    resolution: Resolution | None = None


server = LanguageServer("wfc", __version__)
_documents: dict[str, Document] = {}


def analyze(uri: str, source: str) -> list[Diagnostic]:
    """The file's diagnostics; its outline and names are kept from the declarations that
    parse (with syntax errors, only those are told: the rest would only echo them)."""
    filename = uri.rsplit("/", 1)[-1]
    module, syntax_errors = recover(source)
    if module is None:
        return syntax_errors
    resolution, checked = check(module, filename, source)
    _documents[uri] = Document(module, resolution)
    return syntax_errors or checked


def to_range(span: Span) -> lsp.Range:
    return lsp.Range(
        start=lsp.Position(line=span.line - 1, character=span.column - 1),
        end=lsp.Position(line=span.end_line - 1, character=span.end_column - 1),
    )


def to_lsp(diagnostic: Diagnostic, uri: str) -> lsp.Diagnostic:
    """The editor's form: notes and help follow the message; labels are related places."""
    message = diagnostic.message + "".join(f"\nnote: {note}" for note in diagnostic.notes)
    message += f"\nhelp: {diagnostic.help}" if diagnostic.help else ""
    related = [
        lsp.DiagnosticRelatedInformation(
            location=lsp.Location(uri=uri, range=to_range(label.span)), message=label.message
        )
        for label in diagnostic.labels
    ]
    return lsp.Diagnostic(
        range=to_range(diagnostic.span),
        message=message,
        source="wfc",
        code=diagnostic.code,
        severity=SEVERITY[diagnostic.severity],
        related_information=related or None,
    )


def publish(ls: LanguageServer, uri: str) -> None:
    source = ls.workspace.get_text_document(uri).source
    ls.publish_diagnostics(uri, [to_lsp(d, uri) for d in analyze(uri, source)])


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    publish(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    _documents.pop(params.text_document.uri, None)
    ls.publish_diagnostics(params.text_document.uri, [])


# ---- outline --------------------------------------------------------------------------
@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: LanguageServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    document = _documents.get(params.text_document.uri)
    if document is None or document.module is None:
        return []
    return [symbol for decl in document.module.decls if (symbol := _symbol(decl)) is not None]


def _state_symbols(states: tuple[ast.StateDecl, ...]) -> list[lsp.DocumentSymbol]:
    """A machine's states, each with the states inside it."""
    return [
        _named(
            state.name,
            lsp.SymbolKind.EnumMember,
            _state_kind(state),
            state.span,
            _state_symbols(state.states),
        )
        for state in states
    ]


def _state_kind(state: ast.StateDecl) -> str:
    if state.history is not None:
        return "deep history" if state.history == "deep" else "history"
    if state.region:
        return "region"
    return "final state" if state.final else "parallel state" if state.parallel else "state"


def _symbol(decl: ast.Node) -> lsp.DocumentSymbol | None:
    if isinstance(decl, ast.Machine):
        return _named(decl.name, lsp.SymbolKind.Class, "machine", decl.span, _state_symbols(decl.states))
    if isinstance(decl, (ast.Workflow, ast.Saga, ast.Router)):
        kind = type(decl).__name__.lower()
        body = decl.body if not isinstance(decl, ast.Router) else ()
        stages = [
            _named(node.name, lsp.SymbolKind.Namespace, "stage", node.span)
            for node in ast.walk(body)
            if isinstance(node, ast.Stage)
        ]
        return _named(decl.name, lsp.SymbolKind.Function, kind, decl.span, stages)
    if isinstance(decl, ast.ErrorDecl):
        detail = f"error: {decl.parent.id}" if decl.parent else "error"
        return _named(decl.name, lsp.SymbolKind.Class, detail, decl.span)
    if isinstance(decl, (ast.PolicyDecl, ast.ConstDecl)):
        return _named(
            decl.name,
            lsp.SymbolKind.Constant,
            "policy" if isinstance(decl, ast.PolicyDecl) else "const",
            decl.span,
        )
    return None


def _named(
    name: ast.Ident,
    kind: lsp.SymbolKind,
    detail: str,
    span: Span,
    children: list[lsp.DocumentSymbol] | None = None,
) -> lsp.DocumentSymbol:
    return lsp.DocumentSymbol(
        name=name.id,
        kind=kind,
        detail=detail,
        range=to_range(span),
        selection_range=to_range(name.span),
        children=children or None,
    )


# ---- handlers: the Python functions of `use`d modules, read, never run -------------------
@dataclass(frozen=True)
class Handler:
    file: Path
    line: int  # 1-based, of the `def`
    column: int  # 0-based
    signature: str
    doc: str | None


def module_file(uri: str, path: str) -> Path | None:
    """The Python file of the module `use PATH` names: beside the .wf file first (as wfc
    loads it), else where Python would find it (a top-level module: nothing runs)."""
    folder = Path(unquote(urlparse(uri).path)).parent
    relative = Path(*path.split("."))
    for candidate in (folder / relative.with_suffix(".py"), folder / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    try:
        spec = importlib.util.find_spec(path)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    return Path(origin) if origin and origin.endswith(".py") else None


def handlers(file: Path) -> dict[str, Handler]:
    """The top-level functions of a Python file, by name, from its syntax tree."""
    try:
        tree = python_ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    found = {}
    for node in tree.body:
        if isinstance(node, (python_ast.FunctionDef, python_ast.AsyncFunctionDef)):
            prefix = "async def" if isinstance(node, python_ast.AsyncFunctionDef) else "def"
            returns = f" -> {python_ast.unparse(node.returns)}" if node.returns else ""
            signature = f"{prefix} {node.name}({python_ast.unparse(node.args)}){returns}"
            found[node.name] = Handler(
                file, node.lineno, node.col_offset, signature, python_ast.get_docstring(node)
            )
    return found


def used_modules(uri: str) -> dict[str, str]:
    """`use` bindings of the open file: the name it binds -> the module path."""
    document = _documents.get(uri, Document())
    return (
        {decl.bound: decl.path.text for decl in document.module.decls if isinstance(decl, ast.Use)}
        if document.module
        else {}
    )


def handler_at(ls: LanguageServer, uri: str, position: lsp.Position) -> Handler | None:
    """The handler named at `position`, as in `shop.hold` (the cursor on `hold`)."""
    lines = ls.workspace.get_text_document(uri).source.splitlines()
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    for match in re.finditer(r"([A-Za-z_]\w*)\.([A-Za-z_]\w*)", line):
        if match.start(2) <= position.character <= match.end(2):
            path = used_modules(uri).get(match.group(1))
            file = module_file(uri, path) if path else None
            return handlers(file).get(match.group(2)) if file else None
    return None


# ---- hover and definition -------------------------------------------------------------
def word_at(ls: LanguageServer, uri: str, position: lsp.Position) -> str | None:
    lines = ls.workspace.get_text_document(uri).source.splitlines()
    if position.line >= len(lines):
        return None
    line = lines[position.line]
    for match in _WORD.finditer(line):
        if match.start() <= position.character <= match.end():
            return match.group()
    return None


def definitions(document: Document) -> dict[str, tuple[ast.Ident, ast.Node]]:
    found: dict[str, tuple[ast.Ident, ast.Node]] = {}
    for decl in document.module.decls if document.module else ():
        if isinstance(decl, ast.Machine):
            for path, state in state_paths(decl.states):
                found.setdefault(path, (state.name, state))
                found.setdefault(state.name.id, (state.name, state))
        if hasattr(decl, "name"):
            found[decl.name.id] = (decl.name, decl)
    return found


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    uri = params.text_document.uri
    handler = handler_at(ls, uri, params.position)
    if handler is not None:
        value = f"```python\n{handler.signature}\n```" + (f"\n\n{handler.doc}" if handler.doc else "")
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=value))
    word = word_at(ls, uri, params.position)
    if word is None:
        return None
    text = None
    document = _documents.get(uri, Document())
    found = definitions(document).get(word)
    parameter = _parameter(document, word, params.position.line + 1)
    line = ls.workspace.get_text_document(uri).source.splitlines()[params.position.line]
    if found is not None:
        text = _described(found[1])
    elif parameter is not None:
        text = parameter
    elif word in ARGUMENT_DOCS and re.search(rf"\b{word}\s*:", line) and ("(" in line.split(word)[0]):
        kinds = [kind for kind, arguments in KINDS.items() if word in arguments]
        text = f"policy argument `{word}` ({', '.join(kinds)}): {ARGUMENT_DOCS[word]}"
    elif word in POLICY_DOCS:
        text = f"policy {POLICY_DOCS[word]}"
    elif word in BUILTIN_FUNCTIONS:
        text = f"builtin {BUILTIN_DOCS.get(word, word + '(...)')}"
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


def _parameter(document: Document, word: str, line: int) -> str | None:
    """`parameter NAME: TYPE = DEFAULT of workflow W` when `word` is a parameter of the
    declaration that holds `line`."""
    for decl in document.module.decls if document.module else ():
        if (
            not isinstance(decl, (ast.Workflow, ast.Router, ast.Saga, ast.Machine))
            or not decl.span.line <= line <= decl.span.end_line
        ):
            continue
        params = decl.params
        for param in params:
            if param.name.id == word:
                typed = f": {param.type.text}" if param.type else ""
                default = f" = {_TEXT.text(param.default)}" if param.default else ""
                kind = type(decl).__name__.lower()
                return f"parameter {word}{typed}{default} of {kind} {decl.name.id}"
    return None


def _enclosing(document: Document, line: int) -> ast.Node | None:
    for decl in document.module.decls if document.module else ():
        if decl.span.line <= line <= decl.span.end_line and not isinstance(decl, ast.Use):
            return decl
    return None


def _described(node: ast.Node) -> str:
    if isinstance(node, (ast.Workflow, ast.Saga, ast.Router)):
        params = ", ".join(param.name.id for param in node.params)
        doc = ast.declaration_doc(node)
        return f"{type(node).__name__.lower()} {node.name.id}({params})" + (f"\n\n{doc}" if doc else "")
    if isinstance(node, ast.Machine):
        return f"machine {node.name.id}: states " + ", ".join(s.name.id for s in node.states)
    if isinstance(node, ast.StateDecl):
        moves = [t.event.id for t in node.transitions] + [
            f"after {_TEXT.text(t.delay)}" for t in node.delays if t.delay
        ]
        return f"{_state_kind(node)} {node.name.id}: on " + ", ".join(moves)
    if isinstance(node, ast.ErrorDecl):
        parent = node.parent.id if node.parent else "WorkflowFailed"
        return (
            f'error {node.name.id}: a kind of {parent}; raise it with `fail {node.name.id}("why", field=...)`'
        )
    return f"{type(node).__name__.removesuffix('Decl').lower()} {node.name.id}"  # type: ignore[attr-defined]


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    uri = params.text_document.uri
    handler = handler_at(ls, uri, params.position)
    if handler is not None:  # into the handler's Python file
        start = lsp.Position(line=handler.line - 1, character=handler.column)
        return lsp.Location(uri=handler.file.as_uri(), range=lsp.Range(start=start, end=start))
    word = word_at(ls, uri, params.position)
    module = used_modules(uri).get(word or "")
    file = module_file(uri, module) if module else None
    if file is not None:  # a `use`d module's name: its Python file
        top = lsp.Position(line=0, character=0)
        return lsp.Location(uri=file.as_uri(), range=lsp.Range(start=top, end=top))
    found = definitions(_documents.get(uri, Document())).get(word or "")
    if found is None:
        return None
    return lsp.Location(uri=uri, range=to_range(found[0].span))


# ---- formatting and completion --------------------------------------------------------
@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LanguageServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit] | None:
    from .api import format_text
    from .diagnostics import CompileError

    document = ls.workspace.get_text_document(params.text_document.uri)
    try:
        formatted = format_text(document.source, params.text_document.uri.rsplit("/", 1)[-1])
    except CompileError:
        return None  # a file with errors is left as it is
    if formatted == document.source:
        return []
    lines = document.source.splitlines()
    end = lsp.Position(line=len(lines), character=0)
    return [
        lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end), new_text=formatted)
    ]


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=["."]))
def completion(ls: LanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    uri = params.text_document.uri
    lines = ls.workspace.get_text_document(uri).source.splitlines()
    before = (
        lines[params.position.line][: params.position.character] if params.position.line < len(lines) else ""
    )
    dotted = re.search(r"([A-Za-z_]\w*)\.\w*$", before)
    path = used_modules(uri).get(dotted.group(1)) if dotted else None
    if path is not None:  # `shop.` -> the module's functions
        file = module_file(uri, path)
        return lsp.CompletionList(
            is_incomplete=False,
            items=[
                lsp.CompletionItem(
                    label=name,
                    kind=lsp.CompletionItemKind.Function,
                    detail=handler.signature,
                    documentation=handler.doc,
                )
                for name, handler in (handlers(file) if file else {}).items()
            ],
        )
    document = _documents.get(uri, Document())
    items = [
        lsp.CompletionItem(label=word, kind=lsp.CompletionItemKind.Keyword)
        for word in _keywords_in(_enclosing(document, params.position.line + 1))
    ]
    return lsp.CompletionList(is_incomplete=False, items=items + _names(document))


def _keywords_in(enclosing: ast.Node | None) -> tuple[str, ...]:
    """The keywords that can stand where the cursor is: top level, machine, router, body."""
    if enclosing is None or isinstance(enclosing, ast.ConstDecl):
        return TOP_KEYWORDS
    if isinstance(enclosing, ast.Machine):
        return MACHINE_KEYWORDS
    if isinstance(enclosing, ast.Router):
        return ROUTER_KEYWORDS
    return () if isinstance(enclosing, ast.PolicyDecl) else BODY_KEYWORDS


def _names(document: Document) -> list[lsp.CompletionItem]:
    """Policies and their arguments, builtins, the file's declarations and its events."""
    items = [
        lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Function, detail=POLICY_DOCS[name])
        for name in KINDS
    ]
    items += [
        lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Property, detail=f"argument of {kind}")
        for kind, arguments in KINDS.items()
        for name in arguments
    ]
    items += [
        lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Function, detail="builtin")
        for name in BUILTIN_FUNCTIONS
    ]
    items += [
        lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Reference, detail=_described(node))
        for name, (_, node) in definitions(document).items()
    ]
    events = {
        event
        for decl in (document.module.decls if document.module else ())
        if isinstance(decl, ast.Machine)
        for event in events_of(decl)
    }
    items += [
        lsp.CompletionItem(label=event, kind=lsp.CompletionItemKind.Event, detail="event")
        for event in sorted(events)
    ]
    return items


def main() -> Any:
    server.start_io()
