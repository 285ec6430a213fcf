"""Lifecycle event records handed to observers."""

from __future__ import annotations

from typing import Any, NamedTuple


class Event(NamedTuple):
    """One lifecycle event: `kind` (e.g. "step.start"), `name` and `fields`."""

    kind: str
    name: str
    fields: dict[str, Any]


def error_fields(exc: BaseException) -> dict[str, Any]:
    """The fields of a `*.error` event: the exception's type name and message."""
    return {"error": type(exc).__name__, "message": str(exc)}
