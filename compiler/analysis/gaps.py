"""A gap in words: the atoms of a decision's conditions, the regions no branch takes, each
described from its inputs' bounds."""

from __future__ import annotations

import math
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING

from compiler import model as m
from compiler.analysis.wording import _with_witness, undecided
from compiler.interpreter import (
    evaluate_expr,
)
from compiler.solver.terms import Z
from compiler.types import to_text, value_text
from dsl.diagnostics import Diagnostic, Severity

if TYPE_CHECKING:
    from compiler.analysis.engine import Analysis
    from compiler.analysis.trace import Trace


def _atoms(exprs: Iterable[m.Expr]) -> list[m.Expr]:
    """The comparisons and other non-connective parts of conditions (through lets)."""
    out: list[m.Expr] = []

    def visit(e: m.Expr) -> None:
        if isinstance(e, (m.And, m.Or)):
            for o in e.operands:
                visit(o)
        elif isinstance(e, m.Not):
            visit(e.operand)
        elif isinstance(e, m.Derived) and e.type == "boolean":
            visit(e.meaning)
        elif isinstance(e, m.Cmp) and e.left.type == "boolean":
            visit(e.left)  # `a xor b` is decided by a and b
            visit(e.right)
        elif isinstance(e, m.LetRef) and e.type == "boolean":
            if e.name not in lets_seen:
                lets_seen.add(e.name)
                visit(e.expr)
        elif isinstance(e, m.Const):
            return
        elif e not in out:
            out.append(e)

    lets_seen: set[str] = set()
    for e in exprs:
        visit(e)
    return out


def _gap_regions(a: Analysis, d: m.Decision, check: str) -> list[Diagnostic]:
    """One E504 per gap region (every one, or up to ``max_regions``), each with a witness in
    it; when there are several, each says which of how many it is."""
    enc = a.enc
    p = enc.main
    atoms = _atoms(b.condition.expr for b in d.branches)
    tfs = [enc.boolean(x) for x in atoms]
    reached = p.reached[d.id]
    gap = enc.conj(reached, enc.all_false(p.branch_tf[d.id]))

    def lit(i: int, v: m.Value) -> Z:
        t, f = tfs[i]
        if v is True:
            return t
        if v is False:
            return f
        return enc.unknown((t, f))

    found: list[Z] = []
    out: list[Diagnostic] = []
    more = False
    while True:
        if a.exhausted:
            out.append(undecided(f"every gap region of `{d.id}`", check, d.span, d.id))
            break
        r, zm = a.query(enc.conj(gap, *(enc.neg(x) for x in found)))
        if r == "unsat":
            break
        if r != "sat":
            out.append(undecided(f"every gap region of `{d.id}`", check, d.span, d.id))
            break
        if a.max_regions is not None and len(found) == a.max_regions:
            more = True
            break
        values = enc.patient(zm)
        truth = [evaluate_expr(x, values) for x in atoms]
        keep = list(range(len(atoms)))
        # Drop what is least telling first: booleans and choices, then numeric facts that are
        # false, and the numeric facts that are true last (they name the region's numbers).
        order = sorted(keep, key=lambda i: (_numeric_atom(atoms[i]), truth[i] is True, i))
        for i in order:
            trial = [j for j in keep if j != i]
            region = enc.conj(*(lit(j, truth[j]) for j in trial))
            r2, _ = a.query(enc.conj(reached, region,
                                     enc.disj(enc.neg(enc.all_false(p.branch_tf[d.id])), *found)))
            if r2 == "unsat":
                keep = trial
        region = enc.conj(*(lit(j, truth[j]) for j in keep))
        found.append(region)
        kept = [(atoms[j], truth[j]) for j in keep]
        words = describe(kept, a.model)

        def in_region(tr: Trace, kept: list[tuple[m.Expr, m.Value]] = kept) -> bool:
            return tr.decided.get(d.id, ("",))[0] == "gap" and all(
                evaluate_expr(x, tr.values) == v for x, v in kept)

        msg = f"no branch of `{d.id}` applies when {words}" if words else \
            f"no branch of `{d.id}` applies to some patients who reach it"
        out.append(_with_witness(
            a, values, in_region,
            lambda o, _v: any(s["decision"] == d.id and s["reason"] == "gap" for s in o.stuck),
            Diagnostic("E504", Severity.ERROR, msg, d.span,
                       "add a branch for these patients, or `otherwise -> ...`",
                       ("every branch is false there: "
                        + "; ".join(f"`{b.condition.text}` (line {b.span.line})"
                                    for b in d.branches),), node=d.id),
            check))
    # Numbered in the order the report lists them (by their words), so that they read as one
    # group: region 1 of 9, 2 of 9, ...
    regions = sorted((k for k, x in enumerate(out) if x.code == "E504"),
                     key=lambda k: out[k].message)
    if len(regions) > 1 or more:
        total = f"{len(regions)}+" if more else str(len(regions))
        for n, k in enumerate(regions, 1):
            x = out[k]
            out[k] = Diagnostic(x.code, x.severity, f"{x.message} (gap region {n} of {total})",
                                x.span, x.hint, x.notes, x.witness, x.path, x.node)
    if more and out:
        last = out[-1]
        out[-1] = Diagnostic(last.code, last.severity, last.message, last.span, last.hint,
                             (*last.notes, f"more gap regions exist: only the first "
                              f"{a.max_regions} are shown (--max-regions)"), last.witness,
                             last.path, last.node)
    return out


def _numeric_atom(e: m.Expr) -> bool:
    return isinstance(e, m.Cmp) and e.left.type == "number"






def describe(region: list[tuple[m.Expr, m.Value]], model: m.Model) -> str:
    """A region of patients in source syntax, e.g. ``kps == 70 and life_expectancy >= 1``."""
    order: list[str] = []
    numeric: dict[str, list[tuple[str, Fraction]]] = {}
    enums: dict[str, set[str]] = {}
    flags: dict[str, str] = {}
    other: dict[str, str] = {}

    def slot(name: str) -> None:
        if name not in order:
            order.append(name)

    for e, v in region:
        if v is None:
            names = m.inputs_of(e)
            for x in names:
                slot(x)
                flags[x] = f"{x} is unknown"
            if not names:
                key = to_text(e)
                slot(key)
                other[key] = f"({key}) is unknown"
            continue
        simple = _simple_cmp(e)
        if simple is not None:
            name, op, c = simple
            slot(name)
            numeric.setdefault(name, []).append((op if v else m.NEGATED[op], c))
            continue
        if isinstance(e, m.Cmp) and isinstance(e.left, m.InputRef) and \
                isinstance(e.right, m.Const) and isinstance(e.right.value, str):
            name = e.left.name
            values = set(model.inputs[name].values)
            inside = {e.right.value} if e.op == "==" else values - {e.right.value}
            slot(name)
            enums[name] = enums.get(name, values) & (inside if v else values - inside)
            continue
        if isinstance(e, m.Member) and isinstance(e.operand, m.InputRef):
            name = e.operand.name
            values = set(model.inputs[name].values)
            inside = set(e.values)
            slot(name)
            enums[name] = enums.get(name, values) & (inside if v else values - inside)
            continue
        if isinstance(e, m.InputRef):
            slot(e.name)
            flags[e.name] = e.name if v else f"not {e.name}"
            continue
        if isinstance(e, m.Known) and isinstance(e.operand, m.InputRef):
            slot(e.operand.name)
            known = e.known == v
            flags[e.operand.name] = f"{e.operand.name} is {'known' if known else 'unknown'}"
            continue
        key = to_text(e)
        slot(key)
        other[key] = key if v else f"not ({key})"
    rank = {name: k for k, name in enumerate(model.inputs)}
    order.sort(key=lambda name: rank.get(name, len(rank)))
    parts: list[str] = []
    for name in order:
        if name in flags:
            parts.append(flags[name])
        if name in numeric:
            parts += _bounds(model.inputs[name], numeric[name])
        if name in enums:
            allowed = [x for x in model.inputs[name].values if x in enums[name]]
            missing = [x for x in model.inputs[name].values if x not in enums[name]]
            if len(allowed) == 1:
                parts.append(f"{name} == {allowed[0]}")
            elif len(missing) == 1:
                parts.append(f"{name} != {missing[0]}")
            elif missing:
                parts.append(f"{name} in ({', '.join(allowed)})")
        if name in other:
            parts.append(other[name])
    return " and ".join(parts)


def _simple_cmp(e: m.Expr) -> tuple[str, str, Fraction] | None:
    if not isinstance(e, m.Cmp) or e.left.type != "number":
        return None
    if isinstance(e.left, m.InputRef) and isinstance(e.right, m.Const) and \
            isinstance(e.right.value, Fraction):
        return e.left.name, e.op, e.right.value
    if isinstance(e.right, m.InputRef) and isinstance(e.left, m.Const) and \
            isinstance(e.left.value, Fraction):
        return e.right.name, m.SWAPPED[e.op], e.left.value
    return None


def _bounds(inp: m.Input, cons: list[tuple[str, Fraction]]) -> list[str]:
    name = inp.name
    eq = [c for op, c in cons if op == "=="]
    if eq:
        return [f"{name} == {value_text(eq[0])}"]
    lows = [(c, op == ">") for op, c in cons if op in (">", ">=")]
    highs = [(c, op == "<") for op, c in cons if op in ("<", "<=")]
    low = max(lows, key=lambda x: (x[0], x[1])) if lows else None
    high = min(highs, key=lambda x: (x[0], not x[1])) if highs else None
    single = _single_value(inp, low, high)
    out: list[str] = []
    if single is not None:
        out.append(f"{name} == {value_text(single)}")
    else:
        if low is not None and not (low[0] == inp.low and not low[1]):
            out.append(f"{name} {'>' if low[1] else '>='} {value_text(low[0])}")
        if high is not None and not (high[0] == inp.high and not high[1]):
            out.append(f"{name} {'<' if high[1] else '<='} {value_text(high[0])}")
    out += [f"{name} != {value_text(c)}" for op, c in cons if op == "!="]
    return out


def _single_value(inp: m.Input, low: tuple[Fraction, bool] | None,
                  high: tuple[Fraction, bool] | None) -> Fraction | None:
    """The only value the input can take between two bounds, if there is exactly one."""
    if low is None or high is None:
        return None
    if inp.kind == "number":
        return low[0] if low[0] == high[0] and not low[1] and not high[1] else None
    step = inp.step or Fraction(1)
    base = inp.low if inp.low is not None else Fraction(0)
    first = base + step * math.ceil((low[0] - base) / step)
    if low[1] and first == low[0]:
        first += step
    last = base + step * math.floor((high[0] - base) / step)
    if high[1] and last == high[0]:
        last -= step
    return first if first == last else None
