"""`guidec lsp`: a Language Server Protocol server on stdio (pygls, lsprotocol).

On every change the server publishes the syntax, name and type diagnostics at once: it parses
again only the pieces of the file that changed (:mod:`dsl.incremental`), and the checks
without the solver take milliseconds. After a pause in typing it runs the whole check with the
solver in a worker thread and publishes its findings too, each with its witness patient and
path as related information; the next edit stops that run (:class:`compiler.limits.Cancel`),
and a result for a version the user has since edited is dropped, never published. It also
formats (the formatter), lists the outline (inputs, lets, actions, references, pathway nodes,
rules, cases), folds blocks, completes (the keywords the grammar accepts at the cursor, the
declared names that fit there, a choice's values after `==` or `in (`), shows code lenses
(each case's result; "copy witness patient" on a finding), and answers hover, go to
definition, find references and rename (:mod:`compiler.occurrences`) for the names a
guideline declares.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
from dataclasses import dataclass, field

import click
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer

from compiler import GUIDEC_VERSION
from compiler import model as m
from compiler.limits import Cancel
from compiler.names import Scope
from compiler.occurrences import Occurrence
from dsl import ast
from dsl.ast import Span
from dsl.diagnostics import Diagnostic, Severity
from dsl.incremental import IncrementalParser

#: Seconds without an edit before the solver runs (each edit restarts the wait).
DEBOUNCE = 0.4
#: The client's command behind a finding's "copy witness patient" lens (its one argument is
#: the patient as JSON); the VS Code extension puts it on the clipboard.
COPY_WITNESS = "guidec.copyWitness"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEVERITY = {Severity.ERROR: lsp.DiagnosticSeverity.Error,
             Severity.WARNING: lsp.DiagnosticSeverity.Warning,
             Severity.INFO: lsp.DiagnosticSeverity.Information}


@dataclass
class _State:
    """Per document: the last model that checked, and the solver run waiting or running."""

    parser: IncrementalParser
    model: m.Model | None = None
    solver: asyncio.Task[None] | None = None
    #: The switch of the solver's run in its thread: flipped by the next edit.
    cancel: Cancel | None = None
    #: The names' occurrences of one version of the text (references, rename, definition).
    names: tuple[str, Scope, list[Occurrence]] | None = None
    #: The solver's last findings that carry a witness patient (for the code lenses).
    witnessed: list[Diagnostic] = field(default_factory=list)


class GuidecServer(LanguageServer):
    """The server, with each open document's state."""

    def __init__(self) -> None:
        super().__init__("guidec", GUIDEC_VERSION)
        self.docs: dict[str, _State] = {}


server = GuidecServer()


def _char(line: str, column: int) -> int:
    """A 1-based code point column as LSP's 0-based UTF-16 offset."""
    return len(line[:max(column - 1, 0)].encode("utf-16-le")) // 2


def to_range(span: Span, lines: list[str]) -> lsp.Range:
    """A span as an LSP range (the end at least one character past the start)."""
    def pos(line: int, column: int) -> lsp.Position:
        k = min(max(line - 1, 0), max(len(lines) - 1, 0))
        text = lines[k] if lines else ""
        return lsp.Position(line=k, character=_char(text, column))

    start = pos(span.line, span.column)
    end = pos(span.end_line, span.end_column)
    if (end.line, end.character) <= (start.line, start.character):
        end = lsp.Position(line=start.line, character=start.character + 1)
    return lsp.Range(start=start, end=end)


def to_lsp(d: Diagnostic, uri: str, lines: list[str]) -> lsp.Diagnostic:
    """A guidec diagnostic as an LSP one: the code, the hint and notes in the message, the
    witness patient and its path as related information."""
    message = d.message
    if d.hint:
        message += f"\nhelp: {d.hint}"
    for note in d.notes:
        message += f"\nnote: {note}"
    where = lsp.Location(uri=uri, range=to_range(d.span, lines))
    related = []
    if d.witness is not None:
        related.append(lsp.DiagnosticRelatedInformation(
            location=where, message="witness patient: " +
            json.dumps(d.witness, ensure_ascii=False, sort_keys=True)))
    if d.path:
        related.append(lsp.DiagnosticRelatedInformation(
            location=where, message="its path: " + " -> ".join(d.path)))
    return lsp.Diagnostic(range=where.range, message=message, severity=_SEVERITY[d.severity],
                          code=d.code, source="guidec", related_information=related or None)


def _publish(ls: GuidecServer, uri: str, version: int | None,
             diagnostics: list[lsp.Diagnostic]) -> None:
    ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
        uri=uri, version=version, diagnostics=diagnostics))


def _filename(uri: str) -> str:
    return uri.rsplit("/", 1)[-1] or "guideline.guide"


def _too_large(text: str) -> bool:
    from dsl.source import MAX_BYTES

    return len(text) > MAX_BYTES // 4 and len(text.encode("utf-8")) > MAX_BYTES


def _too_large_diagnostic(text: str) -> Diagnostic:
    from dsl.diagnostics import error
    from dsl.source import MAX_BYTES

    size = len(text.encode("utf-8"))
    return error("E014", f"this document is {size:,} bytes, larger than guidec reads "
                 f"({MAX_BYTES:,}); it is not checked", Span("<editor>", 1, 1, 1, 2),
                 hint="split the guideline, or remove what is not part of it")


def check_fast(ls: GuidecServer, uri: str) -> None:
    """Syntax, names and types now; the solver after a pause (the previous wait cancelled)."""
    from compiler.pipeline import check_text

    doc = ls.workspace.get_text_document(uri)
    state = ls.docs.get(uri) or ls.docs.setdefault(
        uri, _State(IncrementalParser(_filename(uri))))
    text, version = doc.source, doc.version
    _stop_solver(state)
    state.witnessed = []  # their spans may have moved: the solver's next run gives them again
    if _too_large(text):
        state.model = None
        _publish(ls, uri, version, [to_lsp(_too_large_diagnostic(text), uri, [])])
        return
    trees: list[ast.Guideline] = []  # this version's: the solver's run reuses it (immutable)

    def parse(source: str) -> ast.Guideline:
        trees.append(state.parser.parse(source))
        return trees[0]

    result = check_text(text, _filename(uri), analyze=False, tree=parse)
    lines = text.splitlines()
    if result.model is not None:
        state.model = result.model
    _publish(ls, uri, version, [to_lsp(d, uri, lines) for d in result.diagnostics])
    if result.ok:
        state.solver = asyncio.get_event_loop().create_task(
            _check_solver(ls, uri, text, version, trees[0]))


def _stop_solver(state: _State) -> None:
    """Cancel the solver's wait, and stop its run if it has started."""
    if state.solver is not None:
        state.solver.cancel()
    if state.cancel is not None:
        state.cancel.cancel()
        state.cancel = None


async def _check_solver(ls: GuidecServer, uri: str, text: str, version: int | None,
                        tree: ast.Guideline) -> None:
    from compiler.pipeline import check_text

    await asyncio.sleep(DEBOUNCE)
    loop = asyncio.get_running_loop()
    cancel = Cancel()
    state = ls.docs.get(uri)
    if state is None:
        return
    state.cancel = cancel
    result = await loop.run_in_executor(None, lambda: check_text(
        text, _filename(uri), tree=lambda _: tree, cancel=cancel))
    if cancel.cancelled:
        return  # edited meanwhile: the newer version's run publishes
    doc = ls.workspace.get_text_document(uri)
    if doc.version != version or doc.source != text:
        return  # edited meanwhile: the newer version's run publishes
    lines = text.splitlines()
    _publish(ls, uri, version, [to_lsp(d, uri, lines) for d in result.diagnostics])
    state = ls.docs.get(uri)  # None when the document was closed meanwhile
    if state is not None:
        state.witnessed = [d for d in result.diagnostics if d.witness is not None]
        if result.model is not None:
            state.model = result.model


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: GuidecServer, params: lsp.DidOpenTextDocumentParams) -> None:
    check_fast(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: GuidecServer, params: lsp.DidChangeTextDocumentParams) -> None:
    check_fast(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: GuidecServer, params: lsp.DidCloseTextDocumentParams) -> None:
    state = ls.docs.pop(params.text_document.uri, None)
    if state is not None:
        _stop_solver(state)
    _publish(ls, params.text_document.uri, None, [])


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: GuidecServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    """The whole document in the canonical layout (nothing when it does not parse)."""
    from dsl.diagnostics import GuidecError
    from dsl.formatter import format_source

    doc = ls.workspace.get_text_document(params.text_document.uri)
    if _too_large(doc.source):
        return []
    try:
        formatted = format_source(doc.source, _filename(doc.uri))
    except GuidecError:
        return []
    if formatted == doc.source:
        return []
    lines = doc.source.splitlines()
    end = lsp.Position(line=len(lines), character=0)
    return [lsp.TextEdit(range=lsp.Range(start=lsp.Position(line=0, character=0), end=end),
                         new_text=formatted)]


def _declared(model: m.Model) -> dict[str, tuple[lsp.SymbolKind, str, Span]]:
    """Every declared name: its kind of symbol, a one-line description and its span."""
    out: dict[str, tuple[lsp.SymbolKind, str, Span]] = {}
    for r in model.references.values():
        out[r.id] = (lsp.SymbolKind.Module, f"reference: {r.title}", r.span)
    for i in model.inputs.values():
        out[i.name] = (lsp.SymbolKind.Field, f"input: {i.label}", i.span)
    for let in model.lets.values():
        out[let.name] = (lsp.SymbolKind.Variable, f"let: {let.label or let.name}", let.span)
    for a in model.actions.values():
        out[a.id] = (lsp.SymbolKind.Function, f"action: {a.text}", a.span)
    for node in model.pathway.nodes.values():
        what = "decision" if isinstance(node, m.Decision) else \
            "step" if isinstance(node, m.Step) else "end"
        title = node.question if isinstance(node, m.Decision) else node.title
        out[node.id] = (lsp.SymbolKind.Event, f"{what}: {title or node.id}", node.span)
    return out


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def symbols(ls: GuidecServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    """The outline: references, inputs, lets, actions, the pathway's nodes, the rules
    (never, require, conflict, caution), then cases."""
    state = ls.docs.get(params.text_document.uri)
    if state is None or state.model is None:
        return []
    model = state.model
    lines = ls.workspace.get_text_document(params.text_document.uri).source.splitlines()
    out = []
    for name, (kind, detail, span) in _declared(model).items():
        r = to_range(span, lines)
        out.append(lsp.DocumentSymbol(name=name, detail=detail, kind=kind, range=r,
                                      selection_range=r))
    rules: list[tuple[str, str, Span]] = [
        *((f"never {x.action}", x.reason, x.span) for x in model.nevers),
        *((f"require {x.action}", x.reason, x.span) for x in model.requires),
        *((f"conflict {x.first}, {x.second}", x.reason, x.span) for x in model.conflicts),
        *((f"caution {x.id}", x.text, x.span) for x in model.cautions)]
    for name, detail, span in sorted(rules, key=lambda r: (r[2].line, r[2].column)):
        r = to_range(span, lines)
        out.append(lsp.DocumentSymbol(name=name, detail=f"rule: {detail}",
                                      kind=lsp.SymbolKind.Constant, range=r, selection_range=r))
    for case in model.cases:
        r = to_range(case.span, lines)
        out.append(lsp.DocumentSymbol(name=case.title, detail="case",
                                      kind=lsp.SymbolKind.Method, range=r, selection_range=r))
    return out


def _word(ls: GuidecServer, uri: str, pos: lsp.Position) -> str | None:
    lines = ls.workspace.get_text_document(uri).source.splitlines()
    if pos.line >= len(lines):
        return None
    line = lines[pos.line]
    for w in _WORD.finditer(line):
        if _char(line, w.start() + 1) <= pos.character <= _char(line, w.end() + 1):
            return w.group()
    return None


def hover_text(model: m.Model, name: str) -> str | None:
    """What a declared name means, in Markdown."""
    if name in model.inputs:
        i = model.inputs[name]
        kind = {"enum": "one of " + ", ".join(i.values),
                "set": "set of " + ", ".join(i.values)}.get(i.kind, i.kind)
        bounds = ""
        if i.low is not None or i.high is not None:
            low = "" if i.low is None else str(i.low)
            high = "" if i.high is None else str(i.high)
            bounds = f" ({low}..{high})"
        unit = f", in {i.unit}" if i.unit else ""
        need = "optional" if i.optional else "required" if i.default is None else "has a default"
        return f"**{i.label}** (`{name}`): input, {kind}{bounds}{unit}; {need}"
    if name in model.actions:
        a = model.actions[name]
        text = f"**{a.text}** (`{name}`): action, {a.kind}, {a.strength} {a.direction}"
        if a.detail:
            text += f"\n\n{a.detail}"
        if a.citations:
            text += "\n\nCites: " + "; ".join(
                f"{model.references[c].label or c}. {model.references[c].title}"
                for c in a.citations if c in model.references)
        return text
    if name in model.lets:
        let = model.lets[name]
        return f"**{let.label or name}** (`{name}`): let\n\n{let.words}"
    if name in model.references:
        r = model.references[name]
        return f"**{r.title}** (`{name}`): reference"
    if name in model.pathway.nodes:
        return _declared(model)[name][1]
    return None


def _name_at(ls: GuidecServer, uri: str, pos: lsp.Position) -> tuple[m.Model, str] | None:
    """The last model that checked and the name under the cursor."""
    state = ls.docs.get(uri)
    word = _word(ls, uri, pos)
    if state is None or state.model is None or word is None:
        return None
    return state.model, word


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: GuidecServer, params: lsp.HoverParams) -> lsp.Hover | None:
    at = _name_at(ls, params.text_document.uri, params.position)
    text = hover_text(*at) if at is not None else None
    if text is None:
        return None
    return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value=text))


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: GuidecServer, params: lsp.DefinitionParams) -> lsp.Location | None:
    """Where the name under the cursor is declared (in its namespace; from the last model
    that checked when the document does not parse now)."""
    uri = params.text_document.uri
    lines = ls.workspace.get_text_document(uri).source.splitlines()
    found = _occurrences(ls, uri, params.position)
    if found is not None:
        _, every, here = found
        decl = next((o for o in every if o.declaration and
                     (o.kind, o.name) == (here.kind, here.name)), None)
        if decl is not None:
            return lsp.Location(uri=uri, range=to_range(decl.span, lines))
    at = _name_at(ls, uri, params.position)
    declared = _declared(at[0]).get(at[1]) if at is not None else None
    if declared is None:
        return None
    return lsp.Location(uri=uri, range=to_range(declared[2], lines))


def _occurrences(ls: GuidecServer, uri: str, pos: lsp.Position
                 ) -> tuple[Scope, list[Occurrence], Occurrence] | None:
    """The declared names' occurrences in the document as it is now, and the one under the
    cursor (None when it does not parse or the cursor is on no declared name)."""
    from compiler.occurrences import at, occurrences
    from compiler.pipeline import names
    from dsl.diagnostics import GuidecError

    doc = ls.workspace.get_text_document(uri)
    lines = doc.source.splitlines()
    if pos.line >= len(lines) or _too_large(doc.source):
        return None
    state = ls.docs.get(uri)
    if state is not None and state.names is not None and state.names[0] == doc.source:
        _, scope, found = state.names  # this version's, from the last request
    else:
        parser = state.parser if state is not None else IncrementalParser(_filename(uri))
        try:
            g = parser.parse(doc.source)  # the pieces of this version are parsed already
        except GuidecError:
            return None
        scope, _ = names(g, checks=False)
        found = occurrences(g, scope)
        if state is not None:
            state.names = (doc.source, scope, found)
    here = at(found, pos.line + 1, len(_prefix(lines[pos.line], pos.character)) + 1)
    return (scope, found, here) if here is not None else None


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: GuidecServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    """Every place the name under the cursor is written (its declaration when the client asks
    for it), in the name's own namespace: the action `csf_cytology` is not the input
    `csf_cytology_result`, nor an enum value that happens to be spelt the same."""
    uri = params.text_document.uri
    found = _occurrences(ls, uri, params.position)
    if found is None:
        return []
    _, every, here = found
    lines = ls.workspace.get_text_document(uri).source.splitlines()
    return [lsp.Location(uri=uri, range=to_range(o.span, lines)) for o in every
            if (o.kind, o.name) == (here.kind, here.name) and
            (params.context.include_declaration or not o.declaration)]


@server.feature(lsp.TEXT_DOCUMENT_PREPARE_RENAME)
def prepare_rename(ls: GuidecServer, params: lsp.PrepareRenameParams) -> lsp.Range | None:
    """The name under the cursor, when it is a declared name (else the editor says it cannot
    rename here)."""
    found = _occurrences(ls, params.text_document.uri, params.position)
    if found is None:
        return None
    lines = ls.workspace.get_text_document(params.text_document.uri).source.splitlines()
    return to_range(found[2].span, lines)


#: LSP's error code for a request that was valid but failed (a refused rename).
REQUEST_FAILED = -32803


@server.feature(lsp.TEXT_DOCUMENT_RENAME)
def rename(ls: GuidecServer, params: lsp.RenameParams) -> lsp.WorkspaceEdit | None:
    """Rename a declared name at its declaration and every use. Refused, with the reason, when
    the new name is not a name, is a keyword, is taken in the same namespace, or when the
    renamed file would have an error the file does not have now."""
    from compiler.occurrences import rename_problem
    from compiler.pipeline import check_text

    uri = params.text_document.uri
    found = _occurrences(ls, uri, params.position)
    if found is None:
        raise JsonRpcException("there is no declared name here to rename", REQUEST_FAILED)
    scope, every, here = found
    problem = rename_problem(scope, here, params.new_name)
    if problem is not None:
        raise JsonRpcException(f"cannot rename `{here.name}`: {problem}", REQUEST_FAILED)
    doc = ls.workspace.get_text_document(uri)
    lines = doc.source.splitlines()
    spans = [o.span for o in every if (o.kind, o.name) == (here.kind, here.name)]
    edits = [lsp.TextEdit(range=to_range(s, lines), new_text=params.new_name) for s in spans]
    renamed = _apply(doc.source, spans, params.new_name)
    before = len(check_text(doc.source, _filename(uri), analyze=False).errors)
    after = check_text(renamed, _filename(uri), analyze=False).errors
    if len(after) > before:
        raise JsonRpcException(f"cannot rename `{here.name}` to `{params.new_name}`: the "
                               f"file would not check ({after[0].message})", REQUEST_FAILED)
    return lsp.WorkspaceEdit(changes={uri: edits})


def _apply(text: str, spans: list[Span], new: str) -> str:
    """The text with each one-line span replaced by ``new`` (the last first, so that the
    earlier columns stay put)."""
    lines = text.split("\n")
    for s in sorted(spans, key=lambda s: (s.line, s.column), reverse=True):
        line = lines[s.line - 1]
        lines[s.line - 1] = line[:s.column - 1] + new + line[s.end_column - 1:]
    return "\n".join(lines)


def keywords() -> list[str]:
    """The language's keywords, offered where the text before the cursor does not parse."""
    from dsl.parser import KEYWORDS

    return sorted(KEYWORDS)


_AFTER_EQUALS = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:==|!=|=)\s*[A-Za-z_]*$")
_AFTER_IN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s+(?:in|has)\s*\(?[A-Za-z0-9_,\s]*$")


#: The namespace of the names a clause's keyword (or arrow) is followed by: completion offers
#: those names only (the last such word before the cursor on its line decides).
_NAMESPACE_AFTER = {
    "recommend": "action", "never": "action", "require": "action", "conflict": "action",
    "expect": "action", "only": "action", "no": "action", "recommended": "action",
    "->": "node", "at": "node", "path": "node", "cite": "reference", "from": "patient",
    "caution": "caution", "pending": "value", "when": "value", "unless": "value",
    "assume": "value", "=": "value", "if": "value", "with": "value",
}
_TOKEN = re.compile(r"->|[A-Za-z_][A-Za-z0-9_]*|=")


def _namespace(before: str) -> str:
    """Which names fit at the end of ``before`` (a line up to the cursor)."""
    for word in reversed(_TOKEN.findall(before.split("#", 1)[0])):
        if word in _NAMESPACE_AFTER:
            return _NAMESPACE_AFTER[word]
    return "value"


def completions(model: m.Model | None, before: str,
                expected: tuple[list[str], bool] | None = None) -> list[lsp.CompletionItem]:
    """What may come at the cursor, given the line's text before it and what the grammar
    accepts there (``expected``: its keywords and whether a name may come; None when the text
    before has a syntax error): a choice's values after `==`, `!=`, `=` (in a patient), `in (`
    or `has`; else the declared names of the namespace that fits, then the keywords."""
    if model is not None:
        for pattern in (_AFTER_EQUALS, _AFTER_IN):
            found = pattern.search(before)
            if found and found.group(1) in model.inputs:
                inp = model.inputs[found.group(1)]
                if inp.values:
                    return [lsp.CompletionItem(label=v, kind=lsp.CompletionItemKind.EnumMember,
                                               detail=f"a value of {inp.name}")
                            for v in inp.values]
    words, names_fit = expected if expected is not None else (keywords(), True)
    if expected is not None and not before.strip():
        # At a line's start the layout tells more than the grammar (newlines do not count
        # to it): a top-level item starts unindented, anything else is indented.
        top = not before
        words = [w for w in words if (w in _ITEMS) == top]
    items = []
    if model is not None and names_fit:
        namespace = _namespace(before) if expected is not None else None
        for name, (kind, detail, _) in _declared(model).items():
            if namespace is not None and _KIND_NAMESPACE[kind] != namespace:
                continue
            items.append(lsp.CompletionItem(
                label=name, detail=detail,
                kind={lsp.SymbolKind.Field: lsp.CompletionItemKind.Field,
                      lsp.SymbolKind.Variable: lsp.CompletionItemKind.Variable,
                      lsp.SymbolKind.Function: lsp.CompletionItemKind.Function,
                      lsp.SymbolKind.Module: lsp.CompletionItemKind.Module}.get(
                          kind, lsp.CompletionItemKind.Reference)))
    items += [lsp.CompletionItem(label=k, kind=lsp.CompletionItemKind.Keyword) for k in words]
    return items


#: The keywords that start a top-level item (the formatter writes them unindented).
_ITEMS = frozenset({"changelog", "reference", "input", "assume", "let", "action", "section",
                    "pathway", "never", "require", "conflict", "caution", "patient", "case",
                    "allow"})
_KIND_NAMESPACE = {lsp.SymbolKind.Field: "value", lsp.SymbolKind.Variable: "value",
                   lsp.SymbolKind.Function: "action", lsp.SymbolKind.Module: "reference",
                   lsp.SymbolKind.Event: "node"}


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION,
                lsp.CompletionOptions(trigger_characters=["=", "(", " "]))
def completion(ls: GuidecServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    """Keywords the grammar accepts at the cursor, the declared names that fit there, or a
    choice's values."""
    from dsl.parser import expected_after

    uri = params.text_document.uri
    source = ls.workspace.get_text_document(uri).source
    lines = source.splitlines()
    line = lines[params.position.line] if params.position.line < len(lines) else ""
    before = _prefix(line, params.position.character)
    partial = re.search(r"[A-Za-z_][A-Za-z0-9_]*$", before)
    expected = None
    if not _too_large(source):
        upto = "".join(source.splitlines(keepends=True)[:params.position.line]) + before
        expected = expected_after(upto[:len(upto) - len(partial.group())] if partial else upto)
    state = ls.docs.get(uri)
    return lsp.CompletionList(is_incomplete=False, items=completions(
        state.model if state else None, before, expected))


def _prefix(line: str, units: int) -> str:
    """The line up to an LSP position (UTF-16 units), in code points."""
    seen = 0
    for k, ch in enumerate(line):
        if seen >= units:
            return line[:k]
        seen += len(ch.encode("utf-16-le")) // 2
    return line


@server.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
def code_lens(ls: GuidecServer, params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
    """Over each `case`, its result on the reference interpreter (run as the lens is asked
    for, on the last version that checked); over each solver finding with a witness, "copy
    witness patient"."""
    from compiler.cases import run_case

    state = ls.docs.get(params.text_document.uri)
    if state is None or state.model is None:
        return []
    lines = ls.workspace.get_text_document(params.text_document.uri).source.splitlines()
    out = []
    for case in state.model.cases:
        r = run_case(state.model, case)
        if r.passed:
            title = "case passes"
        elif r.outcome is None:
            title = "case fails: its patient is not valid"
        else:
            title = f"case fails: {len(r.failures)} expectation" + \
                ("s" if len(r.failures) != 1 else "") + " not met"
        span = to_range(case.span, lines)
        out.append(lsp.CodeLens(range=lsp.Range(start=span.start, end=span.start),
                                command=lsp.Command(title=title, command="")))
    for d in state.witnessed:
        span = to_range(d.span, lines)
        patient = json.dumps(d.witness, ensure_ascii=False, sort_keys=True)
        out.append(lsp.CodeLens(
            range=lsp.Range(start=span.start, end=span.start),
            command=lsp.Command(title=f"copy witness patient ({d.code})",
                                command=COPY_WITNESS, arguments=[patient])))
    return out


@server.feature(lsp.TEXT_DOCUMENT_FOLDING_RANGE)
def folding(ls: GuidecServer, params: lsp.FoldingRangeParams) -> list[lsp.FoldingRange]:
    """Each top-level block (a declaration and its indented lines) folds, and so does each
    node of the pathway."""
    lines = ls.workspace.get_text_document(params.text_document.uri).source.splitlines()
    out = []

    def depth(text: str) -> int:
        return len(text) - len(text.lstrip(" "))

    for k, text in enumerate(lines):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        d = depth(text)
        end = k
        for j in range(k + 1, len(lines)):
            if lines[j].strip() and depth(lines[j]) <= d:
                break
            if lines[j].strip():
                end = j
        if end > k:
            out.append(lsp.FoldingRange(start_line=k, end_line=end))
    return out


@click.command("lsp", epilog="Example: code --install-extension editors/vscode/guidec.vsix")
def lsp_command() -> None:
    """Serve the Language Server Protocol on stdio until the editor exits: diagnostics as
    you type (the solver's after a pause), formatting, the outline, folding, completion,
    code lenses on cases and findings, hover, go to definition, find references and
    rename."""
    import gc
    import sys

    from compiler.pipeline import check_text

    # Load the parser, the checks and the solver now, then keep what loading made out of the
    # collector's way: a full collection would walk it during every keystroke's check.
    check_text('guideline g "g"\npathway\n  start -> e\n  end e\n', "warm.guide")
    gc.collect()
    gc.freeze()
    # The process's own streams: JSON-RPC frames, not text for the terminal guard.
    server.start_io(sys.__stdin__.buffer, sys.__stdout__.buffer)  # type: ignore[union-attr,arg-type]
    # The client has closed the streams: nothing is left to flush on the way out.
    sys.stdout = sys.stderr = io.StringIO()
