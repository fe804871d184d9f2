"""`guidec lsp` end to end with pytest-lsp: the server runs as a subprocess on stdio, as an
editor runs it. Open the flagship and fixtures, edit, and assert the published diagnostics
(codes, ranges, the solver's after a pause, never a stale set), formatting, the outline, hover
and go to definition."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient

ROOT = Path(__file__).resolve().parent.parent
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "cli",
                                                              "lsp"]))
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=lsp.ClientCapabilities(), root_uri=ROOT.as_uri()))
    yield
    await lsp_client.shutdown_session()


def _open(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        text_document=lsp.TextDocumentItem(uri=uri, language_id="guide", version=1,
                                           text=text if text is not None else
                                           path.read_text(encoding="utf-8"))))
    return uri


async def _diagnostics(client: LanguageClient, uri: str) -> list[lsp.Diagnostic]:
    await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return client.diagnostics.get(uri, [])


async def test_the_flagship_checks_clean_then_the_solver_speaks(client: LanguageClient
                                                                ) -> None:
    uri = _open(client, FLAGSHIP)
    fast = await _diagnostics(client, uri)
    assert [d for d in fast if d.severity == lsp.DiagnosticSeverity.Error] == []
    solver = await _diagnostics(client, uri)  # the pause, then the full check
    assert all(d.severity != lsp.DiagnosticSeverity.Error for d in solver)


async def test_a_syntax_error_at_once_with_its_range(client: LanguageClient) -> None:
    text = FLAGSHIP.read_text(encoding="utf-8").replace("pathway\n", "pathway\n  oops ->\n", 1)
    uri = _open(client, ROOT / "broken.guide", text)
    diags = await _diagnostics(client, uri)
    assert diags and diags[0].code == "E002" and diags[0].source == "guidec"
    line = text.splitlines().index("  oops ->")
    assert diags[0].range.start.line in (line, line + 1)
    # Fixed by an edit: the error goes away (no stale diagnostics).
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(
            text=FLAGSHIP.read_text(encoding="utf-8"))]))
    again = await _diagnostics(client, uri)
    assert all(d.code != "E002" for d in again)


async def test_a_solver_finding_carries_its_witness(client: LanguageClient) -> None:
    path = ROOT / "tests" / "fixtures" / "check" / "gap.guide"
    uri = _open(client, path)
    await _diagnostics(client, uri)
    diags = await _diagnostics(client, uri)
    found = [d for d in diags if d.related_information]
    assert found, [d.code for d in diags]
    assert any(r.message.startswith("witness patient: {") for d in found
               for r in d.related_information or [])


async def test_format_symbols_hover_definition(client: LanguageClient) -> None:
    text = FLAGSHIP.read_text(encoding="utf-8")
    loose = _open(client, ROOT / "loose.guide", text.replace("\n\n", "\n\n\n", 1))
    await _diagnostics(client, loose)
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=lsp.TextDocumentIdentifier(uri=loose),
        options=lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits and edits[0].new_text == text
    uri = _open(client, FLAGSHIP)
    await _diagnostics(client, uri)
    outline = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    names = {s.name for s in outline or []}
    assert {"kps", "egfr", "confirm_diagnosis"} <= names or {"kps", "egfr"} <= names
    lines = text.splitlines()
    use = next(k for k, ln in enumerate(lines) if "kps" in ln and not ln.startswith("input"))
    col = lines[use].index("kps") + 1
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=use, character=col)))
    assert hover is not None and "input" in str(hover.contents)
    where = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=use, character=col)))
    assert isinstance(where, lsp.Location)
    assert lines[where.range.start.line].startswith("input kps")


async def test_completion_lenses_folding(client: LanguageClient) -> None:
    text = FLAGSHIP.read_text(encoding="utf-8")
    uri = _open(client, FLAGSHIP)
    await _diagnostics(client, uri)
    lines = text.splitlines()
    k = next(i for i, ln in enumerate(lines) if "histology ==" in ln)
    col = lines[k].index("histology ==") + len("histology == ")
    got = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=k, character=col)))
    labels = [i.label for i in (got.items if isinstance(got, lsp.CompletionList) else got or [])]
    assert labels == ["adenocarcinoma", "squamous", "small_cell", "other", "unknown"]
    got = await client.text_document_completion_async(lsp.CompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        position=lsp.Position(line=k, character=0)))
    labels = [i.label for i in (got.items if isinstance(got, lsp.CompletionList) else got or [])]
    assert "kps" in labels and "recommend" in labels and "adenocarcinoma" not in labels
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert len(titles) == text.count("\ncase ") and set(titles) == {"case passes"}
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    pathway = lines.index("pathway")
    assert any(f.start_line == pathway and f.end_line > pathway + 10 for f in folds or [])
