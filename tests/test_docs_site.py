"""The documentation site (docs/, mkdocs.yml): every wf block in it is checked, every
cookbook recipe runs on both backends and gives what the page says, and the site builds
with `mkdocs build --strict`, wf blocks highlighted by wfc's own lexer."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BACKENDS, ROOT, require_module
from wfc.api import analyze, load_source
from wfc.cli import _arguments
from wfc.runtime import Runtime, VirtualClock

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))
COOKBOOK = (DOCS / "cookbook.md").read_text(encoding="utf-8")
RUN = re.compile(r"Run: `wfc run (\S+) (\w+)([^`]*)` returns `([^`]+)`\.")


def wf_blocks(text: str) -> list[str]:
    return re.findall(r"```wf\n(.*?)```", text, re.S)


def files(text: str) -> dict[str, str]:
    """The blocks that start with `# file: NAME`, by name."""
    return {match[1]: match[0] for match in re.findall(r"```\w+\n(# file: (\S+)\n.*?)```", text, re.S)}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_wf_block_checks_clean(page: Path) -> None:
    blocks = wf_blocks(page.read_text(encoding="utf-8"))
    for number, block in enumerate(blocks):
        analyze(block, f"{page.stem}-{number}.wf")  # raises CompileError on any error


RECIPES = RUN.findall(COOKBOOK)


def test_the_cookbook_has_every_pattern() -> None:
    for pattern in ("Pipeline", "Conditional branch and multi-level routing", "Loops", "Fan-out and fan-in",
                    "Saga", "State machine", "Circuit breaker", "Rate limiting, four ways",
                    "Retry with backoff and jitter", "Idempotency", "Timeouts and fallback",
                    "Publish and subscribe"):
        assert f"\n## {pattern}\n" in COOKBOOK
    assert len(RECIPES) == 12


@pytest.fixture
def kitchen(tmp_path, monkeypatch):
    (tmp_path / "kitchen.py").write_text(files(COOKBOOK)["kitchen.py"], encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    sys.modules.pop("kitchen", None)
    yield
    sys.modules.pop("kitchen", None)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("recipe", RECIPES, ids=lambda recipe: recipe[0])
def test_each_recipe_gives_what_the_page_says(kitchen, recipe, backend) -> None:
    file, name, args, expected = recipe
    module = load_source(files(COOKBOOK)[file], file, backend=backend)
    pairs = shlex.split(args)
    kwargs = _arguments(tuple(value for option, value in zip(pairs[::2], pairs[1::2]) if option == "--arg"), None)
    rt = Runtime(clock=VirtualClock(), seed=1)

    async def main():
        with rt.activate():
            return await getattr(module, name)(**kwargs)

    assert json.loads(json.dumps(asyncio.run(main()))) == json.loads(expected)


def test_the_site_builds_strictly_with_wf_highlighted(tmp_path) -> None:
    require_module("mkdocs", "the docs extra: python -m pip install -e '.[docs]'")
    site = tmp_path / "site"
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                           env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    # (not -q: it hides the warnings that --strict counts)
    assert built.returncode == 0, built.stdout + built.stderr
    cookbook = (site / "cookbook" / "index.html").read_text(encoding="utf-8")
    assert "<span class=\"kd\">workflow</span>" in cookbook  # wfc's Pygments lexer, by its `wf` alias
    errors = (site / "errors" / "index.html").read_text(encoding="utf-8")
    assert "E0101" in errors and (site / "errors" / "E0101" / "index.html").is_file()
    assert "wfc explain" in (site / "cli" / "index.html").read_text(encoding="utf-8")
    assert "trace_runtime" in (site / "api" / "index.html").read_text(encoding="utf-8")
