"""An n8n workflow export (`workflow.json`) as a wf workflow and a module of handler stubs.

Each trigger node starts a workflow. Items are values: a node's output is one value (the
item it passes on: a map, or the list an HTTP call returned), which is what the next
node's `$json` reads. Flow-control nodes (IF, Switch, Merge, Loop Over Items, Wait,
Respond to Webhook, Set) become wf statements; nodes that reach outside (HTTP Request,
Code, the LangChain model nodes, anything unknown) become calls of stubs.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..fmt.expressions import map_key
from . import _js
from ._flow import Branch, Edge, Emitted, Graph, Loop, Node, Plain, Translator, Walk, cut_back_edges
from ._output import Imported, Names, Stub, comparison, dicts, handler_module, literal, mapping, wf_module
from ._output import count as count_

TRIGGERS = {
    "webhook": "request",
    "manualTrigger": "input",
    "scheduleTrigger": "input",
    "executeWorkflowTrigger": "input",
    "formTrigger": "form",
    "chatTrigger": "chat",
    "start": "input",
}
LLM_NODES = {"chainLlm", "agent", "openAi", "lmChatOpenAi", "lmOpenAi", "chainSummarization"}
_IGNORED = {"stickyNote"}
_V2_OPERATORS = {"equals": "==", "notEquals": "!=", "gt": ">", "lt": "<", "gte": ">=", "lte": "<="}
_V1_OPERATORS = {
    "equal": "==",
    "notEqual": "!=",
    "larger": ">",
    "largerEqual": ">=",
    "smaller": "<",
    "smallerEqual": "<=",
    "isEmpty": "empty",
    "isNotEmpty": "notEmpty",
}
_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


class FormatError(ValueError):
    """The file is not an n8n workflow export."""


def short_type(kind: str) -> str:
    return kind.rsplit(".", 1)[-1]


def import_workflow(data: Any, handlers: str) -> Imported:
    """Translate a parsed n8n export; `handlers` names the stub module."""
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise FormatError("an n8n workflow export has a 'nodes' list")
    return _N8n(data, handlers).run()


class _N8n(Translator):
    implicit_input = True

    def __init__(self, data: dict[str, Any], handlers: str) -> None:
        self.title = str(data.get("name") or "workflow")
        self.handlers = handlers
        self.warnings: list[str] = []
        self.stubs: list[Stub] = []
        self.stub_names = Names()
        self.var_names = Names({"h", *TRIGGERS.values()})
        self.todos = 0
        self.graph = self._graph(data)
        self.attached = self._attachments(data)
        self.emitted: dict[str, str] = {}  # node name -> the variable holding its output

    def save(self) -> object:
        return dict(self.emitted)

    def restore(self, saved: object, loop: Node, result: str) -> None:
        assert isinstance(saved, dict)
        self.emitted = {**saved, loop.key: result}  # after the loop, its node gives every item

    # -- reading the export ------------------------------------------------------------

    def _graph(self, data: dict[str, Any]) -> Graph:
        nodes: dict[str, Node] = {}
        for raw in data["nodes"]:
            if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                raise FormatError("every node has a 'name'")
            kind = str(raw.get("type", ""))
            if short_type(kind) in _IGNORED or raw.get("disabled"):
                continue
            params = mapping(raw.get("parameters"))
            node = Node(raw["name"], raw["name"], kind, params)
            node.params = {**params, "@version": raw.get("typeVersion", 1)}
            nodes[node.key] = node
        for node in nodes.values():
            node.var = self.var_names.fresh(node.name)
        loop = "n8n-nodes-base.splitInBatches"
        return Graph(nodes, self._edges(data, nodes), frozenset([loop]), {loop: "1"})

    def _edges(self, data: dict[str, Any], nodes: dict[str, Node]) -> list[Edge]:
        connections = mapping(data.get("connections"))
        edges = []
        for source, outputs in connections.items():
            main = outputs.get("main") if isinstance(outputs, dict) else None
            if source not in nodes or not isinstance(main, list):
                continue
            for port, targets in enumerate(main):
                for target in targets or []:
                    if isinstance(target, dict) and target.get("node") in nodes:
                        edges.append(Edge(source, str(port), target["node"]))
        return edges

    def _attachments(self, data: dict[str, Any]) -> dict[str, list[Node]]:
        """Sub-nodes (a chat model, a memory, a tool) by the node they are attached to."""
        connections = mapping(data.get("connections"))
        attached: dict[str, list[Node]] = {}
        for source, outputs in connections.items():
            if source not in self.graph.nodes or not isinstance(outputs, dict):
                continue
            for kind, ports in outputs.items():
                if kind == "main" or not isinstance(ports, list):
                    continue
                for targets in ports:
                    for target in targets or []:
                        if isinstance(target, dict):
                            attached.setdefault(str(target.get("node")), []).append(self.graph.nodes[source])
        return attached

    # -- writing -----------------------------------------------------------------------

    def run(self) -> Imported:
        sub_nodes = {node.key for nodes in self.attached.values() for node in nodes}
        roots = [n.key for n in self.graph.nodes.values() if short_type(n.kind) in TRIGGERS]
        if not roots:
            raise FormatError(
                "the workflow has no trigger node (a Webhook, Manual, Schedule or Chat trigger)"
            )
        cut_back_edges(self.graph, roots)
        for edge in self.graph.dropped:
            self.warn(
                f"the connection from '{edge.source}' back to '{edge.target}' makes a loop wf cannot write: dropped"
            )
        declarations = []
        workflow_names = Names(set(self.var_names.taken))
        walk = Walk(self.graph, self, self.ports)
        for root in roots:
            node = self.graph.nodes[root]
            name = workflow_names.fresh(self.title if len(roots) == 1 else f"{self.title} {node.name}")
            declarations.append(self._workflow(walk, node, name))
        unused = set(self.graph.nodes) - sub_nodes - set(self.emitted) - set(roots)
        for key in sorted(unused):
            self.warn(f"the node '{key}' is not reached from a trigger: left out")
        wf = wf_module("n8n", self.title, self.handlers, declarations, self.todos)
        return Imported(wf, handler_module("n8n", self.title, self.stubs), self.warnings)

    def _workflow(self, walk: Walk, trigger: Node, name: str) -> str:
        param = TRIGGERS[short_type(trigger.kind)]
        trigger.var = param
        self.emitted[trigger.key] = param
        body = walk.block(trigger.key, param)
        default = "" if short_type(trigger.kind) in ("webhook", "chatTrigger", "formTrigger") else " = {}"
        lines = [
            f"workflow {name}({param}: map{default}) {{",
            f"    {literal(f'From the n8n trigger {trigger.name!r}.')}",
        ]
        lines += ["    " + line if line else line for line in body.lines]
        return "\n".join([*lines, "}", ""])

    def ports(self, node: Node) -> list[str]:
        kind = short_type(node.kind)
        if kind in ("if", "splitInBatches", "filter"):
            return ["0", "1"] if kind != "filter" else ["0"]
        if kind == "switch":
            return [port for _, port in self._switch_arms(node)]
        return []

    def emit(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        kind = short_type(node.kind)
        if kind in TRIGGERS:  # its own workflow's start, or a trigger wired after another node
            return Plain((), input_var)
        method = _EMITTERS.get(kind)
        # Its own parameters cannot read its output: `$('If')` in the If node is a TODO.
        self.emitted.pop(node.key, None)
        emitted: Emitted = (
            method(self, node, input_var, returns) if method else self._emit_stub(node, input_var)
        )
        self.emitted.setdefault(node.key, node.var)  # a loop has set its own
        if isinstance(emitted, Branch) or (
            isinstance(emitted, Plain) and emitted.output not in (node.var, None)
        ):
            self.emitted[node.key] = input_var or "null"  # a node that passes its item on
        return emitted

    # -- expressions -------------------------------------------------------------------

    def value(self, raw: Any, input_var: str | None) -> str:
        if not isinstance(raw, str):
            return literal(raw)
        try:
            return _js.value(raw, input_var, self.emitted.get)
        except _js.Untranslatable as why:
            self.todos += 1
            self.warn(f"kept as a TODO string: {raw!r} ({why})")
            return literal(f"TODO(n8n): {raw}")

    # -- node types --------------------------------------------------------------------

    def _emit_if(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        condition = self.condition(node.params, input_var)
        return Branch((), ((condition, "0"), (None, "1")))

    def _emit_filter(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        condition = self.condition(node.params, input_var)
        return Branch((), ((condition, "0"), (None, "\0none")))

    def _emit_switch(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        arms = []
        for rule, port in self._switch_arms(node):
            arms.append((self._switch_rule(node, rule, input_var) if rule is not None else None, port))
        return Branch((), tuple(arms))

    def _switch_arms(self, node: Node) -> list[tuple[Any, str]]:
        params = node.params
        if params.get("mode") == "expression":
            count = count_(params.get("numberOutputs"), 4, 20)
            return [({"@output": index}, str(index)) for index in range(count)] + [(None, "\0none")]
        rules = mapping(params.get("rules"))
        values = dicts(rules.get("values") or rules.get("rules"))
        arms: list[tuple[Any, str]] = []
        for index, rule in enumerate(values):
            port = rule.get("output", index) if "value2" in rule else index
            arms.append((rule, str(port)))
        options = mapping(params.get("options"))
        fallback = options.get("fallbackOutput", params.get("fallbackOutput", "none"))
        if fallback == "extra":
            arms.append((None, str(len(values))))
        elif isinstance(fallback, int) and fallback >= 0:
            arms.append((None, str(fallback)))
        else:
            arms.append((None, "\0none"))
        return arms

    def _switch_rule(self, node: Node, rule: dict[str, Any], input_var: str | None) -> str:
        if "@output" in rule:
            return f"{self.value(node.params.get('output', ''), input_var)} == {rule['@output']}"
        if "conditions" in rule:
            return self.condition(rule, input_var)
        left = self.value(node.params.get("value1", ""), input_var)
        return self.compare(
            left,
            _v1_operation(rule),
            rule.get("value2"),
            input_var,
        )

    def condition(self, params: dict[str, Any], input_var: str | None) -> str:
        conditions = params.get("conditions")
        if isinstance(conditions, dict) and isinstance(conditions.get("conditions"), list):
            combinator = " or " if conditions.get("combinator") == "or" else " and "
            options = mapping(conditions.get("options"))
            lowered = options.get("caseSensitive") is False
            parts = [self._v2_condition(c, input_var, lowered) for c in dicts(conditions["conditions"])]
        elif isinstance(conditions, dict):
            combinator = " or " if params.get("combineOperation") == "any" else " and "
            parts = [
                self.compare(
                    self.value(c.get("value1"), input_var),
                    _v1_operation(c),
                    c.get("value2", True if kind == "boolean" else None),
                    input_var,
                )
                for kind, listed in conditions.items()
                for c in dicts(listed)
            ]
        else:
            parts = []
        if not parts:
            return "true"
        return combinator.join(f"({part})" if len(parts) > 1 else part for part in parts)

    def _v2_condition(self, condition: dict[str, Any], input_var: str | None, lowered: bool) -> str:
        operator = mapping(condition.get("operator"))
        operation = str(operator.get("operation", "equals"))
        left = self.value(condition.get("leftValue"), input_var)
        if lowered and operator.get("type") == "string":
            left = f"lower({left})"
            right_raw = condition.get("rightValue")
            if isinstance(right_raw, str) and not right_raw.startswith("="):
                condition = {**condition, "rightValue": right_raw.lower()}
        if operator.get("type") == "boolean" and operation in ("true", "false"):
            return f"{left} == {operation}"
        return self.compare(
            left, _V2_OPERATORS.get(operation, operation), condition.get("rightValue"), input_var
        )

    def compare(self, left: str, operation: str, right_raw: Any, input_var: str | None) -> str:
        right = self.value(right_raw, input_var) if right_raw is not None else "null"
        tested = comparison(_TESTS[operation], left, right) if operation in _TESTS else None
        if tested is not None:
            return tested
        if (
            operation in ("startsWith", "endsWith", "notStartsWith", "notEndsWith")
            and isinstance(right_raw, str)
            and not right_raw.startswith("=")
            and right_raw
        ):
            size = len(right_raw)
            part = f"{left}[:{size}]" if "tarts" in operation else f"{left}[-{size}:]"
            return f"{part} {'!=' if operation.startswith('not') else '=='} {right}"
        self.todos += 1
        self.warn(f"the comparison '{operation}' is kept as a TODO")
        return f"{literal(f'TODO(n8n): {operation} {right_raw}')} == {left}"

    def _emit_set(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        fields = self._set_fields(node.params, input_var)
        if _version(node) >= 3:
            keep_others = bool(node.params.get("includeOtherFields")) or node.params.get("include") == "all"
        else:
            keep_others = not node.params.get("keepOnlySet", False)
        value = "{" + ", ".join(f"{key}: {text}" for key, text in fields) + "}"
        if keep_others and input_var:
            self._helper()
            value = f"h.with_fields(base={input_var}, fields={value})"
        return Plain((f"{node.var} = {value}",), node.var)

    def _set_fields(self, params: dict[str, Any], input_var: str | None) -> list[tuple[str, str]]:
        raw: list[tuple[str, Any]] = []
        assignments = params.get("assignments")
        if isinstance(assignments, dict):
            raw = [(str(a.get("name", "")), a.get("value")) for a in dicts(assignments.get("assignments"))]
        elif isinstance(params.get("fields"), dict):
            for entry in dicts(params["fields"].get("values")):
                typed = next((entry[k] for k in entry if k.endswith("Value")), entry.get("value"))
                raw.append((str(entry.get("name", "")), typed))
        elif isinstance(params.get("values"), dict):
            raw = [
                (str(e.get("name", "")), e.get("value"))
                for group in params["values"].values()
                if isinstance(group, list)
                for e in group
                if isinstance(e, dict)
            ]
        return [(map_key(name), self.value(value, input_var)) for name, value in raw if name]

    def _helper(self) -> None:
        if any(stub.name == "with_fields" for stub in self.stubs):
            return
        self.stub_names.taken.add("with_fields")
        self.stubs.append(
            Stub(
                "with_fields",
                "",
                "helper",
                {},
                ("base", "fields"),
                "The item `base` with `fields` set: what an Edit Fields node that keeps the other fields gives.",
                ("return {**(base or {}), **(fields or {})}",),
            )
        )

    def _emit_merge(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        return Plain((), input_var)

    def _emit_noOp(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        return Plain((), input_var)

    def _emit_splitInBatches(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        item = self.var_names.fresh(f"{node.var} item")
        self.emitted[node.key] = item  # `$('Loop Over Items').item` in the body: this item
        return Loop(input_var or "[]", item, "1", node.var, lambda last: last, "0")

    def _emit_wait(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        resume = node.params.get("resume", "timeInterval")
        if resume == "webhook":
            signal = self.var_names.fresh(f"{node.name} resume")
            return Plain((f"{node.var} = receive {signal}",), node.var)
        amount = node.params.get("amount", 1)
        unit = node.params.get("unit", "hours" if _version(node) < 1.1 else "seconds")
        seconds = float(amount) * _SECONDS.get(str(unit), 1) if isinstance(amount, (int, float)) else None
        if seconds is None or seconds <= 0:
            self.warn(f"'{node.name}': a wait of {amount!r} {unit} is not a fixed time: wait left out")
            return Plain((f"# TODO: wait as the n8n node {literal(node.name)} did",), input_var)
        text = f"{seconds:g}s" if seconds < 60 or seconds % 60 else f"{seconds / 60:g}m"
        return Plain((f"wait {text}",), input_var)

    def _emit_respondToWebhook(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        respond = node.params.get("respondWith", "firstIncomingItem")
        if respond in ("json", "text"):
            body = self.value(node.params.get("responseBody", node.params.get("responseText", "")), input_var)
        elif respond == "noData":
            body = "null"
        else:
            body = input_var or "null"
        if self.graph.outgoing(node.key) or not returns:  # the workflow goes on after responding
            return Plain((f"emit webhook.response({body})",), input_var)
        return Plain((f"return {body}",), input_var, ends=True)

    def _emit_stub(self, node: Node, input_var: str | None) -> Emitted:
        kind = short_type(node.kind)
        name = self.stub_names.fresh(node.name)
        arguments: list[tuple[str, str]] = [("item", input_var or "null")]
        if kind == "httpRequest":
            arguments = self._http_arguments(node, input_var)
            todo = "Make the HTTP request of these settings and return the response body (parsed JSON)."
        elif kind == "code":
            todo = "Run what the node's code did on `item` (the item it received) and return the new item."
        elif kind in LLM_NODES:
            arguments = self._llm_arguments(node, input_var)
            todo = "Ask the chat model of these settings (see 'model') for `prompt` and return its text."
        else:
            self.warn(
                f"'{node.name}': the n8n node type '{node.kind}' has no wf translation: wrote the stub h.{name}"
            )
            todo = "Do what this node did for `item` (the item it received) and return its output."
        settings = {k: v for k, v in node.params.items() if k != "@version"}
        for sub in self.attached.get(node.key, []):
            settings[f"attached {sub.name} ({short_type(sub.kind)})"] = {
                k: v for k, v in sub.params.items() if k != "@version"
            }
        self.stubs.append(Stub(name, node.name, node.kind, settings, tuple(a for a, _ in arguments), todo))
        call = f"h.{name}({', '.join(f'{key}={value}' for key, value in arguments)})"
        if kind in _LLM_OUTPUT:  # n8n's chain nodes put the model's text in a field
            call = f"{{{_LLM_OUTPUT[kind]}: {call}}}"
        return Plain((f"{node.var} = {call}",), node.var)

    def _http_arguments(self, node: Node, input_var: str | None) -> list[tuple[str, str]]:
        params = node.params
        found = [
            ("method", literal(params.get("method", params.get("requestMethod", "GET")))),
            ("url", self.value(params.get("url", ""), input_var)),
        ]
        for flag, key, argument in (
            ("sendQuery", "queryParameters", "query"),
            ("sendHeaders", "headerParameters", "headers"),
            ("sendBody", "bodyParameters", "body"),
        ):
            listed = params.get(key, {}).get("parameters") if isinstance(params.get(key), dict) else None
            if params.get(flag) and isinstance(listed, list):
                pairs = [
                    (str(p.get("name", "")), self.value(p.get("value"), input_var))
                    for p in listed
                    if isinstance(p, dict)
                ]

                found.append((argument, "{" + ", ".join(f"{map_key(k)}: {v}" for k, v in pairs if k) + "}"))
        if params.get("sendBody") and "jsonBody" in params:
            found.append(("body", self.json_body(params["jsonBody"], input_var)))
        return found

    def json_body(self, raw: Any, input_var: str | None) -> str:
        """A JSON body with `{{ }}` fields as a wf map: the fields become expressions."""
        if not isinstance(raw, str) or not raw.startswith("="):
            return self.value(raw, input_var)
        fields: list[str] = []

        def hole(match: re.Match[str]) -> str:
            fields.append(match.group(0))
            return f"@@wfc{len(fields) - 1}@@"

        template = _FIELD.sub(hole, raw[1:])
        for quoted in (template, re.sub(r"(?<![\w\"])(@@wfc\d+@@)(?![\w\"])", r'"\1"', template)):
            try:
                parsed = json.loads(quoted)
            except ValueError:
                continue
            return self._filled(parsed, fields, input_var)
        return self.value(raw, input_var)

    def _filled(self, value: Any, fields: list[str], input_var: str | None) -> str:
        if isinstance(value, dict):
            return (
                "{"
                + ", ".join(
                    f"{map_key(str(k))}: {self._filled(v, fields, input_var)}" for k, v in value.items()
                )
                + "}"
            )
        if isinstance(value, list):
            return "[" + ", ".join(self._filled(v, fields, input_var) for v in value) + "]"
        if isinstance(value, str) and "@@wfc" in value:
            text = re.sub(r"@@wfc(\d+)@@", lambda m: fields[int(m.group(1))], value)
            return self.value("=" + text, input_var)
        return literal(value)

    def _llm_arguments(self, node: Node, input_var: str | None) -> list[tuple[str, str]]:
        params = node.params
        prompt = params.get("text", params.get("prompt"))
        if prompt is None or params.get("promptType", "define") == "auto":
            prompt = "={{ $json.chatInput }}"
        found = [("prompt", self.value(prompt, input_var))]
        options = mapping(params.get("options"))
        if "systemMessage" in options:
            found.append(("system", self.value(options["systemMessage"], input_var)))
        return found


def _version(node: Node) -> float:
    version = node.params.get("@version", 1)
    return float(version) if isinstance(version, (int, float)) else 1.0


def _v1_operation(condition: dict[str, Any]) -> str:
    """A version-1 IF or Switch operation in the version-2 vocabulary."""
    operation = str(condition.get("operation", "equal"))
    return _V1_OPERATORS.get(operation, operation)


# n8n's filter operations (and the comparison operators version-1 names map to), in the
# importers' common vocabulary (`_output.comparison`).
_TESTS = {
    **{operator: operator for operator in ("==", "!=", ">", "<", ">=", "<=")},
    "contains": "contains",
    "empty": "empty",
    "regex": "regex",
    "notContains": "not contains",
    "exists": "not null",
    "notExists": "null",
    "isEmpty": "empty",
    "notEmpty": "not empty",
    "isNotEmpty": "not empty",
    "notRegex": "not regex",
}
_FIELD = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_LLM_OUTPUT = {"chainLlm": "text", "agent": "output", "chainSummarization": "text"}
_EMITTERS = {
    "if": _N8n._emit_if,
    "filter": _N8n._emit_filter,
    "switch": _N8n._emit_switch,
    "set": _N8n._emit_set,
    "merge": _N8n._emit_merge,
    "noOp": _N8n._emit_noOp,
    "splitInBatches": _N8n._emit_splitInBatches,
    "wait": _N8n._emit_wait,
    "respondToWebhook": _N8n._emit_respondToWebhook,
}
