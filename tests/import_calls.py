"""The handler calls the import tests' doubles record, in order."""

from typing import Any

log: list[tuple[str, dict[str, Any]]] = []
