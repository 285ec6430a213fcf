"""`wfc import`: an n8n or Dify workflow export as a `.wf` file and a handler module.

`import_text(tool, text, handlers)` reads the export (JSON for n8n, the YAML DSL for
Dify), translates it, formats the `.wf` text with wfc's formatter and the handler module
with black, and returns both with the warnings. Bad input raises `ImportFailure` with a
message for the user.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._output import Imported

# The translators (and the checker and formatter they use) load on the first import, not
# when the CLI starts: `wfc check` does not pay for them.
__all__ = ["TOOLS", "ImportFailure", "Imported", "handlers_name", "import_text"]

TOOLS = ("n8n", "dify")


class ImportFailure(Exception):
    """The file cannot be imported: not the tool's format, or not readable as such."""


def handlers_name(wf_stem: str) -> str:
    """The handler module's name for `order.wf`: `order_handlers`."""
    from ._output import identifier

    return f"{identifier(wf_stem) or 'workflow'}_handlers"


def __getattr__(name: str) -> Any:
    if name == "Imported":
        from ._output import Imported

        return Imported
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def import_text(tool: str, text: str, handlers: str) -> Imported:
    from . import dify, n8n

    data = _parse(tool, text)
    try:
        imported = n8n.import_workflow(data, handlers) if tool == "n8n" else dify.import_app(data, handlers)
    except (n8n.FormatError, dify.FormatError) as why:
        raise ImportFailure(
            f"not {'an n8n workflow' if tool == 'n8n' else 'a Dify app'} export: {why}"
        ) from None
    imported.wf = _format_wf(imported.wf)
    imported.handlers = _format_python(imported.handlers)
    return imported


def _parse(tool: str, text: str) -> Any:
    if tool == "n8n":
        try:
            return json.loads(text)
        except json.JSONDecodeError as why:
            raise ImportFailure(
                f"not valid JSON: {why.msg} at line {why.lineno}, column {why.colno}"
            ) from None
    try:
        import yaml
    except ImportError:
        raise ImportFailure("reading a Dify export needs PyYAML: pip install 'wfc-lang[dify]'") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as why:
        mark = getattr(why, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(why, "problem", None) or "unreadable"
        raise ImportFailure(f"not valid YAML: {problem}{where}") from None


def _format_wf(text: str) -> str:
    from ..fmt.printer import format_source
    from ..syntax.parser import parse

    module, diagnostics = parse(text)
    if module is None:  # a bug in the importer: show what it wrote
        raise AssertionError(f"the import wrote wf that does not parse: {diagnostics[0].message}\n{text}")
    return format_source(text, module)


def _format_python(text: str) -> str:
    import black

    return black.format_str(text, mode=black.Mode())
