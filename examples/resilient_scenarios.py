"""Two scenarios for resilient_api.wf on a virtual clock (no real waiting).

    python3 examples/resilient_scenarios.py [--backend interp|compiled]

1. A flaky service fails 80% of calls; `patient_forecast` retries with backoff.
2. The service goes down: the breaker opens, callers get the cached forecast at
   once, and when the service is back the breaker half-opens and closes.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import weather_api  # noqa: E402

import wfc  # noqa: E402
from wfc.runtime import Runtime, VirtualClock  # noqa: E402


def flaky_service(backend: str = "compiled", cities: int = 20) -> dict[str, Any]:
    """Scenario 1: how many forecasts get through a service failing 80% of calls."""
    module = wfc.load(HERE / "resilient_api.wf", backend=backend)
    weather_api.configure(failure_rate=0.8, seed=7)
    rt = Runtime(clock=VirtualClock(), seed=7)
    retries = []
    rt.observe(lambda event: event.kind == "retry" and retries.append(event))

    async def main() -> tuple[int, int]:
        answered = failed = 0
        with rt.activate():
            for number in range(cities):
                try:
                    await module.patient_forecast(f"city{number}")
                    answered += 1
                except ConnectionError:
                    failed += 1
        return answered, failed

    answered, failed = asyncio.run(main())
    return {"answered": answered, "failed": failed, "calls": len(weather_api.calls),
            "retries": len(retries), "virtual_seconds": round(rt.clock.now(), 3)}


def breaker_recovers(backend: str = "compiled") -> list[tuple[float, str, str]]:
    """Scenario 2: the timeline of one breaker through an outage and a recovery."""
    module = wfc.load(HERE / "resilient_api.wf", backend=backend)
    weather_api.configure()
    rt = Runtime(clock=VirtualClock(), seed=7)
    timeline: list[tuple[float, str, str]] = []
    rt.observe(lambda e: e.kind.startswith(("breaker", "fallback")) and
               timeline.append((round(rt.clock.now(), 3), e.kind, e.name)))

    async def ask(note: str) -> None:
        report = await module.forecast("Oslo")
        timeline.append((round(rt.clock.now(), 3), f"{note}: {report['source']}", report["summary"]))

    async def main() -> None:
        with rt.activate():
            await ask("before the outage")
            weather_api.Faults.down = True
            await ask("outage begins")  # retries fail, the breaker opens, the cache answers
            await ask("during the outage")  # rejected at once, no call made
            await rt.clock.sleep(30)
            weather_api.Faults.down = False
            await ask("service back")  # half-open probe succeeds
            await ask("second success")  # closes the breaker

    asyncio.run(main())
    return timeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["interp", "compiled"], default="compiled")
    backend = parser.parse_args().backend
    print("1. a service failing 80% of calls, under retry(attempts: 10):")
    for key, value in flaky_service(backend).items():
        print(f"   {key}: {value}")
    print("2. a breaker that opens and recovers:")
    for at, what, detail in breaker_recovers(backend):
        print(f"   t={at:>7}s  {what:<28} {detail}")


if __name__ == "__main__":
    main()
