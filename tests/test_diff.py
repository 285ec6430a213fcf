"""`wfc diff OLD NEW`: changes by meaning, and whether durable runs of OLD resume under NEW."""

from __future__ import annotations

import json

from test_cli import wfc, write

BASE = """use pay

router pick(x) {
    route small when x < 10 -> "small"
    route big when x >= 10 -> "big"
    default -> "none"
}

saga book(x) {
    step hold = pay.hold(x)
        compensate pay.release(hold.id)
    step charge = pay.charge(x)
        compensate pay.refund(charge.id)
    return charge
}
"""


def run_diff(tmp_path, new: str, *options: str):
    old = write(tmp_path / "old.wf", BASE)
    changed = write(tmp_path / "new.wf", new)
    return wfc("diff", str(old), str(changed), *options)


def test_layout_and_comments_are_no_change_but_moved_lines_are_told(tmp_path) -> None:
    moved = "# booking, reformatted\n" + BASE.replace("route small when x < 10 -> \"small\"",
                                                      "route small   when x<10 -> \"small\"  # cheap")
    out = run_diff(tmp_path, moved)
    assert out.returncode == 0, out.stderr
    assert out.stdout == (
        "resume: runs of pick resume (its handler calls are where they were)\n"
        "resume: runs of book that journaled a call are refused (pay.hold at 10:17 moved or changed)\n")


def test_route_and_step_changes_are_listed(tmp_path) -> None:
    new = BASE.replace('    route small when x < 10 -> "small"\n    route big when x >= 10 -> "big"\n',
                       '    route big when x >= 20 -> "big"\n    route small when x < 10 -> "small"\n')
    new = new.replace("compensate pay.refund(charge.id)", "compensate pay.refund(charge.id, x)")
    new = new.replace("    return charge\n", "    step pay.notify(x)\n        compensate none\n"
                                              "    return charge\n")
    out = run_diff(tmp_path, new)
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert '~ route big of pick: when x >= 10 -> "big" -> when x >= 20 -> "big"' in lines
    assert "~ order of routes of pick: small, big, default -> big, small, default" in lines
    assert ("~ step charge of book: pay.charge(x) compensate pay.refund(charge.id) -> "
            "pay.charge(x) compensate pay.refund(charge.id, x)") in lines
    assert "+ step pay.notify of book: pay.notify(x) compensate none" in lines
    # the new step comes after every call the old version journaled: its runs all resume
    assert "resume: runs of book resume (its handler calls are where they were)" in lines


def test_a_changed_call_in_the_middle_bounds_which_runs_resume(tmp_path) -> None:
    new = BASE.replace("step charge = pay.charge(x)", "step charge = pay.debit(x)")
    out = run_diff(tmp_path, new, "--format", "json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert {"declaration": "book", "resumes": "until", "until": "pay.charge at 12:19"} in report["resume"]
    assert {"change": "changed", "item": "step charge of book",
            "old": "pay.charge(x) compensate pay.refund(charge.id)",
            "new": "pay.debit(x) compensate pay.refund(charge.id)"} in report["changes"]


def test_added_and_removed_declarations_come_alone(tmp_path) -> None:
    new = BASE.replace("router pick", "router choose") + "\nworkflow w() {\n    return 1\n}\n"
    lines = run_diff(tmp_path, new).stdout.splitlines()
    assert [line for line in lines if not line.startswith("resume")] == [
        "- router pick", "+ router choose: (x)", "+ workflow w: ()"]


def test_bad_input_is_exit_2_with_its_diagnostics(tmp_path) -> None:
    out = run_diff(tmp_path, "saga book(x) {\n")
    assert out.returncode == 2 and "new.wf has errors" in out.stderr and "error[" in out.stderr
    missing = wfc("diff", str(tmp_path / "nope.wf"), str(tmp_path / "nope.wf"))
    assert missing.returncode == 2 and "no such file" in missing.stderr


CHART = """machine Light() {
    data { n: 0 }
    initial green
    state green {
        on TIMER -> red
    }
    state red {
        initial walk
        state walk {
            on PED -> stop
        }
        state stop
        after 1m -> green
    }
}
"""


def test_statechart_changes_are_told_by_state_path(tmp_path) -> None:
    old = write(tmp_path / "old.wf", CHART)
    new = CHART.replace("on PED -> stop", "on PED -> stop when n < 3").replace("after 1m", "after 2m")
    out = wfc("diff", str(old), str(write(tmp_path / "new.wf", new)))
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert "~ transition red.walk --PED--> stop of Light: - -> when n < 3" in lines
    assert "- transition red --after 1m--> green of Light" in lines
    assert "+ transition red --after 2m--> green of Light: -" in lines
