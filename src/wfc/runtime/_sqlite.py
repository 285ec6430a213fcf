"""`SqliteStore`: the embedded durable store, one SQLite file that survives restarts.

Every process on the machine may open the same file: compare-and-set runs in
an immediate transaction, so two writers never both win, and versions come
from one counter in the file, so they are never reused. WAL mode with
`synchronous=NORMAL` keeps a commit to one append (tens of microseconds); a
power cut may lose the last commits, never corrupt the file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from ._store import decode, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS wfc_records (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL, expires REAL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS wfc_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO wfc_counters VALUES ('version', 0);
"""
# A record written once (a journal entry): version 0, never changed.
_APPEND_ROWS = "INSERT OR IGNORE INTO wfc_records (key, value, version, expires) VALUES"
_APPEND = f"{_APPEND_ROWS} (?, ?, 0, NULL)"
_ROWS_PER_STATEMENT = 200  # far below SQLite's limit of 32,766 parameters a statement


class SqliteStore:
    """Keyed, versioned JSON records in the SQLite file at `path` (created if absent).

    Shared by every process that opens the same file, so a breaker, a limiter or
    an idempotency key is one for all of them. The calls are synchronous and
    short (one indexed statement, or one small transaction): they run on the
    event loop's thread, which costs less than handing them to another thread.
    """

    shared = True  # measure policy intervals on the wall clock, which processes agree on
    encodes = True  # values are kept as JSON text (see `Encoded`)

    def __init__(self, path: str | Path, *, timeout: float = 30.0) -> None:
        import sqlite3  # stdlib, but only durable runtimes need it

        self.path = str(path)
        self._db = sqlite3.connect(self.path, timeout=timeout, isolation_level=None, check_same_thread=False)
        _wal_mode(self._db, timeout)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._batch: list[tuple[str, str, asyncio.Future[bool]]] = []

    async def get(self, key: str, now: float) -> tuple[Any, int] | None:
        row = self._db.execute(
            "SELECT value, version, expires FROM wfc_records WHERE key = ?", (key,)
        ).fetchone()
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
            db.execute(
                "INSERT INTO wfc_records (key, value, version, expires) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "version = excluded.version, expires = excluded.expires",
                (key, text, new_version, _finite(expires)),
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return new_version

    async def delete(self, key: str, version: int) -> bool:
        cursor = self._db.execute("DELETE FROM wfc_records WHERE key = ? AND version = ?", (key, version))
        return cursor.rowcount > 0

    async def items(self, prefix: str) -> dict[str, Any]:
        rows = self._db.execute(
            "SELECT key, value FROM wfc_records WHERE key >= ? AND key < ?", (prefix, prefix + "\U0010ffff")
        )
        return {key: decode(value) for key, value in rows}

    async def append(self, key: str, value: Any, *, batched: bool = False) -> bool:
        """Insert unless present. `batched` appends (the steps of a fan-out) made in one
        turn of the event loop share one transaction, so they share a commit; any other
        append commits at once, without waiting for the loop."""
        text = encode(value)
        if not batched and not self._batch:
            # Outside a transaction one statement is its own: it commits as it returns.
            return self._db.execute(_APPEND, (key, text)).rowcount > 0
        loop = asyncio.get_running_loop()
        if not self._batch:
            loop.call_soon(self._commit_appends)
        written: asyncio.Future[bool] = loop.create_future()
        self._batch.append((key, text, written))
        return await written

    async def append_many(self, items: list[tuple[str, Any]]) -> None:
        """Append each (key, value) unless present, all in one commit."""
        texts = [(key, encode(value)) for key, value in items]
        if self._batch:  # join the commit that is coming
            loop = asyncio.get_running_loop()
            futures = []
            for key, text in texts:
                written: asyncio.Future[bool] = loop.create_future()
                self._batch.append((key, text, written))
                futures.append(written)
            await asyncio.gather(*futures)
            return
        db = self._db
        if len(texts) <= _ROWS_PER_STATEMENT:
            # One statement is its own transaction: all its rows commit at once, or none.
            rows = ", ".join(["(?, ?, 0, NULL)"] * len(texts))
            db.execute(f"{_APPEND_ROWS} {rows}", [part for row in texts for part in row])
            return
        db.execute("BEGIN")
        try:
            db.executemany(_APPEND, texts)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _commit_appends(self) -> None:
        batch, self._batch = self._batch, []
        db = self._db
        try:
            db.execute("BEGIN")
            results = [db.execute(_APPEND, (key, text)).rowcount > 0 for key, text, _ in batch]
            db.execute("COMMIT")
        except BaseException as exc:
            if db.in_transaction:
                db.execute("ROLLBACK")
            for _, _, written in batch:
                if not written.done():
                    written.set_exception(exc)
            return
        for (_, _, written), result in zip(batch, results):
            if not written.done():  # its appender may have been cancelled: the row is in
                written.set_result(result)

    def close(self) -> None:
        self._db.close()


def _wal_mode(db: Any, timeout: float) -> None:
    """Switch the file to WAL. The switch takes a lock that SQLite does not wait for
    (processes opening a new file together see "database is locked"): wait here."""
    import sqlite3
    import time

    give_up = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > give_up:
                raise
            time.sleep(0.01)


def _finite(expires: float | None) -> float | None:
    """SQLite stores no infinities: an already-past expiry becomes the smallest float."""
    if expires is None or expires > -1e308:
        return expires
    return -1e308
