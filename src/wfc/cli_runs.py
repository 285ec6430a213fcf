"""`wfc runs`: list, show and resume the durable runs journaled in a store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

STORE_HELP = "The store: a SQLite file path or redis://host:port/db."


def _run_to_end(coroutine: Any) -> Any:
    import asyncio  # here: the commands that do not run a store start without it

    return asyncio.run(coroutine)


@click.group("runs")
def runs_group() -> None:
    """Durable runs: what is in a store, what happened in one, and resuming them."""


@runs_group.command("list")
@click.option("--store", "store_url", required=True, metavar="URL", help=STORE_HELP)
def list_command(store_url: str) -> None:
    """One line per run: id, status, declaration and file."""
    runs = _run_to_end(_runs(store_url))
    if not runs:
        click.echo("no runs", err=True)
    for run_id, run in sorted(runs.items()):
        click.echo(f"{run_id}\t{run['status']}\t{run['declaration']}\t{run['file']}")


@runs_group.command("show")
@click.argument("run_id")
@click.option("--store", "store_url", required=True, metavar="URL", help=STORE_HELP)
def show_command(run_id: str, store_url: str) -> None:
    """The run's journal as a timeline: steps, timers, values and its end."""
    from .cli import EXIT_USAGE, Failure, _json_text

    runs, entries, heartbeat = _run_to_end(_journal(store_url, run_id))
    run = runs.get(run_id)
    if run is None:
        raise Failure(f"error: no run '{run_id}' in '{store_url}'", EXIT_USAGE)
    click.echo(f"run {run_id}: {run['declaration']} of {run['file']} (source {run['source']})")
    click.echo(f"  arguments {_json_text(run['args'])} {_json_text(run['kwargs'])}")
    for identity, entry in sorted(entries.items(), key=lambda item: item[1].get("at", 0)):
        click.echo(f"  {_describe(identity, entry, _json_text)}")
    outcome = run.get("result") if run["status"] == "completed" else run.get("error")
    click.echo(f"  {run['status']}" + ("" if run["status"] == "running" else f": {_json_text(outcome)}"))
    if run["status"] == "running":
        click.echo(f"  {_held_by(heartbeat)}")


@runs_group.command("resume")
@click.argument("file", type=click.Path(path_type=Path))
@click.argument("run_ids", nargs=-1)
@click.option("--store", "store_url", required=True, metavar="URL", help=STORE_HELP)
@click.option("--backend", type=click.Choice(["interp", "compiled"]), default="interp", show_default=True)
def resume_command(file: Path, run_ids: tuple[str, ...], store_url: str, backend: str) -> None:
    """Resume RUN_IDS (every unfinished run when none is named) of the declarations in FILE."""
    from .api import load
    from .cli import EXIT_INPUT, Failure, _described, _json_text, open_store_or_fail
    from .runtime import Runtime
    from .runtime._durable import recover

    try:
        load(file, backend=backend)  # registers its declarations: the journal names them
    except Exception as exc:  # noqa: BLE001 - reported like wfc run does
        raise Failure(f"error: cannot load '{file}': {_described(exc)}", EXIT_INPUT) from None
    runtime = Runtime(store=open_store_or_fail(store_url, create=False))

    held: list[Any] = []  # unfinished runs that live processes elsewhere run: their RunHeld

    async def resume() -> list[tuple[str, str, Any]]:
        runs = (
            [await runtime.resume(run_id) for run_id in run_ids] if run_ids else await recover(runtime, held)
        )
        for refusal in held:
            click.echo(f"note: {refusal}", err=True)
        finished = []
        for run in runs:
            try:
                outcome: Any = await run.result()
            except Exception as exc:  # noqa: BLE001 - the run's own error
                outcome = f"{type(exc).__name__}: {exc}"
            finished.append((run.run_id, run.status, outcome))
        return finished

    try:
        finished = _run_to_end(resume())
    except (LookupError, RuntimeError) as exc:
        raise Failure(f"error: {exc}", EXIT_INPUT) from None
    if not finished and not held:
        click.echo("no unfinished runs", err=True)
    for run_id, status, outcome in finished:
        click.echo(f"{run_id}\t{status}\t{_json_text(outcome)}")


@runs_group.command("signal")
@click.argument("run_id")
@click.argument("name")
@click.option(
    "--json", "value", default="null", metavar="VALUE", show_default=True, help="The signal's value, as JSON."
)
@click.option("--store", "store_url", required=True, metavar="URL", help=STORE_HELP)
def signal_command(run_id: str, name: str, value: str, store_url: str) -> None:
    """Send RUN_ID the signal NAME: its next `receive NAME` gets VALUE."""
    import json

    from .cli import EXIT_USAGE, Failure, open_store_or_fail
    from .runtime import Run, Runtime

    try:
        decoded = json.loads(value)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--json") from None
    runtime = Runtime(store=open_store_or_fail(store_url, create=False))

    async def send() -> bool:
        runs = await _runs(store_url)
        if run_id not in runs:
            return False
        await Run(runtime, run_id, runs[run_id]).signal(name, decoded)
        return True

    if not _run_to_end(send()):
        raise Failure(f"error: no run '{run_id}' in '{store_url}'", EXIT_USAGE)
    click.echo(f"sent {name} to {run_id}", err=True)


def _held_by(heartbeat: dict[str, Any] | None) -> str:
    import time

    if heartbeat is None:
        return "no live process runs it: `wfc runs resume` takes it over"
    left = max(0.0, heartbeat["until"] - time.time())
    return (
        f"run by worker {heartbeat['token']} on {heartbeat['host'].split('/')[0]} (pid {heartbeat['pid']}), "
        f"its lease renewed for {left:.0f}s more"
    )


async def _runs(store_url: str) -> dict[str, dict[str, Any]]:
    from .cli import open_store_or_fail
    from .runtime._durable import stored_runs

    return await stored_runs(open_store_or_fail(store_url, create=False))


async def _journal(
    store_url: str, run_id: str
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
    """Every run, the run's journal and, if it is unfinished, the heartbeat of the live
    worker that runs it: from one opening of the store."""
    from .cli import open_store_or_fail
    from .runtime._durable import RUNNING, journal_entries, stored_runs
    from .runtime._ownership import holder

    store = open_store_or_fail(store_url, create=False)
    runs = await stored_runs(store)
    run = runs.get(run_id)
    heartbeat = await holder(store, run_id, run) if run is not None and run["status"] == RUNNING else None
    return runs, await journal_entries(store, run_id), heartbeat


def _describe(identity: str, entry: dict[str, Any], as_json: Any) -> str:
    path, kind, site, count = identity.split("|")
    where = f"{site or kind}#{count}" + (f" (branch {path})" if path else "")
    if kind in ("timer", "deadline", "timeout"):
        return f"{kind:<7} {where}: until {entry['deadline']:.3f}"
    if kind == "ended":
        return f"{kind:<7} {where.replace('ended', 'timeout', 1)}: the scope ended before its deadline"
    if kind in _OUTCOMES:
        return f"{kind:<7} {where}: {_OUTCOMES[kind](entry, as_json)}"
    if "value" in entry:
        return f"{kind:<7} {where}: {as_json(entry['value'])}"
    return f"{kind:<7} {where}: {as_json({k: v for k, v in entry.items() if k != 'at'})}"


def _step_outcome(entry: dict[str, Any], as_json: Any) -> str:
    if entry["ok"]:
        return f"ok {as_json(entry['value'])}"
    return f"error {entry['error']['type']}: {entry['error']['message']}"


def _attempt_outcome(entry: dict[str, Any], as_json: Any) -> str:
    refused = entry.get("refused")
    if refused:
        return f"refused {refused['type']}: {refused['message']}"
    return "ok" if entry["ok"] else "failed"


_OUTCOMES = {
    "step": _step_outcome,
    "receive": lambda entry, as_json: "timed out" if "timeout" in entry else as_json(entry["value"]),
    "attempt": _attempt_outcome,
}
