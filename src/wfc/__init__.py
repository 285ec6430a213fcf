"""wfc: the wf workflow language, compiled to asyncio Python or interpreted.

The compiler API is imported lazily, so that `import wfc.runtime` (what
generated code does) loads no third-party module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["CompileError", "compile_file", "compile_source", "load", "__version__"]

if TYPE_CHECKING:
    from .api import compile_file, compile_source, load
    from .diagnostics import CompileError


def __getattr__(name: str) -> Any:
    if name in ("compile_file", "compile_source", "load"):
        from . import api

        return getattr(api, name)
    if name == "CompileError":
        from .diagnostics import CompileError

        return CompileError
    raise AttributeError(f"module 'wfc' has no attribute {name!r}")
