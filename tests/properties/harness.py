"""Run one program on both backends and record a comparable trace."""

from __future__ import annotations

import asyncio
import sys
import types
from dataclasses import dataclass
from typing import Any

from wfc.api import load_source
from wfc.runtime import Runtime, VirtualClock, current

from .programs import Refused, Script, raised

MODULE = "wfprop_handlers"


@dataclass
class Trace:
    outcome: tuple
    calls: list[tuple]
    now: float
    events: list[list[tuple]]  # per task, sorted

    def lines(self) -> list[str]:
        out = [f"outcome: {self.outcome!r}", f"clock: {self.now}"]
        out += [f"call: {call!r}" for call in self.calls]
        for number, task in enumerate(self.events):
            out += [f"task {number}: {event!r}" for event in task]
        return out


def install_handlers(scripts: dict[str, Script]) -> list[tuple]:
    """Make `wfprop_handlers` importable with one function per script."""
    calls: list[tuple] = []
    module = types.ModuleType(MODULE)
    for name, script in scripts.items():
        setattr(module, name, _handler(name, script, calls))
    module.Refused = Refused  # type: ignore[attr-defined]
    sys.modules[MODULE] = module
    return calls


def _handler(name: str, script: Script, calls: list[tuple]):
    counter = {"n": 0}

    def result(arg: Any) -> Any:
        counter["n"] += 1
        calls.append((name, repr(arg), counter["n"]))
        if counter["n"] in script.fail_on:
            raise raised(script.error)(f"{name} call {counter['n']}")
        return (arg if isinstance(arg, int) else 0) + script.offset

    if not script.is_async:
        return result

    async def run(arg: Any) -> Any:
        if script.delay:
            await current().clock.sleep(script.delay)
        return result(arg)

    return run


def trace(source: str, scripts: dict[str, Script], backend: str, filename: str,
          observers: tuple = ()) -> Trace:
    """Run `main` of `source`; `observers` watch the run before the trace does."""
    calls = install_handlers(scripts)
    module = load_source(source, filename, backend=backend)
    rt = Runtime(clock=VirtualClock(), seed=0)
    for observer in observers:
        rt.observe(observer)
    per_task: dict[Any, list[tuple]] = {}

    def observe(event) -> None:
        fields = tuple(sorted((k, repr(v)) for k, v in event.fields.items()))
        per_task.setdefault(asyncio.current_task(), []).append((event.kind, event.name, fields))

    rt.observe(observe)

    async def main() -> Any:
        with rt.activate():
            return await module.main()

    try:
        outcome: tuple = ("value", repr(asyncio.run(main())))
    except Exception as exc:  # compared between backends
        outcome = ("error", type(exc).__name__, str(exc), tuple(getattr(exc, "__notes__", ())))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a test failure that Hypothesis can shrink, not an abort
        raise AssertionError(f"a {type(exc).__name__} escaped the workflow: {exc}") from exc
    return Trace(outcome, calls, rt.clock.now(), sorted(per_task.values()))
