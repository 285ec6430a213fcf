"""Nothing slower, counted rather than timed: coroutine frames per step, item and send.

Timings belong in bench/ (the machines are shared and noisy); what can be counted
deterministically is guarded here. Each case runs twice, with n and with 2n steps,
items or sends, and the difference in coroutines started, divided by n, is the cost
of one more; the handler's own coroutine is left out. A change that adds a
coroutine to a hot path fails here; one that removes one should lower the budget.
"""

from __future__ import annotations

import asyncio
import dis
import inspect
import sys
from collections import Counter
from collections.abc import Callable
from types import CodeType
from typing import Any

import pytest

from wfc.api import load_source
from wfc.runtime import Runtime, SagaFailed

HANDLERS = "counted_handlers"


class Handlers:
    """A handler module of its own, so its coroutines can be told apart."""

    @staticmethod
    async def work(x: Any) -> Any:
        return x


sys.modules[HANDLERS] = Handlers  # type: ignore[assignment]
_FIRST: dict[CodeType, int] = {}


def _first_offset(code: CodeType) -> int:
    """Where a fresh coroutine frame starts (its first RESUME); later resumes are elsewhere."""
    if code not in _FIRST:
        _FIRST[code] = next(i.offset for i in dis.get_instructions(code) if i.opname == "RESUME")
    return _FIRST[code]


def coroutines_started(run: Callable[[], Any]) -> Counter[str]:
    """The coroutines started while `run()` runs on a fresh loop, by name."""
    started: Counter[str] = Counter()

    def profile(frame: Any, event: str, arg: Any) -> None:
        code = frame.f_code
        if event == "call" and code.co_flags & inspect.CO_COROUTINE and frame.f_lasti == _first_offset(code):
            started[code.co_qualname] += 1

    async def main() -> Any:
        with Runtime().activate():
            sys.setprofile(profile)
            try:
                return await run()
            finally:
                sys.setprofile(None)

    asyncio.run(main())
    started.pop("Handlers.work", None)
    return started


def per_unit(make: Callable[[int], Callable[[], Any]], n: int = 20) -> float:
    """Coroutines started per extra unit (step, item, send)."""
    small = sum(coroutines_started(make(n)).values())
    large = sum(coroutines_started(make(2 * n)).values())
    return (large - small) / n


def steps_source(n: int) -> str:
    body = "".join("    x = h.work(x)\n    x = 1 + h.work(x)\n" for _ in range(n))
    return f"use {HANDLERS} as h\n\nworkflow w(x) {{\n{body}    return x\n}}\n"


def stages_source(n: int) -> str:
    body = "".join(f"    stage s{k} {{\n        x = h.work(x)\n    }}\n" for k in range(n))
    return f"use {HANDLERS} as h\n\nworkflow w(x) {{\n{body}    return x\n}}\n"


FAN = f"""use {HANDLERS} as h

workflow fan(items) {{
    results = parallel for item in items limit 100 {{
        yield h.work(item)
    }}
    return results
}}
"""
# An item body that is more than its one step has a function of its own.
FAN_BODY = FAN.replace("yield h.work(item)", "value = h.work(item)\n        yield value")

SAGA_STEP = "    step s{k} = h.work(x) compensate h.work(s{k})\n"

MACHINE = """
machine Cycle() {
    initial a
    state a {
        on go -> b
    }
    state b {
        on go -> a
    }
}
"""

# (what, backend) -> coroutines started per unit, as measured when the budget was set
BUDGET = {
    ("step (as a statement and inside an expression)", "compiled"): 0,
    # the interpreter: the step's closure, once for each (runtime.step's second half is
    # written out in it; `x = 1 + h.f(...)` is assigned by the step's closure too)
    ("step (as a statement and inside an expression)", "interp"): 2,
    ("stage with a step", "compiled"): 0,
    ("stage with a step", "interp"): 2,
    ("parallel for item", "compiled"): 0,  # the runtime makes the step itself
    ("parallel for item", "interp"): 0,
    ("parallel for item with a body", "compiled"): 1,  # the item's function
    ("parallel for item with a body", "interp"): 3,
    ("saga step with a compensation", "compiled"): 0,
    ("saga step with a compensation", "interp"): 3,
    # the same, completed and then compensated: the compensation's function, compiled;
    # the interpreter's compensation evaluates its call as the step did
    ("saga step, then its compensation", "compiled"): 1,
    ("saga step, then its compensation", "interp"): 6,
    ("machine send", "compiled"): 1,
    ("machine send", "interp"): 1,
}


def _workflow(source_of: Callable[[int], str], backend: str) -> Callable[[int], Callable[[], Any]]:
    def make(n: int) -> Callable[[], Any]:
        module = load_source(source_of(n), f"counts_{backend}_{n}_{id(source_of)}.wf", backend=backend)
        return lambda: module.w(1)

    return make


def _fan(source: str) -> Callable[[str], Callable[[int], Callable[[], Any]]]:
    def of(backend: str) -> Callable[[int], Callable[[], Any]]:
        module = load_source(source, f"counts_fan_{backend}_{id(source)}.wf", backend=backend)
        return lambda n: lambda: module.fan(list(range(n)))

    return of


def _saga_of(backend: str, n: int, ending: str, kind: str) -> Any:
    """A compiled or interpreted saga `w(x)` of `n` compensated steps, then `ending`."""
    body = "".join(SAGA_STEP.format(k=k) for k in range(n))
    source = f"use {HANDLERS} as h\n\nsaga w(x) {{\n{body}    {ending}\n}}\n"
    return load_source(source, f"counts_{kind}_{backend}_{n}.wf", backend=backend)


def _saga(backend: str) -> Callable[[int], Callable[[], Any]]:
    def make(n: int) -> Callable[[], Any]:
        module = _saga_of(backend, n, "return x", "saga")
        return lambda: module.w(1)

    return make


def _unwound_saga(backend: str) -> Callable[[int], Callable[[], Any]]:
    def make(n: int) -> Callable[[], Any]:
        module = _saga_of(backend, n, 'fail "stop"', "unwound")

        async def unwound() -> None:
            with pytest.raises(SagaFailed, match="stop") as failed:
                await module.w(1)
            assert len(failed.value.compensated) == n

        return unwound

    return make


def _machine(backend: str) -> Callable[[int], Callable[[], Any]]:
    module = load_source(MACHINE, f"counts_machine_{backend}.wf", backend=backend)

    def make(n: int) -> Callable[[], Any]:
        async def sends() -> None:
            cycle = module.Cycle()
            for _ in range(n):
                await cycle.send("go")

        return sends

    return make


CASES: dict[str, Callable[[str], Callable[[int], Callable[[], Any]]]] = {
    "step (as a statement and inside an expression)": lambda backend: _workflow(steps_source, backend),
    "stage with a step": lambda backend: _workflow(stages_source, backend),
    "parallel for item": _fan(FAN),
    "parallel for item with a body": _fan(FAN_BODY),
    "saga step with a compensation": _saga,
    "saga step, then its compensation": _unwound_saga,
    "machine send": _machine,
}


@pytest.mark.parametrize(("what", "backend"), sorted(BUDGET))
def test_coroutines_per_unit_stay_within_the_budget(what: str, backend: str) -> None:
    measured = per_unit(CASES[what](backend))
    assert measured <= BUDGET[(what, backend)], (
        f"{what} on {backend}: {measured} coroutines, budget {BUDGET[what, backend]}"
    )
    assert measured == BUDGET[(what, backend)], (
        f"{what} on {backend} got cheaper ({measured}): lower the budget"
    )
