"""Route selection that both backends share."""

from __future__ import annotations

from collections.abc import Sequence

from ._runtime import Runtime


def pick_weighted(rt: Runtime, weights: Sequence[float]) -> int | None:
    """The index of one route, drawn with probability weight/total; None if none match.

    A route that did not match has weight 0. One draw from the runtime's random
    source per call, so a seeded runtime picks the same routes every run.
    """
    total = sum(weights)
    if total <= 0:
        return None
    point = rt.random.random() * total
    chosen = None
    for index, weight in enumerate(weights):
        if weight > 0:
            chosen = index
            point -= weight
            if point < 0:
                break
    return chosen
