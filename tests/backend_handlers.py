"""Handlers for tests/test_backends.py: sync and async, slow and failing."""

from __future__ import annotations

from wfc.runtime import current

log: list[tuple[str, tuple]] = []


def double(x):
    log.append(("double", (x,)))
    return x * 2


async def slow(x, seconds=1.0):
    log.append(("slow", (x, seconds)))
    await current().clock.sleep(seconds)
    return x


def explode(message="boom"):
    log.append(("explode", (message,)))
    raise ValueError(message)


class OutOfStock(Exception):
    pass


def out_of_stock(item):
    raise OutOfStock(item)


def make(**fields):
    return dict(fields)


class Box:
    def __init__(self, value):
        self.value = value

    def get(self):
        return self.value
