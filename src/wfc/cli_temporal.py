"""`wfc worker` and `wfc run --target temporal`: wf on a Temporal server."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

ADDRESS_HELP = "The Temporal frontend, host:port."


def _temporal() -> Any:
    from .cli import EXIT_USAGE, Failure

    try:
        from . import temporal
    except ImportError:
        raise Failure(
            "error: running on Temporal needs temporalio: python -m pip install 'wfc-lang[temporal]'",
            EXIT_USAGE,
        ) from None
    return temporal


def _load(file: Path) -> Any:
    from .cli import EXIT_INPUT, Failure, _read, _report
    from .diagnostics import CompileError
    from .loading import HandlerImportError

    temporal = _temporal()
    source = _read(file)
    try:
        return temporal.load(file)
    except CompileError as error:
        _report(error, source, file)
        sys.exit(EXIT_INPUT)
    except HandlerImportError as exc:
        raise Failure(f"error: {exc}", EXIT_INPUT) from None


async def _connect(address: str, namespace: str) -> Any:
    from .cli import EXIT_USAGE, Failure

    try:
        return await _temporal().connect(address, namespace)
    except Exception as exc:  # noqa: BLE001 - the SDK raises RuntimeError for most of them
        raise Failure(f"error: cannot reach Temporal at {address}: {exc}", EXIT_USAGE) from None


def _exit(code: int) -> None:
    """Leave without the SDK's interpreter-exit hooks, which can hang (sdk-python#300)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@click.command("worker")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--task-queue", default="wfc", show_default=True, help="The task queue to poll.")
@click.option("--address", default="localhost:7233", show_default=True, help=ADDRESS_HELP)
@click.option("--namespace", default="default", show_default=True)
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="Where breakers, limits and idempotency records keep their state: redis://... shared by "
    "every worker (or a SQLite file for workers of one machine); default: this worker's memory.",
)
def worker_command(file: Path, task_queue: str, address: str, namespace: str, store_url: str | None) -> None:
    """Run a Temporal worker for every workflow, router, saga and machine of FILE and
    every handler they call (as activities), until interrupted."""
    import asyncio  # here, as in every command: `wfc check` starts without it

    from .cli import open_store_or_fail

    module = _load(file)
    temporal = _temporal()
    store = None if store_url is None else open_store_or_fail(store_url)

    async def serve() -> None:
        client = await _connect(address, namespace)
        async with temporal.worker(client, module, task_queue, store=store):
            click.echo(
                f"wfc worker: {len(module.WORKFLOWS)} workflows, {len(module.ACTIVITIES)} activities "
                f"on task queue '{task_queue}' at {address}",
                err=True,
            )
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        _exit(0)


def run_on_temporal(file: Path, name: str, kwargs: dict[str, Any], options: dict[str, Any]) -> None:
    """Start declaration NAME of FILE on Temporal, wait, print its result as JSON."""
    import asyncio
    import inspect

    from .cli import EXIT_INPUT, EXIT_USAGE, Failure, _declaration, _json_text
    from .syntax.names import py_name

    module = _load(file)
    temporal = _temporal()
    function = _declaration(module, file, name)
    if options["worker"]:  # a handler's error is the workflow's business: not a warning here
        temporal.quiet_handler_errors()
    try:
        bound = inspect.signature(function).bind(**{py_name(k): v for k, v in kwargs.items()})
    except TypeError as exc:
        raise Failure(f"error: bad arguments for '{name}': {exc}", EXIT_USAGE) from None
    bound.apply_defaults()

    async def run() -> Any:
        client = await _connect(options["address"], options["namespace"])
        queue = options["task_queue"]
        if not options["worker"]:
            handle = await temporal.start(client, module, name, bound.args, queue, options["workflow_id"])
            return await handle.result()
        async with temporal.worker(client, module, queue):
            handle = await temporal.start(client, module, name, bound.args, queue, options["workflow_id"])
            return await handle.result()

    try:
        result = asyncio.run(run())
    except Exception as error:  # noqa: BLE001 - a failed workflow is reported, anything else raised
        failed = temporal.failed_run(error)
        if failed is None:
            raise
        click.echo(f"error: the workflow raised {failed[0]}: {failed[1]}", err=True)
        _exit(EXIT_INPUT)
    click.echo(_json_text(result))
    _exit(0)
