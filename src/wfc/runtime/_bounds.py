"""Bounds the checker enforces on constants and the runtime on computed values
(a module of its own, so that `wfc check` reads them without loading asyncio)."""

MAX_LIMIT = 100_000
"""The largest `limit` of a fan-out: one task per concurrent job must fit in memory."""
