"""`wfc lsp`, driven over stdio by pytest-lsp as an editor would drive it."""

from __future__ import annotations

import os
import sys

import pytest

if os.environ.get("CI") == "true":  # CI installs them (the test extra): never skip there
    import pygls  # noqa: F401
    import pytest_lsp  # noqa: F401
else:
    pytest.importorskip("pytest_lsp", reason="pip install 'wfc-lang[lsp]' pytest-lsp")

import pytest_lsp  # noqa: E402
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities  # noqa: E402

GOOD = '''use pay

policy careful {
    retry(attempts: 3)
}

saga book(x) with careful {
    "Hold, then charge."
    stage prepare {
        y = len([x])
    }
    step hold = pay.hold(x)
        compensate pay.release(hold.id)
    return hold
}

machine Door() {
    initial closed
    state closed {
        on open -> opened
    }
    final state opened
}
'''
BROKEN = "workflow w() {\n    return (1\n}\n"
MESSY = "workflow   w( ) {\nreturn 1\n}\n"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "wfc", "lsp"]))
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"), root_uri="file:///project/"))
    yield
    await lsp_client.shutdown_session()


async def open_file(client: LanguageClient, name: str, text: str) -> str:
    uri = f"file:///project/{name}"
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="wf", version=1, text=text)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return uri


def at(uri: str, line: int, character: int) -> dict:
    return {"text_document": lsp.TextDocumentIdentifier(uri=uri),
            "position": lsp.Position(line=line, character=character)}


@pytest.mark.asyncio
async def test_diagnostics_carry_the_checkers_codes_spans_and_help(client: LanguageClient) -> None:
    uri = await open_file(client, "broken.wf", BROKEN)
    [error] = client.diagnostics[uri]
    assert error.code == "E0001" and error.severity == lsp.DiagnosticSeverity.Error
    assert error.range.start == lsp.Position(line=2, character=0) and "help:" in error.message
    good = await open_file(client, "good.wf", GOOD.replace("        compensate pay.release(hold.id)\n", ""))
    assert client.diagnostics[good] == []  # the last step: nothing after it to warn about
    # editing fixes the broken file: its diagnostics go away
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=BROKEN.replace("(1", "1"))]))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert client.diagnostics[uri] == []


@pytest.mark.asyncio
async def test_route_findings_reach_the_editor(client: LanguageClient) -> None:
    source = "router r(x) {\n    route big when x > 100 -> 1\n    route mid when x > 10 -> 2\n" \
             "    route large when x > 50 -> 3\n    default -> 0\n}\n"
    uri = await open_file(client, "routes.wf", source)
    found = {d.code: d for d in client.diagnostics[uri]}
    assert set(found) == {"E0146", "W0147"}
    assert found["E0146"].range.start == lsp.Position(line=3, character=4)
    assert "note: routes 'big', 'mid' before it take every input it matches" in found["E0146"].message
    related = found["E0146"].related_information
    assert [(r.location.range.start.line, r.message) for r in related] == [(1, "tried first"), (2, "tried first")]


@pytest.mark.asyncio
async def test_outline_hover_and_definition(client: LanguageClient) -> None:
    uri = await open_file(client, "good.wf", GOOD)
    outline = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert [(s.name, s.detail) for s in outline] == [("careful", "policy"), ("book", "saga"),
                                                      ("Door", "machine")]
    assert [c.name for c in outline[1].children] == ["prepare"]
    assert [c.name for c in outline[2].children] == ["closed", "opened"]
    book = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 6, 6)))
    assert book.contents.value == "saga book(x)\n\nHold, then charge."
    retry = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 3, 6)))
    assert retry.contents.value.startswith("policy retry(attempts")
    length = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 9, 13)))
    assert length.contents.value.startswith("builtin len(x)")
    parameter = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 9, 18)))
    assert parameter.contents.value == "parameter x of saga book"
    argument = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 3, 12)))
    assert argument.contents.value == ("policy argument `attempts` (retry): how many calls in all, "
                                       "the first included")
    policy = await client.text_document_definition_async(lsp.DefinitionParams(**at(uri, 6, 22)))
    assert policy.range.start == lsp.Position(line=2, character=7)
    state = await client.text_document_definition_async(lsp.DefinitionParams(**at(uri, 19, 20)))
    assert state.range.start == lsp.Position(line=21, character=16)


@pytest.mark.asyncio
async def test_formatting_and_completion(client: LanguageClient) -> None:
    uri = await open_file(client, "messy.wf", MESSY)
    [edit] = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        options=lsp.FormattingOptions(tab_size=4, insert_spaces=True)))
    assert edit.new_text == "workflow w() {\n    return 1\n}\n"
    good = await open_file(client, "good.wf", GOOD)
    found = await client.text_document_completion_async(lsp.CompletionParams(**at(good, 10, 0)))
    labels = {item.label for item in found.items}
    assert {"parallel", "step", "retry", "attempts", "len", "book", "careful", "Door"} <= labels
    assert "saga" not in labels  # keywords where they can stand: this is inside a saga
    top = await client.text_document_completion_async(lsp.CompletionParams(**at(good, 15, 0)))
    assert {"saga", "workflow", "use"} <= {item.label for item in top.items}
    machine = await client.text_document_completion_async(lsp.CompletionParams(**at(good, 20, 0)))
    machine_labels = {item.label for item in machine.items}
    assert {"state", "initial", "on", "enter", "parallel", "region", "history", "after", "invoke"} <= machine_labels
    assert "step" not in machine_labels and "stage" not in machine_labels


@pytest.mark.asyncio
async def test_a_broken_file_gets_every_error_and_an_outline_of_what_parses(client: LanguageClient) -> None:
    uri = await open_file(client, "good.wf", GOOD)
    broken = ("workflow first() {\n    return (1\n}\n\n" + GOOD
              + "\nworkflow added() {\n    return 2\n}\n\nsaga broken(\n")
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeEvent_Type2(text=broken)]))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert [(d.code, d.range.start.line) for d in client.diagnostics[uri]] == [("E0001", 2),
                                                                             ("E0001", 33)]
    outline = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert [s.name for s in outline] == ["careful", "book", "Door", "added"]
    found = await client.text_document_completion_async(lsp.CompletionParams(**at(uri, 30, 0)))
    assert "added" in {item.label for item in found.items}


@pytest.mark.asyncio
async def test_handlers_are_read_from_their_python_file_never_run(client: LanguageClient,
                                                                   tmp_path) -> None:
    (tmp_path / "pay.py").write_text(
        'raise SystemExit("importing this module is not allowed")\n\n\n'
        'async def hold(order_id: str, amount: int = 1) -> dict:\n'
        '    """Hold the amount on the card."""\n\n\ndef release(hold_id):\n    pass\n',
        encoding="utf-8")
    uri = (tmp_path / "book.wf").as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=uri, language_id="wf", version=1, text=GOOD)))
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    shown = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 11, 21)))
    assert shown.contents.value == ("```python\nasync def hold(order_id: str, amount: int=1) -> dict\n"
                                    "```\n\nHold the amount on the card.")
    target = await client.text_document_definition_async(lsp.DefinitionParams(**at(uri, 12, 24)))
    assert target.uri == (tmp_path / "pay.py").as_uri() and target.range.start.line == 7
    found = await client.text_document_completion_async(lsp.CompletionParams(**at(uri, 11, 20)))
    assert {item.label for item in found.items} == {"hold", "release"}
    module = await client.text_document_definition_async(lsp.DefinitionParams(**at(uri, 0, 5)))
    assert module.uri == (tmp_path / "pay.py").as_uri() and module.range.start.line == 0
    everything = await client.text_document_completion_async(lsp.CompletionParams(**at(uri, 10, 0)))
    assert "open" in {item.label for item in everything.items}  # the machine's event


def test_every_builtin_and_policy_has_its_hover_documentation() -> None:
    from wfc.check.policies import KINDS
    from wfc.check.resolution import BUILTIN_FUNCTIONS
    from wfc.lsp import ARGUMENT_DOCS, BUILTIN_DOCS, POLICY_DOCS

    assert set(BUILTIN_FUNCTIONS) <= set(BUILTIN_DOCS)
    assert set(KINDS) <= set(POLICY_DOCS)
    assert {argument for arguments in KINDS.values() for argument in arguments} <= set(ARGUMENT_DOCS)


@pytest.mark.asyncio
async def test_error_types_are_in_the_outline_and_hover(client: LanguageClient) -> None:
    source = "error Declined\nerror Expired: Declined\n\nworkflow w() {\n    fail Expired(\"x\", code=1)\n}\n"
    uri = await open_file(client, "errors.wf", source)
    outline = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert [(s.name, s.detail) for s in outline] == [("Declined", "error"), ("Expired", "error: Declined"),
                                                      ("w", "workflow")]
    hover = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 4, 10)))
    assert hover.contents.value.startswith("error Expired: a kind of Declined")
    top = await client.text_document_completion_async(lsp.CompletionParams(**at(uri, 2, 0)))
    assert "error" in {item.label for item in top.items}


CHART = """machine Light() {
    initial green
    state green {
        on TIMER -> red
    }
    state red {
        initial walk
        state walk {
            on PED -> waiting
        }
        state waiting {
            after 5s -> walk
        }
        deep history h
        on TIMER -> green
    }
    parallel state both {
        region left {
            state x
        }
    }
}
"""


@pytest.mark.asyncio
async def test_a_statechart_outlines_its_nested_states_and_offers_their_events(client: LanguageClient) -> None:
    uri = await open_file(client, "chart.wf", CHART)
    [light] = await client.text_document_document_symbol_async(
        lsp.DocumentSymbolParams(text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert [(c.name, c.detail) for c in light.children] == [
        ("green", "state"), ("red", "state"), ("both", "parallel state")]
    assert [(c.name, c.detail) for c in light.children[1].children] == [
        ("walk", "state"), ("waiting", "state"), ("h", "deep history")]
    assert [(c.name, c.detail) for c in light.children[2].children] == [("left", "region")]
    target = await client.text_document_definition_async(lsp.DefinitionParams(**at(uri, 8, 23)))
    assert target.range.start == lsp.Position(line=10, character=14)  # `waiting`, inside red
    hover = await client.text_document_hover_async(lsp.HoverParams(**at(uri, 10, 16)))
    assert hover.contents.value == "state waiting: on after 5s"
    found = await client.text_document_completion_async(lsp.CompletionParams(**at(uri, 3, 0)))
    assert {"TIMER", "PED"} <= {item.label for item in found.items if item.kind == lsp.CompletionItemKind.Event}
