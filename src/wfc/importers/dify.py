"""A Dify app export (the DSL file, `app.yml`) as a wf workflow and a module of stubs.

Dify nodes name their inputs explicitly (`{{#node_id.text#}}`, a value selector
`[node_id, "text"]`), so each node's outputs become wf variables and a reference reads the
variable. The start node's variables (and, in a chatflow, the user's `query`) are the
workflow's parameters; if-else, question classifier, iteration, variable aggregator and
assigner, template transform and end/answer become wf statements; LLM, code, HTTP request
and anything unknown become calls of stubs.
"""

from __future__ import annotations

import re
from typing import Any

from ..fmt.expressions import map_key, quote
from ._flow import Branch, Edge, Emitted, Graph, Loop, Node, Plain, Translator, Walk, cut_back_edges
from ._output import (
    Imported,
    Names,
    Stub,
    comparison,
    count,
    dicts,
    handler_module,
    literal,
    mapping,
    wf_module,
)

_REFERENCE = re.compile(r"\{\{#([A-Za-z0-9_.\-]+)#\}\}")
_JINJA_FIELD = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TYPES = {"number": "float", "text-input": "str", "paragraph": "str", "select": "str", "file": "any"}
# Dify's comparison operators, in the importers' common vocabulary (`_output.comparison`).
_COMPARISONS = {
    "=": "==",
    "is": "==",
    "≠": "!=",
    "is not": "!=",
    ">": ">",
    "<": "<",
    "≥": ">=",
    "≤": "<=",
    "exists": "not null",
    "not exists": "null",
    **{
        test: test
        for test in ("contains", "not contains", "empty", "not empty", "null", "not null", "in", "not in")
    },
}
_STUBBED = {
    "llm": "Ask the model of these settings (see 'model'): `system` and `prompt` are the prompt template's "
    "messages. Return the reply's text.",
    "code": "Run the node's code (see 'code') with these arguments and return a dict of its outputs.",
    "http-request": "Make this HTTP request and return {'body': ..., 'status_code': ..., 'headers': ...}.",
    "question-classifier": "Classify `query` into one of `classes` (see 'instruction') and return the class name.",
}


class FormatError(ValueError):
    """The file is not a Dify app export."""


def import_app(data: Any, handlers: str) -> Imported:
    """Translate a parsed Dify DSL file; `handlers` names the stub module."""
    workflow = data.get("workflow") if isinstance(data, dict) else None
    graph = workflow.get("graph") if isinstance(workflow, dict) else None
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise FormatError(
            "a Dify app export has 'workflow: graph: nodes:' (export a workflow or chatflow app)"
        )
    return _Dify(data, graph, handlers).run()


class _Dify(Translator):
    def __init__(self, data: dict[str, Any], graph: dict[str, Any], handlers: str) -> None:
        app = mapping(data.get("app"))
        self.title = str(app.get("name") or "app")
        self.chat = app.get("mode") in ("advanced-chat", "chat")
        self.handlers = handlers
        self.warnings: list[str] = []
        self.stubs: list[Stub] = []
        self.stub_names = Names()
        self.var_names = Names({"h", "query"})
        self.todos = 0
        self.params: dict[str, str] = {}  # start variable -> parameter name
        self.items: dict[str, str] = {}  # iteration id -> its item variable
        self.emitted: set[str] = set()  # the nodes written so far, whose variables are set
        self.may_return = True  # may the node being written end the workflow?
        self.conversation = self._conversation(data)
        self.graph = self._graph(graph)

    def save(self) -> object:
        return set(self.emitted)

    def restore(self, saved: object, loop: Node, result: str) -> None:
        assert isinstance(saved, set)
        self.emitted = saved | {loop.key}

    def _conversation(self, data: dict[str, Any]) -> dict[str, tuple[str, Any]]:
        listed = dicts(mapping(data.get("workflow")).get("conversation_variables"))
        found = {}
        for entry in listed:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str):
                found[entry["name"]] = (
                    self.var_names.fresh(f"conversation {entry['name']}"),
                    entry.get("value"),
                )
        return found

    def _graph(self, raw: dict[str, Any]) -> Graph:
        nodes: dict[str, Node] = {}
        for entry in raw["nodes"]:
            data = entry.get("data") if isinstance(entry, dict) else None
            if not isinstance(data, dict) or "id" not in entry:
                raise FormatError("every node has an 'id' and 'data'")
            title = str(data.get("title") or data.get("type") or entry["id"])
            node = Node(str(entry["id"]), title, str(data.get("type", "")), data)
            node.var = self.var_names.fresh(title)
            nodes[node.key] = node
        return Graph(nodes, self._edges(raw, nodes), frozenset(["iteration"]), {"iteration": "body"})

    def _edges(self, raw: dict[str, Any], nodes: dict[str, Node]) -> list[Edge]:
        edges = []
        for entry in dicts(raw.get("edges")):
            if isinstance(entry, dict) and entry.get("source") in nodes and entry.get("target") in nodes:
                edges.append(
                    Edge(
                        str(entry["source"]), str(entry.get("sourceHandle") or "source"), str(entry["target"])
                    )
                )
        for node in nodes.values():  # an iteration's body starts at its start node
            start = node.params.get("start_node_id")
            if node.kind == "iteration" and start in nodes:
                edges.append(Edge(node.key, "body", str(start)))
        return edges

    # -- writing -----------------------------------------------------------------------

    def run(self) -> Imported:
        starts = [node for node in self.graph.nodes.values() if node.kind == "start"]
        if len(starts) != 1:
            raise FormatError(f"a Dify app has one start node, this one has {len(starts)}")
        start = starts[0]
        cut_back_edges(self.graph, [start.key])
        for edge in self.graph.dropped:
            self.warn(
                f"the edge from '{edge.source}' back to '{edge.target}' makes a loop wf cannot write: dropped"
            )
        walk = Walk(self.graph, self, self.ports)
        parameters = self._parameters(start)
        self.emitted.add(start.key)
        body = walk.block(self._next(start), None)
        name = Names(set(self.var_names.taken)).fresh(self.title, "app")
        description = f"From the Dify {'chatflow' if self.chat else 'workflow'} {self.title!r}."
        lines = [f"workflow {name}({', '.join(parameters)}) {{", f"    {literal(description)}"]
        lines += [f"    {var} = {literal(value)}" for var, value in self.conversation.values()]
        lines += ["    " + line if line else line for line in body.lines]
        declaration = "\n".join([*lines, "}", ""])
        wf = wf_module("Dify", self.title, self.handlers, [declaration], self.todos)
        return Imported(wf, handler_module("Dify", self.title, self.stubs), self.warnings)

    def _parameters(self, start: Node) -> list[str]:
        found = ["query: str"] if self.chat else []
        for variable in dicts(start.params.get("variables")):
            if not isinstance(variable, dict) or not isinstance(variable.get("variable"), str):
                continue
            name = self.var_names.fresh(variable["variable"], "input")
            self.params[variable["variable"]] = name
            annotation = _TYPES.get(str(variable.get("type")), "any")
            default = "" if variable.get("required", True) else " = null"
            found.append(f"{name}: {annotation}{default}")
        optional = [p for p in found if p.endswith("= null")]
        return [p for p in found if not p.endswith("= null")] + optional

    def _next(self, node: Node) -> str | None:
        targets = [edge.target for edge in self.graph.outgoing(node.key) if edge.port != "body"]
        return targets[0] if targets else None

    def ports(self, node: Node) -> list[str]:
        if node.kind == "if-else":
            return [port for _, port in self._cases(node)]
        if node.kind == "question-classifier":
            return [str(c.get("id")) for c in dicts(node.params.get("classes"))]
        return []

    def ending(self, last_var: str | None) -> str | None:
        return None  # a Dify path that ends without an end node gives null

    # -- references --------------------------------------------------------------------

    def reference(self, selector: Any) -> str | None:
        """The wf expression for a value selector `[node_id, variable]`, or None."""
        if not isinstance(selector, (list, tuple)) or len(selector) < 2:
            return None
        source, name = str(selector[0]), str(selector[1])
        if source == "sys":
            return "query" if name == "query" and self.chat else None
        if source == "conversation":
            return self.conversation.get(name, (None, None))[0]
        node = self.graph.nodes.get(source)
        if node is None or node.key not in self.emitted:
            return None  # not a node, or one that has not run by here
        return self._output(node, name)

    def _output(self, node: Node, name: str) -> str | None:
        """The wf expression for output `name` of `node`."""
        kind = node.kind
        if kind == "start":
            return self.params.get(name)
        if kind == "iteration" and name == "item":
            return self.items.get(node.key)
        if kind in ("llm", "question-classifier", "template-transform", "iteration") or kind.startswith(
            "variable-"
        ):
            return node.var if name in ("text", "class_name", "output") else None
        if kind in ("if-else", "end", "answer", "iteration-start", "assigner"):
            return None  # nodes without outputs
        field = name if name.isidentifier() else None
        return f"{node.var}.{field}" if field else f"{node.var}[{quote(name)}]"

    def text(self, template: Any) -> str:
        """A prompt or other text with `{{#node.var#}}` references, as a wf string."""
        if not isinstance(template, str):
            return literal(template)
        parts, position, whole = [], 0, _REFERENCE.fullmatch(template.strip())
        if whole:
            return self._reference_text(whole.group(1))
        for match in _REFERENCE.finditer(template):
            parts.append(quote(template[position : match.start()], braces=True)[1:-1])
            found = self.reference(match.group(1).split(".", 1))
            if found is None:  # the marker goes into the text itself
                self._missing(match.group(1))
                parts.append(quote(f"TODO(Dify): {match.group(0)}", braces=True)[1:-1])
            else:
                parts.append("{" + found + "}")
            position = match.end()
        if not parts:
            return quote(template)
        parts.append(quote(template[position:], braces=True)[1:-1])
        return 'f"' + "".join(parts) + '"'

    def _reference_text(self, dotted: str) -> str:
        found = self.reference(dotted.split(".", 1))
        if found is None:
            self._missing(dotted)
            return literal(f"TODO(Dify): {dotted}")
        return found

    def _missing(self, dotted: str) -> None:
        self.todos += 1
        self.warn(f"the reference {{{{#{dotted}#}}}} has no wf counterpart here: kept as a TODO")

    def selected(self, selector: Any) -> str:
        found = self.reference(selector)
        if found is None:
            return self._reference_text(
                ".".join(map(str, selector)) if isinstance(selector, list) else str(selector)
            )
        return found

    # -- node types --------------------------------------------------------------------

    def emit(self, node: Node, input_var: str | None, returns: bool) -> Emitted:
        handler = _EMITTERS.get(node.kind, _Dify._stub)
        self.may_return = returns
        emitted = handler(self, node)
        self.emitted.add(node.key)
        return emitted

    def _start_of_iteration(self, node: Node) -> Emitted:
        return Plain(())

    def _end(self, node: Node) -> Emitted:
        outputs = dicts(node.params.get("outputs"))
        fields = [
            f"{map_key(str(o.get('variable')))}: {self.selected(o.get('value_selector'))}"
            for o in outputs
            if isinstance(o, dict) and o.get("variable")
        ]
        return self._finish(node, "end", f"{{{', '.join(fields)}}}")

    def _answer(self, node: Node) -> Emitted:
        return self._finish(node, "answer", self.text(node.params.get("answer", "")))

    def _finish(self, node: Node, topic: str, value: str) -> Emitted:
        """Return `value`; where returning would end the workflow too early (more nodes
        follow, inside an iteration, in a side path), emit it on `topic` instead."""
        if self.graph.outgoing(node.key) or not self.may_return:
            return Plain((f"emit {topic}({value})",))
        return Plain((f"return {value}",), ends=True)

    def _if_else(self, node: Node) -> Emitted:
        return Branch((), tuple((condition, port) for condition, port in self._cases(node)))

    def _cases(self, node: Node) -> list[tuple[str | None, str]]:
        data = node.params
        cases = data.get("cases")
        if not isinstance(cases, list):  # before Dify 0.8: one case, handles 'true' and 'false'
            cases = [
                {
                    "case_id": "true",
                    "conditions": data.get("conditions") or [],
                    "logical_operator": data.get("logical_operator", "and"),
                }
            ]
        arms: list[tuple[str | None, str]] = []
        for case in cases:
            if isinstance(case, dict):
                joiner = " or " if case.get("logical_operator") == "or" else " and "
                parts = [self._condition(c) for c in dicts(case.get("conditions"))]
                condition = joiner.join(f"({p})" if len(parts) > 1 else p for p in parts) or "true"
                arms.append((condition, str(case.get("case_id"))))
        return [*arms, (None, "false")]

    def _condition(self, condition: dict[str, Any]) -> str:
        left = self.selected(condition.get("variable_selector"))
        operator = str(condition.get("comparison_operator", "is"))
        raw = condition.get("value")
        numeric = condition.get("varType") == "number" or operator in ("=", "≠", ">", "<", "≥", "≤")
        number = _number(raw) if numeric else None
        right = number if number is not None else self.text(raw if raw is not None else "")
        tested = comparison(_COMPARISONS[operator], left, right) if operator in _COMPARISONS else None
        if tested is not None:
            return tested
        if operator in ("start with", "end with") and isinstance(raw, str) and raw and "{{#" not in raw:
            part = f"{left}[:{len(raw)}]" if operator == "start with" else f"{left}[-{len(raw)}:]"
            return f"{part} == {right}"
        self.todos += 1
        self.warn(f"the comparison {operator!r} is kept as a TODO")
        return f"{literal(f'TODO(Dify): {operator} {raw}')} == {left}"

    def _classifier(self, node: Node) -> Emitted:
        classes = dicts(node.params.get("classes"))
        names = "[" + ", ".join(literal(str(c.get("name", ""))) for c in classes) + "]"
        query = self.selected(node.params.get("query_variable_selector"))
        call = self._call(node, [("query", query), ("classes", names)])
        arms = tuple((f"{node.var} == {literal(str(c.get('name', '')))}", str(c.get("id"))) for c in classes)
        return Branch((f"{node.var} = {call}",), arms)

    def _iteration(self, node: Node) -> Emitted:
        item = self.var_names.fresh(f"{node.var} item")
        self.items[node.key] = item
        items = self.selected(node.params.get("iterator_selector"))
        output = node.params.get("output_selector")
        after = "source" if any(e.port == "source" for e in self.graph.outgoing(node.key)) else None
        width = count(node.params.get("parallel_nums"), 10) if node.params.get("is_parallel") is True else 0
        return Loop(items, item, "body", node.var, lambda last: self.selected(output), after, width)

    def _aggregator(self, node: Node) -> Emitted:
        sources = [self.reference(s) for s in _listing(node.params.get("variables"))]
        known = [s for s in sources if s is not None]
        if len(known) != len(sources) or not known:
            self.warn(f"'{node.name}': some of its variables have no wf counterpart")
        return Plain((f"{node.var} = {' ?? '.join(known) or 'null'}",))

    def _assigner(self, node: Node) -> Emitted:
        data = node.params
        items = data.get("items")
        if not isinstance(items, list):  # version 1: one assignment
            items = [
                {
                    "variable_selector": data.get("assigned_variable_selector"),
                    "operation": data.get("write_mode", "over-write"),
                    "value": data.get("input_variable_selector"),
                    "input_type": "variable",
                }
            ]
        lines = []
        for item in dicts(items):
            target = self.reference(item.get("variable_selector"))
            if target is None:
                self.warn(f"'{node.name}': it assigns a variable wf does not know: left out")
                continue
            value = (
                self.selected(item.get("value"))
                if item.get("input_type", "variable") == "variable"
                else literal(item.get("value"))
            )
            operation = item.get("operation", "over-write")
            if operation == "append":
                value = f"{target} + [{value}]"
            elif operation == "clear":
                value = "null"
            elif operation not in ("over-write", "set"):
                self.warn(f"'{node.name}': the operation {operation!r} is written as an over-write")
            lines.append(f"{target} = {value}")
        return Plain(tuple(lines))

    def _template(self, node: Node) -> Emitted:
        template = str(node.params.get("template", ""))
        names = {
            str(v.get("variable")): self.selected(v.get("value_selector"))
            for v in dicts(node.params.get("variables"))
            if isinstance(v, dict)
        }
        if (
            "{%" in template
            or any(m.group(1) not in names for m in _JINJA_FIELD.finditer(template))
            or re.search(r"\{\{(?!\s*[A-Za-z_][A-Za-z0-9_]*\s*\}\})", template)
        ):
            call = self._call(node, list(names.items()))
            return Plain((f"{node.var} = {call}",))
        parts, position = [], 0
        for match in _JINJA_FIELD.finditer(template):
            parts.append(quote(template[position : match.start()], braces=True)[1:-1])
            parts.append("{" + names[match.group(1)] + "}")
            position = match.end()
        parts.append(quote(template[position:], braces=True)[1:-1])
        return Plain((f'{node.var} = f"{"".join(parts)}"',))

    def _stub(self, node: Node) -> Emitted:
        data = node.params
        if node.kind == "llm":
            arguments = self._prompt(data.get("prompt_template"))
        elif node.kind == "code":
            arguments = [
                (str(v.get("variable")), self.selected(v.get("value_selector")))
                for v in dicts(data.get("variables"))
                if isinstance(v, dict)
            ]
        elif node.kind == "http-request":
            arguments = [
                ("method", literal(str(data.get("method", "get")).upper())),
                ("url", self.text(data.get("url", ""))),
            ]
            for key in ("headers", "params"):
                if data.get(key):
                    arguments.append((key, self._pairs(str(data[key]))))
            body = mapping(data.get("body"))
            if body.get("type") not in (None, "none"):
                arguments.append(
                    (
                        "body",
                        self.text(body.get("data"))
                        if isinstance(body.get("data"), str)
                        else literal(body.get("data")),
                    )
                )
        else:
            self.warn(f"'{node.name}': the Dify node type '{node.kind}' has no wf translation: wrote a stub")
            arguments = []
        return Plain((f"{node.var} = {self._call(node, arguments)}",))

    def _call(self, node: Node, arguments: list[tuple[str, str]]) -> str:
        names = Names()
        named = [(names.fresh(key, "value"), value) for key, value in arguments]
        name = self.stub_names.fresh(node.name)
        todo = _STUBBED.get(node.kind, "Do what this node did and return a dict of its outputs.")
        if node.kind == "template-transform":
            todo = "Render the Jinja template (see 'template') with these variables and return the text."
        settings = {k: v for k, v in node.params.items() if k not in ("selected", "desc") or v}
        self.stubs.append(Stub(name, node.name, node.kind, settings, tuple(key for key, _ in named), todo))
        return f"h.{name}({', '.join(f'{key}={value}' for key, value in named)})"

    def _prompt(self, template: Any) -> list[tuple[str, str]]:
        if isinstance(template, dict):  # a completion model: one text
            return [("prompt", self.text(template.get("text", "")))]
        system = [str(m.get("text", "")) for m in dicts(template) if m.get("role") == "system"]
        user = [str(m.get("text", "")) for m in dicts(template) if m.get("role") != "system"]
        found = [("system", self.text("\n".join(system)))] if system else []
        return [*found, ("prompt", self.text("\n".join(user)))]

    def _pairs(self, text: str) -> str:
        """Dify's `key:value` lines (headers, query parameters) as a wf map."""
        pairs = [line.split(":", 1) for line in text.splitlines() if ":" in line]
        return (
            "{" + ", ".join(f"{quote(key.strip())}: {self.text(value.strip())}" for key, value in pairs) + "}"
        )


def _listing(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _number(raw: Any) -> str | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        return literal(raw)
    try:
        return literal(int(raw)) if str(raw).strip().lstrip("-").isdigit() else literal(float(raw))
    except (TypeError, ValueError):
        return None


_EMITTERS = {
    "end": _Dify._end,
    "answer": _Dify._answer,
    "if-else": _Dify._if_else,
    "question-classifier": _Dify._classifier,
    "iteration": _Dify._iteration,
    "iteration-start": _Dify._start_of_iteration,
    "variable-aggregator": _Dify._aggregator,
    "variable-assigner": _Dify._aggregator,
    "assigner": _Dify._assigner,
    "template-transform": _Dify._template,
}
