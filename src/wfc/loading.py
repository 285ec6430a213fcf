"""Importing the handler modules a `.wf` file `use`s, as that file's folder sees them.

`use handlers` resolves relative to the `.wf` file first, then on `sys.path`: two
files in different folders that each `use handlers` get each folder's own
module, even in one process. Python keeps one module per name in
`sys.modules`, so while a file's module is built the names its folder defines
are swapped in, and swapped back after; the folder's modules are kept here for
the next load of a file from that folder.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

_FOLDER_MODULES: dict[tuple[Path, str], dict[str, ModuleType]] = {}


class HandlerImportError(ImportError):
    """A module named by `use` could not be imported (missing, broken, or raising)."""


@contextmanager
def folder_modules(folder: Path | None, tops: Iterable[str]) -> Iterator[None]:
    """Within: importing any of `tops` that `folder` defines gives the folder's module."""
    local = sorted({top for top in tops if folder is not None and _defines(folder, top)})
    if not local:
        yield
        return
    assert folder is not None
    displaced = _make_room(folder, local)
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))
        _put_back(folder, local, displaced)


def _make_room(folder: Path, local: list[str]) -> dict[str, ModuleType]:
    """Take out modules of the same names from elsewhere (returned, to put back), and
    bring back the folder's own from an earlier visit."""
    displaced: dict[str, ModuleType] = {}
    for top in local:
        current = sys.modules.get(top)
        if current is not None and not _lives_in(current, folder):
            displaced.update((name, sys.modules.pop(name)) for name in _family(top))
        for name, module in _FOLDER_MODULES.get((folder, top), {}).items():
            sys.modules.setdefault(name, module)
    return displaced


def _put_back(folder: Path, local: list[str], displaced: dict[str, ModuleType]) -> None:
    """Keep the folder's modules for its next visit; give displaced names back."""
    for top in local:
        mine = {name: sys.modules[name] for name in _family(top)}
        _FOLDER_MODULES.setdefault((folder, top), {}).update(mine)
        if any(name == top or name.startswith(f"{top}.") for name in displaced):
            for name in mine:  # another folder's module had the name first: give it back
                del sys.modules[name]
    sys.modules.update(displaced)


def import_used(parts: tuple[str, ...], where: str) -> Any:
    """`use a.b.c` as `from a.b import c` does it: attribute first, else submodule.

    Any failure (a missing module, a syntax error in it, an exception while it
    runs) is a `HandlerImportError` naming the module and `where` it is used.
    """
    try:
        if len(parts) == 1:
            return importlib.import_module(parts[0])
        package = importlib.import_module(".".join(parts[:-1]))
        try:
            return getattr(package, parts[-1])
        except AttributeError:
            return importlib.import_module(".".join(parts))
    except Exception as exc:  # noqa: BLE001 - the user's module: report, never crash
        detail = str(exc) if isinstance(exc, ImportError) else f"{type(exc).__name__}: {exc}"
        raise HandlerImportError(f"cannot import '{'.'.join(parts)}' (used at {where}): {detail}") from exc


def _defines(folder: Path, top: str) -> bool:
    return (folder / f"{top}.py").is_file() or (folder / top).is_dir()


def _family(top: str) -> list[str]:
    return [name for name in list(sys.modules) if name == top or name.startswith(f"{top}.")]


def _lives_in(module: ModuleType, folder: Path) -> bool:
    spec = getattr(module, "__spec__", None)
    if spec is None:
        return False
    if spec.submodule_search_locations:
        return any(Path(place).parent == folder for place in spec.submodule_search_locations)
    return spec.origin is not None and Path(spec.origin).parent == folder
