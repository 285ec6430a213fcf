"""Handlers for tests/test_backends.py: sync and async, slow and failing."""

from __future__ import annotations

import asyncio

from wfc.runtime import current

log: list[tuple[str, tuple]] = []


def double(x):
    log.append(("double", (x,)))
    return x * 2


async def slow(x, seconds=1.0):
    log.append(("slow", (x, seconds)))
    await current().clock.sleep(seconds)
    return x


def letters(count):
    """A generator: an input with no length."""
    log.append(("letters", (count,)))
    return (chr(ord("a") + n) for n in range(count))


PENDING: list = []  # tasks that `cancel_pending` cancels


def cancel_pending():
    while PENDING:
        PENDING.pop().cancel()


def note(*args):
    log.append(("note", args))


def explode(message="boom"):
    log.append(("explode", (message,)))
    raise ValueError(message)


class OutOfStock(Exception):
    pass


def out_of_stock(item):
    raise OutOfStock(item)


class Refused(Exception):
    """A handler error whose constructor takes other parameters than its `args`."""

    def __init__(self, code, reason):
        super().__init__(f"refused ({code}): {reason}")
        self.code = code


def refuse(code):
    log.append(("refuse", (code,)))
    raise Refused(code, "no")


def make(**fields):
    return dict(fields)


def pair(a, b):
    """A tuple, which a store gives back as a list."""
    log.append(("pair", (a, b)))
    return (a, b)


def numbered(*values):
    """A map with int keys, which JSON would silently turn into text."""
    return {"by_number": dict(enumerate(values))}


class Box:
    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value


failures: dict[str, int] = {}  # name -> how many more calls of `flaky(name)` fail


def flaky(name, value=None):
    """Fails while `failures[name]` is positive (counting down), else returns `value`."""
    log.append(("flaky", (name, value)))
    if failures.get(name, 0) > 0:
        failures[name] -= 1
        raise ConnectionError(f"{name} is down")
    return value


def cached(name, value=None):
    log.append(("cached", (name, value)))
    return f"cached {name}"


class Stray(BaseException):
    """A BaseException that is not an Exception (nor a cancellation)."""


def stray(x):
    log.append(("stray", (x,)))
    raise Stray(f"stray {x}")


script: list[str] = []  # errors `scripted()` raises, in order: "timeout", "conn", "value"; then it succeeds
seen_attempts: list[int] = []


async def scripted(value=None):
    """Raises the next error of `script` (popped), else returns `value`; notes
    `wfc.runtime.attempt()` as it runs (after its first await)."""
    from wfc.runtime import attempt

    await current().clock.sleep(0)
    seen_attempts.append(attempt())
    log.append(("scripted", (value,)))
    if script:
        kind = script.pop(0)
        raise {"timeout": TimeoutError, "conn": ConnectionError, "value": ValueError}[kind](kind)
    return value


async def undo_with_asyncio_timeout(x, seconds):
    """A compensation written with the task-bound `asyncio.timeout`, around a wait that
    outlasts it by far: real seconds, not the runtime's clock."""
    log.append(("undo_with_asyncio_timeout", (x, seconds)))
    async with asyncio.timeout(seconds):
        await asyncio.sleep(30)


async def undo_in_one_task(x):
    """A compensation that holds task-bound state across a wait, as anyio's locks and
    cancel scopes do (httpx): the task it starts in must be the task it ends in."""
    before = asyncio.current_task()
    await asyncio.sleep(0)
    after = asyncio.current_task()
    log.append(("undo_in_one_task", (x, before is after)))
    if before is not after:
        raise RuntimeError("the compensation changed tasks while it waited")


SCOPES: list = []  # anyio cancel scopes that `cancel_the_scope_and_wait` cancels


async def cancel_the_scope_and_wait():
    """A step that cancels the anyio scope it runs in, then waits to be cancelled."""
    SCOPES.pop().cancel()
    await asyncio.sleep(30)


async def undo_after_a_wait(x, seconds):
    """A compensation that waits before it is done, and says so once it is."""
    await asyncio.sleep(seconds)
    log.append(("undone", (x,)))


async def undo_with_a_task_group(x):
    """A compensation with an `asyncio.TaskGroup` whose child fails: the group cancels its
    parent task, which must be the compensation's, not the saga's."""
    async def child():
        await asyncio.sleep(0)
        raise ValueError(f"child of {x} failed")

    async with asyncio.TaskGroup() as group:
        group.create_task(child())
        await asyncio.sleep(30)
