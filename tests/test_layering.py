"""The pipeline's folders only import downstream; the runtime only the stdlib."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import wfc.runtime
from conftest import ROOT

SRC = ROOT / "src" / "wfc"
# What each stage may import from wfc (besides itself): downstream stages only.
ALLOWED = {
    "grammar": set(),
    "syntax": {"diagnostics"},
    "check": {"syntax", "diagnostics", "runtime"},
    "codegen": {"check", "syntax", "diagnostics", "runtime"},  # the names generated code calls
    "fmt": {"syntax", "diagnostics"},
    "graph": {"fmt", "syntax", "diagnostics"},
    "interp": {"check", "syntax", "diagnostics", "runtime"},
    "importers": {"check", "fmt", "syntax"},  # writes wf text; the checker's names, the printer
    "runtime": set(),
}


def _wfc_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = path.relative_to(SRC).parts
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(package[: len(package) - node.level])
            target = base + (node.module.split(".") if node.module else [])
            if target:
                found.add(target[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wfc."):
            found.add(node.module.split(".")[1])
    return found


def test_stages_import_only_downstream() -> None:
    for stage, allowed in ALLOWED.items():
        for path in (SRC / stage).rglob("*.py"):
            extra = _wfc_imports(path) - allowed - {stage}
            assert not extra, f"{path.relative_to(SRC)} imports {extra} (a back edge)"


# Optional extras the runtime may import inside a function, when a user asks for them
# (RedisStore imports redis when one is made), never at module level.
LAZY_EXTRAS = {"redis"}


def test_runtime_imports_only_the_standard_library() -> None:
    for path in (SRC / "runtime").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        top_level = {id(node) for node in tree.body}
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            for name in names:
                top = name.split(".")[0]
                lazy_extra = top in LAZY_EXTRAS and id(node) not in top_level
                assert top in sys.stdlib_module_names or lazy_extra, f"{path.name} imports {name}"


def test_importing_the_runtime_loads_no_third_party_module() -> None:
    code = (
        "import sys, wfc.runtime; bad = [m for m in sys.modules if m.split('.')[0] in "
        "('lark', 'black', 'click')]; print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_runtime_public_surface_is_pinned() -> None:
    assert sorted(wfc.runtime.__all__) == sorted(
        [
            "ERROR_TYPES",
            "LEFT_OUT",
            "MAX_LIMIT",
            "SAGA",
            "STAGE",
            "WORKFLOW",
            "Lifecycle",
            "unmet",
            "matches",
            "regex",
            "sliced",
            "failure",
            "BranchesFailed",
            "attempt",
            "on_attempt",
            "Breaker",
            "Bulkhead",
            "CircuitOpen",
            "Compensation",
            "Clock",
            "Deadline",
            "Event",
            "Fallback",
            "Guard",
            "Idempotent",
            "Limit",
            "Machine",
            "Delay",
            "Invoke",
            "MemoryStore",
            "Observer",
            "RateLimited",
            "RealClock",
            "Retry",
            "Runtime",
            "Saga",
            "SagaFailed",
            "Store",
            "NotStorable",
            "RedisStore",
            "SqliteStore",
            "open_store",
            "ReplayRefused",
            "Run",
            "RunHeld",
            "RunUnfinished",
            "declare",
            "step_key",
            "step_keyed",
            "Timeout",
            "Transition",
            "ValidationError",
            "Value",
            "VirtualClock",
            "WorkflowError",
            "WorkflowFailed",
            "attr",
            "attr_or_null",
            "call",
            "chunks",
            "current",
            "error_fields",
            "format_seconds",
            "index",
            "isawaitable",
            "items",
            "join",
            "keys",
            "lower",
            "map_calls",
            "map_items",
            "parallel",
            "select",
            "pick_weighted",
            "split",
            "step",
            "strip",
            "unwind",
            "update",
            "upper",
            "values",
        ]
    )


def test_every_public_runtime_name_loads_from_its_home_module() -> None:
    """`wfc.runtime` loads its names on first use (`__getattr__`): the table it loads
    them by and the imports type checkers read must name the same homes."""
    tree = ast.parse((SRC / "runtime" / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If))
    typed = {alias.name: node.module for node in guarded.body for alias in node.names}
    assert typed == wfc.runtime._HOME_OF
    for name in wfc.runtime.__all__:
        value = getattr(wfc.runtime, name)
        home = wfc.runtime._HOME_OF.get(name)
        if home is not None:
            assert value is getattr(__import__(f"wfc.runtime.{home}", fromlist=["_"]), name)
    assert sorted(dir(wfc.runtime)) == sorted(wfc.runtime.__all__)


def _after_command(folder: Path, args: list[str], expression: str) -> str:
    """What `expression` prints in a fresh process after `wfc ARGS` ran there on a small file."""
    (folder / "small.wf").write_text('workflow main(name: str = "x") {\n    return f"hi {name}"\n}\n')
    code = (
        f"import sys\nfrom wfc.cli import main\ntry:\n    main({args!r})\n"
        "except SystemExit as end:\n    assert not end.code, end.code\n"
        f"print({expression})"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=folder)
    return out.stdout.strip().splitlines()[-1]


def test_checking_a_file_loads_neither_asyncio_nor_the_runtime_engine(tmp_path) -> None:
    """`wfc check` starts faster without them (bench/compiler.py, start-up rows)."""
    loaded = "sorted(m for m in sys.modules if m == 'asyncio' or m.startswith('wfc.runtime._'))"
    assert _after_command(tmp_path, ["check", "small.wf"], loaded) == str(sorted(
        ["wfc.runtime._bounds", "wfc.runtime._chart", "wfc.runtime._errors", "wfc.runtime._policies",
         "wfc.runtime._values"]))


def test_running_a_file_by_the_interpreter_loads_no_importlib_abc(tmp_path) -> None:
    """Only the compiled backend imports generated text (wfc/_generated.py); `wfc run`
    with the interpreter starts without `importlib.abc` and what it drags in."""
    loaded = "'importlib.abc' in sys.modules, 'wfc._generated' in sys.modules"
    assert _after_command(tmp_path, ["run", "small.wf", "main"], loaded) == "False False"


def test_no_eval_or_exec_in_the_compiler() -> None:
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("eval", "exec"), f"{path.name}:{node.lineno}"


def test_every_node_has_a_codegen_and_an_interpreter_method() -> None:
    from wfc.codegen.statements import StmtEmitter
    from wfc.interp.statements import Executor
    from wfc.syntax import ast as wf

    statements = wf.Stmt.__args__
    expressions = [c for c in wf.Expr.__args__ if c is not wf.Guarded]
    for cls in statements:
        assert hasattr(StmtEmitter, f"emit_{cls.__name__}"), cls
        assert hasattr(Executor, f"compile_{cls.__name__}"), cls
    for cls in expressions:
        assert hasattr(StmtEmitter, f"emit_{cls.__name__}"), cls
        assert hasattr(Executor, f"compile_{cls.__name__}"), cls


def test_only_wfc_temporal_imports_temporalio() -> None:
    """The Temporal SDK is an optional extra: one module of wfc imports it."""
    importers = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "temporalio" for name in names):
                importers.add(path.relative_to(SRC).as_posix())
    assert importers == {"temporal.py"}
