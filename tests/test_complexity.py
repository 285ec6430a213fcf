"""No function in src/ is more complex than a reader can follow: cyclomatic complexity
(as radon counts it) at most 15, unless its docstring says why it must be more."""

from __future__ import annotations

from pathlib import Path

from radon.complexity import cc_visit

SRC = Path(__file__).resolve().parent.parent / "src" / "wfc"
LIMIT = 15


def test_no_function_above_the_limit_without_a_reason() -> None:
    too_complex = []
    for path in sorted(SRC.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for block in cc_visit(source):
            for function in [block, *getattr(block, "methods", [])]:
                if function.complexity <= LIMIT:
                    continue
                body = "\n".join(lines[function.lineno - 1:function.endline])
                if "complexity" not in body.split('"""')[1 if '"""' in body else 0]:
                    too_complex.append(f"{path.relative_to(SRC)}:{function.lineno} "
                                       f"{function.name} ({function.complexity})")
    assert too_complex == []


def test_the_hot_path_says_why_it_is_complex() -> None:
    from wfc.runtime._guard import Guard

    assert "complexity" in (Guard._attempt.__doc__ or "")
