"""The handlers of the pipeline benchmark: ten small async stages."""

from __future__ import annotations


async def parse(x):
    return {"n": x, "text": str(x)}


async def validate(doc):
    return doc


async def enrich(doc):
    doc["len"] = len(doc["text"])
    return doc


async def score(doc):
    doc["score"] = doc["n"] * 2
    return doc


async def tag(doc):
    doc["tag"] = "even" if doc["n"] % 2 == 0 else "odd"
    return doc


async def dedupe(doc):
    return doc


async def rank(doc):
    doc["rank"] = doc["score"] + doc["len"]
    return doc


async def format_(doc):
    return doc


async def store(doc):
    return doc


async def notify(doc):
    return doc["rank"]


async def work(x):
    """The trivial handler of bench/policies.py."""
    return x


async def tick(x):
    """The durable benchmark's step: as small as a step gets."""
    return x + 1


async def ship(x):
    """The saga benchmark's last step: refuses negative values, so the saga unwinds."""
    if x < 0:
        raise ValueError("cannot ship")
    return x
