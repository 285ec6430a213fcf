"""Handlers for tests/test_otel.py: one makes a span of its own, as instrumented code does."""

from __future__ import annotations

from opentelemetry import trace

from wfc.runtime import attempt, current

PROVIDER: list[trace.TracerProvider] = []  # the test's provider


async def fetch(x):
    with PROVIDER[0].get_tracer("app").start_as_current_span("http GET"):
        await current().clock.sleep(1.0)
    return x


def flaky(x):
    if attempt() < 2:
        raise ConnectionError("down")
    return x


def boom(x):
    raise ValueError(f"bad {x}")


def book(x):
    return x


def cancel(x):
    return None
