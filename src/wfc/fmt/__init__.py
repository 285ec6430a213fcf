"""`wfc fmt`: the canonical layout of wf source, keeping its comments."""

from .printer import format_source

__all__ = ["format_source"]
