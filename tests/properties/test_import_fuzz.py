"""Robustness of `wfc import`: any export, however odd, is refused with a reason or gives a
`.wf` file that checks and compiles and a handler module that is valid Python."""

from __future__ import annotations

import ast
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

import wfc
from conftest import require_module
from wfc.api import analyze
from wfc.importers import ImportFailure, import_text

BUDGET = max(20, int(os.environ.get("WFC_PROPERTY_EXAMPLES", "150")) // 2)
fuzz_settings = settings(
    max_examples=BUDGET,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMES = ["Start", "If", "Set", "HTTP", "Loop", "Merge", "Code", 'a"b', "x\\y {z}", "if", "h", "Wait", "é"]
EXPRESSIONS = [
    "={{ $json.a }}",
    "={{ $json.a > 1 && $json.b }}",
    "=Hi {{ $json.name }}!",
    "={{ $('If').item.json.x }}",
    "={{ $('Nobody').item.json.x }}",
    "={{ $json.a ? 1 : 2 }}",
    "={{ }}",
    "={{",
    "=}}{{",
    "={{ $json['k'].length }}",
    '={"a": "{{ $json.a }}", "n": {{ $json.n }}}',
    "plain {{ text }}",
    "",
]
SCALARS = st.one_of(
    st.sampled_from(EXPRESSIONS),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
    st.text(max_size=6),
    st.floats(),
)
KEYS = [
    "conditions", "combinator", "operator", "operation", "type", "leftValue", "rightValue", "options",
    "caseSensitive", "assignments", "name", "value", "rules", "values", "outputKey", "fallbackOutput", "mode",
    "numberOutputs", "output", "value1", "value2", "url", "method", "sendBody", "sendQuery", "sendHeaders",
    "bodyParameters", "queryParameters", "parameters", "jsonBody", "amount", "unit", "resume", "respondWith",
    "responseBody", "keepOnlySet", "includeOtherFields", "text", "promptType", "systemMessage", "jsCode",
    "string", "number", "boolean", "combineOperation", "fields",
]  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)


def condition_v2() -> st.SearchStrategy[dict[str, Any]]:
    operator = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["string", "number", "boolean", "array"]),
            "operation": st.sampled_from(
                [
                    "equals",
                    "notEquals",
                    "gt",
                    "lte",
                    "contains",
                    "startsWith",
                    "endsWith",
                    "exists",
                    "empty",
                    "notEmpty",
                    "true",
                    "regex",
                    "lengthGt",
                    "weird",
                ]
            ),  # fmt: skip
        }
    )
    return st.fixed_dictionaries({"leftValue": SCALARS, "rightValue": SCALARS, "operator": operator})


FILTER = st.fixed_dictionaries(
    {
        "conditions": st.lists(condition_v2(), max_size=3),
        "combinator": st.sampled_from(["and", "or"]),
        "options": st.fixed_dictionaries({"caseSensitive": st.booleans()}),
    }
)
SHAPED = {
    "if": st.fixed_dictionaries({"conditions": FILTER}),
    "filter": st.fixed_dictionaries({"conditions": FILTER}),
    "switch": st.fixed_dictionaries(
        {
            "rules": st.fixed_dictionaries({"values": st.lists(st.fixed_dictionaries({"conditions": FILTER}), max_size=3)}),
            "options": st.fixed_dictionaries({"fallbackOutput": st.sampled_from(["extra", "none", 0, 1, -1])}),
        }
    ),
    "set": st.fixed_dictionaries(
        {
            "assignments": st.fixed_dictionaries(
                {"assignments": st.lists(st.fixed_dictionaries({"name": st.sampled_from(NAMES), "value": SCALARS}), max_size=3)}
            ),
            "includeOtherFields": st.booleans(),
        }
    ),
    "httpRequest": st.fixed_dictionaries(
        {"url": SCALARS, "method": st.sampled_from(["GET", "POST"]), "sendBody": st.booleans(), "jsonBody": SCALARS}
    ),
    "wait": st.fixed_dictionaries(
        {"amount": SCALARS, "unit": st.sampled_from(["seconds", "minutes", "days", "x"]), "resume": st.sampled_from(["timeInterval", "webhook"])}
    ),
    "respondToWebhook": st.fixed_dictionaries({"respondWith": st.sampled_from(["json", "text", "noData", "firstIncomingItem"]), "responseBody": SCALARS}),
}  # fmt: skip
TYPES = [
    "n8n-nodes-base.webhook", "n8n-nodes-base.manualTrigger", "n8n-nodes-base.if", "n8n-nodes-base.filter",
    "n8n-nodes-base.switch", "n8n-nodes-base.set", "n8n-nodes-base.merge", "n8n-nodes-base.splitInBatches",
    "n8n-nodes-base.httpRequest", "n8n-nodes-base.code", "n8n-nodes-base.wait", "n8n-nodes-base.respondToWebhook",
    "n8n-nodes-base.noOp", "n8n-nodes-base.gmail", "@n8n/n8n-nodes-langchain.chainLlm",
    "@n8n/n8n-nodes-langchain.lmChatOpenAi", "@n8n/n8n-nodes-langchain.agent", "n8n-nodes-base.stickyNote", "",
]  # fmt: skip


@st.composite
def n8n_exports(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 7))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=count, max_size=count, unique=True))
    nodes = []
    for index, name in enumerate(names):
        kind = "n8n-nodes-base.manualTrigger" if index == 0 else draw(st.sampled_from(TYPES))
        short = kind.rsplit(".", 1)[-1]
        params = draw(SHAPED[short] if short in SHAPED and draw(st.booleans()) else JSON)
        nodes.append(
            {
                "name": name,
                "type": kind,
                "typeVersion": draw(st.sampled_from([1, 2, 3.4])),
                "parameters": params,
            }
        )
    connections: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, count * 2))):
        source, target = draw(st.sampled_from(names)), draw(st.sampled_from([*names, "Nobody"]))
        port = draw(st.integers(0, 2))
        kind = draw(st.sampled_from(["main", "main", "ai_languageModel"]))
        outputs = connections.setdefault(source, {}).setdefault(kind, [])
        while len(outputs) <= port:
            outputs.append([])
        outputs[port].append({"node": target, "type": kind, "index": draw(st.integers(0, 1))})
    return {"name": draw(st.sampled_from(NAMES)), "nodes": nodes, "connections": connections}


DIFY_TYPES = [
    "llm", "if-else", "question-classifier", "iteration", "iteration-start", "variable-aggregator", "assigner",
    "code", "http-request", "template-transform", "end", "answer", "knowledge-retrieval", "tool", "",
]  # fmt: skip


@st.composite
def dify_exports(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(1, 7))
    ids = [f"n{index}" for index in range(count)]
    selector = st.lists(st.sampled_from([*ids, "sys", "conversation", "gone"]), min_size=2, max_size=2).map(
        lambda pair: [pair[0], "text" if pair[0] != "sys" else "query"]
    )
    text = st.one_of(
        st.sampled_from(["{{#n0.q#}}", "a {{#n1.text#}} b", "{{#sys.query#}}", "{{ name }}", "{% x %}"]),
        SCALARS,
    )
    nodes = [
        {
            "id": "n0",
            "data": {
                "type": "start",
                "title": "Start",
                "variables": [{"variable": "q", "type": "paragraph"}],
            },
        }
    ]
    for key in ids[1:]:
        kind = draw(st.sampled_from(DIFY_TYPES))
        data: dict[str, Any] = {"type": kind, "title": draw(st.sampled_from(NAMES))}
        data |= draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "prompt_template": st.lists(st.fixed_dictionaries({"role": st.sampled_from(["system", "user"]), "text": text}), max_size=2),
                    "cases": st.lists(st.fixed_dictionaries({"case_id": st.sampled_from(["true", "c2"]), "conditions": st.lists(st.fixed_dictionaries({"variable_selector": selector, "comparison_operator": st.sampled_from(["is", "contains", "≥", "start with", "empty", "odd"]), "value": text}), max_size=2)}), max_size=2),
                    "classes": st.lists(st.fixed_dictionaries({"id": st.sampled_from(["1", "2"]), "name": st.sampled_from(NAMES)}), max_size=2),
                    "iterator_selector": selector,
                    "output_selector": selector,
                    "start_node_id": st.sampled_from(ids),
                    "variables": st.lists(st.one_of(selector, st.fixed_dictionaries({"variable": st.sampled_from(NAMES), "value_selector": selector})), max_size=2),
                    "outputs": st.lists(st.fixed_dictionaries({"variable": st.sampled_from(NAMES), "value_selector": selector}), max_size=2),
                    "answer": text,
                    "template": text,
                    "url": text,
                    "is_parallel": st.booleans(),
                },
            )
        )  # fmt: skip
        nodes.append({"id": key, "data": data})
    edges = [
        {"source": draw(st.sampled_from(ids)), "target": draw(st.sampled_from([*ids, "gone"])),
         "sourceHandle": draw(st.sampled_from(["source", "true", "false", "1", "2", "c2"]))}
        for _ in range(draw(st.integers(0, count * 2)))
    ]  # fmt: skip
    mode = draw(st.sampled_from(["workflow", "advanced-chat"]))
    return {
        "app": {"name": draw(st.sampled_from(NAMES)), "mode": mode},
        "workflow": {"graph": {"nodes": nodes, "edges": edges}},
    }


def imports_cleanly(tool: str, text: str) -> None:
    """The property: refused with a reason, or valid wf and Python."""
    try:
        result = import_text(tool, text, "fuzz_handlers")
    except ImportFailure as why:
        assert str(why)
        return
    analyze(result.wf, "fuzz.wf")
    compile(wfc.compile_source(result.wf, "fuzz.wf"), "fuzz_wf.py", "exec")
    ast.parse(result.handlers)
    assert result.wf.startswith("# Imported from")


@fuzz_settings
@given(n8n_exports())
def test_random_n8n_exports_import_cleanly(export: dict[str, Any]) -> None:
    imports_cleanly("n8n", json.dumps(export))


@fuzz_settings
@given(dify_exports())
def test_random_dify_exports_import_cleanly(export: dict[str, Any]) -> None:
    require_module("yaml", "pip install 'wfc-lang[dify]'")
    imports_cleanly("dify", json.dumps(export))  # JSON is YAML


@fuzz_settings
@given(st.one_of(st.text(max_size=80), JSON.map(json.dumps)), st.sampled_from(["n8n", "dify"]))
def test_any_text_is_refused_or_imported(text: str, tool: str) -> None:
    require_module("yaml", "pip install 'wfc-lang[dify]'")
    imports_cleanly(tool, text)
