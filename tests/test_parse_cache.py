"""The parse cache (wfc/syntax/cache.py): what it gives back is what the parser gives,
a damaged or stale entry is a miss, and a command on an unchanged file skips lark."""

from __future__ import annotations

import marshal
import os
import subprocess
import sys
import zlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import EXAMPLES

from wfc.syntax import ast, cache
from wfc.syntax.ast import dump
from wfc.syntax.parser import parse

SMALL = 'workflow main(name: str = "world") {\n    return f"hello {name}"\n}\n'


@pytest.fixture
def folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("WFC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("WFC_NO_CACHE", raising=False)
    return tmp_path / "cache"


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.wfast")) if folder.exists() else []


# With the examples, a node of every class (the last test below checks that).
EVERY_OTHER_NODE = """machine m() {
    initial a
    state a {
        on go -> b do {
            send stop
        }
    }
    state b {
        on stop -> a
    }
}

workflow w(xs) {
    n = 0
    while n < 3 max 10 {
        n = n + 1
        if n == 2 {
            continue
        }
        break
    }
    repeat max 3 {
        n = n - 1
    } until n <= 0
    wait 1s
    got = receive approve timeout 5s
    return [xs[0], xs[1:2], -n, got]
}
"""
SOURCES = {path.name: path.read_text(encoding="utf-8") for path in sorted(EXAMPLES.glob("*.wf"))}
SOURCES["every_other_node.wf"] = EVERY_OTHER_NODE


def test_the_sources_below_hold_a_node_of_every_class() -> None:
    kinds = {type(node) for source in SOURCES.values() for node in ast.walk(parse(source)[0])}
    assert kinds == set(cache._CLASSES.values())


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_an_entry_gives_back_the_tree_the_parser_built(source: str, folder: Path) -> None:
    parsed, _ = parse(source)
    missed, diagnostics = cache.parse(source)
    hit, again = cache.parse(source)
    assert diagnostics == again == [] and len(entries(folder)) == 1
    assert hit is not missed  # rebuilt from the entry, not kept in memory
    assert dump(hit, spans=True) == dump(missed, spans=True) == dump(parsed, spans=True)


def test_a_node_shared_by_two_parents_stays_one_node() -> None:
    span = ast.Span(0, 1, 1, 1, 1, 2)
    name = ast.Name(span=span, id="x")
    pair = ast.ListExpr(span=span, items=(name, name))
    rebuilt = cache.decode(marshal.loads(marshal.dumps(cache.encode(pair))))
    assert rebuilt.items[0] is rebuilt.items[1] and dump(rebuilt, spans=True) == dump(pair, spans=True)


def test_scalars_keep_their_types_and_values() -> None:
    huge = "1" + "0" * 30
    source = f'workflow main() {{\n    return [1, 1.0, -0.0, true, null, "\\u00e9", {huge}]\n}}\n'
    parsed, _ = parse(source)
    rebuilt = cache.decode(marshal.loads(marshal.dumps(cache.encode(parsed))))
    assert dump(rebuilt, spans=True) == dump(parsed, spans=True)

    def literals(tree: ast.Node) -> list[tuple[type, str]]:
        return [(type(node.value), repr(node.value)) for node in ast.walk(tree) if isinstance(node, ast.Literal)]

    assert literals(rebuilt) == literals(parsed) and len(literals(parsed)) == 7


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: b"not marshal at all",
        lambda data: b"",
        lambda data: marshal.dumps(("x", "y")),  # the wrong shape
    ],
    ids=["truncated", "garbage", "empty", "shape"],
)
def test_a_damaged_entry_is_a_miss_and_is_written_again(damage, folder: Path) -> None:
    module, _ = cache.parse(SMALL)
    [entry] = entries(folder)
    entry.write_bytes(damage(entry.read_bytes()))
    again, diagnostics = cache.parse(SMALL)
    assert diagnostics == [] and dump(again, spans=True) == dump(module, spans=True)
    assert marshal.loads(entry.read_bytes())[1] == SMALL  # the parser's answer is stored again


def test_a_tree_whose_bytes_changed_on_disk_is_not_used(folder: Path) -> None:
    module, _ = cache.parse(SMALL)
    [entry] = entries(folder)
    fingerprint, source, payload, checksum = marshal.loads(entry.read_bytes())
    damaged = payload.replace(b"hello ", b"HELLO ")  # still a valid tree: only the checksum can tell
    assert damaged != payload and "HELLO" in dump(cache.decode(marshal.loads(damaged)))
    entry.write_bytes(marshal.dumps((fingerprint, source, damaged, checksum)))
    again, _ = cache.parse(SMALL)
    assert dump(again, spans=True) == dump(module, spans=True)


def _entry_holding(folder: Path, tree: object) -> None:
    """Replace the one entry's tree by `tree`, with a valid checksum."""
    [entry] = entries(folder)
    fingerprint, source, _, _ = marshal.loads(entry.read_bytes())
    payload = marshal.dumps(tree)
    entry.write_bytes(marshal.dumps((fingerprint, source, payload, zlib.crc32(payload))))


SPAN = (0, 1, 1, 1, 1, 2)


@pytest.mark.parametrize(
    "tree",
    [
        ["Module", SPAN],  # a field missing
        ["Exec", SPAN, ()],  # no such node
        ["Module", [0, 1, 1, 1, 1, 2], ()],  # a span that is not six numbers
        ["Name", SPAN, "x"],  # a node, but not a module
        ["Module", SPAN, (compile("1", "<x>", "eval"),)],  # a code object
        ["Module", SPAN, ({"a": 1},)],  # a dict
    ],
    ids=["arity", "unknown", "span", "not-a-module", "code", "dict"],
)
def test_an_entry_is_rebuilt_only_from_the_encodings_own_shapes(tree, folder: Path) -> None:
    module, _ = cache.parse(SMALL)
    _entry_holding(folder, tree)
    again, _ = cache.parse(SMALL)
    assert dump(again, spans=True) == dump(module, spans=True)


def test_another_text_or_another_parser_never_reads_an_entry(folder: Path, monkeypatch) -> None:
    # Every text gets the same entry name, as two texts would by a checksum collision.
    monkeypatch.setattr(cache, "zlib", SimpleNamespace(crc32=lambda *args: 0, adler32=zlib.adler32))
    cache.parse(SMALL)
    module, _ = cache.parse(SMALL.replace("world", "earth"))
    assert module.decls[0].params[0].default.value == "earth" and len(entries(folder)) == 1
    stored, _ = cache.parse(SMALL.replace("world", "earth"))
    calls: list[str] = []
    real = cache._parse
    monkeypatch.setattr(cache, "_parse", lambda source: calls.append(source) or real(source))
    assert dump(cache.parse(SMALL.replace("world", "earth"))[0]) == dump(stored) and calls == []
    monkeypatch.setattr(cache, "parser_fingerprint", lambda: b"another parser")
    assert dump(cache.parse(SMALL.replace("world", "earth"))[0]) == dump(stored) and len(calls) == 1


def test_the_fingerprint_follows_the_parsers_files(tmp_path, monkeypatch) -> None:
    copy = tmp_path / "syntax"
    copy.mkdir()
    for path in cache._PARSER_FILES.iterdir():
        if path.suffix == ".py":
            (copy / path.name).write_bytes(path.read_bytes())
    (tmp_path / "grammar").mkdir()
    for name in ("grammar/wf.lark", "diagnostics.py", "__init__.py"):
        (tmp_path / name).write_bytes((cache._PARSER_FILES.parent / name).read_bytes())
    monkeypatch.setattr(cache, "_PARSER_FILES", copy)
    cache.parser_fingerprint.cache_clear()
    before = cache.parser_fingerprint()
    cache.parser_fingerprint.cache_clear()
    assert cache.parser_fingerprint() == before
    transform = copy / "transform.py"
    transform.write_bytes(transform.read_bytes().replace(b"def ", b"def  ", 1))
    cache.parser_fingerprint.cache_clear()
    try:
        assert cache.parser_fingerprint() != before
    finally:
        cache.parser_fingerprint.cache_clear()


def test_syntax_errors_are_not_cached_and_keep_their_diagnostics(folder: Path) -> None:
    broken = "workflow main( {\n}\n"
    first = cache.parse(broken)
    second = cache.parse(broken)
    assert first[0] is second[0] is None and first[1] == second[1] == parse(broken)[1]
    assert entries(folder) == []


def test_switched_off_or_unwritable_the_cache_changes_nothing(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WFC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("WFC_NO_CACHE", "1")
    assert cache.parse(SMALL)[0] is not None and not (tmp_path / "cache").exists()
    monkeypatch.delenv("WFC_NO_CACHE")
    blocker = tmp_path / "file"
    blocker.write_text("a file where the folder should be")
    monkeypatch.setenv("WFC_CACHE_DIR", str(blocker / "cache"))
    assert dump(cache.parse(SMALL)[0]) == dump(parse(SMALL)[0])
    assert blocker.read_text() == "a file where the folder should be"
    assert [path.name for path in tmp_path.iterdir()] == ["file"]  # no temporary file left


def test_the_default_folder_is_absolute_or_there_is_none(monkeypatch) -> None:
    monkeypatch.delenv("WFC_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/var/cache/me")
    assert cache.cache_folder() == Path("/var/cache/me/wfc")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/cache")  # the XDG rules: ignored
    monkeypatch.setenv("HOME", "/home/me")
    assert cache.cache_folder() == Path("/home/me/.cache/wfc")
    monkeypatch.setattr(cache.os.path, "expanduser", lambda path: path)  # no home at all
    assert cache.cache_folder() is None


def test_the_oldest_entries_go_past_the_limit(folder: Path, monkeypatch) -> None:
    monkeypatch.setattr(cache, "_KEEP", 4)
    for number in range(5):
        before = set(entries(folder))
        cache.parse(SMALL.replace("world", f"w{number}"))
        for new in set(entries(folder)) - before:
            os.utime(new, ns=(number * 10**9, number * 10**9))  # written a second apart
        if number == 3:  # and what a writer killed between its write and its rename left
            (folder / "00000000.wfast.1-ab.tmp").write_bytes(b"half an entry")
            os.utime(folder / "00000000.wfast.1-ab.tmp", ns=(0, 0))
    names = {marshal.loads(entry.read_bytes())[1] for entry in entries(folder)}
    assert names == {SMALL.replace("world", "w3"), SMALL.replace("world", "w4")}  # down to half the limit
    assert not list(folder.glob("*.tmp"))


def test_a_second_command_on_an_unchanged_file_imports_no_lark(tmp_path) -> None:
    (tmp_path / "small.wf").write_text(SMALL)
    env = {**os.environ, "WFC_CACHE_DIR": str(tmp_path / "cache")}
    env.pop("WFC_NO_CACHE", None)
    code = (
        "import sys\nfrom wfc.cli import main\ntry:\n    main(sys.argv[1:])\n"
        "except SystemExit as end:\n    assert not end.code, end.code\n"
        "print('lark' in sys.modules)"
    )

    def command(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                              cwd=tmp_path, env=env, check=True)
        return done.stdout.strip().splitlines()

    first = command("run", "small.wf", "main", "--arg", "name=cache")
    second = command("run", "small.wf", "main", "--arg", "name=cache")
    assert first == ['"hello cache"', "True"] and second == ['"hello cache"', "False"]
    assert command("check", "small.wf")[-1] == "False"
    (tmp_path / "small.wf").write_text(SMALL.replace("hello", "hi"))
    assert command("run", "small.wf", "main") == ['"hi world"', "True"]


def _check_in_a_fresh_process(tmp_path: Path, source: str = SMALL, **env_changes: str) -> None:
    (tmp_path / "small.wf").write_text(source)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "WFC_CACHE_DIR": str(tmp_path / "cache"), **env_changes}
    subprocess.run([sys.executable, "-m", "wfc", "check", "small.wf"], cwd=tmp_path, env=env, check=True,
                   capture_output=True)


def test_the_grammar_tables_are_kept_in_the_cache_folder_not_the_shared_temporary_one(tmp_path) -> None:
    # lark's default is a predictable name in the temporary folder, loaded with pickle:
    # whoever writes it first could run code as the next user.
    _check_in_a_fresh_process(tmp_path, WFC_NO_CACHE="")
    tables = list((tmp_path / "cache").glob("*.lark-tables"))
    assert len(tables) == 1 and tables[0].stat().st_size > 10_000
    assert list((tmp_path / "tmp").iterdir()) == []
    tables[0].write_bytes(b"not lark's")  # damaged: lark builds its tables again and rewrites them
    _check_in_a_fresh_process(tmp_path, SMALL.replace("hello", "hi"), WFC_NO_CACHE="")
    assert tables[0].stat().st_size > 10_000


def test_with_the_cache_off_the_grammar_tables_are_kept_nowhere(tmp_path) -> None:
    _check_in_a_fresh_process(tmp_path, WFC_NO_CACHE="1")
    assert not (tmp_path / "cache").exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_old_grammar_tables_are_pruned_with_the_entries(folder) -> None:
    folder.mkdir()
    (folder / "00000000.lark-tables").write_bytes(b"an older parser's")
    os.utime(folder / "00000000.lark-tables", ns=(0, 0))
    for number in range(cache._KEEP + 1):
        cache.parse(SMALL.replace("world", f"w{number}"))
    assert not (folder / "00000000.lark-tables").exists()


def test_a_cache_folder_that_is_a_file_leaves_the_grammar_tables_unkept_and_says_nothing(tmp_path) -> None:
    (tmp_path / "small.wf").write_text(SMALL)
    (tmp_path / "blocked").write_text("a file, not a folder")
    env = {**os.environ, "WFC_CACHE_DIR": str(tmp_path / "blocked"), "TMPDIR": str(tmp_path)}
    env.pop("WFC_NO_CACHE", None)
    done = subprocess.run([sys.executable, "-m", "wfc", "run", "small.wf", "main"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, '"hello world"\n', "")
    assert (tmp_path / "blocked").read_text() == "a file, not a folder"
