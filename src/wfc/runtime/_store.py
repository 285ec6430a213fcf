"""The store behind breaker, limiter and idempotency state: keyed, versioned records.

The interface is three atomic operations on one key, each of which a SQL
transaction (`UPDATE ... WHERE version = ?`) or a Redis Lua script can carry
out: read a record with its version, write it only if the version is still the
one read (compare-and-set), and delete it. Everything else — the breaker's and
the limiters' decisions — is pure code in the runtime, run in a CAS loop by
`update`, so it lives once whatever the store.

Values are plain data (None, numbers, strings, lists and tuples of them, or a
handler's result for idempotency records): a remote store encodes them; the
memory store keeps them as they are and never mutates them.
"""

from __future__ import annotations

import functools
import heapq
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

Result = TypeVar("Result")


class Store(Protocol):
    """What the runtime needs from a store. Times are the caller's clock readings."""

    async def get(self, key: str, now: float) -> tuple[Any, int] | None:
        """The record's value and version, or None when absent or expired at `now`."""
        ...

    async def put(self, key: str, value: Any, version: int, expires: float | None = None) -> int:
        """Write `value` if the record's version is `version` (0: only if absent).

        Returns the new version (never used before for any key), or 0 if not written.
        `expires` is the clock reading after which the record counts as absent.
        """
        ...

    async def delete(self, key: str, version: int) -> bool:
        """Remove the record if its version is `version`; whether it was removed."""
        ...

    async def items(self, prefix: str) -> dict[str, Any]:
        """Every record whose key starts with `prefix`: key -> value (durable runs
        read a run's journal with it, once, when the run is resumed)."""
        ...

    async def append(self, key: str, value: Any, *, batched: bool = False) -> bool:
        """Write a record that never changes (a journal entry) unless the key exists;
        whether it was written. Such records have version 0. A `batched` append (one
        of many made at once, as a fan-out's steps are) may share a commit with the
        others made in the same moment.
        """
        ...


class NotStorable(TypeError):
    """A value that a durable store cannot hold: stores hold JSON values only."""


class Encoded(str):
    """JSON text already encoded (by the journal, which must know at once whether an
    entry can be stored): a store writes it as it is."""

    __slots__ = ()


def encode(value: Any, *, keys_checked: bool = False) -> str:
    """`value` as the JSON text a durable store keeps (tuples come back as lists).

    `keys_checked`: the caller answers for map keys being text (the journal, for
    entries of its own making, checks the user's value in them with `check_keys`).
    """
    if type(value) is Encoded:
        return value
    try:
        text = _encoder()(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise NotStorable(f"the store holds JSON values only ({exc})") from None
    if not keys_checked and "{" in text:  # a map: the encoder checked its keys are JSON, not text
        check_keys(value)
    return text


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def as_stored(value: Any) -> Any:
    """`value` as an encoding store gives it back: a scalar as it is, anything else a
    fresh copy through JSON (a tuple becomes a list, an IntEnum an int, an OrderedDict
    a dict). The first caller of an idempotent step gets what the later ones read, and
    no caller shares the handler's object, which the handler may change after. (The
    journal does the same for a step's value, from the entry it has just encoded.)"""
    return value if is_scalar(value) else decode(encode(value))


def is_scalar(value: Any) -> bool:
    """Whether JSON gives `value` back as it is, the same object for all it matters."""
    return type(value) in _JSON_SCALARS


def check_keys(value: Any) -> None:
    """Raise `NotStorable` for a map key that is not text: JSON would turn `{1: "a"}`
    into `{"1": "a"}` without a word, and a replay would then read another value.
    Only for a value the encoder took: it refuses cycles, which this would not end."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise NotStorable(
                        f"the store holds JSON values only (a map key must be text, not {key!r}, {described(key)})"
                    )
                if isinstance(inner, (dict, list, tuple)):
                    pending.append(inner)
        elif isinstance(item, (list, tuple)):
            pending.extend(inner for inner in item if isinstance(inner, (dict, list, tuple)))


@functools.cache
def _encoder() -> Callable[[Any], str]:
    import json  # only durable stores encode: keep it off the runtime's import time

    return json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode


def decode(text: str | bytes) -> Any:
    import json

    return json.loads(text)


def described(value: Any) -> str:
    """`a dict`, `an object`, `a shop.Order`: a value's type, for messages."""
    kind = type(value)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    return f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"


class MemoryStore:
    """The default store: a dict in this process (state is lost when it exits).

    Being in-process, it also offers what the runtime prefers where a store has
    it, to keep awaits off the hot path: `update_now`, a synchronous `update`, and
    `peek(key)`, the raw `(value, version, expires)` record or None (expiry not
    applied), for read-only checks.
    """

    __slots__ = ("_records", "_versions", "_expiring", "peek")

    def __init__(self) -> None:
        self._records: dict[str, tuple[Any, int, float | None]] = {}
        self._versions = 0  # store-wide, so a deleted and re-created key never reuses one
        # (expires, version, key) of records written with an expiry: swept as writes
        # come, so keys that are never read again do not stay in memory.
        self._expiring: list[tuple[float, int, str]] = []
        self.peek = self._records.get

    def _write(self, key: str, value: Any, expires: float | None, now: float | None) -> int:
        version = self._versions = self._versions + 1
        self._records[key] = (value, version, expires)
        if expires is not None:
            heapq.heappush(self._expiring, (expires, version, key))
        if now is not None:
            self._sweep(now)
        return version

    def _sweep(self, now: float) -> None:
        expiring, records = self._expiring, self._records
        while expiring and expiring[0][0] <= now:
            _, version, key = heapq.heappop(expiring)
            record = records.get(key)
            if record is not None and record[1] == version:
                del records[key]

    async def get(self, key: str, now: float) -> tuple[Any, int] | None:
        record = self._records.get(key)
        if record is None:
            return None
        if record[2] is not None and now >= record[2]:
            del self._records[key]  # expired: gone, as Redis would have it
            return None
        return record[0], record[1]

    async def put(self, key: str, value: Any, version: int, expires: float | None = None) -> int:
        record = self._records.get(key)
        if (0 if record is None else record[1]) != version:
            return 0
        return self._write(key, value, expires, None)

    async def delete(self, key: str, version: int) -> bool:
        record = self._records.get(key)
        if record is None or record[1] != version:
            return False
        del self._records[key]
        return True

    async def items(self, prefix: str) -> dict[str, Any]:
        return {key: record[0] for key, record in self._records.items() if key.startswith(prefix)}

    async def append(self, key: str, value: Any, *, batched: bool = False) -> bool:
        if key in self._records:
            return False
        self._records[key] = (value, 0, None)
        return True

    def update_now(
        self,
        key: str,
        now: float,
        decide: Callable[..., tuple[Any, Result]],
        *extra: Any,
        idle_at: Callable[[Any], float | None] | None = None,
    ) -> Result:
        """`update` without awaiting: nothing can write in between in one thread."""
        record = self._records.get(key)
        state = None
        if record is not None and (record[2] is None or now < record[2]):
            state = record[0]
        new_state, result = decide(state, now, *extra) if extra else decide(state, now)
        if new_state is not state:
            if idle_at is None:
                version = self._versions = self._versions + 1
                self._records[key] = (new_state, version, None)
            else:
                self._write(key, new_state, idle_at(new_state), now)
        return result

    def __len__(self) -> int:
        return len(self._records)


async def append_all(store: Store, items: list[tuple[str, Any]]) -> None:
    """Append every (key, value) of `items`: in one commit on a store that can."""
    many = getattr(store, "append_many", None)
    if many is not None:
        await many(items)
        return
    for key, value in items:
        await store.append(key, value, batched=True)


async def update(
    store: Store,
    key: str,
    now: float,
    decide: Callable[..., tuple[Any, Result]],
    *extra: Any,
    idle_at: Callable[[Any], float | None] | None = None,
) -> Result:
    """Apply the pure `decide(state, now, *extra) -> (new_state, result)` to one record.

    Reads, decides, and writes with compare-and-set, retrying if another writer
    got in between. When `decide` returns the state it was given, nothing is
    written. `state` is None for an absent record. `idle_at(new_state)` is when
    the new state is as good as absent (the record may then expire), or None.
    """
    while True:
        record = await store.get(key, now)
        state, version = (None, 0) if record is None else record
        new_state, result = decide(state, now, *extra)
        if new_state is state:
            return result
        expires = None if idle_at is None else idle_at(new_state)
        if await store.put(key, new_state, version, expires):
            return result
