"""Fan-out never loses an item: random inputs, random item failures, both backends.

With `on error skip` the result holds exactly the items that succeeded, in input
order; without it any failure fails the map, and a map that succeeds holds every
item. Failures include a handler's own `CancelledError` and `BaseException`
subclasses, which once made items vanish as nulls or silently dropped the rest.
"""

from __future__ import annotations

import asyncio
import os
import sys
import types
from functools import cache
from typing import Any

from hypothesis import given, note, settings, strategies as st

from wfc.api import load_source
from wfc.runtime import Runtime, VirtualClock, current

EXAMPLES = max(1, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 2)
MODULE = "wffan_handlers"


class Stray(BaseException):
    pass


ERRORS = {"value": lambda: ValueError("bad item"), "cancel": asyncio.CancelledError,
          "stray": lambda: Stray("odd")}


@cache
def module(backend: str, concurrent: bool, skip: bool) -> Any:
    head = "parallel for" if concurrent else "for"
    limit = " limit n" if concurrent else ""
    tail = " on error skip" if skip else ""
    source = (f"use {MODULE} as h\nworkflow main(xs, n) {{\n"
              f"    r = {head} x in xs{limit}{tail} {{ yield h.item(x) }}\n    return r\n}}\n")
    return load_source(source, f"fan_{concurrent}_{skip}.wf", backend=backend)


PLAN: dict[str, dict[int, Any]] = {"failing": {}, "delays": {}}  # what this example's items do


async def _item(x: int) -> int:
    delay = PLAN["delays"].get(x)
    if delay is not None:
        await (asyncio.sleep(0) if delay < 0 else current().clock.sleep(delay))
    if x in PLAN["failing"]:
        raise ERRORS[PLAN["failing"][x]]()
    return x * 10


sys.modules[MODULE] = types.SimpleNamespace(item=_item)  # type: ignore[assignment]


def outcome(mod: Any, xs: list[int], limit: int) -> tuple[str, Any]:
    rt = Runtime(clock=VirtualClock(), seed=0)

    async def main() -> Any:
        with rt.activate():
            return await mod.main(xs, limit)

    try:
        return "value", asyncio.run(main())
    except Exception as exc:  # noqa: BLE001 - compared with the oracle
        return "error", exc


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    xs=st.lists(st.integers(0, 40), max_size=12, unique=True),
    data=st.data(),
    limit=st.integers(1, 5),
    concurrent=st.booleans(),
    skip=st.booleans(),
    backend=st.sampled_from(("interp", "compiled")),
)
def test_skip_keeps_exactly_the_items_that_succeeded(xs, data, limit, concurrent, skip, backend) -> None:
    failing = data.draw(st.dictionaries(st.sampled_from(xs), st.sampled_from(sorted(ERRORS)))
                        if xs else st.just({}), label="failing")
    delays = data.draw(st.dictionaries(st.sampled_from(xs), st.sampled_from([-1.0, 0.5, 1.0, 2.0]))
                       if xs else st.just({}), label="delays")
    PLAN.update(failing=failing, delays=delays)
    kind, value = outcome(module(backend, concurrent, skip), xs, limit)
    note(f"{kind}: {value!r}")
    survivors = [x * 10 for x in xs if x not in failing]
    if skip or not failing:
        assert (kind, value) == ("value", survivors)
    else:
        assert kind == "error"
        assert not isinstance(value, asyncio.CancelledError)
