"""Benchmark: per-call overhead of retry, breaker and limit on the success path.

    python bench/policies.py [--calls N] [--rounds R]

Everyone wraps the same trivial async handler. A peer's overhead is its time
per call minus a bare `await` of the handler; wfc's is a compiled workflow
with the policy minus the same workflow without it. Hand-written inline
versions (what a careful developer writes in place) are measured the same way.
Rounds are interleaved so machine noise hits every contender alike. Needs the
peers: `pip install -e '.[bench]'`.
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
from pipeline import measure  # noqa: E402  (the same interleaved rounds as the pipeline bench)

import wfc  # noqa: E402
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
    failures = 0
    opened_at = 0.0


async def inline_breaker(x, state=_BreakerState, monotonic=time.monotonic):
    """A hand-written closed/open breaker (no half-open bookkeeping), in place."""
    if state.failures >= 5 and monotonic() - state.opened_at < 30:
        raise RuntimeError("open")
    try:
        result = await h.work(x)
    except Exception:
        state.failures += 1
        state.opened_at = monotonic()
        raise
    state.failures = 0
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    wf_file = HERE / "policies.wf"
    wf_file.write_text(SOURCE, encoding="utf-8")
    compiled = wfc.load(wf_file, backend="compiled")
    contenders = {
        "bare await": bare_await, "hand inline retry": inline_retry,
        "hand inline breaker": inline_breaker, "hand inline limit": inline_limit, **peers(),
        "wfc workflow, no policy": compiled.bare, "wfc retry": compiled.retried,
        "wfc breaker": compiled.broken, "wfc limit": compiled.limited,
        "wfc retry+breaker+limit+timeout": compiled.all_four,
    }
    with Runtime().activate():
        results = asyncio.run(measure(contenders, args.calls, args.rounds))
    bare, workflow = results["bare await"], results["wfc workflow, no policy"]
    overhead = {name: seconds - (workflow if name.startswith("wfc ") else bare)
                for name, seconds in results.items()}
    print(f"policy overhead per call on the success path, {args.calls} calls x {args.rounds} rounds")
    print(f"  bare await {bare * 1e9:7.0f} ns; a wfc workflow without policies {workflow * 1e9:7.0f} ns")
    for name in results:
        if name not in ("bare await", "wfc workflow, no policy"):
            print(f"  {name:32} {overhead[name] * 1e9:9.0f} ns overhead")
    print("ratios (overhead; lower is better for wfc):")
    for kind, peer, hand in (("retry", "tenacity retry", "hand inline retry"),
                             ("breaker", "purgatory breaker", "hand inline breaker"),
                             ("limit", "aiolimiter limit", "hand inline limit")):
        ours = max(overhead[f"wfc {kind}"], 1e-12)
        print(f"  {kind:8} {peer} / wfc = {overhead[peer] / ours:6.1f}x   "
              f"wfc / hand inline = {ours / max(overhead[hand], 1e-12):6.1f}x   "
              f"total per call: wfc {results[f'wfc {kind}'] * 1e9:5.0f} ns "
              f"vs hand {(results[hand] + workflow - bare) * 1e9:5.0f} ns in a workflow")
    print("targets: peer / wfc >= 10x; wfc within 2x of hand-written")


if __name__ == "__main__":
    main()
