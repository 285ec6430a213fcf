"""Benchmark: a three-step saga, success and failure paths, against hand-written code.

    python bench/saga.py [--calls N] [--rounds R]

The hand-written peer keeps the same bookkeeping a saga needs: the completed steps'
names and compensations in order, compensations run newest first on failure, each
compensation's error collected, and one error raised that says which step failed
and what was undone. The failure path fails at the third step, so two compensations
run. Rounds interleaved, ratios per round (bench/harness.py).
Targets: success path <= 1.3x hand-written; failure path <= 1.3x.

A second hand-written saga gives wfc's guarantee (bench/README.md, "What the saga's
failure path pays for"): its compensations run in a task that a second cancellation
cannot cut short, by the usual `asyncio.shield` idiom. The failure path against it is
shown without a target.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_handlers as h  # noqa: E402
from harness import Row, async_timer, interleaved, per_round_ratio, print_rows  # noqa: E402

from wfc.api import load_source  # noqa: E402
from wfc.runtime import Runtime, SagaFailed  # noqa: E402

SOURCE = """use bench_handlers as h

saga book(x) {
    step held = h.work(x) compensate h.work(held)
    step paid = h.work(held) compensate h.work(paid)
    step shipped = h.ship(paid)
    return shipped
}
"""


class HandSagaFailed(Exception):
    def __init__(self, message: str, step: str, compensated: list[str], errors: list) -> None:
        super().__init__(message)
        self.step, self.compensated, self.errors = step, compensated, errors


async def hand_saga(x):
    """What a careful developer writes in place of a saga."""
    done: list = []
    step = "held"
    try:
        held = await h.work(x)
        done.append(("held", lambda held=held: h.work(held)))
        step = "paid"
        paid = await h.work(held)
        done.append(("paid", lambda paid=paid: h.work(paid)))
        step = "shipped"
        return await h.ship(paid)
    except Exception as error:
        compensated, errors = [], []
        for name, undo in reversed(done):
            try:
                await undo()
            except Exception as exc:
                errors.append((name, exc))
                continue
            compensated.append(name)
        raise HandSagaFailed(f"saga book failed at step {step}: {error}", step, compensated, errors) from error


async def hand_shielded_saga(x):
    """The same, with compensations that a second cancellation cannot cut short."""
    done: list = []
    step = "held"
    try:
        held = await h.work(x)
        done.append(("held", h.work, (held,)))
        step = "paid"
        paid = await h.work(held)
        done.append(("paid", h.work, (paid,)))
        step = "shipped"
        return await h.ship(paid)
    except (Exception, asyncio.CancelledError) as error:
        undoing = asyncio.ensure_future(compensate(done))
        interrupted = False
        while not undoing.done():
            try:
                await asyncio.shield(undoing)
            except asyncio.CancelledError:
                interrupted = True
        compensated, errors = undoing.result()
        if interrupted or isinstance(error, asyncio.CancelledError):
            raise asyncio.CancelledError from error
        raise HandSagaFailed(f"saga book failed at step {step}: {error}", step, compensated, errors) from error


async def compensate(done: list) -> tuple[list[str], list]:
    compensated, errors = [], []
    for name, undo, args in reversed(done):
        try:
            await undo(*args)
        except Exception as exc:
            errors.append((name, exc))
            continue
        compensated.append(name)
    return compensated, errors


def failing(function):
    async def run(n):
        try:
            await function(-1)  # h.ship refuses negative values
        except (SagaFailed, HandSagaFailed):
            return None
        raise AssertionError("the saga should have failed")

    return run


def rows(calls: int = 20_000, rounds: int = 9) -> list[Row]:
    module = load_source(SOURCE, "saga_bench.wf", backend="compiled")
    loop = asyncio.new_event_loop()
    try:
        with Runtime().activate():
            assert loop.run_until_complete(module.book(3)) == loop.run_until_complete(hand_saga(3))
            contenders = {"hand success": hand_saga, "wfc success": module.book,
                          "hand failure": failing(hand_saga), "wfc failure": failing(module.book),
                          "shielded hand failure": failing(hand_shielded_saga)}
            samples = interleaved({name: async_timer(loop, fn, calls) for name, fn in contenders.items()}, rounds)
    finally:
        loop.close()
    return [
        Row("saga success path: wfc / hand-written", per_round_ratio(samples, "wfc success", "hand success"),
            at_most=1.3),
        Row("saga failure path (2 compensations): wfc / hand-written",
            per_round_ratio(samples, "wfc failure", "hand failure"), at_most=1.3),
        Row("saga failure path: wfc / hand-written with shield",
            per_round_ratio(samples, "wfc failure", "shielded hand failure")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print_rows(f"saga, {args.calls} calls x {args.rounds} rounds", rows(args.calls, args.rounds))


if __name__ == "__main__":
    main()
