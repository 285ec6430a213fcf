"""`wfc import n8n|dify FILE`: write a `.wf` file and a handler module of stubs."""

from __future__ import annotations

from pathlib import Path

import click

from .importers import TOOLS


@click.command("import")
@click.argument("tool", type=click.Choice(TOOLS, case_sensitive=False))
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="The .wf file to write (default: FILE's name, .wf).",
)
@click.option("--force", is_flag=True, help="Overwrite the .wf file and the handler module if they exist.")
def import_command(tool: str, file: Path, output: Path | None, force: bool) -> None:
    """Translate an n8n workflow (JSON) or a Dify app (YAML DSL) export into wf.

    Writes OUTPUT (`workflow.wf`) and, beside it, a handler module of stubs
    (`workflow_handlers.py`): one function per node that reaches outside the workflow,
    with the node's settings in its docstring. What cannot be translated is kept as a
    TODO and reported as a warning.
    """
    from .api import analyze
    from .cli import EXIT_INPUT, EXIT_USAGE, Failure, _read, _write
    from .diagnostics import CompileError
    from .importers import ImportFailure, handlers_name, import_text

    target = output or file.with_suffix(".wf")
    if target.suffix != ".wf":
        raise click.UsageError(f"the output must be a .wf file, not '{target}'")
    handlers = handlers_name(target.stem)
    module_path = target.with_name(f"{handlers}.py")
    text = _read(file)
    try:
        imported = import_text(tool.lower(), text, handlers)
    except ImportFailure as why:
        raise Failure(f"error: {file}: {why}", EXIT_INPUT) from None
    try:
        analyze(imported.wf, target.name)
    except CompileError as error:  # a bug in the importer, not in the user's file
        raise AssertionError(
            f"the imported workflow does not check: {error.diagnostics[0].message}"
        ) from None
    existing = [path for path in (target, module_path) if path.exists()]
    if existing and not force:
        names = " and ".join(f"'{path}'" for path in existing)
        raise Failure(
            f"error: {names} already exist{'s' if len(existing) == 1 else ''}; pass --force to overwrite",
            EXIT_USAGE,
        )
    for warning in imported.warnings:
        click.echo(f"warning: {warning}", err=True)
    _write(target, imported.wf, "wrote")
    _write(module_path, imported.handlers, "wrote")
