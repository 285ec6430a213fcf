"""`wfc run --store` and `wfc runs list|show|resume`, through the real command."""

from __future__ import annotations

from conftest import EXAMPLES
from test_cli import wfc
from test_durable import worker
from wfc.runtime import SqliteStore

ORDER = ["--arg", "product_id=P1", "--arg", "quantity=2", "--arg", "customer=Ann"]


def test_run_with_a_store_journals_and_one_run_id_is_one_run(tmp_path) -> None:
    store = str(tmp_path / "runs.db")
    first = wfc("run", str(EXAMPLES / "order_saga.wf"), "place_order", *ORDER, "--store", store,
                "--run-id", "order-1")
    assert first.returncode == 0, first.stderr
    assert '"order_id": "O-1"' in first.stdout and "run order-1" in first.stderr
    again = wfc("run", str(EXAMPLES / "order_saga.wf"), "place_order", "--arg", "product_id=P2",
                "--arg", "quantity=1", "--arg", "customer=Bo", "--store", store, "--run-id", "order-1",
                "--backend", "compiled")
    assert again.returncode == 0 and again.stdout == first.stdout  # the existing run's result
    listed = wfc("runs", "list", "--store", store)
    assert listed.stdout == "order-1\tcompleted\tplace_order\torder_saga.wf\n"
    shown = wfc("runs", "show", "order-1", "--store", store)
    lines = shown.stdout.splitlines()
    assert lines[0] == "run order-1: place_order of order_saga.wf (source " + lines[0].split("source ")[1]
    assert [line.split(":")[0].strip() for line in lines[2:6]] == ["step    order_saga.wf"] * 4
    assert "order_saga.wf:9:17#1: ok {\"hold_id\": \"H-P1-2\"}" in shown.stdout
    assert lines[-1].startswith("  completed: {")


def test_runs_resume_finishes_what_a_killed_process_left(tmp_path) -> None:
    code, _ = worker("start", "interp", tmp_path, "create_order:1:inside")
    assert code == -9
    store = str(tmp_path / "runs.db")
    assert "order-1\trunning" in wfc("runs", "list", "--store", store).stdout
    resumed = wfc("runs", "resume", str(EXAMPLES / "order_saga.wf"), "order-1", "--store", store)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("order-1\tcompleted\t{")
    assert "order-1\tcompleted" in wfc("runs", "list", "--store", store).stdout


def test_runs_errors_are_clear(tmp_path) -> None:
    store = str(tmp_path / "runs.db")
    for command in (["list"], ["show", "nope"], ["signal", "nope", "go"],
                    ["resume", str(EXAMPLES / "summary.wf"), "nope"]):
        no_file = wfc("runs", *command, "--store", store)  # a typo in the path makes no store
        assert no_file.returncode == 2, command
        assert no_file.stderr == (f"error: cannot open the store '{store}': there is no such file "
                                  "(the first run started with this store makes it)\n")
    assert not (tmp_path / "runs.db").exists()
    SqliteStore(store).close()
    missing = wfc("runs", "show", "nope", "--store", store)
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr
    unknown = wfc("runs", "resume", str(EXAMPLES / "summary.wf"), "nope", "--store", store)
    assert unknown.returncode == 1 and "no run 'nope' in the store" in unknown.stderr
    (tmp_path / "junk.db").write_text("not a database", encoding="utf-8")
    junk = wfc("runs", "list", "--store", str(tmp_path / "junk.db"))
    assert junk.returncode == 2 and "cannot open the store" in junk.stderr
    lonely = wfc("run", str(EXAMPLES / "order_saga.wf"), "place_order", *ORDER, "--run-id", "x")
    assert lonely.returncode == 2 and "--run-id needs --store" in lonely.stderr


def test_runs_show_lists_timeouts_attempts_and_values(tmp_path) -> None:
    (tmp_path / "clock_handlers.py").write_text("def tick(x):\n    return x + 1\n", encoding="utf-8")
    (tmp_path / "timed.wf").write_text("""use clock_handlers as c
workflow guarded(x) with breaker(), limit(rate: 100/s) {
    return c.tick(x)
}
workflow main(x) {
    started = now()
    y = c.tick(x) with timeout(5s)
    return guarded(y)
}
""", encoding="utf-8")
    store = str(tmp_path / "runs.db")
    ran = wfc("run", str(tmp_path / "timed.wf"), "main", "--arg", "x=1", "--store", store,
              "--run-id", "t-1")
    assert ran.returncode == 0, ran.stderr
    shown = wfc("runs", "show", "t-1", "--store", store)
    assert shown.returncode == 0, shown.stderr
    kinds = [line.split()[0] for line in shown.stdout.splitlines()[2:-1]]
    assert sorted(kinds) == ["attempt", "ended", "now", "step", "step", "timeout"]
    assert "ended   timeout#1: the scope ended before its deadline" in shown.stdout
    assert "attempt timed.wf:2:1#1: ok" in shown.stdout
    assert shown.stdout.splitlines()[-1] == "  completed: 3"
