"""A Pygments lexer for wf, registered as the `wf` lexer (aliases `wf`, `wfc`; `*.wf`).

Installing wfc makes Pygments, and so Sphinx, MkDocs and anything else built on it,
highlight ```wf code blocks. Imported only by Pygments (it needs `pygments`, which wfc
itself does not). The word lists are written out here so that Pygments does not load
the compiler; tests/test_pygments.py fails when the grammar or the checker knows a word
that they lack.
"""

from __future__ import annotations

from pygments.lexer import RegexLexer, bygroups, include, words
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace

__all__ = ["WfLexer"]

# Words that are never names.
KEYWORDS = (
    "use",
    "as",
    "const",
    "policy",
    "workflow",
    "stage",
    "router",
    "route",
    "saga",
    "step",
    "compensate",
    "machine",
    "state",
    "on",
    "do",
    "when",
    "parallel",
    "for",
    "in",
    "while",
    "repeat",
    "until",
    "break",
    "continue",
    "yield",
    "return",
    "fail",
    "require",
    "else",
    "if",
    "elif",
    "try",
    "catch",
    "with",
    "emit",
    "wait",
    "and",
    "or",
    "not",
)
CONSTANTS = ("true", "false", "null")
# Keywords only where the grammar expects them, names everywhere else (`max 3` in a loop,
# `max(a, b)` the builtin; `limit 5` of a fan-out, `limit(rate: 5/s)` the policy).
SOFT_KEYWORDS = (
    "all",
    "default",
    "enter",
    "error",
    "exit",
    "final",
    "first",
    "initial",
    "limit",
    "max",
    "priority",
    "receive",
    "skip",
    "timeout",
    "weight",
    "weighted",
    "quorum",
    "none",
    "where",
    "unwind",
    "after",
    "data",
    "deep",
    "history",
    "invoke",
    "region",
    "send",
    "select",
)
POLICY_KINDS = ("retry", "timeout", "breaker", "limit", "idempotent", "fallback")
POLICY_ARGUMENTS = (
    "attempts",
    "backoff",
    "delay",
    "factor",
    "jitter",
    "max_delay",
    "max_time",
    "on",
    "duration",
    "failures",
    "failure_rate",
    "window",
    "min_calls",
    "half_open",
    "key",
    "reset",
    "successes",
    "algorithm",
    "burst",
    "max_wait",
    "rate",
    "concurrent",
    "queue",
    "wait",
    "ttl",
    "handler",
    "value",
)
BUILTINS = (
    "len",
    "str",
    "int",
    "float",
    "bool",
    "list",
    "map",
    "keys",
    "values",
    "items",
    "range",
    "min",
    "max",
    "sum",
    "abs",
    "round",
    "lower",
    "upper",
    "strip",
    "split",
    "join",
    "chunks",
    "now",
    "uuid",
    "attempt",
    "matches",
    "regex",
    "any",
)
ERROR_TYPES = (
    "BranchesFailed",
    "CircuitOpen",
    "RateLimited",
    "SagaFailed",
    "ValidationError",
    "WorkflowError",
    "WorkflowFailed",
    "TimeoutError",
    "ValueError",
    "KeyError",
    "TypeError",
    "ZeroDivisionError",
    "ConnectionError",
    "LookupError",
    "RuntimeError",
)

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NUMBER = r"(?:\d+(?:_\d+)*(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?"


class WfLexer(RegexLexer):
    """wf, the workflow language that wfc compiles to asyncio Python."""

    name = "wf"
    aliases = ["wf", "wfc"]
    filenames = ["*.wf"]
    mimetypes = ["text/x-wf"]

    tokens = {
        "root": [
            # a string alone on its line: a docstring (the first one of a body is)
            (r'(?m)^([ \t]*)("(?:[^"\\\n]|\\.)*")([ \t]*)$', bygroups(Whitespace, String.Doc, Whitespace)),
            (r"\n", Whitespace),
            (r"[ \t\f\r]+", Whitespace),
            (r"#.*?$", Comment.Single),
            # declarations: the declared name is an entity name
            (
                rf"\b(workflow|saga|router|machine|policy|const)(\s+)({_NAME})",
                bygroups(Keyword.Declaration, Whitespace, Name.Function),
            ),
            # `error NAME` at the start of a line: an error type (`error` is a soft keyword)
            (rf"(?m)^(error)(\s+)({_NAME})", bygroups(Keyword.Declaration, Whitespace, Name.Exception)),
            (
                rf"\b(use)(\s+)({_NAME}(?:\.{_NAME})*)",
                bygroups(Keyword.Namespace, Whitespace, Name.Namespace),
            ),
            (
                rf"\b((?:initial\s+|final\s+)?state)(\s+)({_NAME})",
                bygroups(Keyword.Declaration, Whitespace, Name.Label),
            ),
            (rf"\b(initial)(\s+)({_NAME})", bygroups(Keyword.Pseudo, Whitespace, Name.Label)),
            (
                rf"\b(route|stage)(\s+)(?!when\b|priority\b|weight\b|do\b|with\b)({_NAME})",
                bygroups(Keyword, Whitespace, Name.Label),
            ),
            (
                rf"\b(step)(\s+)({_NAME})(\s*)(=)(?!=)",
                bygroups(Keyword, Whitespace, Name.Label, Whitespace, Operator),
            ),
            (
                rf"\b(on)(\s+)({_NAME})(\s*)(->)(\s*)({_NAME})",
                bygroups(Keyword, Whitespace, Name.Label, Whitespace, Operator, Whitespace, Name.Label),
            ),
            (rf"\b(emit)(\s+)({_NAME}(?:\.{_NAME})*)", bygroups(Keyword, Whitespace, Name.Label)),
            (rf"\b(receive)(\s+)({_NAME})", bygroups(Keyword, Whitespace, Name.Label)),
            include("values"),
            (words(KEYWORDS, suffix=r"\b"), Keyword),
            (words(POLICY_KINDS, suffix=r"(?=\s*\()"), Name.Builtin),
            (words(BUILTINS, suffix=r"(?=\s*\()"), Name.Builtin),
            (r"\bdata\b(?!\s*\{)", Name),  # `data { }` opens a machine's context; elsewhere a name
            (words(SOFT_KEYWORDS, prefix=r"\b", suffix=r"\b(?!\s*(?:=[^=]|\.|\(|:))"), Keyword.Pseudo),
            (words(ERROR_TYPES, prefix=r"\b", suffix=r"\b"), Name.Exception),
            (rf"({_NAME})(\s*)(:)(?!:)", bygroups(Name.Attribute, Whitespace, Punctuation)),
            (_NAME, Name),
            (r"->|\?\?|\?\.|==|!=|<=|>=|//|[-+*/%<>=]", Operator),
            (r"[{}()\[\],.:]", Punctuation),
        ],
        "values": [
            (r'"""', String.Doc, "docstring"),
            (r'f"', String, "fstring"),
            (r'"', String, "string"),
            (words(CONSTANTS, prefix=r"\b", suffix=r"\b"), Keyword.Constant),
            (rf"{_NUMBER}(?:ms|s|m|h)\b", Number.Float),  # a duration
            (rf"{_NUMBER}/(?:s|m|h)\b", Number.Float),  # a rate
            (_NUMBER, Number),
        ],
        "docstring": [
            (r'"""', String.Doc, "#pop"),
            (r'[^"]+|"', String.Doc),
        ],
        "string": [
            (r"\\(?:N\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", String.Escape),
            (r'"', String, "#pop"),
            (r'[^"\\\n]+', String),
            (r"\n", String),
        ],
        "fstring": [
            (r"\{\{|\}\}", String.Escape),
            (r"\{", String.Interpol, "field"),
            (r"\\(?:N\{[^}]*\}|x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", String.Escape),
            (r'"', String, "#pop"),
            (r'[^"\\{}\n]+', String),
            (r"[}\n]", String),
        ],
        # the `{...}` of an f-string: code, up to a `:spec` and the closing brace
        "field": [
            (r"\}", String.Interpol, "#pop"),
            (r"(:)([^}\"]*)(?=\})", bygroups(String.Interpol, String.Interpol)),
            (r"'[^'\n]*'", String),
            (r"\s+", Text),
            include("values"),
            (words(BUILTINS, suffix=r"(?=\s*\()"), Name.Builtin),
            (words(KEYWORDS, prefix=r"\b", suffix=r"\b"), Keyword),
            (_NAME, Name),
            (r"->|\?\?|\?\.|==|!=|<=|>=|//|[-+*/%<>=]", Operator),
            (r"[()\[\],.]", Punctuation),
        ],
    }
