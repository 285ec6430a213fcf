"""MkDocs hook: the diagnostic pages ship in the package (src/wfc/errors, shown by
`wfc explain`); the site takes them from there, with an index, instead of a copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ERRORS = Path(__file__).resolve().parent.parent / "src" / "wfc" / "errors"


def on_files(files: Files, config: Any) -> Files:
    lines = ["# Errors, warnings and hints", "",
             "Every diagnostic `wfc check` reports has a code; `wfc explain CODE` prints its page.", "",
             "| Code | What it says |", "| --- | --- |"]
    for page in sorted(ERRORS.glob("*.md")):
        title = page.read_text(encoding="utf-8").split("\n", 1)[0].removeprefix("# ")
        code, _, what = title.partition(": ")
        lines.append(f"| [{code}]({page.name}) | {what} |")
        files.append(File.generated(config, f"errors/{page.name}", abs_src_path=str(page)))
    files.append(File.generated(config, "errors/index.md", content="\n".join(lines) + "\n"))
    return files
