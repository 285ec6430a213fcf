"""`SqliteStore`: the embedded durable store, one SQLite file that survives restarts.

Every process on the machine may open the same file: compare-and-set runs in
an immediate transaction, so two writers never both win, and versions come
from one counter in the file, so they are never reused. WAL mode with
`synchronous=NORMAL` keeps a commit to one append (tens of microseconds); a
power cut may lose the last commits, never corrupt the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._store import decode, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS wfc_records (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL, expires REAL
);
CREATE TABLE IF NOT EXISTS wfc_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO wfc_counters VALUES ('version', 0);
"""


class SqliteStore:
    """Keyed, versioned JSON records in the SQLite file at `path` (created if absent).

    Shared by every process that opens the same file, so a breaker, a limiter or
    an idempotency key is one for all of them. The calls are synchronous and
    short (one indexed statement, or one small transaction): they run on the
    event loop's thread, which costs less than handing them to another thread.
    """

    shared = True  # measure policy intervals on the wall clock, which processes agree on

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        import sqlite3  # stdlib, but only durable runtimes need it

        self.path = str(path)
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None,
                                   check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    async def get(self, key: str, now: float) -> tuple[Any, int] | None:
        row = self._db.execute("SELECT value, version, expires FROM wfc_records WHERE key = ?",
                               (key,)).fetchone()
        if row is None:
            return None
        value, version, expires = row
        if expires is not None and now >= expires:  # expired: gone, so a put at version 0 wins
            self._db.execute("DELETE FROM wfc_records WHERE key = ? AND version = ?", (key, version))
            return None
        return decode(value), version

    async def put(self, key: str, value: Any, version: int, expires: float | None = None) -> int:
        text = encode(value)
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT version FROM wfc_records WHERE key = ?", (key,)).fetchone()
            if (0 if row is None else row[0]) != version:
                db.execute("ROLLBACK")
                return 0
            (new_version,) = db.execute(
                "UPDATE wfc_counters SET value = value + 1 WHERE name = 'version' RETURNING value"
            ).fetchone()
            db.execute("INSERT INTO wfc_records (key, value, version, expires) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                       "version = excluded.version, expires = excluded.expires",
                       (key, text, new_version, _finite(expires)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return new_version

    async def delete(self, key: str, version: int) -> bool:
        cursor = self._db.execute("DELETE FROM wfc_records WHERE key = ? AND version = ?",
                                  (key, version))
        return cursor.rowcount > 0

    async def items(self, prefix: str) -> dict[str, Any]:
        rows = self._db.execute("SELECT key, value FROM wfc_records WHERE key >= ? AND key < ?",
                                (prefix, prefix + "\U0010ffff"))
        return {key: decode(value) for key, value in rows}

    def close(self) -> None:
        self._db.close()


def _finite(expires: float | None) -> float | None:
    """SQLite stores no infinities: an already-past expiry becomes the smallest float."""
    if expires is None or expires > -1e308:
        return expires
    return -1e308
