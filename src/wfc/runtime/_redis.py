"""`RedisStore`: records shared by every process and machine that reaches one Redis.

Each operation is one Lua script, which Redis runs atomically: compare-and-set
needs no WATCH round trips and no lock. Versions come from one counter key, so
they are never reused. The `redis` package is imported when a store is made,
never with the runtime.
"""

from __future__ import annotations

from typing import Any

from ._store import decode, encode

# KEYS[1] the record (a hash: d = JSON value, v = version, e = expiry or ""); ARGV[1] now.
_GET = """
local r = redis.call('HMGET', KEYS[1], 'd', 'v', 'e')
if not r[2] then return false end
if r[3] and r[3] ~= '' and tonumber(ARGV[1]) >= tonumber(r[3]) then
    redis.call('DEL', KEYS[1])
    return false
end
return {r[1], r[2]}
"""
# KEYS[1] the record, KEYS[2] the version counter; ARGV value, expected version, expiry.
_PUT = """
local current = redis.call('HGET', KEYS[1], 'v')
if (current or '0') ~= ARGV[2] then return 0 end
local version = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'v', version, 'e', ARGV[3])
return version
"""
_APPEND = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'd', ARGV[1], 'v', 0, 'e', '')
return 1
"""
_APPEND_MANY = """
for i, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 0 then redis.call('HSET', key, 'd', ARGV[i], 'v', 0, 'e', '') end
end
return #KEYS
"""
_VALUES = """
local out = {}
for i, key in ipairs(KEYS) do out[i] = redis.call('HGET', key, 'd') end
return out
"""
_DELETE = """
if redis.call('HGET', KEYS[1], 'v') == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
end
return 0
"""


class RedisStore:
    """Keyed, versioned JSON records in Redis at `url` (`redis://host:port/db`).

    `prefix` namespaces the keys, so several applications can share a server.
    Needs the `redis` package: `pip install 'wfc-lang[redis]'`.
    """

    shared = True  # measure policy intervals on the wall clock, which processes agree on
    encodes = True  # values are kept as JSON text (see `Encoded`)

    def __init__(self, url: str = "redis://localhost:6379/0", *, prefix: str = "wfc:") -> None:
        try:
            import redis.asyncio as redis_asyncio
        except ImportError as exc:
            raise ImportError("RedisStore needs the redis package: pip install 'wfc-lang[redis]'") from exc
        self.url = url
        self._prefix = prefix
        self._redis = redis_asyncio.Redis.from_url(url)
        self._get = self._redis.register_script(_GET)
        self._put = self._redis.register_script(_PUT)
        self._delete = self._redis.register_script(_DELETE)
        self._append = self._redis.register_script(_APPEND)
        self._append_many = self._redis.register_script(_APPEND_MANY)
        self._counter = f"{prefix}version"

    async def get(self, key: str, now: float) -> tuple[Any, int] | None:
        found = await self._get(keys=[self._prefix + key], args=[repr(float(now))])
        if not found:
            return None
        value, version = found
        return decode(value), int(version)

    async def put(self, key: str, value: Any, version: int, expires: float | None = None) -> int:
        text = encode(value)
        expiry = "" if expires is None else repr(max(float(expires), -1e308))
        written = await self._put(keys=[self._prefix + key, self._counter], args=[text, str(version), expiry])
        return int(written)

    async def delete(self, key: str, version: int) -> bool:
        return bool(await self._delete(keys=[self._prefix + key], args=[str(version)]))

    async def items(self, prefix: str) -> dict[str, Any]:
        pattern = _glob_escaped(self._prefix + prefix) + "*"
        keys = [key async for key in self._redis.scan_iter(match=pattern, count=1000)]
        if not keys:
            return {}
        values = await self._redis.eval(_VALUES, len(keys), *keys)
        skip = len(self._prefix)
        return {key.decode()[skip:]: decode(value) for key, value in zip(keys, values) if value}

    async def append(self, key: str, value: Any, *, batched: bool = False) -> bool:
        return bool(await self._append(keys=[self._prefix + key], args=[encode(value)]))

    async def append_many(self, items: list[tuple[str, Any]]) -> None:
        """Append each (key, value) unless present: one script, so all at once."""
        await self._append_many(
            keys=[self._prefix + key for key, _ in items], args=[encode(value) for _, value in items]
        )

    async def close(self) -> None:
        await self._redis.aclose()


def _glob_escaped(text: str) -> str:
    return "".join(f"\\{char}" if char in "*?[]\\" else char for char in text)


def open_store(url: str, *, create: bool = True) -> Any:
    """The store a URL names: `redis://...` (or `rediss://`, `unix://`) is a `RedisStore`,
    `memory:` a `MemoryStore`, anything else the path of a `SqliteStore` file, which
    is made if it does not exist, unless `create` is false (FileNotFoundError)."""
    from pathlib import Path

    from ._sqlite import SqliteStore
    from ._store import MemoryStore

    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(url)
    if url == "memory:":
        return MemoryStore()
    path = url.removeprefix("sqlite://")
    if not create and not Path(path).exists():
        raise FileNotFoundError("there is no such file (the first run started with this store makes it)")
    return SqliteStore(path)
