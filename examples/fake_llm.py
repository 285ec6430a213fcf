"""A stand-in for an LLM client: deterministic, offline, and async like a real one."""

from __future__ import annotations

import asyncio

calls: list[str] = []


async def chat(prompt: str) -> str:
    """Answer with the first sentence of the text after the prompt's first line."""
    calls.append(prompt)
    await asyncio.sleep(0)  # a real client would await the network here
    instruction, _, body = prompt.partition("\n")
    if "bullets" in instruction:
        return "\n".join(f"- {sentence.strip()}" for sentence in body.split(".") if sentence.strip())
    first = body.split(".")[0].strip()
    return f"{first}." if first else ""
