"""The Python API: parse, stop on errors, check, stop, then emit or run."""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from . import __version__
from .check import Checked, check
from .diagnostics import CompileError, has_errors
from .loading import folder_modules, import_used
from .syntax.ast import Use
from .syntax.parser import parse


def analyze(source: str, filename: str = "<string>") -> Checked:
    """Parse and check `source`; raise `CompileError` if it has errors."""
    module, diagnostics = parse(source)
    if module is None:
        raise CompileError(diagnostics, filename)
    resolution, diagnostics = check(module, filename)
    if has_errors(diagnostics):
        raise CompileError(diagnostics, filename)
    return Checked(module, resolution, source, tuple(diagnostics))


def format_text(source: str, filename: str = "<string>") -> str:
    """The canonical layout of `source` (syntax errors raise `CompileError`).

    Like black's `assert_equivalent`, the result is parsed again and must give
    the same AST, so formatting can never change what a program means.
    """
    from .fmt import format_source
    from .syntax.ast import dump

    module, diagnostics = parse(source)
    if module is None:
        raise CompileError(diagnostics, filename)
    formatted = format_source(source, module)
    again, _ = parse(formatted)
    if again is None or dump(again) != dump(module):
        raise AssertionError(f"wfc fmt would change the meaning of {filename}; please report this")
    return formatted


def compile_source(source: str, filename: str = "<string>") -> str:
    """The text of the Python module generated from `source`."""
    return _generate(analyze(source, filename))


def _generate(checked: Checked) -> str:
    from .codegen import generate

    return generate(checked.module, checked.resolution, checked.source, __version__)


def output_path(path: Path) -> Path:
    """Where `wfc compile` writes by default: `order.wf` -> `order_wf.py`."""
    return path.with_name(f"{path.stem}_wf.py")


def compile_file(path: str | Path, output: str | Path | None = None) -> Path:
    """Compile the `.wf` file at `path`; write `<stem>_wf.py` beside it (or `output`)."""
    path = Path(path)
    target = Path(output) if output is not None else output_path(path)
    text = compile_source(read_source(path), path.name)
    target.write_text(text, encoding="utf-8")
    return target


def read_source(path: Path) -> str:
    """A source file's text: UTF-8 (a BOM is allowed), newlines normalised."""
    data = path.read_bytes()
    return data.decode("utf-8-sig").replace("\r\n", "\n")


def load(path: str | Path, backend: str = "interp", *, add_to_path: bool = True) -> ModuleType:
    """Load a `.wf` file: run by the interpreter, or compiled and imported.

    Both backends expose the same names. `use` finds handler modules in the
    file's folder first, then on `sys.path`; the folder also stays on
    `sys.path` (as running a script does) so handlers can import their siblings.
    """
    path = Path(path).resolve()
    source = read_source(path)
    if add_to_path and str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    return _build(source, path, backend, path.parent)


def _build(source: str, path: Path, backend: str, folder: Path | None) -> ModuleType:
    if backend not in ("interp", "compiled"):
        raise ValueError(f"unknown backend {backend!r}; expected 'interp' or 'compiled'")
    checked = analyze(source, path.name)
    uses = [decl for decl in checked.module.decls if isinstance(decl, Use)]
    with folder_modules(folder, (use.path.parts[0] for use in uses)):
        used = {use.bound: import_used(use.path.parts, f"{path.name}:{use.path.span.line}:{use.path.span.column}")
                for use in uses}
        if backend == "compiled":
            return _import_generated(_generate(checked), path)
    from .interp import instantiate

    return instantiate(checked, path, used)


class _GeneratedLoader(importlib.abc.SourceLoader):
    """Imports generated text without writing it anywhere (no bytecode cache)."""

    def __init__(self, text: str, filename: str) -> None:
        self._text = text
        self._filename = filename

    def get_filename(self, fullname: str) -> str:
        return self._filename

    def get_data(self, path: str) -> bytes:
        return self._text.encode("utf-8")


def _import_generated(text: str, path: Path) -> ModuleType:
    name = f"{path.stem}_wf"
    filename = str(output_path(path))
    loader = _GeneratedLoader(text, filename)
    spec = importlib.util.spec_from_loader(name, loader, origin=filename)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def load_source(source: str, filename: str, backend: str = "interp") -> Any:
    """Like `load`, for source text that is not in a file (tests, tools):
    `use` finds handler modules on `sys.path` only."""
    return _build(source, Path(filename), backend, None)
