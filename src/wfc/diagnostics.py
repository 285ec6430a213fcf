"""Diagnostics as data, and the one place that renders them (text or JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "hint"]


@dataclass(frozen=True, slots=True)
class Span:
    """Where a node stands in its source: offsets, and 1-based lines and columns.

    Columns count code points, as lark does; `end_column` is exclusive.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary place a diagnostic points at, with what is there ("first declared here")."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One finding: where (`span`, and `labels` elsewhere), what, a fix (`help`), and
    facts that are not fixes (`notes`). Made by `diagnostic` and its three partials."""

    severity: Severity
    code: str
    message: str
    span: Span
    help: str | None = None
    labels: tuple[Label, ...] = ()
    notes: tuple[str, ...] = ()
    witness: str | None = None  # JSON of the input a finding is about (route analysis)

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    def sort_key(self) -> tuple[int, int, str]:
        return (self.span.line, self.span.column, self.code)


def diagnostic(
    severity: Severity,
    code: str,
    message: str,
    span: Span,
    help: str | None = None,
    *,
    labels: Iterable[Label] = (),
    notes: Iterable[str] = (),
    witness: str | None = None,
) -> Diagnostic:
    """The one constructor of diagnostics (`error`, `warning` and `hint` fix the severity)."""
    return Diagnostic(
        severity=severity,
        code=code,
        message=message,
        span=span,
        help=help,
        labels=tuple(labels),
        notes=tuple(notes),
        witness=witness,
    )


def error(code: str, message: str, span: Span, help: str | None = None, **extra: Any) -> Diagnostic:
    return diagnostic("error", code, message, span, help, **extra)


def warning(code: str, message: str, span: Span, help: str | None = None, **extra: Any) -> Diagnostic:
    return diagnostic("warning", code, message, span, help, **extra)


def hint(code: str, message: str, span: Span, help: str | None = None, **extra: Any) -> Diagnostic:
    """A suggestion, weaker than a warning: the code may well be right as it is."""
    return diagnostic("hint", code, message, span, help, **extra)


class CompileError(Exception):
    """Invalid wf source: `.diagnostics` holds every problem, sorted by position."""

    def __init__(self, diagnostics: Iterable[Diagnostic], filename: str = "<string>"):
        self.diagnostics = sorted(diagnostics, key=Diagnostic.sort_key)
        self.filename = filename
        first = self.diagnostics[0] if self.diagnostics else None
        summary = f"{filename}:{first.line}:{first.column}: {first.message}" if first else "invalid source"
        more = len(self.diagnostics) - 1
        super().__init__(summary + (f" (and {more} more)" if more > 0 else ""))


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def render_text(diagnostics: Iterable[Diagnostic], source: str, filename: str) -> str:
    """Render like rustc: header, the source line in a gutter, carets, help."""
    lines = source.splitlines()
    return "".join(_render_one(d, lines, filename) for d in diagnostics)


def _render_one(diag: Diagnostic, lines: list[str], filename: str) -> str:
    span = diag.span
    out = [f"{filename}:{span.line}:{span.column}: {diag.severity}[{diag.code}]: {diag.message}\n"]
    shown = [label for label in diag.labels if 1 <= label.span.line <= len(lines)]
    width = len(str(max([span.line, *(label.span.line for label in shown)])))
    gutter = " " * width
    if 1 <= span.line <= len(lines):
        out.append(f" {gutter} |\n")
        out.extend(_marked(lines, span, "^", "", width))
    for label in shown:
        out.extend(_marked(lines, label.span, "-", f" {label.message}", width))
    if not shown and not 1 <= span.line <= len(lines):
        gutter = ""
    for note in diag.notes:
        out.append(f" {gutter} = note: {note}\n")
    if diag.help:
        out.append(f" {gutter} = help: {diag.help}\n")
    return "".join(out)


def _marked(lines: list[str], span: Span, mark: str, message: str, width: int) -> list[str]:
    """A source line in the gutter and the marks under `span` (`^` the primary place,
    `-` a label, followed by its message)."""
    text = lines[span.line - 1].expandtabs(1)
    last = span.end_column if span.end_line == span.line else len(text) + 1
    text, start, end = _window(text, span.column - 1, max(span.column, last - 1))
    return [
        f" {span.line:>{width}} | {text}\n",
        f" {' ' * width} | {' ' * start}{mark * max(1, end - start)}{message}\n",
    ]


_SHOWN = 120  # columns of a source line shown; a longer one is cut around the span


def _window(text: str, start: int, end: int) -> tuple[str, int, int]:
    """`text` cut to at most `_SHOWN` columns around [start, end), marked with `...`;
    the span's columns within the cut text."""
    if len(text) <= _SHOWN:
        return text, start, end
    first = max(0, min(start - 20, len(text) - _SHOWN))
    last = min(len(text), first + _SHOWN)
    head = "..." if first > 0 else ""
    tail = "..." if last < len(text) else ""
    shift = len(head) - first
    return f"{head}{text[first:last]}{tail}", start + shift, min(end, last) + shift


def render_json(diagnostics: Iterable[Diagnostic], filename: str) -> str:
    """Render as a JSON array of objects, one per diagnostic, for tools."""
    return json.dumps([_as_dict(d, filename) for d in diagnostics], ensure_ascii=False, indent=2)


def _as_dict(diag: Diagnostic, filename: str) -> dict[str, object]:
    span = diag.span
    return {
        "file": filename,
        "severity": diag.severity,
        "code": diag.code,
        "message": diag.message,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
        "help": diag.help,
        "notes": list(diag.notes),
        "labels": [
            {
                "line": label.span.line,
                "column": label.span.column,
                "end_line": label.span.end_line,
                "end_column": label.span.end_column,
                "message": label.message,
            }
            for label in diag.labels
        ],
        **({"witness": json.loads(diag.witness)} if diag.witness is not None else {}),
    }


def similar(name: str, candidates: Iterable[str]) -> list[str]:
    """Names close to `name`, nearest first (Elm: 1 edit under 3 chars, else 2)."""
    limit = 1 if len(name) < 3 else 2
    scored = sorted(
        (distance, candidate)
        for candidate in set(candidates)
        if candidate != name and (distance := _edit_distance(name, candidate)) <= limit
    )
    return [candidate for _, candidate in scored]


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    found = similar(name, candidates)
    return f"did you mean '{found[0]}'?" if found else None


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance (adjacent swaps count as one edit)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], prev2[j - 2] + 1)
        prev2, prev = prev, row
    return prev[-1]
