"""Plain text helpers used by summary.wf (sync handlers: wf calls them as they are)."""

from __future__ import annotations


def normalize(text: str) -> str:
    """Collapse runs of white space and strip the ends."""
    return " ".join(text.split())


def truncate(text: str, max_words: int) -> str:
    """At most `max_words` words of `text`."""
    words = text.split()
    return text if len(words) <= max_words else " ".join(words[:max_words])
