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
    assert {"kps", "egfr", "performance"} <= names
    assert any(n.startswith("never ") for n in names)  # the rules
    assert sum(1 for s in outline or [] if s.detail == "case") == text.count("\ncase ")
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
    assert labels and "adenocarcinoma" not in labels  # a new clause: no value here
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    titles = [lens.command.title for lens in lenses or [] if lens.command]
    assert len(titles) == text.count("\ncase ") and set(titles) == {"case passes"}
    folds = await client.text_document_folding_range_async(lsp.FoldingRangeParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    pathway = lines.index("pathway")
    assert any(f.start_line == pathway and f.end_line > pathway + 10 for f in folds or [])


def _items(got: object) -> list[lsp.CompletionItem]:
    return list(got.items if isinstance(got, lsp.CompletionList) else got or [])  # type: ignore[attr-defined]


def _at(lines: list[str], needle: str, after: str = "") -> lsp.Position:
    """The position of ``needle`` on the first line holding it (and, if given, ``after``
    before it)."""
    k = next(i for i, ln in enumerate(lines) if needle in ln and after in ln)
    return lsp.Position(line=k, character=lines[k].index(needle) + 1)


async def test_references_and_rename(client: LanguageClient) -> None:
    from compiler.pipeline import check_text

    text = FLAGSHIP.read_text(encoding="utf-8")
    lines = text.splitlines()
    uri = _open(client, FLAGSHIP)
    await _diagnostics(client, uri)
    doc = lsp.TextDocumentIdentifier(uri=uri)
    # An input: its declaration and every use; `histology == adenocarcinoma` is one use.
    where = _at(lines, "histology", "input")
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=doc, position=where,
        context=lsp.ReferenceContext(include_declaration=True)))
    assert refs is not None
    spots = [(r.range.start.line, r.range.start.character) for r in refs]
    assert all(lines[ln][c:c + len("histology")] == "histology" for ln, c in spots)
    assert len(spots) == sum(_words(ln).count("histology") for ln in lines)
    no_decl = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=doc, position=where,
        context=lsp.ReferenceContext(include_declaration=False)))
    assert len(no_decl or []) == len(spots) - 1
    # An action, from a use: its namespace only (the input csf_cytology_result is not in it).
    refs = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=doc, position=_at(lines, "csf_cytology", "recommend"),
        context=lsp.ReferenceContext(include_declaration=True)))
    names = {lines[r.range.start.line][r.range.start.character:r.range.end.character]
             for r in refs or []}
    assert names == {"csf_cytology"} and len(refs or []) >= 2
    # Rename: every occurrence, and the renamed file checks clean.
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=doc, position=where, new_name="tumour_histology"))
    assert edit is not None and edit.changes is not None
    renamed = _apply_edits(text, edit.changes[uri])
    assert "histology ==" not in renamed.replace("tumour_histology", "")
    assert check_text(renamed, "renamed.guide").ok
    # Definition from a use of a node: its declaration in the pathway.
    where_node = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=doc, position=_at(lines, "workup", "-> workup")))
    assert isinstance(where_node, lsp.Location)
    assert lines[where_node.range.start.line].lstrip().split()[:2] in (
        ["step", "workup"], ["decide", "workup"], ["end", "workup"])
    # Rename of a pathway node (from a use), also clean.
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=doc, position=_at(lines, "workup", "-> workup"), new_name="work_up"))
    assert edit is not None and edit.changes is not None
    assert check_text(_apply_edits(text, edit.changes[uri]), "renamed.guide").ok
    # Refused: a clash in the namespace, a keyword, not a name.
    for new, why in (("kps", "already an input or let"), ("recommend", "keyword"),
                     ("2x", "not a name")):
        with pytest.raises(Exception, match=why):
            await client.text_document_rename_async(lsp.RenameParams(
                text_document=doc, position=where, new_name=new))
    ready = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        text_document=doc, position=where))
    assert isinstance(ready, lsp.Range) and ready.end.character - ready.start.character == 9
    nothing = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        text_document=doc, position=lsp.Position(line=0, character=1)))
    assert nothing is None


def _words(line: str) -> list[str]:
    import re

    code = line.split("#", 1)[0]
    code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', code)
    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", code)


def _apply_edits(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.split("\n")
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character),
                    reverse=True):
        assert e.range.start.line == e.range.end.line
        ln = lines[e.range.start.line]
        lines[e.range.start.line] = (ln[:e.range.start.character] + e.new_text +
                                     ln[e.range.end.character:])
    return "\n".join(lines)


async def test_a_finding_offers_its_witness_patient(client: LanguageClient) -> None:
    import json

    path = ROOT / "tests" / "fixtures" / "check" / "gap.guide"
    uri = _open(client, path)
    await _diagnostics(client, uri)
    await _diagnostics(client, uri)  # the solver's
    lenses = await client.text_document_code_lens_async(lsp.CodeLensParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    copy = [lens.command for lens in lenses or []
            if lens.command and lens.command.command == "guidec.copyWitness"]
    assert copy and copy[0].title.startswith("copy witness patient (")
    patient = json.loads(copy[0].arguments[0])  # type: ignore[index]
    assert isinstance(patient, dict) and patient


async def test_malformed_and_huge_documents_never_crash_the_server(client: LanguageClient
                                                                   ) -> None:
    text = FLAGSHIP.read_text(encoding="utf-8")
    for k, junk in enumerate(("", "\x00\x01\ufffd" * 50, "guideline", "{" * 5000,
                              text[: len(text) // 2], "pathway\n" + "  " * 3000 + "x",
                              '"' * 10_001, "\r\n\r" * 100)):
        uri = _open(client, ROOT / f"junk{k}.guide", junk)
        diags = await _diagnostics(client, uri)
        assert all(d.source == "guidec" for d in diags)
    # 10 MB: one clear diagnostic at once, never a hang; the server still answers.
    huge = text + ("# " + "x" * 98 + "\n") * 100_000
    uri = _open(client, ROOT / "huge.guide", huge)
    diags = await _diagnostics(client, uri)
    assert [d.code for d in diags] == ["E014"]
    assert f"{len(huge.encode()):,} bytes" in diags[0].message
    assert await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        options=lsp.FormattingOptions(tab_size=2, insert_spaces=True))) in (None, [], ())
    # Cut back under the limit: the diagnostic goes.
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))
    diags = await _diagnostics(client, uri)
    assert "E014" not in [d.code for d in diags]


async def test_an_edit_during_the_solver_run_leaves_no_stale_findings(
        client: LanguageClient) -> None:
    import asyncio

    from tests.benchmarks.bench_check import generate

    big = generate(300)  # the solver takes a while on it
    uri = _open(client, ROOT / "big.guide", big)
    await _diagnostics(client, uri)  # fast ones
    await asyncio.sleep(0.6)  # past the pause: the solver is running
    broken = big.replace("pathway", "pathway oops", 1)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=broken)]))
    await _diagnostics(client, uri)
    await asyncio.sleep(6)  # long enough for the first run to have finished
    final = client.diagnostics.get(uri, [])
    assert final and {d.code for d in final} == {"E002"}
    # Fixed again: the solver's findings for the new version arrive, the error is gone.
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=big)]))
    await _diagnostics(client, uri)
    assert "E002" not in {d.code for d in client.diagnostics.get(uri, [])}


async def test_completion_offers_what_fits_where_the_cursor_is(client: LanguageClient
                                                                ) -> None:
    text = FLAGSHIP.read_text(encoding="utf-8")
    lines = text.splitlines()
    uri = _open(client, FLAGSHIP)
    await _diagnostics(client, uri)

    async def labels(line: int, character: int) -> list[str]:
        got = await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=lsp.Position(line=line, character=character)))
        return [i.label for i in _items(got)]

    # Inside the pathway, at a node's start: the node keywords, no inputs.
    node = next(k for k, ln in enumerate(lines) if ln.startswith("  decide "))
    got = await labels(node, 2)
    assert {"step", "decide", "end"} <= set(got) and "kps" not in got
    assert "input" not in got or "pathway" not in got  # not every keyword everywhere
    # After `recommend`: actions only.
    rec = next(k for k, ln in enumerate(lines) if ln.strip().startswith("recommend "))
    got = await labels(rec, lines[rec].index("recommend ") + len("recommend "))
    assert got and set(got) <= set(_action_ids(text)) | {"unknown"}
    # After `when` in a branch: inputs and lets, and `not`, no action.
    when = next(k for k, ln in enumerate(lines) if ln.startswith("    when "))
    got = await labels(when, len("    when "))
    assert "kps" in got and "not" in got and "confirm_diagnosis" not in got
    # Typing a keyword's start at the top level: the top-level keywords.
    got = await labels(len(lines), 0)
    assert {"input", "case", "never"} <= set(got) and "kps" not in got


def _action_ids(text: str) -> list[str]:
    import re

    return re.findall(r"^action ([a-z_0-9]+)", text, re.M)


async def test_every_check_fixture_publishes_what_guidec_check_finds(
        client: LanguageClient) -> None:
    """Each fixture of tests/fixtures/check opened in the server: the diagnostics it ends with
    (the solver's, after the pause, when the fast checks find no error) are `guidec check`'s,
    codes and lines alike."""
    from compiler.pipeline import check_text

    fixtures = sorted((ROOT / "tests" / "fixtures" / "check").glob("*.guide"))
    assert len(fixtures) > 40
    for path in fixtures:
        text = path.read_text(encoding="utf-8")
        expected = check_text(text, path.name).diagnostics
        uri = _open(client, path, text)
        got = await _diagnostics(client, uri)
        if not any(d.severity == lsp.DiagnosticSeverity.Error for d in got):
            got = await _diagnostics(client, uri)  # the solver's
        want = sorted((d.code, d.span.line - 1) for d in expected)
        assert sorted((str(d.code), d.range.start.line) for d in got) == want, path.name
        client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri)))
        await _diagnostics(client, uri)  # cleared on close


async def test_hover_texts(client: LanguageClient) -> None:
    """An action's text, strength, detail and cited titles; a let in clinical words; a
    reference's title."""
    text = FLAGSHIP.read_text(encoding="utf-8")
    lines = text.splitlines()
    uri = _open(client, FLAGSHIP)
    await _diagnostics(client, uri)

    async def hover_at(needle: str, context: str) -> str:
        got = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri),
            position=_at(lines, needle, context)))
        assert got is not None and isinstance(got.contents, lsp.MarkupContent)
        return got.contents.value

    action = await hover_at("intrathecal_methotrexate", "recommend")
    assert "Intrathecal methotrexate 15 mg per dose" in action and "conditional" in action
    assert "Twice weekly x4 weeks" in action
    assert "Treatment of Leptomeningeal Carcinomatosis" in action  # r1's title, cited
    let = await hover_at("poor_performance", "when poor_performance")
    assert "Poor performance status" in let and "let" in let
    reference = await hover_at("r1", "cite r1")
    assert "Treatment of Leptomeningeal Carcinomatosis" in reference


async def test_every_request_anywhere_answers(client: LanguageClient) -> None:
    """Completion, hover, definition, references and prepare-rename at positions all over the
    flagship (a line's start, its middle, and past its end), and over a half-typed version of
    it: each answers, none fails."""
    text = FLAGSHIP.read_text(encoding="utf-8")
    half = text[: len(text) // 2] + "\n  decide x \"X\"\n    when kps <"
    for k, body in enumerate((text, half)):
        uri = _open(client, ROOT / f"anywhere{k}.guide", body)
        await _diagnostics(client, uri)
        doc = lsp.TextDocumentIdentifier(uri=uri)
        lines = body.splitlines()
        for n in range(0, len(lines) + 1, 31):
            line = lines[n] if n < len(lines) else ""
            for col in (0, len(line) // 2, len(line) + 3):
                at = lsp.Position(line=n, character=col)
                await client.text_document_completion_async(lsp.CompletionParams(
                    text_document=doc, position=at))
                await client.text_document_hover_async(lsp.HoverParams(
                    text_document=doc, position=at))
                await client.text_document_definition_async(lsp.DefinitionParams(
                    text_document=doc, position=at))
                await client.text_document_references_async(lsp.ReferenceParams(
                    text_document=doc, position=at,
                    context=lsp.ReferenceContext(include_declaration=True)))
                await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
                    text_document=doc, position=at))
