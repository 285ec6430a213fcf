"""The `wfc` command line: compile, check, fmt, graph, run, explain.

Exit codes: 0 success; 1 the input has errors, `--check` found a difference, or
the workflow raised; 2 usage or I/O error; 3 an internal error (a bug in wfc).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, NoReturn

import click

from . import __version__
from .diagnostics import CompileError, render_json, render_text

EXIT_INPUT, EXIT_USAGE, EXIT_INTERNAL = 1, 2, 3


class Failure(Exception):
    """Stop with a message on stderr and an exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _read(path: Path) -> str:
    from .api import read_source

    try:
        return read_source(path)
    except FileNotFoundError:
        raise Failure(f"error: no such file: '{path}'", EXIT_USAGE) from None
    except IsADirectoryError:
        raise Failure(f"error: '{path}' is a directory, not a .wf file", EXIT_USAGE) from None
    except UnicodeDecodeError as exc:
        raise Failure(
            f"error: '{path}' is not UTF-8 text ({exc.reason} at byte {exc.start})", EXIT_INPUT
        ) from None
    except OSError as exc:
        raise Failure(f"error: cannot read '{path}': {exc.strerror}", EXIT_USAGE) from None


def _report(error: CompileError, source: str, path: Path) -> None:
    click.echo(render_text(error.diagnostics, source, str(path)), err=True, nl=False)
    count = sum(1 for d in error.diagnostics if d.severity == "error")
    click.echo(f"{path}: {count} error{'s' if count != 1 else ''}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wfc")
def cli() -> None:
    """wfc: compile, check and run wf workflow files."""


def target_option(help_text: str) -> Any:
    """`--target asyncio|temporal`, as `compile` and `run` take it."""
    return click.option(
        "--target",
        type=click.Choice(["asyncio", "temporal"]),
        default="asyncio",
        show_default=True,
        help=help_text,
    )


@cli.command("compile")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Where to write (one input only; `-` for stdout)."
)
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if an output is stale.")
@click.option("--force", is_flag=True, help="Overwrite an output file that wfc did not generate.")
@target_option("Plain asyncio, or Temporal workflows and activities (`order_temporal.py`).")
def compile_command(
    files: tuple[Path, ...], output: Path | None, check_only: bool, force: bool, target: str
) -> None:
    """Compile FILES to Python modules (`order.wf` -> `order_wf.py`)."""
    from .api import compile_source, output_path

    def transform(source: str, name: str) -> str:
        return compile_source(source, name, target)

    if output is not None and len(files) > 1:
        raise click.UsageError("-o/--output takes a single input file")
    if output == Path("-"):
        if check_only:
            raise click.UsageError("--check compares files: it cannot check stdout")
        sys.exit(_each_file(files, transform, lambda path, source, text: _echo(text)))
    sys.exit(
        _each_file(
            files,
            transform,
            lambda path, source, text: _write_output(
                output or output_path(path, target), text, check_only, force
            ),
        )
    )


def _echo(text: str) -> int:
    click.echo(text, nl=False)
    return 0


def _each_file(files: tuple[Path, ...], transform: Any, use: Any) -> int:
    """Run `transform(source, name)` on each file and hand the result to `use`;
    report compile errors and go on. The highest exit code wins."""
    status = 0
    for path in files:
        source = _read(path)
        try:
            result = transform(source, path.name)
        except CompileError as error:
            _report(error, source, path)
            status = max(status, EXIT_INPUT)
            continue
        status = max(status, use(path, source, result))
    return status


def _write_output(target: Path, text: str, check_only: bool, force: bool, mark: str | None = None) -> int:
    from .api import GENERATED_MARK, may_overwrite

    if check_only:
        existing = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
        if existing != text:
            click.echo(f"{target}: out of date; run `wfc compile` to regenerate it", err=True)
            return EXIT_INPUT
        return 0
    if target.is_dir():
        raise Failure(f"error: '{target}' is a directory", EXIT_USAGE)
    if not force and not may_overwrite(target, mark or GENERATED_MARK):
        raise Failure(
            f"error: '{target}' exists and was not generated by wfc; pass --force to overwrite it", EXIT_USAGE
        )
    return _write(target, text, "wrote")


def _write(path: Path, text: str, verb: str) -> int:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise Failure(f"error: cannot write '{path}': {exc.strerror}", EXIT_USAGE) from None
    click.echo(f"{verb} {path}", err=True)
    return 0


@cli.command("check")
@click.argument("files", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option(
    "--budget",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[NAME]",
    help="Also print the worst-case duration of each workflow, router and saga (or only NAME's), as a tree.",
)
def check_command(files: tuple[Path, ...], fmt: str, budget: str | None) -> None:
    """Report every error and warning in FILES."""
    if budget is not None and (budget.endswith(".wf") or Path(budget).exists()):
        files, budget = (Path(budget), *files), ""  # `--budget order.wf`: NAME left out
    if not files:
        raise click.UsageError("Missing argument 'FILES...'.")
    status = 0
    reports: list[Any] = []
    budgets: list[Any] = []
    codes: list[str] = []  # of the diagnostics shown as text, for the closing hint
    for path in files:
        status = max(status, _check_file(path, fmt, budget, reports, budgets, codes))
    if fmt == "json":
        shown = {"diagnostics": reports, "budgets": budgets} if budget is not None else reports
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    elif codes:
        click.echo(f"For more about a code, try `wfc explain {codes[0]}`.", err=True)
    sys.exit(status)


def _check_file(
    path: Path, fmt: str, budget: str | None, reports: list[Any], budgets: list[Any], codes: list[str]
) -> int:
    """Check one file: its diagnostics printed (text) or added to `reports` (JSON); the status."""
    from .api import analyze

    try:
        source = _read(path)
    except Failure as failure:  # report it with the others and go on
        if fmt == "json":
            reports.append(
                {
                    "file": str(path),
                    "severity": "error",
                    "code": "io",
                    "message": str(failure).removeprefix("error: "),
                    "line": None,
                    "column": None,
                    "end_line": None,
                    "end_column": None,
                    "help": None,
                }
            )
        else:
            click.echo(str(failure), err=True)
        return failure.code
    status = 0
    checked = None
    try:
        checked = analyze(source, path.name)
        diagnostics = list(checked.warnings)
    except CompileError as error:
        diagnostics = error.diagnostics
        status = EXIT_INPUT
    if fmt == "json":
        reports.extend(json.loads(render_json(diagnostics, str(path))))
    elif diagnostics:
        click.echo(render_text(diagnostics, source, str(path)), err=True, nl=False)
        codes.extend(d.code for d in diagnostics if d.code)
    if budget is not None and checked is not None:
        status = max(status, _budgets(checked, path, budget, fmt, budgets))
    return status


def _budgets(checked: Any, path: Path, name: str, fmt: str, found: list[Any]) -> int:
    """Print (or collect, for JSON) the budget trees of a checked file; 2 if NAME is not in it."""
    from .check.budget import Budgets

    trees = [
        tree
        for tree in Budgets(checked.module, checked.resolution, checked.source).all()
        if not name or tree.label.split()[1].split("(")[0] == name
    ]
    if name and not trees:
        click.echo(f"error: {path} has no workflow, router or saga named '{name}'", err=True)
        return EXIT_USAGE
    for tree in trees:
        if fmt == "json":
            found.append({"file": str(path), **tree.as_json()})
        else:
            click.echo(f"{path}: " + "\n".join(tree.lines()))
    return 0


@cli.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def diff_command(old: Path, new: Path, fmt: str) -> None:
    """What changed from OLD to NEW by meaning (layout and comments aside), and whether
    durable runs started under OLD resume under NEW. Exit 0: the same, 1: different,
    2: a file is missing or has errors."""
    from .api import analyze
    from .diff import as_json, diff

    checked = []
    for path in (old, new):
        try:
            source = _read(path)
        except Failure as failure:  # every kind of trouble is 2 here: 1 means "different"
            raise Failure(str(failure), EXIT_USAGE) from None
        try:
            checked.append(analyze(source, path.name))
        except CompileError as error:
            click.echo(render_text(error.diagnostics, source, str(path)), err=True, nl=False)
            raise Failure(f"error: {path} has errors: nothing compared", EXIT_USAGE) from None
    changes, resumes = diff(*checked)
    if fmt == "json":
        click.echo(json.dumps(as_json(changes, resumes), ensure_ascii=False, indent=2))
    else:
        for line in [change.line() for change in changes] + [r.line() for r in resumes]:
            click.echo(line)
    sys.exit(1 if changes else 0)


@cli.command("lsp")
def lsp_command() -> None:
    """Run the wf language server over stdin/stdout (for editors)."""
    try:
        from .lsp import main as serve
    except ImportError as exc:
        raise Failure(
            f"error: the language server needs pygls ({exc.name} is missing): pip install 'wfc-lang[lsp]'",
            EXIT_USAGE,
        ) from None
    serve()


@cli.command("fmt")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", "check_only", is_flag=True, help="Write nothing; exit 1 if a file would change.")
def fmt_command(files: tuple[Path, ...], check_only: bool) -> None:
    """Rewrite FILES in wf's canonical layout, keeping comments."""
    from .api import format_text

    sys.exit(
        _each_file(
            files,
            format_text,
            lambda path, source, formatted: _write_formatted(path, source, formatted, check_only),
        )
    )


def _write_formatted(path: Path, source: str, formatted: str, check_only: bool) -> int:
    if formatted == source:
        return 0
    if check_only:
        click.echo(f"{path}: would be reformatted", err=True)
        return EXIT_INPUT
    return _write(path, formatted, "reformatted")


@cli.command("graph")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("name", required=False)
@click.option("--format", "fmt", type=click.Choice(["mermaid", "dot"]), default="mermaid", show_default=True)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, file_okay=False),
    help="A folder: write one file per declaration (NAME.mmd or NAME.dot) there.",
)
@click.option("--force", is_flag=True, help="Overwrite files in the folder that wfc did not write.")
def graph_command(file: Path, name: str | None, fmt: str, output: Path | None, force: bool) -> None:
    """Draw FILE's machines, workflows, routers and sagas (or just NAME) as one diagram."""
    from .api import analyze
    from .graph import build, render

    source = _read(file)
    try:
        checked = analyze(source, file.name)
    except CompileError as error:
        _report(error, source, file)
        sys.exit(EXIT_INPUT)
    graphs = build(checked.module, name, checked.resolution.branch_deps, checked.resolution.charts)
    if not graphs:
        raise Failure(
            f"error: '{file}' has nothing called '{name}' to draw"
            if name
            else f"error: '{file}' declares nothing to draw",
            EXIT_USAGE,
        )
    if output is None:
        click.echo(render(graphs, fmt, file.stem), nl=False)
        return
    _make_folder(output)
    comment, suffix = ("//", "dot") if fmt == "dot" else ("%%", "mmd")
    mark = f"{comment} @generated by wfc"
    for graph in graphs:
        header = f"{mark} {__version__} from {file.name}: {graph.name}\n"
        _write_output(
            output / f"{graph.name}.{suffix}", header + render([graph], fmt), False, force, mark=mark
        )


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Failure(f"error: cannot create the folder '{folder}': {exc.strerror}", EXIT_USAGE) from None


@cli.command("run")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("name")
@click.option(
    "--arg",
    "pairs",
    multiple=True,
    metavar="KEY=VALUE",
    help="An argument; VALUE is read as JSON when it parses, else as text.",
)
@click.option("--json", "json_args", metavar="OBJECT", help="Arguments as one JSON object.")
@click.option(
    "--json-events",
    "--trace",
    "trace",
    is_flag=True,
    help="Print every lifecycle event to stderr, as JSON lines.",
)
@click.option("--quiet", "-q", is_flag=True, help="No live progress line on the terminal.")
@click.option(
    "--otel-console",
    is_flag=True,
    help="Print the run's OpenTelemetry spans to stderr, one JSON line each (the otel extra).",
)
@click.option("--backend", type=click.Choice(["interp", "compiled"]), default="interp", show_default=True)
@click.option("--seed", type=int, default=None, help="Seed the runtime's random source.")
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="Run durably, journaled in this store: a SQLite file path or redis://...",
)
@click.option("--run-id", help="With --store: the run's id (an id in use gives that run's result).")
@target_option("Run here, or start the workflow on a Temporal server (the temporal extra).")
@click.option(
    "--address", default="localhost:7233", show_default=True, help="With --target temporal: host:port."
)
@click.option("--namespace", default="default", show_default=True, help="With --target temporal.")
@click.option("--task-queue", default="wfc", show_default=True, help="With --target temporal.")
@click.option("--workflow-id", help="With --target temporal: the workflow's id (default: NAME-<uuid>).")
@click.option("--worker", is_flag=True, help="With --target temporal: run a worker in this process too.")
def run_command(
    file: Path,
    name: str,
    pairs: tuple[str, ...],
    json_args: str | None,
    trace: bool,
    quiet: bool,
    otel_console: bool,
    backend: str,
    seed: int | None,
    store_url: str | None,
    run_id: str | None,
    target: str,
    **temporal: Any,
) -> None:
    """Run the workflow NAME of FILE and print its result as JSON."""
    from .api import load
    from .loading import HandlerImportError
    from .runtime import Runtime
    from .syntax.names import py_name

    kwargs = _arguments(pairs, json_args)
    if target == "temporal":
        from .cli_temporal import run_on_temporal

        run_on_temporal(file, name, kwargs, temporal)
    source = _read(file)
    try:
        module = load(file, backend=backend)
    except CompileError as error:
        _report(error, source, file)
        sys.exit(EXIT_INPUT)
    except HandlerImportError as exc:
        raise Failure(f"error: {_printable(str(exc))}", EXIT_INPUT) from None
    except Exception as exc:  # a const or a default failed as the module loaded
        raise Failure(f"error: loading '{file}' failed: {_described(exc)}", EXIT_INPUT) from None
    workflow = _declaration(module, file, name)
    if run_id is not None and store_url is None:
        raise click.UsageError("--run-id needs --store")
    runtime = Runtime(seed=seed, store=None if store_url is None else open_store_or_fail(store_url))
    if otel_console:
        _print_spans(runtime)
    progress = None
    if trace:
        runtime.observe(_print_event)
    elif not quiet and sys.stderr.isatty():
        from .progress import Progress

        progress = Progress(sys.stderr)
        runtime.observe(progress.observe)
    arguments = {py_name(k): v for k, v in kwargs.items()}
    sys.exit(_run(workflow, arguments, runtime, store_url is not None, run_id, progress))


def _print_spans(runtime: Any) -> None:
    """Trace `runtime` into OpenTelemetry spans printed on stderr as each one ends."""
    try:
        from .otel import print_spans
    except ImportError:
        raise Failure(
            "error: --otel-console needs OpenTelemetry: python -m pip install 'wfc-lang[otel]'", EXIT_USAGE
        ) from None
    print_spans(runtime, sys.stderr, _json_text)  # stdout keeps the result


def _declaration(module: Any, file: Path, name: str) -> Any:
    """The workflow, router or saga `name` of `module`; a clear error for anything else."""
    from .syntax.names import py_name

    found = getattr(module, py_name(name), None) if name.isidentifier() else None
    if isinstance(found, type):  # machines compile to classes
        raise Failure(
            f"error: '{name}' is a state machine, which `wfc run` cannot run: machines are driven "
            f'by events from Python (`m = {name}(...)`, then `await m.send("event")`)',
            EXIT_USAGE,
        )
    if not callable(found):
        names = ", ".join(
            sorted(
                n
                for n, v in vars(module).items()
                if callable(v) and not isinstance(v, type) and not n.startswith("_")
            )
        )
        raise Failure(f"error: '{file}' has no workflow '{name}' (it has: {names or 'none'})", EXIT_USAGE)
    return found


def _arguments(pairs: tuple[str, ...], json_args: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if json_args is not None:
        try:
            loaded = json.loads(json_args)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--json") from None
        if not isinstance(loaded, dict):
            raise click.BadParameter("must be a JSON object", param_hint="--json")
        for key in loaded:
            if not key.isidentifier():
                raise click.BadParameter(f"{json.dumps(key)} is not a parameter name", param_hint="--json")
        kwargs.update(loaded)
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise click.BadParameter(f"expected KEY=VALUE, got '{pair}'", param_hint="--arg")
        try:
            kwargs[key] = json.loads(text)
        except json.JSONDecodeError:
            kwargs[key] = text
    return kwargs


def open_store_or_fail(url: str) -> Any:
    """The store at `url`, or a usage error that says why it cannot be opened."""
    from .runtime import open_store

    try:
        return open_store(url)
    except (OSError, ImportError, ValueError) as exc:  # sqlite3 errors are OSError-like too
        raise Failure(f"error: cannot open the store '{url}': {exc}", EXIT_USAGE) from None
    except Exception as exc:  # noqa: BLE001 - e.g. sqlite3.DatabaseError on a file that is not one
        raise Failure(f"error: cannot open the store '{url}': {_described(exc)}", EXIT_USAGE) from None


def _run(
    workflow: Any,
    kwargs: dict[str, Any],
    runtime: Any,
    durable: bool = False,
    run_id: str | None = None,
    progress: Any = None,
) -> int:
    import inspect

    try:
        inspect.signature(workflow).bind(**kwargs)
    except TypeError as exc:
        raise Failure(f"error: bad arguments for '{workflow.__name__}': {exc}", EXIT_USAGE) from None

    async def run() -> Any:
        if durable:
            started = await runtime.start(workflow, run_id=run_id, **kwargs)
            if progress is not None:
                progress.erase()  # the line is drawn again below this one
            click.echo(f"run {started.run_id}", err=True)
            return await started.result()
        with runtime.activate():
            return await workflow(**kwargs)

    async def main() -> Any:
        if progress is None:
            return await run()
        ticker = asyncio.create_task(progress.ticking())
        try:
            return await run()
        finally:
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)

    try:
        result = asyncio.run(main())
    except Exception as exc:
        click.echo(f"error: the workflow raised {_described(exc)}", err=True)
        for note in getattr(exc, "__notes__", ()):
            click.echo(f"  note: {_printable(str(note))}", err=True)
        return EXIT_INPUT
    try:
        text = _json_text(result, indent=2)
    except (ValueError, TypeError, RecursionError) as exc:
        raise Failure(
            f"error: the result of '{workflow.__name__}' cannot be printed as JSON: {_printable(str(exc))}",
            EXIT_INPUT,
        ) from None
    click.echo(text)
    return 0


def _json_text(value: Any, indent: int | None = None) -> str:
    """Strict JSON (no NaN or Infinity); objects JSON lacks print as their repr.

    Text that cannot be UTF-8 (a lone surrogate) is written with \\u escapes,
    which is still valid JSON, instead of failing to print.
    """
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=repr, allow_nan=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = json.dumps(value, ensure_ascii=True, indent=indent, default=repr, allow_nan=False)
    return text


def _described(exc: BaseException) -> str:
    return _printable(f"{type(exc).__name__}: {exc}")


def _printable(text: str) -> str:
    """`text` with anything UTF-8 cannot encode (lone surrogates) escaped."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _print_event(event: Any) -> None:
    record = {"kind": event.kind, "name": event.name, **event.fields}
    try:
        text = _json_text(record)
    except (ValueError, TypeError, RecursionError):
        text = _printable(repr(record))
    click.echo(text, err=True)


@cli.command("explain")
@click.argument("code", required=False)
def explain_command(code: str | None) -> None:
    """Explain diagnostic CODE (e.g. E0101): what it means, with an example that fails
    and one that works. Without CODE, list every code."""
    from .explanations import explanation, titles

    if code is None:
        for known, title in titles().items():
            click.echo(f"{known}  {title}")
        return
    page = explanation(code)
    if page is None:
        raise Failure(f"error: no diagnostic code '{code}' (`wfc explain` lists them all)", EXIT_USAGE)
    click.echo(page, nl=not page.endswith("\n"))


def _add_groups() -> None:
    from .cli_import import import_command
    from .cli_runs import runs_group
    from .cli_temporal import worker_command

    cli.add_command(runs_group)
    cli.add_command(import_command)
    cli.add_command(worker_command)


_add_groups()


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point: run the CLI; turn anything unexpected into exit code 3."""
    try:
        cli.main(args=argv, prog_name="wfc", standalone_mode=True)
    except Failure as failure:
        click.echo(str(failure), err=True)
        sys.exit(failure.code)
    except SystemExit:
        raise
    except BaseException as exc:  # a bug in wfc, not in the user's input
        if os.environ.get("WFC_DEBUG") == "1":
            traceback.print_exc()
        else:
            click.echo(
                f"wfc: internal error ({type(exc).__name__}: {exc}); this is a bug in wfc, "
                "please report it (set WFC_DEBUG=1 to see the traceback)",
                err=True,
            )
        sys.exit(EXIT_INTERNAL)
    sys.exit(0)
