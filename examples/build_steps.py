"""CI steps for pipeline_dag.wf: each takes a while on the runtime's clock and logs
when it starts and ends, so the order the dataflow block gives can be seen."""

from __future__ import annotations

from typing import Any

from wfc.runtime import current

TIMELINE: list[tuple[float, str]] = []
SECONDS = {"checkout": 1.0, "build": 3.0, "test": 4.0, "document": 2.0, "publish": 1.0}


async def _work(name: str, result):
    clock = current().clock
    TIMELINE.append((clock.now(), f"start {name}"))
    await clock.sleep(SECONDS[name])
    TIMELINE.append((clock.now(), f"end {name}"))
    return result


async def checkout(commit: str) -> str:
    return await _work("checkout", f"src@{commit}")


async def build(source: str) -> str:
    return await _work("build", f"{source}.whl")


async def test(artifact: str) -> dict[str, Any]:
    return await _work("test", {"passed": 120, "failed": 0})


async def document(source: str) -> str:
    return await _work("document", f"{source}/docs")


async def publish(artifact: str, tested: dict[str, Any], docs: str) -> str:
    return await _work("publish", f"https://packages.example/{artifact}")
