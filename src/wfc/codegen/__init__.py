"""Code generation: a checked AST -> readable, black-formatted asyncio Python."""

from .module import format_python, generate

__all__ = ["format_python", "generate"]
