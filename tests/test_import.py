"""`wfc import n8n|dify`: exports become a `.wf` file and stubs that check and run the same
on both backends (with test doubles for the stubs), and bad input is refused cleanly."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import import_calls
import wfc
from conftest import ROOT, require_module, run
from wfc.importers import ImportFailure, import_text
from wfc.importers._js import Untranslatable, expression, value

FIXTURES = ROOT / "tests" / "imports"


def wfc_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wfc", *args], cwd=cwd, capture_output=True, text=True)


def imported(tmp_path: Path, tool: str, fixture: str) -> Path:
    """Import a fixture with the real command; put its doubles in place of the stubs."""
    if tool == "dify":
        require_module("yaml", "pip install 'wfc-lang[dify]'")
    source = FIXTURES / tool / fixture
    done = wfc_cli("import", tool, str(source), "-o", str(tmp_path / f"{source.stem}.wf"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"wrote {tmp_path / source.stem}.wf" in done.stderr
    handlers = tmp_path / f"{source.stem}_handlers.py"
    stubs = handlers.read_text(encoding="utf-8")
    ast.parse(stubs)
    assert "raise NotImplementedError" in stubs
    doubles = (FIXTURES / tool / f"{source.stem}_doubles.py").read_text(encoding="utf-8")
    handlers.write_text(stubs + doubles, encoding="utf-8")
    checked = wfc_cli("check", f"{source.stem}.wf", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return tmp_path / f"{source.stem}.wf"


def run_both(
    path: Path, name: str, *args: Any, **kwargs: Any
) -> tuple[Any, list[tuple[str, dict[str, Any]]]]:
    """The workflow's result and handler calls; both backends must give the same."""
    outcomes = []
    for backend in ("interp", "compiled"):
        import_calls.log.clear()
        outcome = run(wfc.load(path, backend=backend), name, *args, **kwargs)
        assert outcome.error is None, outcome.error
        outcomes.append((outcome.value, list(import_calls.log)))
    assert outcomes[0] == outcomes[1]
    return outcomes[0]


def test_an_n8n_order_intake_routes_like_the_original(tmp_path: Path) -> None:
    path = imported(tmp_path, "n8n", "order_intake.json")
    order = {"customer": {"email": "Ada@Example.com"}, "quantity": 3, "price": 500, "country": "US"}
    result, calls = run_both(path, "order_intake", {"body": order})
    # 1500 > 1000: the fraud check runs and its item goes on; "US" matches "us" (case-insensitive rule)
    assert calls[0] == (
        "fraud_check",
        {
            "method": "POST",
            "url": "https://risk.example.com/v1/score/ada@example.com",
            "body": {"amount": 1500},
        },
    )
    assert result == {"score": 0.25, "amount": 1500, "warehouse": "NJ"}
    small = {**order, "quantity": 1, "country": "DE"}
    result, calls = run_both(path, "order_intake", {"body": small})
    assert calls == []  # no fraud check; Edit Fields keeps the other fields
    assert result == {
        "customer": "ada@example.com",
        "total": 500,
        "country": "DE",
        "source": "webshop",
        "warehouse": "Leipzig",
    }
    result, _ = run_both(path, "order_intake", {"body": {**small, "country": "FR"}})
    assert result == {"error": "we do not ship there"}


def test_an_n8n_digest_loops_over_items_and_posts_once(tmp_path: Path) -> None:
    path = imported(tmp_path, "n8n", "news_digest.json")
    result, calls = run_both(path, "news_digest")
    assert [name for name, _ in calls] == [
        "fetch_stories",
        "summarise",
        "summarise",
        "build_digest",
        "post_digest",
    ]
    assert calls[0][1]["query"] == {"limit": "10"}
    assert calls[1][1] == {"prompt": "Summarise in one sentence: Rust 2.0 (https://e.x/1)"}
    digest = "\n".join(
        [
            "- Rust 2.0: Rust 2.0 (https://e.x/1)",
            "- Quiet day: skipped",
            "- : skipped",
            "- wf 1.0: wf 1.0 (https://e.x/4)",
        ]
    )
    assert result == {"ok": True, "posted": {"text": digest}}  # the JSON body became a map


def test_the_digest_waits_on_the_runtime_clock(tmp_path: Path) -> None:
    path = imported(tmp_path, "n8n", "news_digest.json")
    outcome = run(wfc.load(path, backend="interp"), "news_digest")
    assert outcome.now == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("ticket", "tier", "expected", "handlers"),
    [
        (
            "my invoice is wrong",
            "enterprise",
            {"reply": "We refunded the invoice.", "category": "Billing", "tier": "enterprise"},
            2,
        ),
        ("error 500 when saving", None, {"reply": "Try a reset.", "category": "Technical"}, 4),
        (
            "urgent: hello",
            "free",
            {
                "reply": "Hello Ada, thanks for writing. A person will answer soon.",
                "category": "Other",
                "tier": "free",
            },
            1,
        ),
    ],
)
def test_a_dify_triage_workflow_classifies_and_ends_like_the_original(
    tmp_path: Path, ticket: str, tier: str | None, expected: dict[str, Any], handlers: int
) -> None:
    path = imported(tmp_path, "dify", "support_triage.yml")
    result, calls = run_both(path, "support_triage", ticket, "Ada", tier=tier)
    assert result == expected
    assert len(calls) == handlers
    assert calls[0] == ("classify_ticket", {"query": ticket, "classes": ["Billing", "Technical", "Other"]})
    if expected["category"] == "Technical":
        assert calls[1][1]["params"] == {"q": ticket, "limit": "3"}
        assert calls[3][1]["system"] == "Answer with these articles:\nReset"


def test_a_dify_chatflow_iterates_assigns_and_answers(tmp_path: Path) -> None:
    path = imported(tmp_path, "dify", "translate_chat.yml")
    result, calls = run_both(path, "sentence_translator", "Hi there. Bye now.", "French")
    assert result == "HI THERE.\nBYE NOW.\n"  # the Jinja loop went to a stub; the double joins
    names = [name for name, _ in calls]
    assert names == ["split_sentences", "translate", "translate", "glossary_lookup", "join_translations"]
    assert calls[1][1]["system"] == "Translate into French. Reply with the translation only."
    result, calls = run_both(path, "sentence_translator", "   ", "German")
    assert result == "Send me some text to translate into German."
    assert [name for name, _ in calls] == ["split_sentences"]


def test_an_unsupported_node_becomes_a_stub_with_a_warning(tmp_path: Path) -> None:
    require_module("yaml", "pip install 'wfc-lang[dify]'")
    source = FIXTURES / "dify" / "translate_chat.yml"
    done = wfc_cli("import", "dify", str(source), "-o", "chat.wf", cwd=tmp_path)
    assert done.returncode == 0
    assert (
        "warning: 'Glossary lookup': the Dify node type 'knowledge-retrieval' has no wf translation"
        in done.stderr
    )
    assert "async def glossary_lookup() -> Any:" in (tmp_path / "chat_handlers.py").read_text()


def n8n(nodes: list[dict[str, Any]], connections: dict[str, Any], name: str = "t") -> str:
    return json.dumps({"name": name, "nodes": nodes, "connections": connections})


def node(name: str, kind: str, **parameters: Any) -> dict[str, Any]:
    return {"name": name, "type": f"n8n-nodes-base.{kind}", "typeVersion": 2, "parameters": parameters}


def set_node(name: str, field: str, value: str) -> dict[str, Any]:
    """An n8n Set node (version 1's settings) that keeps only `field`, set to `value`."""
    return node(name, "set", keepOnlySet=True, values={"string": [{"name": field, "value": value}]})


def link(*names: str) -> dict[str, Any]:
    return {
        a: {"main": [[{"node": b, "type": "main", "index": 0}]]}
        for a, b in zip(names, names[1:], strict=False)
    }


def test_an_unknown_n8n_node_and_untranslatable_expressions_become_todos() -> None:
    text = n8n(
        [
            node("Start", "manualTrigger"),
            {
                **node("Mail", "gmail", sendTo="={{ $json.to.map(x => x.email) }}"),
                "type": "n8n-nodes-base.gmail",
            },
            set_node("Tidy", "who", "={{ $json.a ? 1 : 2 }}"),
        ],
        link("Start", "Mail", "Tidy"),
    )
    result = import_text("n8n", text, "t_handlers")
    assert any(
        "'Mail': the n8n node type 'n8n-nodes-base.gmail' has no wf translation" in w for w in result.warnings
    )
    assert any("kept as a TODO string" in w for w in result.warnings)
    assert '"TODO(n8n): ={{ $json.a ? 1 : 2 }}"' in result.wf
    wfc.api.analyze(result.wf)
    assert "1 TODO below" in result.wf


def test_a_node_reading_its_own_output_is_a_todo_not_an_unknown_name() -> None:
    rule = {
        "conditions": {
            "conditions": [
                {
                    "leftValue": "={{ $('Route').item.json.x }}",
                    "rightValue": "a",
                    "operator": {"type": "string", "operation": "equals"},
                }
            ],
            "combinator": "and",
        }
    }
    text = n8n(
        [
            node("Start", "manualTrigger"),
            node("Route", "switch", rules={"values": [rule]}),
            set_node("Tidy", "x", "={{ $('Tidy').item.json.x }}"),
        ],
        link("Start", "Route", "Tidy"),
    )
    result = import_text("n8n", text, "t_handlers")
    assert "\"TODO(n8n): ={{ $('Route').item.json.x }}\"" in result.wf
    assert "\"TODO(n8n): ={{ $('Tidy').item.json.x }}\"" in result.wf
    assert any("a reference to node 'Route'" in w for w in result.warnings)
    wfc.api.analyze(result.wf)


def test_a_fan_out_runs_every_path_and_a_side_path_does_not_end_the_workflow(tmp_path: Path) -> None:
    text = n8n(
        [
            node("Start", "manualTrigger"),
            node("Notify", "code"),
            node("Enrich", "code"),
            node("Done", "noOp"),
        ],
        {
            "Start": {"main": [[{"node": "Notify", "index": 0}, {"node": "Enrich", "index": 0}]]},
            "Enrich": {"main": [[{"node": "Done", "index": 0}]]},
        },
    )
    result = import_text("n8n", text, "fan_handlers")
    (tmp_path / "fan.wf").write_text(result.wf)
    (tmp_path / "fan_handlers.py").write_text(
        "from import_calls import log\n"
        "async def notify(*, item=None):\n    log.append(('notify', {}))\n    return 1\n"
        "async def enrich(*, item=None):\n    log.append(('enrich', {}))\n    return {'rich': True}\n"
    )
    value_, calls = run_both(tmp_path / "fan.wf", "t", {"x": 1})
    assert [name for name, _ in calls] == ["notify", "enrich"]
    assert value_ == {"rich": True}


def test_a_loop_back_to_an_earlier_node_is_dropped_with_a_warning() -> None:
    text = n8n(
        [node("Start", "manualTrigger"), node("Poll", "code"), node("Ready?", "if")],
        {**link("Start", "Poll", "Ready?"), "Ready?": {"main": [[], [{"node": "Poll", "index": 0}]]}},
    )
    result = import_text("n8n", text, "t_handlers")
    assert any("from 'Ready?' back to 'Poll'" in warning for warning in result.warnings)
    wfc.api.analyze(result.wf)


@pytest.mark.parametrize(
    ("js", "wf"),
    [
        ("$json.total > 100 && $json.ok", "item.total > 100 and item.ok"),
        ("$json['first name'] ?? 'anon'", 'item["first name"] ?? "anon"'),
        ("$('Fetch user').item.json.id", "fetch_user.id"),
        ('$node["Fetch user"].json.tags.length', "len(fetch_user.tags)"),
        ("$input.first().json.name.toLowerCase().trim()", "strip(lower(item.name))"),
        ("!($json.a === 1 || $json.b !== 2)", "not (item.a == 1 or item.b != 2)"),
        ("($json.a + 1) * 2", "(item.a + 1) * 2"),
        ("$json.tags.includes('x')", '"x" in item.tags'),
        ("{ id: $json.id, items: [1, 2] }", "{id: item.id, items: [1, 2]}"),
        ("Math.round($json.price * 1.2)", "round(item.price * 1.2)"),
        ("$json.state", "item.state"),
    ],
)
def test_simple_n8n_expressions_translate(js: str, wf: str) -> None:
    assert expression(js, "item", {"Fetch user": "fetch_user"}.get) == wf


@pytest.mark.parametrize(
    "js",
    [
        "$json.a ? 1 : 2",
        "$json.xs.map(x => x.id)",
        "`${$json.a}`",
        "$('Nope').item.json",
        "DateTime.now()",
        "$json.a = 1",
    ],
)
def test_other_javascript_is_refused(js: str) -> None:
    with pytest.raises(Untranslatable):
        expression(js, "item", {}.get)


def test_text_with_fields_is_an_f_string_and_a_plain_string_stays_text() -> None:
    assert (
        value("=Hi {{ $json.name }}, {{ $json.n + 1 }} left", "item", {}.get)
        == 'f"Hi {item.name}, {item.n + 1} left"'
    )
    assert value("={{ $json.n }}", "item", {}.get) == "item.n"
    assert value("{{ not an expression }}", "item", {}.get) == '"{{ not an expression }}"'
    assert value('=a {b} "c"', "item", {}.get) == '"a {b} \\"c\\""'


HOSTILE = 'x"""); import os; os.system("boom") #\\ {h} \n ${{ }}'


def test_hostile_names_and_settings_cannot_inject_code(tmp_path: Path) -> None:
    text = n8n(
        [
            node("Start", "manualTrigger"),
            {**node(HOSTILE, "code", jsCode=HOSTILE), "notes": HOSTILE},
            node(
                "Set " + HOSTILE,
                "set",
                keepOnlySet=True,
                values={"string": [{"name": HOSTILE, "value": HOSTILE}]},
            ),
        ],
        link("Start", HOSTILE, "Set " + HOSTILE),
        name=HOSTILE,
    )
    result = import_text("n8n", text, "evil_handlers")
    wfc.api.analyze(result.wf)
    tree = ast.parse(result.handlers)
    functions = [n for n in tree.body if isinstance(n, ast.AsyncFunctionDef)]
    assert all(isinstance(n, (ast.Expr, ast.ImportFrom, ast.AsyncFunctionDef)) for n in tree.body)
    assert [f.name for f in functions] == ["x_import_os_os_system_boom_h"]
    calls = [n.func for n in ast.walk(functions[0]) if isinstance(n, ast.Call)]
    assert [ast.unparse(f) for f in calls] == ["NotImplementedError"]  # the text stays in strings
    (tmp_path / "evil.wf").write_text(result.wf)
    (tmp_path / "evil_handlers.py").write_text(
        "async def x_import_os_os_system_boom_h(*, item=None):\n    return {'ok': 1}\n"
    )
    value_, _ = run_both(tmp_path / "evil.wf", "x_import_os_os_system_boom_h_2")
    assert value_ == {HOSTILE: HOSTILE}


@pytest.mark.parametrize(
    ("tool", "text", "message"),
    [
        ("n8n", "{", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ("n8n", "[]", "not an n8n workflow export: an n8n workflow export has a 'nodes' list"),
        ("n8n", '{"nodes": [{"name": "A", "type": "n8n-nodes-base.code"}]}', "has no trigger node"),
        ("dify", "app: [", "not valid YAML"),
        (
            "dify",
            "app: {mode: workflow}",
            "not a Dify app export: a Dify app export has 'workflow: graph: nodes:'",
        ),
    ],
)
def test_bad_exports_are_refused_with_a_reason(tool: str, text: str, message: str) -> None:
    if tool == "dify":
        require_module("yaml", "pip install 'wfc-lang[dify]'")
    with pytest.raises(ImportFailure, match=message.replace("(", r"\(")):
        import_text(tool, text, "h")


def test_the_command_refuses_bad_input_and_never_overwrites(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{")
    done = wfc_cli("import", "n8n", "bad.json", cwd=tmp_path)
    assert done.returncode == 1 and "error: bad.json: not valid JSON" in done.stderr
    assert "Traceback" not in done.stderr
    missing = wfc_cli("import", "n8n", "missing.json", cwd=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    wrong = wfc_cli("import", "zapier", "bad.json", cwd=tmp_path)
    assert wrong.returncode == 2 and "'zapier' is not one of 'n8n', 'dify'" in wrong.stderr
    source = FIXTURES / "n8n" / "order_intake.json"
    (tmp_path / "order_intake.wf").write_text("# mine\n")
    kept = wfc_cli("import", "n8n", str(source), "-o", "order_intake.wf", cwd=tmp_path)
    assert kept.returncode == 2 and "already exist" in kept.stderr and "--force" in kept.stderr
    assert (tmp_path / "order_intake.wf").read_text() == "# mine\n"
    assert not (tmp_path / "order_intake_handlers.py").exists()
    forced = wfc_cli("import", "n8n", str(source), "-o", "order_intake.wf", "--force", cwd=tmp_path)
    assert forced.returncode == 0 and (tmp_path / "order_intake_handlers.py").exists()


def test_an_import_is_deterministic(tmp_path: Path) -> None:
    text = (FIXTURES / "n8n" / "news_digest.json").read_text()
    first, second = import_text("n8n", text, "h"), import_text("n8n", text, "h")
    assert (first.wf, first.handlers) == (second.wf, second.handlers)
