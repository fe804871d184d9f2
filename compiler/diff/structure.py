"""The structural diff of two versions of a guideline: declarations, interface and pathway.

The structural diff matches declarations by id (and recognises a renamed action or input by
its unchanged content), matches decision branches by position and target, and reports each
change with its lines on both sides. The interface diff says what breaks a consumer of the
generated evaluator. The behavioural diff (``compiler.diff.behaviour``) proves, with the solver,
which patients a change affects.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

from compiler import model as m
from compiler.pipeline import InputError, check_text, read_source
from dsl.source import MAX_BYTES


@dataclass(frozen=True)
class Change:
    """One structural change: what kind of thing, which, how, and the lines on both sides."""

    category: str  # header, input, assumption, action, reference, decision, branch, step, rule
    kind: str  # added, removed, changed, renamed
    subject: str
    detail: str
    old_line: int | None = None
    new_line: int | None = None
    breaking: bool = False

    def to_json(self) -> dict[str, object]:
        """JSON form."""
        return {"category": self.category, "kind": self.kind, "subject": self.subject,
                "detail": self.detail, "old_line": self.old_line, "new_line": self.new_line,
                "breaking": self.breaking}


@dataclass
class Version:
    """One side of a diff: where it came from, its text and its model."""

    label: str
    source: str
    model: m.Model


@dataclass
class StructuralDiff:
    """Every structural change, in a stable order."""

    changes: list[Change] = field(default_factory=list)

    @property
    def breaking(self) -> list[Change]:
        """The changes that break consumers of the generated evaluator."""
        return [c for c in self.changes if c.breaking]


class DiffError(Exception):
    """A side of the diff cannot be read or has errors."""


# ----------------------------------------------------------------------------- loading


def read_spec(spec: str, cwd: Path | None = None) -> tuple[str, str]:
    """Read `FILE` or `REV:path` (through git); return (label, text)."""
    if ":" in spec and not Path(spec).exists():
        rev, _, path = spec.partition(":")
        if rev.startswith("-"):
            # `git show --output=FILE:x` would be an option to git (it writes a file).
            raise DiffError(f"{spec}: a revision cannot start with '-'")
        if rev and path:
            try:
                proc = subprocess.run(["git", "cat-file", "blob", f"{rev}:{path}"],
                                      capture_output=True, cwd=cwd, check=False)
            except FileNotFoundError:
                raise DiffError("git is not installed; cannot read " + spec) from None
            if proc.returncode != 0:
                msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
                raise DiffError(f"{spec}: {msg[-1] if msg else 'not found in git'}")
            if len(proc.stdout) > MAX_BYTES:
                raise DiffError(f"{spec}: {len(proc.stdout):,} bytes is too large for a "
                                f"guideline (limit {MAX_BYTES:,})")
            try:
                return spec, proc.stdout.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError:
                raise DiffError(f"{spec}: is not UTF-8 text (a binary file?)") from None
    try:
        return spec, read_source(spec)
    except InputError as exc:
        raise DiffError(str(exc)) from None


def load_version(label: str, text: str) -> Version:
    """Build the model of one side; a side with errors cannot be compared."""
    result = check_text(text, label, analyze=False)
    if result.model is None:
        first = result.errors[0]
        raise DiffError(f"{label} has errors (first: {first.span}: {first.message}); "
                        "run `guidec check` on it")
    return Version(label, text, result.model)


# ----------------------------------------------------------------------------- structure


def _line(x: object) -> int | None:
    span = getattr(x, "span", None)
    return span.line if span is not None and span.line > 0 else None


def _input_shape(i: m.Input) -> tuple[object, ...]:
    return (i.kind, i.optional, i.low, i.high, i.step, i.unit, i.values, i.low_open,
            i.high_open, i.default, i.typical)


def _input_words(i: m.Input) -> str:
    from compiler.types import value_text

    parts = [("optional " if i.may_be_absent else "") + i.kind]
    if i.kind in ("enum", "set"):
        parts.append("of " + ", ".join(i.values))
    if i.low_open or i.high_open:
        parts.append(i.range_text)
    elif i.low is not None or i.high is not None:
        lo = value_text(i.low) if i.low is not None else ""
        hi = value_text(i.high) if i.high is not None else ""
        parts.append(f"{lo}..{hi}")
    if i.step is not None:
        parts.append(f"step {value_text(i.step)}")
    if i.unit:
        parts.append(f'unit "{i.unit}"')
    if i.typical is not None:
        parts.append(f"typical {value_text(i.typical[0])}..{value_text(i.typical[1])}")
    if i.default is not None:
        d = i.default
        parts.append("default " + (("true" if d else "false") if isinstance(d, bool) else
                                   value_text(d) if isinstance(d, Fraction) else
                                   "(" + ", ".join(x for x in i.values if x in d) + ")"
                                   if isinstance(d, frozenset) else d))
    return " ".join(parts)


def structural_diff(old: m.Model, new: m.Model) -> StructuralDiff:
    """Every structural change from ``old`` to ``new``."""
    out: list[Change] = []
    out += _header(old, new)
    out += _inputs(old, new)
    out += _assumptions(old, new)
    out += _lets(old, new)
    actions = _actions(old, new)
    out += actions
    renames = {c.subject.split(" -> ")[0]: c.subject.split(" -> ")[1]
               for c in actions if c.kind == "renamed"}
    out += _references(old, new)
    out += _pathway(old, new, renames)
    out += _rules(old, new)
    return StructuralDiff(out)


def _header(old: m.Model, new: m.Model) -> list[Change]:
    out = []
    for f in ("id", "title", "version", "status", "updated", "owner"):
        a, b = getattr(old.meta, f), getattr(new.meta, f)
        if a != b:
            out.append(Change("header", "changed", f, f"{a} -> {b}", 1, 1))
    return out


def _inputs(old: m.Model, new: m.Model) -> list[Change]:
    out: list[Change] = []
    removed = [n for n in old.inputs if n not in new.inputs]
    added = [n for n in new.inputs if n not in old.inputs]
    for r in list(removed):
        oi = old.inputs[r]
        twin = next((a for a in added if _input_shape(new.inputs[a]) == _input_shape(oi)
                     and new.inputs[a].label == oi.label), None)
        if twin is not None:
            removed.remove(r)
            added.remove(twin)
            out.append(Change("input", "renamed", f"{r} -> {twin}",
                              f"the input `{r}` is now `{twin}` (same label and type)",
                              _line(oi), _line(new.inputs[twin]), breaking=True))
    for r in removed:
        out.append(Change("input", "removed", r, f"{_input_words(old.inputs[r])}",
                          _line(old.inputs[r]), None, breaking=True))
    for a in added:
        ni = new.inputs[a]
        out.append(Change("input", "added", a, _input_words(ni), None, _line(ni),
                          breaking=not ni.optional))
    for name in old.inputs:
        if name not in new.inputs:
            continue
        oi, ni = old.inputs[name], new.inputs[name]
        if _input_shape(oi) == _input_shape(ni) and oi.label == ni.label:
            continue
        breaking = (oi.kind != ni.kind or (oi.may_be_absent and not ni.may_be_absent)
                    or bool(set(oi.values) - set(ni.values))
                    or (ni.low is not None and (oi.low is None or ni.low > oi.low or (
                        ni.low == oi.low and ni.low_open and not oi.low_open)))
                    or (ni.high is not None and (oi.high is None or ni.high < oi.high or (
                        ni.high == oi.high and ni.high_open and not oi.high_open)))
                    or (ni.step is not None and ni.step != oi.step))
        detail = f"{_input_words(oi)} -> {_input_words(ni)}" if _input_shape(oi) != \
            _input_shape(ni) else f'label "{oi.label}" -> "{ni.label}"'
        gone = [v for v in oi.values if v not in ni.values]
        if gone:
            detail += f" (removed value{'s' * (len(gone) > 1)}: {', '.join(gone)})"
        out.append(Change("input", "changed", name, detail, _line(oi), _line(ni), breaking))
    return out


def _assumptions(old: m.Model, new: m.Model) -> list[Change]:
    a = {x.condition.text: x for x in old.assumptions}
    b = {x.condition.text: x for x in new.assumptions}
    out = [Change("assumption", "removed", t, t, _line(a[t]), None) for t in a if t not in b]
    out += [Change("assumption", "added", t, t, None, _line(b[t]), breaking=True)
            for t in b if t not in a]
    return out


def _lets(old: m.Model, new: m.Model) -> list[Change]:
    from compiler.types import to_text

    out = [Change("let", "removed", n, to_text(lt.expr), _line(lt), None)
           for n, lt in old.lets.items() if n not in new.lets]
    out += [Change("let", "added", n, to_text(lt.expr), None, _line(lt))
            for n, lt in new.lets.items() if n not in old.lets]
    for n, lt in old.lets.items():
        nl = new.lets.get(n)
        if nl is None:
            continue
        a, b = to_text(lt.expr), to_text(nl.expr)
        if a != b:
            kind = "threshold" if _only_numbers_differ(a, b) else "definition"
            out.append(Change("let", "changed", n, f"{kind}: {a} -> {b}", _line(lt), _line(nl)))
    return out


def _action_shape(a: m.Action) -> tuple[object, ...]:
    return (a.kind, a.text, a.strength)


def _actions(old: m.Model, new: m.Model) -> list[Change]:
    out: list[Change] = []
    removed = [n for n in old.actions if n not in new.actions]
    added = [n for n in new.actions if n not in old.actions]
    for r in list(removed):
        twin = next((a for a in added
                     if _action_shape(new.actions[a]) == _action_shape(old.actions[r])), None)
        if twin is not None:
            removed.remove(r)
            added.remove(twin)
            out.append(Change("action", "renamed", f"{r} -> {twin}",
                              f"the action `{r}` is now `{twin}` (same kind, text and strength)",
                              _line(old.actions[r]), _line(new.actions[twin]), breaking=True))
    out += [Change("action", "removed", r, old.actions[r].text, _line(old.actions[r]), None,
                   breaking=True) for r in removed]
    out += [Change("action", "added", a, new.actions[a].text, None, _line(new.actions[a]))
            for a in added]
    for name, oa in old.actions.items():
        na = new.actions.get(name)
        if na is None:
            continue
        for f in ("kind", "text", "strength", "direction", "certainty", "grading", "short",
                  "detail", "citations"):
            x, y = getattr(oa, f), getattr(na, f)
            if x != y:
                out.append(Change("action", "changed", name, f"{f}: {_show(x)} -> {_show(y)}",
                                  _line(oa), _line(na)))
    return out


def _show(v: object) -> str:
    if v is None or v == ():
        return "(none)"
    return ", ".join(str(x) for x in v) if isinstance(v, tuple) else str(v)


def _references(old: m.Model, new: m.Model) -> list[Change]:
    out = [Change("reference", "removed", r, old.references[r].title,
                  _line(old.references[r]), None) for r in old.references
           if r not in new.references]
    out += [Change("reference", "added", r, new.references[r].title, None,
                   _line(new.references[r])) for r in new.references if r not in old.references]
    for r, ref in old.references.items():
        nr = new.references.get(r)
        if nr is not None and (ref.title, ref.source, ref.year, ref.kind) != \
                (nr.title, nr.source, nr.year, nr.kind):
            out.append(Change("reference", "changed", r, f"{ref.title} -> {nr.title}",
                              _line(ref), _line(nr)))
    return out


def _targets(t: tuple[str, ...]) -> str:
    return ", ".join(t)


def _pathway(old: m.Model, new: m.Model, renames: dict[str, str]) -> list[Change]:
    out: list[Change] = []
    on, nn = old.pathway.nodes, new.pathway.nodes
    for nid, node in on.items():
        if nid not in nn:
            out.append(Change(_category(node), "removed", nid, _title(node), _line(node), None))
    for nid, node in nn.items():
        if nid not in on:
            out.append(Change(_category(node), "added", nid, _title(node), None, _line(node)))
    for nid, a in on.items():
        b = nn.get(nid)
        if b is None:
            continue
        if isinstance(a, m.Decision) and isinstance(b, m.Decision):
            out += _decision(a, b)
        elif isinstance(a, m.Step) and isinstance(b, m.Step):
            out += _step(a, b, renames)
        elif type(a) is not type(b):
            out.append(Change(_category(b), "changed", nid,
                              f"was a {_category(a)}, now a {_category(b)}", _line(a), _line(b)))
        if (isinstance(a, (m.Step, m.Decision)) and isinstance(b, (m.Step, m.Decision))
                and _page(a) != _page(b)):
            out.append(Change(_category(b), "changed", nid, f"printed: {_page(a)} -> {_page(b)}",
                              _line(a), _line(b)))
    if old.pathway.start != new.pathway.start:
        out.append(Change("step", "changed", "start", f"-> {_targets(old.pathway.start)} is now "
                          f"-> {_targets(new.pathway.start)}", _line(old.pathway),
                          _line(new.pathway)))
    return out


def _page(node: m.Step | m.Decision) -> str:
    # Layout only: where the pocket edition starts a page (`page ["title"]`).
    if node.page is None:
        return "no page of its own"
    return f'starts page "{node.page.title}"' if node.page.title else "starts a page"


def _category(node: m.PathNode) -> str:
    return {"Decision": "decision", "Step": "step", "End": "end"}[type(node).__name__]


def _title(node: m.PathNode) -> str:
    if isinstance(node, m.Decision):
        return node.question
    return node.title or node.id


def _decision(a: m.Decision, b: m.Decision) -> list[Change]:
    out: list[Change] = []
    if a.policy != b.policy:
        out.append(Change("decision", "changed", a.id, f"policy {a.policy} -> {b.policy}",
                          _line(a), _line(b)))
    if a.question != b.question:
        out.append(Change("decision", "changed", a.id, f'question "{a.question}" -> '
                          f'"{b.question}"', _line(a), _line(b)))
    matched_new: set[int] = set()
    pairs: list[tuple[m.Branch, m.Branch | None]] = []
    for ob in a.branches:
        same = next((nb for nb in b.branches if nb.index not in matched_new
                     and nb.condition.text == ob.condition.text), None)
        if same is None:
            same = next((nb for nb in b.branches if nb.index not in matched_new
                         and nb.targets == ob.targets and nb.index == ob.index), None)
        if same is not None:
            matched_new.add(same.index)
        pairs.append((ob, same))
    for ob, nb in pairs:
        subject = f"{a.id} branch {ob.index + 1}"
        if nb is None:
            out.append(Change("branch", "removed", subject,
                              f"when {ob.condition.text} -> {_targets(ob.targets)}",
                              _line(ob), None))
            continue
        if nb.condition.text != ob.condition.text:
            kind = "threshold" if _only_numbers_differ(ob.condition.text, nb.condition.text) \
                else "condition"
            out.append(Change("branch", "changed", subject,
                              f"{kind}: when {ob.condition.text} -> when {nb.condition.text}",
                              _line(ob), _line(nb)))
        if nb.targets != ob.targets:
            out.append(Change("branch", "changed", subject,
                              f"-> {_targets(ob.targets)} is now -> {_targets(nb.targets)}",
                              _line(ob), _line(nb)))
    for nb in b.branches:
        if nb.index not in matched_new:
            out.append(Change("branch", "added", f"{b.id} branch {nb.index + 1}",
                              f"when {nb.condition.text} -> {_targets(nb.targets)}",
                              None, _line(nb)))
    if (a.otherwise is None) != (b.otherwise is None):
        kind = "added" if a.otherwise is None else "removed"
        side = b.otherwise or a.otherwise
        assert side is not None
        out.append(Change("branch", kind, f"{a.id} otherwise", f"otherwise -> "
                          f"{_targets(side.targets)}", _line(a.otherwise) if a.otherwise
                          else None, _line(b.otherwise) if b.otherwise else None))
    elif a.otherwise is not None and b.otherwise is not None and \
            a.otherwise.targets != b.otherwise.targets:
        out.append(Change("branch", "changed", f"{a.id} otherwise",
                          f"-> {_targets(a.otherwise.targets)} is now -> "
                          f"{_targets(b.otherwise.targets)}", _line(a.otherwise),
                          _line(b.otherwise)))
    return out


def _only_numbers_differ(x: str, y: str) -> bool:
    import re

    num = re.compile(r"-?\d+(?:\.\d+)?")
    return num.sub("#", x) == num.sub("#", y) and x != y


def _site_key(s: m.RecommendSite, renames: dict[str, str] | None = None) -> str:
    return ", ".join((renames or {}).get(x, x) for x in s.actions)


def _step(a: m.Step, b: m.Step, renames: dict[str, str]) -> list[Change]:
    out: list[Change] = []
    old_sites = {_site_key(s, renames): s for s in a.recommends}
    new_sites = {_site_key(s): s for s in b.recommends}
    for k, s in old_sites.items():
        t = new_sites.get(k)
        cond = f" when {s.condition.text}" if s.condition else ""
        if t is None:
            out.append(Change("step", "changed", a.id, f"no longer recommends {k}{cond}",
                              _line(s), None))
            continue
        ca = s.condition.text if s.condition else None
        cb = t.condition.text if t.condition else None
        if ca != cb:
            out.append(Change("step", "changed", a.id,
                              f"recommend {k}: when {ca or 'always'} -> when {cb or 'always'}",
                              _line(s), _line(t)))
    for k, t in new_sites.items():
        if k not in old_sites:
            cond = f" when {t.condition.text}" if t.condition else ""
            out.append(Change("step", "changed", b.id, f"now recommends {k}{cond}", None,
                              _line(t)))
    if a.next != b.next:
        out.append(Change("step", "changed", a.id, f"then -> {_targets(a.next)} is now "
                          f"-> {_targets(b.next)}", _line(a), _line(b)))
    return out


def _rule_keys(model: m.Model) -> dict[str, object]:
    out: dict[str, object] = {}
    for n in model.nevers:
        out[f"never {n.action}" + (f" when {n.condition.text}" if n.condition else "")] = n
    for r in model.requires:
        out[f"require {r.action} when {r.condition.text}"] = r
    for c in model.conflicts:
        out[f"conflict {c.first}, {c.second}"] = c
    for w in model.cautions:
        out[f"caution {w.id} when {w.condition.text}"] = w
    return out


def _rules(old: m.Model, new: m.Model) -> list[Change]:
    a, b = _rule_keys(old), _rule_keys(new)
    out = [Change("rule", "removed", k, k, _line(v), None) for k, v in a.items() if k not in b]
    out += [Change("rule", "added", k, k, None, _line(v)) for k, v in b.items() if k not in a]
    return out


# ----------------------------------------------------------------------------- textconv


def outline(model: m.Model) -> str:
    """A canonical, line-per-fact summary of a guideline, for `git diff` (textconv)."""
    lines = [f"guideline {model.meta.id} {model.meta.version} ({model.meta.status}, "
             f"updated {model.meta.updated})"]
    for i in model.inputs.values():
        lines.append(f"input {i.name}: {_input_words(i)}")
    for asm in model.assumptions:
        lines.append(f"assume {asm.condition.text}")
    for a in model.actions.values():
        lines.append(f"action {a.id} [{a.kind}, {a.strength}] {a.text} "
                     f"(cite {', '.join(a.citations)})")
    for n in model.pathway.nodes.values():
        if isinstance(n, m.Step):
            lines.append(f"step {n.id}: {n.title}")
            for s in n.recommends:
                cond = f" when {s.condition.text}" if s.condition else ""
                lines.append(f"  recommend {', '.join(s.actions)}{cond}")
            lines.append(f"  then -> {_targets(n.next)}")
        elif isinstance(n, m.Decision):
            lines.append(f"decide {n.id} ({n.policy}): {n.question}")
            for b in n.branches:
                lines.append(f"  when {b.condition.text} -> {_targets(b.targets)}")
            if n.otherwise is not None:
                lines.append(f"  otherwise -> {_targets(n.otherwise.targets)}")
        else:
            lines.append(f"end {n.id}")
    for k in _rule_keys(model):
        lines.append(k)
    for r in model.references.values():
        lines.append(f"reference {r.label} {r.id} [{r.kind}] {r.title}")
    return "\n".join(lines) + "\n"
