"""Importing generated Python text as a module, without writing it anywhere.

A module of its own because `importlib.abc` costs milliseconds to import, and only
the compiled backend needs it: `wfc check` and the interpreter start without it.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from types import ModuleType


class _GeneratedLoader(importlib.abc.SourceLoader):
    """Imports generated text without writing it anywhere (no bytecode cache)."""

    def __init__(self, text: str, filename: str) -> None:
        self._text = text
        self._filename = filename

    def get_filename(self, fullname: str) -> str:
        return self._filename

    def get_data(self, path: str) -> bytes:
        return self._text.encode("utf-8")


def import_text(text: str, name: str, filename: str, *, register: bool = False) -> ModuleType:
    """The module `name` run from `text`, which tracebacks show as `filename`;
    `register` also puts it in `sys.modules` (for importers that look it up by name)."""
    loader = _GeneratedLoader(text, filename)
    spec = importlib.util.spec_from_loader(name, loader, origin=filename)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    if register:
        sys.modules[name] = module
    loader.exec_module(module)
    return module
