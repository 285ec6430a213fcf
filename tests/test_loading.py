"""`use` resolves relative to the `.wf` file first, then on `sys.path`, on both backends."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from test_cli import write
from wfc.api import load

FLOW = "use handlers\nuse pkg.sub as sub\nworkflow who() { return [handlers.who(), sub.who()] }\n"


def make_folder(root: Path, label: str) -> Path:
    folder = root / label
    (folder / "pkg").mkdir(parents=True)
    write(folder / "handlers.py", f"def who():\n    return 'handlers of {label}'\n")
    write(folder / "pkg" / "__init__.py", "")
    write(folder / "pkg" / "sub.py", f"def who():\n    return 'pkg.sub of {label}'\n")
    write(folder / "flow.wf", FLOW)
    return folder


@pytest.fixture
def clean_modules():
    """Forget `handlers` and `pkg` before and after, as a fresh process would."""
    def forget() -> None:
        for name in [n for n in sys.modules if n in ("handlers", "pkg") or n.startswith("pkg.")]:
            del sys.modules[name]
    forget()
    saved_path = list(sys.path)
    yield
    forget()
    sys.path[:] = saved_path


def who(module) -> list[str]:
    return asyncio.run(module.who())


@pytest.mark.parametrize("first, second", [("interp", "compiled"), ("compiled", "interp"),
                                           ("interp", "interp"), ("compiled", "compiled")])
def test_each_folder_gets_its_own_handler_modules(tmp_path, clean_modules, first, second) -> None:
    a, b = make_folder(tmp_path, "a"), make_folder(tmp_path, "b")
    module_a = load(a / "flow.wf", backend=first)
    module_b = load(b / "flow.wf", backend=second)
    assert who(module_a) == ["handlers of a", "pkg.sub of a"]
    assert who(module_b) == ["handlers of b", "pkg.sub of b"]
    # the first file to use a name keeps it in sys.modules, as a plain import would
    assert sys.modules["handlers"].who() == "handlers of a"
    assert who(load(a / "flow.wf", backend=second)) == ["handlers of a", "pkg.sub of a"]
    assert who(load(b / "flow.wf", backend=first)) == ["handlers of b", "pkg.sub of b"]


def test_a_module_not_in_the_folder_comes_from_sys_path(tmp_path, clean_modules) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    write(shared / "handlers.py", "def who():\n    return 'shared handlers'\n")
    flow = write(tmp_path / "flow.wf", "use handlers\nworkflow who() { return handlers.who() }\n")
    sys.path.insert(0, str(shared))
    for backend in ("interp", "compiled"):
        assert asyncio.run(load(flow, backend=backend).who()) == "shared handlers"


def test_the_folder_wins_over_an_earlier_sys_path_entry(tmp_path, clean_modules) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    write(shared / "handlers.py", "def who():\n    return 'shared handlers'\n")
    a = make_folder(tmp_path, "a")
    sys.path.insert(0, str(shared))
    import handlers  # noqa: F401 - the application imported the shared one first

    for backend in ("interp", "compiled"):
        assert who(load(a / "flow.wf", backend=backend)) == ["handlers of a", "pkg.sub of a"]
    assert sys.modules["handlers"].who() == "shared handlers"
