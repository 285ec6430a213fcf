"""Benchmark: per-call overhead of retry, breaker and limit on the success path.

    python bench/policies.py [--calls N] [--rounds R]      (peers: pip install -e '.[bench]')

Everyone wraps the same trivial async handler. A peer's overhead is its time per
call minus a bare `await` of the handler; wfc's is a compiled workflow with the
policy minus the same workflow without it; hand-written inline versions (what a
careful developer writes in place) are measured like the peers. Every overhead
is a difference taken inside one round, and every ratio a ratio of two such
differences in the same round (bench/harness.py); a ratio whose denominator is
not positive in a round is reported as not measurable, never clamped.
Targets: breaker overhead <= 3x the hand-written closed/open/half-open breaker's,
and purgatory's >= 5x wfc's; aiolimiter's >= 2x wfc's limiter; wfc's retry costs
at most 50 ns more than the inline loop.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_handlers as h  # noqa: E402
from harness import Row, async_timer, interleaved, per_round_overhead, print_rows  # noqa: E402

from wfc.api import load_source  # noqa: E402
from wfc.runtime import Runtime  # noqa: E402

SOURCE = """use bench_handlers as h

workflow bare(x) {
    return h.work(x)
}
workflow retried(x) {
    return h.work(x) with retry(attempts: 3, delay: 100ms)
}
workflow broken(x) {
    return h.work(x) with breaker(failures: 5, reset: 30s)
}
workflow limited(x) {
    return h.work(x) with limit(rate: 1000000/s, burst: 1000000)
}
workflow all_four(x) {
    return h.work(x) with retry(attempts: 3, delay: 100ms), breaker(failures: 5, reset: 30s), limit(rate: 1000000/s, burst: 1000000), timeout(10s)
}
"""


def peers() -> dict:
    """The peer libraries' wrappers around `h.work`, or {} with a note if one is missing."""
    try:
        import aiolimiter
        import purgatory
        import tenacity
    except ImportError as missing:
        sys.exit(f"bench/policies.py needs the peers: pip install -e '.[bench]' ({missing})")

    @tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_fixed(0.1))
    async def tenacity_retry(x):
        return await h.work(x)

    breakers = purgatory.AsyncCircuitBreakerFactory(default_threshold=5, default_ttl=30)

    @breakers("bench")
    async def purgatory_breaker(x):
        return await h.work(x)

    limiter = aiolimiter.AsyncLimiter(1_000_000_000, 1)

    async def aiolimiter_limit(x):
        async with limiter:
            return await h.work(x)

    return {"tenacity retry": tenacity_retry, "purgatory breaker": purgatory_breaker,
            "aiolimiter limit": aiolimiter_limit}


async def bare_await(x):
    return await h.work(x)


async def inline_retry(x):
    """A careful hand-written retry loop, in place."""
    for attempt in range(3):
        try:
            return await h.work(x)
        except Exception:
            if attempt == 2:
                raise
            await asyncio.sleep(0.1)


class _BreakerState:
    state = "closed"  # closed, open or half-open
    failures = 0
    opened_at = 0.0


async def inline_breaker(x, breaker=_BreakerState, monotonic=time.monotonic):
    """A hand-written closed/open/half-open breaker, in place: after `reset` one trial
    call is let through; its success closes the breaker, its failure opens it again."""
    if breaker.state != "closed":
        if breaker.state == "half-open" or monotonic() - breaker.opened_at < 30:
            raise RuntimeError("open")
        breaker.state = "half-open"
    try:
        result = await h.work(x)
    except Exception:
        breaker.failures += 1
        if breaker.state == "half-open" or breaker.failures >= 5:
            breaker.state, breaker.opened_at = "open", monotonic()
        raise
    breaker.failures = 0
    breaker.state = "closed"
    return result


class _Bucket:
    tokens = 1e9
    last = 0.0


async def inline_limit(x, bucket=_Bucket, monotonic=time.monotonic):
    """A hand-written token bucket, in place."""
    now = monotonic()
    bucket.tokens = min(1e9, bucket.tokens + (now - bucket.last) * 1e9)
    bucket.last = now
    if bucket.tokens < 1:
        await asyncio.sleep((1 - bucket.tokens) / 1e9)
    bucket.tokens -= 1
    return await h.work(x)


def _ratio_of_overheads(samples: dict, top: tuple[str, str], bottom: tuple[str, str]) -> list[float]:
    """Per round: (top - its base) / (bottom - its base); NaN where the denominator is not positive."""
    tops, bottoms = per_round_overhead(samples, *top), per_round_overhead(samples, *bottom)
    return [a / b if b > 0 else float("nan") for a, b in zip(tops, bottoms)]


def rows(calls: int = 20_000, rounds: int = 9) -> list[Row]:
    compiled = load_source(SOURCE, "policies_bench.wf", backend="compiled")
    contenders = {
        "bare await": bare_await, "hand inline retry": inline_retry,
        "hand inline breaker": inline_breaker, "hand inline limit": inline_limit, **peers(),
        "wfc bare": compiled.bare, "wfc retry": compiled.retried,
        "wfc breaker": compiled.broken, "wfc limit": compiled.limited, "wfc all four": compiled.all_four,
    }
    loop = asyncio.new_event_loop()
    try:
        with Runtime().activate():
            samples = interleaved({name: async_timer(loop, fn, calls) for name, fn in contenders.items()}, rounds)
    finally:
        loop.close()
    wfc = {kind: ("wfc " + kind, "wfc bare") for kind in ("retry", "breaker", "limit", "all four")}
    hand = {kind: (f"hand inline {kind}", "bare await") for kind in ("retry", "breaker", "limit")}
    retry_extra = [(a - b) * 1e9 for a, b in zip(per_round_overhead(samples, *wfc["retry"]),
                                                 per_round_overhead(samples, *hand["retry"]))]
    return [
        Row("retry: wfc overhead beyond the inline loop's", retry_extra, unit=" ns", at_most=50),
        Row("breaker: wfc overhead / hand-written breaker's",
            _ratio_of_overheads(samples, wfc["breaker"], hand["breaker"]), at_most=3),
        Row("breaker: purgatory overhead / wfc's",
            _ratio_of_overheads(samples, ("purgatory breaker", "bare await"), wfc["breaker"]), at_least=5),
        Row("limit: aiolimiter overhead / wfc's",
            _ratio_of_overheads(samples, ("aiolimiter limit", "bare await"), wfc["limit"]), at_least=2),
        Row("limit: wfc overhead / hand-written token bucket's",
            _ratio_of_overheads(samples, wfc["limit"], hand["limit"])),
        Row("retry: tenacity overhead / wfc's",
            _ratio_of_overheads(samples, ("tenacity retry", "bare await"), wfc["retry"])),
        Row("retry+breaker+limit+timeout: wfc overhead",
            [value * 1e9 for value in per_round_overhead(samples, *wfc["all four"])], unit=" ns"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print_rows(f"policy overhead per call on the success path, {args.calls} calls x {args.rounds} rounds",
               rows(args.calls, args.rounds))


if __name__ == "__main__":
    main()
