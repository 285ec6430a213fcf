"""A cache of parsed modules, so that a command on an unchanged file starts without lark.

Importing lark, loading the grammar's tables and lexing a small file cost a `wfc`
command about 45 ms at start-up, more than anything else it does. Like Python's
`__pycache__`, a clean parse is kept on disk and read back the next time the same
text is parsed by the same parser:

- an entry holds the parser's fingerprint, the whole source text and the tree with
  its checksum; it is used only if the fingerprint and the text equal the current
  ones (the text compared in full, so two texts never share an entry by a hash
  collision) and the tree's bytes are intact;
- the tree is stored with `marshal` as plain tuples, lists and scalars, and every
  node is rebuilt through its class: loading an entry runs no code from it;
- an entry that cannot be read, is damaged or does not match is a miss: the source
  is parsed as if there were no cache. Writing is best-effort and atomic (a temporary
  file, then a rename), so concurrent commands never see half an entry;
- sources with syntax errors are not cached: their diagnostics come from the parser.

The same folder holds lark's tables for the grammar (`grammar_tables`), which spare
each command building the parser (about 240 ms).

`WFC_CACHE_DIR` names the folder (default `$XDG_CACHE_HOME/wfc`, else `~/.cache/wfc`);
`WFC_NO_CACHE=1` turns the cache off.
"""

from __future__ import annotations

import contextlib
import importlib.util
import marshal
import os
import sys
import zlib
from collections.abc import Callable
from dataclasses import fields
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from ..diagnostics import Diagnostic, Span
from . import ast

_FORMAT = 1  # bump when the encoding below changes
_KEEP = 256  # past this many files, the oldest written go, down to half as many
_SUFFIX = ".wfast"
_TABLES_SUFFIX = ".lark-tables"
_PARSER_FILES = Path(__file__).resolve().parent  # with ../grammar: what the parser is made of


def parse(source: str) -> tuple[ast.Module | None, list[Diagnostic]]:
    """`parser.parse(source)`, answered from the cache when it can be."""
    folder = cache_folder()
    if folder is None:
        return _parse(source)
    fingerprint = parser_fingerprint()
    # Named by a checksum only to spread entries out: a read compares the texts in full.
    checksum = zlib.crc32(source.encode("utf-8", "surrogatepass"), zlib.crc32(fingerprint))
    entry = folder / f"{checksum:08x}{_SUFFIX}"
    module = _read(entry, fingerprint, source)
    if module is not None:
        return module, []
    module, diagnostics = _parse(source)
    if module is not None:
        _write(entry, fingerprint, source, module)
    return module, diagnostics


def cache_folder() -> Path | None:
    """Where entries are kept, or None when the cache is off (also when no absolute
    folder can be found: a cache must never land in the working directory)."""
    if os.environ.get("WFC_NO_CACHE", "") not in ("", "0"):
        return None
    named = os.environ.get("WFC_CACHE_DIR")
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # unset, or relative: the XDG rules say ignore it
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wfc" if os.path.isabs(base) else None


def grammar_tables() -> str | None:
    """The file lark keeps the grammar's tables in, or None when the cache is off.

    lark's own default is a file of a predictable name in the shared temporary folder,
    which it loads with `pickle`: anyone who can write there first could run code as
    the next user of wfc. The cache folder is the user's own. lark checks that the
    file was made from this grammar and these options, and rebuilds it if not."""
    folder = cache_folder()
    if folder is None:
        return None
    with contextlib.suppress(OSError):  # no folder: lark only builds its tables every time
        folder.mkdir(parents=True, exist_ok=True)
    # One file per parser, so that two versions of wfc sharing the folder never take
    # turns rewriting it; older ones are pruned like entries.
    return str(folder / f"{zlib.crc32(parser_fingerprint()):08x}{_TABLES_SUFFIX}")


@cache
def parser_fingerprint() -> bytes:
    """What the parser is (read once per process, as the parser is imported once):
    Python's version (identifiers are normalised by its Unicode tables), and two
    checksums of the text of every file the parser is made of: the grammar, the tree
    builder, `diagnostics.py` (spans), wfc's and lark's `__init__.py` (their versions).
    Contents, not modification times: an edited checkout, or an upgrade whose files
    keep their sizes and dates, never reads a tree an older parser built."""
    here = _PARSER_FILES
    files = sorted(path for path in here.iterdir() if path.suffix == ".py")
    files += [
        here.parent / "grammar" / "wf.lark",
        here.parent / "diagnostics.py",
        here.parent / "__init__.py",
    ]
    lark = importlib.util.find_spec("lark")
    if lark is not None and lark.origin:
        files.append(Path(lark.origin))
    text = b"".join(path.read_bytes() for path in files)
    return f"{_FORMAT}|{sys.version}|{len(text)}:{zlib.crc32(text):08x}:{zlib.adler32(text):08x}".encode()


def _parse(source: str) -> tuple[ast.Module | None, list[Diagnostic]]:
    from .parser import parse as parse_with_lark

    return parse_with_lark(source)


def _read(entry: Path, fingerprint: bytes, source: str) -> ast.Module | None:
    try:
        stored_fingerprint, stored_source, payload, checksum = marshal.loads(entry.read_bytes())
        if stored_fingerprint != fingerprint or stored_source != source or zlib.crc32(payload) != checksum:
            return None
        module = decode(marshal.loads(payload))
    except Exception:  # a miss, whatever the damage: the parser gives the answer
        return None
    return module if isinstance(module, ast.Module) else None


def _write(entry: Path, fingerprint: bytes, source: str, module: ast.Module) -> None:
    temporary = entry.with_name(f"{entry.name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
    try:
        payload = marshal.dumps(encode(module))
        data = marshal.dumps((fingerprint, source, payload, zlib.crc32(payload)))
        entry.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, entry)
        _prune(entry.parent)
    except (OSError, ValueError, RecursionError):  # a read-only or full disk: the cache only saves time
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    # A temporary file outlives its write only if the process died in between: it
    # goes with the oldest entries (a younger one's writer then just keeps no entry).
    entries = [item for item in os.scandir(folder) if item.name.endswith((_SUFFIX, _TABLES_SUFFIX, ".tmp"))]
    if len(entries) <= _KEEP:
        return
    entries.sort(key=lambda item: item.stat().st_mtime_ns)
    for item in entries[: len(entries) - _KEEP // 2]:
        with contextlib.suppress(OSError):  # another process removed it first
            os.unlink(item.path)


# ---- the encoding: a node is [class name, its span's six numbers, other fields...] -----
_CLASSES: dict[str, type] = {cls.__name__: cls for cls in ast.node_classes()}
_FIELDS = {name: tuple(field.name for field in fields(cls)) for name, cls in _CLASSES.items()}
assert all(names[0] == "span" for names in _FIELDS.values())  # every node's first field
_SCALARS = frozenset({str, int, float, bool, type(None)})
_SPAN = attrgetter(*(field.name for field in fields(Span)))


def _values_of(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]] | None:
    """A getter of the fields `names` of a node, as a tuple; None when there are none."""
    if not names:
        return None
    get = attrgetter(*names)
    return get if len(names) > 1 else lambda node: (get(node),)


_ENCODERS = {cls: (name, _values_of(_FIELDS[name][1:])) for name, cls in _CLASSES.items()}


def encode(tree: Any) -> Any:
    """`tree` as plain data for `marshal`; a node met twice is the same list twice."""
    seen: dict[int, list[Any]] = {}

    def plain(value: Any) -> Any:
        kind = type(value)
        if kind is tuple:
            return tuple([plain(item) for item in value])
        encoder = _ENCODERS.get(kind)
        if encoder is None:
            return value  # a scalar (marshal refuses anything else)
        known = seen.get(id(value))
        if known is None:
            name, values_of = encoder
            known = [name, _SPAN(value.span)]
            if values_of is not None:
                known += [plain(item) for item in values_of(value)]
            seen[id(value)] = known
        return known

    return plain(tree)


def decode(data: Any) -> Any:
    """The tree `encode` gave `data` for; a list met twice gives the same node twice.
    Anything but the encoding's own shapes raises an error (`KeyError`, `TypeError`)."""
    built: dict[int, Any] = {}

    def node(value: Any) -> Any:
        kind = type(value)
        if kind is tuple:
            return tuple([node(item) for item in value])
        if kind is not list:
            if kind in _SCALARS:
                return value
            raise TypeError(f"unexpected {kind.__name__} in a cached tree")
        known = built.get(id(value))
        if known is None:
            name, span = value[0], value[1]
            names = _FIELDS[name]
            if len(value) != len(names) + 1 or type(span) is not tuple or len(span) != 6:
                raise TypeError(f"a damaged {name}")
            values = [node(item) for item in value[2:]]
            known = _CLASSES[name](span=Span(*span), **dict(zip(names[1:], values)))
            built[id(value)] = known
        return known

    return node(data)
