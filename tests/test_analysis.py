"""The solver's analysis (issue 3): every check on its fixture, every witness replayed by the
reference interpreter, the encoding and the coverage trace checked against the interpreter,
and bad input (undecidable queries, a failing check) reported rather than crashing."""

from __future__ import annotations

import functools
import json
import random
import re
import time
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import pytest
import z3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import analysis, types
from compiler import model as m
from compiler.encode import Encoding
from compiler.interpreter import Outcome, evaluate, evaluate_expr, evaluate_values, validate
from compiler.pipeline import check_file, check_text
from dsl.diagnostics import Diagnostic, Severity

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "check"
FLAGSHIP = ROOT / "guidelines" / "leptomeningeal.guide"
ALL = sorted(FIXTURES.glob("*.guide"))


def witness_outcome(model: m.Model, witness: Mapping[str, object]) -> Outcome:
    """Replay a witness patient as `guidec eval` will: validate it, then evaluate it."""
    return evaluate_values(model, validate(model, witness))


def options(text: str) -> dict[str, int]:
    """`# analyze: key=value ...` lines of a fixture: options for ``analyze``."""
    out: dict[str, int] = {}
    for line in re.findall(r"^# analyze: (.*)$", text, re.M):
        for item in line.split():
            key, value = item.split("=")
            out[key] = int(value)
    return out


@functools.cache
def checked(path: Path) -> tuple[list[Diagnostic], m.Model | None]:
    """The diagnostics of a fixture (with its analysis options) and its model regardless of
    errors (None when it does not parse)."""
    text = path.read_text(encoding="utf-8")
    opts = options(text)
    original = analysis.analyze
    with pytest.MonkeyPatch.context() as mp:
        if opts:
            mp.setattr(analysis, "analyze", functools.partial(original, **opts))
        result = check_text(text, path.name)
    return result.diagnostics, analysis.model_of(text, path.name)


def expected(path: Path, kind: str) -> set[tuple[str, int]]:
    text = path.read_text(encoding="utf-8")
    return {(c, int(n)) for c, n in re.findall(rf"^# {kind}: (\w+) (\d+)$", text, re.M)}


# ----------------------------------------------------------------------------- fixtures


def test_every_code_has_a_fixture() -> None:
    codes = set()
    for path in ALL:
        codes |= {c for c, _ in expected(path, "expect") | expected(path, "expect-info")}
    wanted = {
        "E101", "E102", "E103", "E104", "E105", "E106", "E107", "E108", "E109", "E110",
        "E111", "E112", "E113", "E114",
        "W101", "W102", "W103", "W104", "W105", "E201", "E202", "E203", "E204", "E205", "E206",
        "E207", "E208", "E301", "E401", "E402", "W403", "E404", "W405", "W501", "W502", "E503",
        "E504", "E505", "E506", "E507", "E508", "I509", "W510",
    }
    assert wanted <= codes, sorted(wanted - codes)


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_fixture_findings(path: Path) -> None:
    diags, _ = checked(path)
    got = {(d.code, d.span.line) for d in diags if d.severity is not Severity.INFO}
    assert got == expected(path, "expect"), "\n".join(f"{d.code} {d.span.line} {d.message}"
                                                      for d in diags)
    infos = {(d.code, d.span.line) for d in diags if d.severity is Severity.INFO}
    assert infos == expected(path, "expect-info")


@pytest.mark.parametrize("path", ALL, ids=[p.stem for p in ALL])
def test_fixture_witnesses_replay(path: Path) -> None:
    """Every witness is a valid patient and the interpreter reproduces the finding with it."""
    diags, model = checked(path)
    for d in diags:
        if d.witness is None:
            continue
        assert model is not None
        assert json.loads(json.dumps(d.witness)) == dict(d.witness)
        for key, value in d.witness.items():
            assert value is not None, key
            assert not isinstance(value, float) or len(repr(value)) <= 12, (key, value)
        outcome = evaluate(model, d.witness)  # raises InvalidPatient if it is not valid
        assert tuple(d.path) == outcome.path
        values = validate(model, d.witness)
        recs = frozenset(outcome.actions)
        if d.code in ("E503", "E504"):
            reason = "overlap" if d.code == "E503" else "gap"
            assert any(s["decision"] == d.node and s["reason"] == reason for s in outcome.stuck)
        elif d.code == "E505":
            rule = next(r for r in model.conflicts if r.span.line == d.span.line)
            assert {rule.first, rule.second} <= recs
        elif d.code == "E506":
            never = next(r for r in model.nevers  # one line may hold a rule for several actions
                         if r.span.line == d.span.line and d.message.startswith(f"`{r.action}`"))
            assert never.action in recs
            assert never.condition is None or \
                evaluate_expr(never.condition.expr, values, recs) is not False
        elif d.code == "E507":
            req = next(r for r in model.requires if r.span.line == d.span.line)
            assert req.action not in recs
            assert evaluate_expr(req.condition.expr, values, recs) is True
        elif d.code == "I509":
            assert any(p["decision"] == d.node for p in outcome.pending)
        else:
            pytest.fail(f"unexpected witness on {d.code}")


def test_performance_literal_witnesses() -> None:
    """The seed's rule taken literally: gaps at KPS 70 and at KPS > 70 with uncontrolled
    disease, and an overlap at KPS > 70 with under a month to live."""
    diags, model = checked(FIXTURES / "performance_literal.guide")
    assert model is not None
    gaps = [d.witness for d in diags if d.code == "E504"]
    overlaps = [d.witness for d in diags if d.code == "E503"]
    assert all(w is not None for w in gaps + overlaps)
    assert any(w["kps"] == 70 for w in gaps if w)
    assert any(w["kps"] > 70 and w["extracranial_disease_controlled"] is False  # type: ignore
               for w in gaps if w)
    assert len(overlaps) == 1
    w = overlaps[0]
    assert w is not None
    assert w["kps"] > 70 and w["life_expectancy_months"] < 1  # type: ignore[operator]
    texts = sorted(d.message for d in diags if d.code == "E504")
    assert texts == [
        "no branch of `performance` applies when kps == 70 and life_expectancy_months >= 1 "
        "(gap region 1 of 2)",
        "no branch of `performance` applies when kps > 70 and life_expectancy_months >= 1 and "
        "not extracranial_disease_controlled (gap region 2 of 2)",
    ]


def test_flagship_has_no_error_and_no_warning() -> None:
    result = check_text(FLAGSHIP.read_text(encoding="utf-8"), str(FLAGSHIP))
    bad = [f"{d.code} {d.span.line} {d.message}" for d in result.diagnostics
           if d.severity is not Severity.INFO]
    assert not bad
    assert result.model is not None
    assert {d.code for d in result.diagnostics} <= {"I509"}


def test_unsat_findings_are_explained() -> None:
    diags, _ = checked(FIXTURES / "unreachable.guide")
    notes = {d.span.line: d.notes for d in diags}
    assert notes[27] == ("`kps > 80` (line 27) contradicts `kps < 50` (line 23)",)
    assert notes[29][0] == "covered by `kps <= 40` (line 28)"
    assert "the range of `kps`: integer 0..100 step 10 (line 12)" in notes[29][1]
    diags, _ = checked(FIXTURES / "shadowed.guide")
    assert diags[0].notes == ("covered by `kps >= 50` (line 21)",)
    diags, _ = checked(FIXTURES / "assumptions.guide")
    assert "the assumption `kps > 60` (line 13)" in diags[0].notes[0]
    assert "the assumption `kps < 40` (line 14)" in diags[0].notes[0]


def test_allow_accepts_a_warning_at_its_node() -> None:
    text = (FIXTURES / "shadowed.guide").read_text(encoding="utf-8")
    text += '\nallow W502 at choose "Kept while the committee decides"\n'
    result = check_text(text, "shadowed.guide")
    assert not result.diagnostics
    assert [(a.code, d.code, d.node) for a, d in result.allowed] == [("W502", "W502", "choose")]


def test_allow_of_an_error_says_so() -> None:
    text = (FIXTURES / "overlap.guide").read_text(encoding="utf-8")
    text += '\nallow E503 at profile "no"\n'
    result = check_text(text, "overlap.guide")
    w105 = [d for d in result.diagnostics if d.code == "W105"]
    assert w105 and "an error cannot be accepted" in w105[0].message
    assert any(d.code == "E503" for d in result.diagnostics)


# ----------------------------------------------------------------------------- bad input


def test_one_failing_check_is_e511_and_the_others_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: object, a: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(analysis.OverlapCheck, "goals", boom)
    model = analysis.model_of((FIXTURES / "performance_literal.guide").read_text(), "p.guide")
    assert model is not None
    diags = analysis.analyze(model)
    codes = [d.code for d in diags]
    assert "E511" in codes and "E503" not in codes
    assert codes.count("E504") == 2
    e511 = next(d for d in diags if d.code == "E511")
    assert "overlap check" in e511.message and "boom" in e511.message


def test_failing_report_is_e511(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: object, a: object) -> list[Diagnostic]:
        raise ValueError("bad report")

    monkeypatch.setattr(analysis.GapCheck, "report", boom)
    model = analysis.model_of((FIXTURES / "performance_literal.guide").read_text(), "p.guide")
    assert model is not None
    codes = [d.code for d in analysis.analyze(model)]
    assert "E511" in codes and "E503" in codes and "E504" not in codes


def test_a_witness_the_interpreter_does_not_confirm_is_e511(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """If the re-check disagrees, the finding becomes an internal failure, never a wrong
    witness."""
    from compiler.analysis import engine

    real = engine.evaluate_values

    def unstuck(model: m.Model, values: Mapping[str, m.Value]) -> Outcome:
        o = real(model, values)
        return Outcome(o.guideline, o.version, o.status, o.source_sha256, o.recommendations,
                       o.cautions, o.notes, o.path, o.pending, ())

    monkeypatch.setattr(engine, "evaluate_values", unstuck)
    model = analysis.model_of((FIXTURES / "overlap.guide").read_text(), "overlap.guide")
    assert model is not None
    diags = analysis.analyze(model)
    assert [d.code for d in diags] == ["E511"]
    assert "does not confirm" in diags[0].message and diags[0].witness is None


def test_undecidable_queries_are_w510_not_a_hang() -> None:
    model = analysis.model_of(FLAGSHIP.read_text(encoding="utf-8"), str(FLAGSHIP))
    assert model is not None
    t0 = time.perf_counter()
    diags = analysis.analyze(model, rlimit=1, rlimit_per_unit=0)
    assert time.perf_counter() - t0 < 20
    assert diags and all(d.code == "W510" for d in diags)
    assert "could not decide" in diags[0].message


def test_undecided_goals_are_w510_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """When only some queries run out of resources, each undecided goal is its own W510."""
    model = analysis.model_of((FIXTURES / "overlap.guide").read_text(), "overlap.guide")
    assert model is not None
    real = analysis.Analysis.query

    def limited(self: analysis.Analysis, formula: object, assumptions: object = ()) -> object:
        if self.queries >= 1:
            self.queries += 1
            return "unknown", None
        return real(self, formula, assumptions)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis.Analysis, "query", limited)
    diags = analysis.analyze(model, fuzz=False)
    # The first query's patient may settle some goals (e.g. the overlap, with its witness);
    # every other goal is a W510 naming its node.
    assert {d.code for d in diags} <= {"W510", "E503"}
    undecided = [d for d in diags if d.code == "W510"]
    assert undecided and all(d.node for d in undecided)
    assert any("profile" in d.message for d in undecided)


def test_rlimit_probe_is_stable() -> None:
    assert analysis._rlimit_is_cumulative() in (True, False)
    assert analysis._rlimit_is_cumulative() == analysis._rlimit_is_cumulative()


# ----------------------------------------------------------------------------- semantics


def _analysable() -> list[tuple[str, m.Model]]:
    out = []
    for path in ALL:
        diags, model = checked(path)
        if model is not None and not any(d.code.startswith(("E1", "E2", "E3", "E4"))
                                         for d in diags):
            out.append((path.stem, model))
    flagship = analysis.model_of(FLAGSHIP.read_text(encoding="utf-8"), str(FLAGSHIP))
    assert flagship is not None
    out.append(("flagship", flagship))
    return out


def _patients(model: m.Model, count: int, seed: int) -> list[dict[str, m.Value]]:
    pools = analysis._pools(model)
    rng = random.Random(seed)
    out = []
    for _ in range(count * 4):
        values = {name: rng.choice(pool) for name, pool in pools.items()}
        if all(evaluate_expr(a.condition.expr, values) is not False for a in model.assumptions):
            out.append(values)
        if len(out) == count:
            break
    return out


@pytest.mark.parametrize("name,model", _analysable(), ids=lambda x: x if isinstance(x, str) else "")
def test_trace_agrees_with_the_interpreter(name: str, model: m.Model) -> None:
    for values in _patients(model, 60, 1):
        outcome = evaluate_values(model, values)
        tr = analysis.trace(model, values)
        assert tr.reached == set(outcome.path)
        assert tr.recommended == set(outcome.actions)
        assert [(n, list(i)) for n, i in tr.pending] == \
            sorted([(p["decision"], p["inputs"]) for p in outcome.pending],
                   key=lambda p: [n for n, _ in tr.pending].index(p[0]))
        taken = {(d, idx[0] if k == "taken" else None) for d, (k, idx) in tr.decided.items()
                 if k in ("taken", "otherwise")}
        assert taken == set(getattr(outcome, "branches", taken))
        stuck = {(s["decision"], s["reason"]) for s in outcome.stuck}
        assert stuck == {(d, k) for d, (k, _) in tr.decided.items() if k in ("overlap", "gap")}


@pytest.mark.parametrize("name,model", _analysable(), ids=lambda x: x if isinstance(x, str) else "")
def test_encoding_agrees_with_the_interpreter(name: str, model: m.Model) -> None:
    """Pin a patient's values in the solver: reached nodes, taken branches, recommendations
    and the three-valued condition pairs are those of the interpreter."""
    enc = Encoding(model)
    s = enc.solver
    s.add(*enc.domain_literals())
    p = enc.main
    conds = [b.condition for d in model.decisions() for b in d.branches]
    conds += [c for r in model.nevers for c in [r.condition] if c is not None]
    for values in _patients(model, 12, 2):
        outcome = evaluate_values(model, values)
        s.push()
        s.add(enc.pin(values))
        assert s.check() == z3.sat
        zm = s.model()

        def true(x: object, zm: object = zm) -> bool:
            return bool(z3.is_true(zm.eval(x, model_completion=True)))  # type: ignore[attr-defined]

        for nid in model.pathway.nodes:
            assert true(p.reached[nid]) == (nid in outcome.path), nid
        for a in model.actions:
            assert true(enc.recommended[a]) == (a in outcome.actions), a
        for d in model.decisions():
            for b in d.branches:
                tr = analysis.trace(model, values)
                assert true(enc.taken(p, d, b.index)) == \
                    (tr.decided.get(d.id) == ("taken", (b.index,)))
        for c in conds:
            t, f = enc.boolean(c.expr)
            v = evaluate_expr(c.expr, values, frozenset(outcome.actions))
            assert (true(t), true(f)) == (v is True, v is False), c.text
        s.pop()


_INPUTS = '''guideline g "G"
  version 1.0.0
  status draft
  updated 2026-01-01
  owner "T"
input b "B": optional boolean
input c "C": boolean
input i "I": optional integer 0..10 step 2
input n "N": number -2..2
input e "E": optional one of x, y, z
pathway
  start -> done
  end done
'''


def _exprs() -> st.SearchStrategy[m.Expr]:
    span = m.Pathway((), {}, _SPAN).span
    enum_t = "enum:e:x,y,z"
    nums = st.one_of(
        st.builds(lambda: m.InputRef("i", "number", span)),
        st.builds(lambda: m.InputRef("n", "number", span)),
        st.integers(-3, 12).map(lambda v: m.Const(Fraction(v), "number", span)),
        st.sampled_from([Fraction(1, 2), Fraction(-3, 2)]).map(
            lambda v: m.Const(v, "number", span)),
    )
    nums = st.recursive(nums, lambda inner: st.one_of(
        st.builds(lambda a, b, op: m.Arith(op, a, b, span), inner, inner,
                  st.sampled_from(["+", "-"])),
        st.builds(lambda a, f: m.Scale(a, f, span), inner,
                  st.sampled_from([Fraction(2), Fraction(1, 2)])),
        st.builds(lambda a, k: types.divide(a, m.Const(k, "number", span), span), inner,
                  st.sampled_from([Fraction(3), Fraction(-1, 2)]))), max_leaves=3)
    enums = st.one_of(st.builds(lambda: m.InputRef("e", enum_t, span)),
                      st.sampled_from("xyz").map(lambda v: m.Const(v, enum_t, span)))
    atoms = st.one_of(
        st.builds(lambda: m.InputRef("b", "boolean", span)),
        st.builds(lambda: m.InputRef("c", "boolean", span)),
        st.booleans().map(lambda v: m.Const(v, "boolean", span)),
        st.builds(lambda a, b, op: m.Cmp(op, a, b, span), nums, nums,
                  st.sampled_from(["<", "<=", ">", ">=", "==", "!="])),
        st.builds(lambda a, b, op: m.Cmp(op, a, b, span), enums, enums,
                  st.sampled_from(["==", "!="])),
        st.builds(lambda vs: m.Member(m.InputRef("e", enum_t, span), tuple(vs), span),
                  st.lists(st.sampled_from("xyz"), min_size=1, max_size=3, unique=True)),
        st.builds(lambda x, k: m.Known(x, k, span), st.one_of(nums, enums), st.booleans()),
        st.builds(lambda x, a, b: types.between(x, a, b, span), nums, nums, nums),
    )
    weights = st.sampled_from([Fraction(1), Fraction(2), Fraction(-1), Fraction(3, 2)])
    scored = st.builds(
        lambda cs: m.Points(tuple(m.Criterion(w, c, "c", span) for w, c in cs), span),
        st.lists(st.tuples(weights, atoms), min_size=1, max_size=3))
    atoms = st.one_of(atoms, st.builds(
        lambda s, op, v: m.Cmp(op, s, m.Const(Fraction(v), "number", span), span), scored,
        st.sampled_from(["<", ">=", "=="]), st.integers(-1, 3)))
    return st.recursive(atoms, lambda inner: st.one_of(
        st.builds(lambda xs: m.And(tuple(xs), span), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda xs: m.Or(tuple(xs), span), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda x: m.Not(x, span), inner),
        st.builds(lambda x, k: m.Known(x, k, span), inner, st.booleans()),
        st.builds(lambda a, b, op: m.Cmp(op, a, b, span), inner, inner,
                  st.sampled_from(["==", "!="])),
        st.builds(lambda a, b: types.xor(a, b, span), inner, inner),
        st.builds(lambda a, b: types.implies(a, b, span), inner, inner)), max_leaves=6)


_SPAN = analysis.model_of(_INPUTS, "g.guide").pathway.span  # type: ignore[union-attr]
_MODEL = analysis.model_of(_INPUTS, "g.guide")
_VALUES = st.fixed_dictionaries({
    "b": st.sampled_from([True, False, None]), "c": st.booleans(),
    "i": st.sampled_from([None, *map(Fraction, range(0, 11, 2))]),
    "n": st.sampled_from([Fraction(-2), Fraction(-1, 2), Fraction(0), Fraction(3, 2)]),
    "e": st.sampled_from([None, "x", "y", "z"]),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_exprs(), _VALUES)
def test_three_valued_encoding_matches_evaluate_expr(e: m.Expr, values: dict[str, m.Value]
                                                     ) -> None:
    """Kleene logic, unknown inputs, arithmetic and `is known`: the solver's (T, F) pair, the
    compiled trace function and the interpreter agree on random expressions."""
    assert _MODEL is not None
    expected_value = evaluate_expr(e, values)
    fast = {k: (int(v) if isinstance(v, Fraction) and v.denominator == 1 else v)
            for k, v in values.items()}
    assert analysis.compile_condition(e)(fast) == expected_value
    enc = Encoding(_MODEL)
    t, f = enc.boolean(e)
    s = enc.solver
    s.add(*enc.domain_literals(), enc.pin(values))
    assert s.check() == z3.sat
    zm = s.model()
    got = (z3.is_true(zm.eval(t, model_completion=True)),
           z3.is_true(zm.eval(f, model_completion=True)))
    assert got == (expected_value is True, expected_value is False)


# ----------------------------------------------------------------------------- witnesses


def test_witness_json_forms() -> None:
    model = analysis.model_of(_INPUTS, "g.guide")
    assert model is not None
    w = analysis.witness_json(model, {"b": None, "c": True, "i": Fraction(4), "n": Fraction(1, 2),
                                      "e": "y"})
    assert w == {"c": True, "i": 4, "n": 0.5, "e": "y"}
    assert isinstance(w["i"], int)
    with pytest.raises(analysis.WitnessError):
        analysis.witness_json(model, {"c": True, "n": Fraction(1, 3)})


def test_rounder_values() -> None:
    kps = m.Input("kps", "KPS", "integer", False, Fraction(0), Fraction(100), Fraction(10))
    assert analysis._rounder(Fraction(70), kps) == []
    age = m.Input("age", "Age", "integer", False, Fraction(0), Fraction(120))
    assert analysis._rounder(Fraction(73), age)[0] == Fraction(70)
    num = m.Input("x", "X", "number", False, Fraction(0), None)
    assert analysis._rounder(Fraction(1, 3), num)[0] == Fraction(0)
    assert all(analysis._json_number(v) is not None for v in analysis._rounder(Fraction(1, 3),
                                                                               num))


def test_describe_regions() -> None:
    model = analysis.model_of((FIXTURES / "performance_literal.guide").read_text(), "p.guide")
    assert model is not None
    d = model.decisions()[0]
    atoms = analysis._atoms(b.condition.expr for b in d.branches)
    kps_gt, ctrl, kps_lt, le_lt = atoms
    assert analysis.describe([(kps_gt, False), (kps_lt, False), (le_lt, False)], model) == \
        "kps == 70 and life_expectancy_months >= 1"
    assert analysis.describe([(ctrl, None)], model) == "extracranial_disease_controlled is unknown"
    assert analysis.describe([(kps_gt, True)], model) == "kps > 70"


def test_gap_regions_are_limited() -> None:
    model = analysis.model_of((FIXTURES / "performance_literal.guide").read_text(), "p.guide")
    assert model is not None
    diags = [d for d in analysis.analyze(model, max_regions=1) if d.code == "E504"]
    assert len(diags) == 1
    assert diags[0].notes[-1] == \
        "more gap regions exist: only the first 1 are shown (--max-regions)"
    assert diags[0].message.endswith("(gap region 1 of 1+)")


_MANY_GAPS = """guideline g "G"
  version 1.0.0 status draft updated 2026-01-01 owner "T"
input a "A": integer 0..100
input b "B": integer 0..100
input c "C": boolean
action x other "X"
pathway
  start -> d
  decide d "D"
    when a < 10 and b < 10 -> s
    when a >= 20 and a < 30 -> s
    when a >= 40 and c -> s
    when b >= 50 and b < 60 and not c -> s
  step s "S"
    recommend x
    then -> e
  end e
"""


def test_every_gap_region_is_described_and_the_cli_caps_them(tmp_path: Path) -> None:
    """More than the five regions an earlier version stopped at: every region, each with
    its witness in it, numbered; `--max-regions N` caps them."""
    result = check_text(_MANY_GAPS, "g.guide")
    gaps = [d for d in result.diagnostics if d.code == "E504"]
    assert len(gaps) > 5
    assert all(d.message.endswith(f"(gap region {k} of {len(gaps)})")
               for k, d in enumerate(gaps, 1))
    model = analysis.model_of(_MANY_GAPS, "g.guide")
    assert model is not None
    for d in gaps:  # each witness is a patient of the gap
        assert d.witness is not None
        outcome = evaluate(model, dict(d.witness))
        assert [s["reason"] for s in outcome.stuck] == ["gap"]
    import subprocess
    import sys
    guide = tmp_path / "g.guide"
    guide.write_text(_MANY_GAPS, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "cli", "check", str(guide), "--max-regions",
                           "2"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 1
    assert proc.stdout.count("error[E504]") == 2
    assert "(gap region 2 of 2+)" in proc.stdout and "--max-regions" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "cli", "check", str(guide), "--max-regions",
                          "0"], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_results_repeat() -> None:
    model = analysis.model_of((FIXTURES / "performance_literal.guide").read_text(), "p.guide")
    assert model is not None
    first = [(d.code, d.message, dict(d.witness or {})) for d in analysis.analyze(model)]
    second = [(d.code, d.message, dict(d.witness or {})) for d in analysis.analyze(model)]
    assert first == second


@pytest.mark.parametrize("path", [p for p in ALL if "undecided" not in p.stem],
                         ids=lambda p: p.stem)
def test_same_findings_without_candidate_patients(path: Path) -> None:
    """Candidate patients only save solver queries: the findings are the solver's."""
    _, model = checked(path)
    diags, _ = checked(path)
    if model is None or any(d.code.startswith(("E1", "E2", "E3", "E4")) for d in diags):
        return
    with_fuzz = {(d.code, d.span.line) for d in analysis.analyze(model)}
    without = {(d.code, d.span.line) for d in analysis.analyze(model, fuzz=False)}
    assert with_fuzz == without


def test_a_failing_goal_test_is_e511_for_its_check(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(self: analysis.Trace, node: str, name: str) -> bool:
        raise KeyError("broken trace")

    monkeypatch.setattr(analysis.Trace, "pending_on", boom)
    model = analysis.model_of((FIXTURES / "pending.guide").read_text(), "pending.guide")
    assert model is not None
    diags = analysis.analyze(model)
    assert [d.code for d in diags] == ["E511"]
    assert "pending check" in diags[0].message and "broken trace" in diags[0].message


def test_findings_past_the_cap_have_no_witness(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis.settings, "MAX_WITNESSES", 1)
    model = analysis.model_of((FIXTURES / "performance_literal.guide").read_text(), "p.guide")
    assert model is not None
    diags = analysis.analyze(model)
    e504 = [d for d in diags if d.code == "E504"]
    assert len(e504) == 2
    assert e504[0].witness is not None and e504[1].witness is None
    assert "no witness shown" in e504[1].notes[-1]
    assert all(d.witness is not None for d in diags if d.code == "E503")


def test_query_cap_leaves_w510(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis.settings, "MAX_QUERIES", 1)
    model = analysis.model_of((FIXTURES / "unreachable.guide").read_text(), "u.guide")
    assert model is not None
    codes = {d.code for d in analysis.analyze(model, fuzz=False)}
    assert "W510" in codes and "E511" not in codes


# ----------------------------------------------------------------------------- random guidelines

_CONDS = [
    "k < 50", "k >= 70", "k == 70", "k > 30 and k < 80", "x < 2.5", "x >= 5", "x * 2 + k > 60",
    "k - x * 10 <= 20", "b1", "not b2", "b1 == b2", "e == a", "e != c", "e in (a, b)",
    "e is unknown", "b1 is known", "k is known", "(k + x) is unknown",
]


def _cond(rng: random.Random, depth: int = 0) -> str:
    if depth < 2 and rng.random() < 0.35:
        op = rng.choice([" and ", " or "])
        return "(" + op.join(_cond(rng, depth + 1) for _ in range(rng.randint(2, 3))) + ")"
    if depth < 2 and rng.random() < 0.15:
        return f"not ({_cond(rng, depth + 1)})"
    return rng.choice(_CONDS)


def random_guideline(seed: int) -> str:
    """A small random guideline: a forward-only pathway of decisions (both policies, with and
    without `otherwise`) and steps, optional inputs, and rules that may ask `is recommended`."""
    rng = random.Random(seed)
    out = ['guideline rnd "Random"', "  version 1.0.0", "  status draft", "  updated 2026-01-01",
           '  owner "T"', 'reference r1 guideline "R"',
           'input b1 "B1": optional boolean', 'input b2 "B2": boolean',
           'input k "K": optional integer 0..100 step 10', 'input x "X": number 0..10',
           'input e "E": optional one of a, b, c']
    actions = [f"a{i}" for i in range(4)]
    out += [f'action {a} other "{a}" cite r1' for a in actions]
    n = rng.randint(3, 7)
    names = [("d" if rng.random() < 0.6 else "s") + str(i) for i in range(n)]
    out += ["pathway", f"  start -> {names[0]}"]
    for i, name in enumerate(names):
        later = [*names[i + 1:], "done"]

        def targets(later: list[str] = later) -> str:
            return ", ".join(sorted(set(rng.sample(later, min(len(later), rng.randint(1, 2))))))
        if name.startswith("d"):
            policy = rng.choice(["", " first"])
            out.append(f'  decide {name} "Q"{policy}')
            for _ in range(rng.randint(1, 3)):
                out.append(f"    when {_cond(rng)} -> {targets()}")
            if rng.random() < 0.6:
                out.append(f"    otherwise -> {targets()}")
        else:
            out.append(f'  step {name} "S"')
            for _ in range(rng.randint(1, 2)):
                when = f" when {_cond(rng)}" if rng.random() < 0.7 else ""
                out.append(f"    recommend {rng.choice(actions)}{when}")
            out.append(f"    then -> {targets()}")
    out.append('  end done "Done"')
    for _ in range(rng.randint(0, 3)):
        kind = rng.choice(["never", "require", "conflict"])
        a, b = rng.sample(actions, 2)
        if kind == "never":
            out.append(f'never {a} when {_cond(rng)} "r" cite r1')
        elif kind == "require":
            cond = rng.choice([_cond(rng), f"{b} is recommended and {_cond(rng)}"])
            out.append(f'require {a} when {cond} "r" cite r1')
        else:
            out.append(f'conflict {a}, {b} "r" cite r1')
    return "\n".join(out) + "\n"


def _random_patients(model: m.Model, count: int, seed: int) -> list[dict[str, m.Value]]:
    rng = random.Random(seed)
    pools = analysis._pools(model)
    out = []
    for _ in range(count):
        values: dict[str, m.Value] = {name: rng.choice(pool) for name, pool in pools.items()}
        if rng.random() < 0.5:
            values["x"] = Fraction(rng.randint(0, 40), 4)
        out.append(values)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_random_guidelines_agree_and_unsat_is_sound(seed: int) -> None:
    text = random_guideline(seed)
    result = check_text(text, "rnd.guide", analyze=False)
    assert not result.errors, [d.message for d in result.errors]
    model = result.model
    assert model is not None
    a = analysis.Analysis(model)
    diags = a.run()
    assert not [d for d in diags if d.code in ("E511", "W510")], diags
    patients = _random_patients(model, 40, seed)
    enc = a.enc
    s = enc.solver
    for values in patients:
        outcome = evaluate_values(model, values)
        tr = analysis.trace(model, values)
        assert tr.reached == set(outcome.path)
        assert tr.recommended == set(outcome.actions)
        for g in a.goals.values():
            if g.status == "unsat":
                assert not g.met(tr), (g.key, values)
    # The encoding, pinned to a few patients, says what the interpreter says.
    for values in patients[:8]:
        outcome = evaluate_values(model, values)
        s.push()
        s.add(*enc.domain_literals(), enc.pin(values))
        assert s.check() == z3.sat
        zm = s.model()
        for nid, r in enc.main.reached.items():
            assert z3.is_true(zm.eval(r, model_completion=True)) == (nid in outcome.path), nid
        for act, r in enc.recommended.items():
            assert z3.is_true(zm.eval(r, model_completion=True)) == (act in outcome.actions)
        for g in a.goals.values():
            met = z3.is_true(zm.eval(a.main_formula(g), model_completion=True))
            assert met == g.met(analysis.trace(model, values)), g.key
        s.pop()


def test_undecided_answers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """However many goals are open, only a few queries may run out of resources."""
    model = analysis.model_of(FLAGSHIP.read_text(encoding="utf-8"), str(FLAGSHIP))
    assert model is not None
    real = analysis.Analysis.query
    calls = []

    def limited(self: analysis.Analysis, formula: object, assumptions: object = ()) -> object:
        calls.append(1)
        if self.queries >= 1:
            self.queries += 1
            self.unknowns += 1
            return "unknown", None
        return real(self, formula, assumptions)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis.Analysis, "query", limited)
    diags = analysis.analyze(model, fuzz=False)
    assert len(calls) <= analysis.settings.MAX_UNKNOWN + 1
    assert diags and all(d.code in ("W510", "I509", "E503", "E504") for d in diags)


@pytest.mark.parametrize("name,model", _analysable(), ids=lambda x: x if isinstance(x, str) else "")
def test_the_diffs_encoding_agrees_with_the_interpreter(name: str, model: m.Model) -> None:
    """The behavioural diff's encoding (compiler/behaviour.py), pinned to a patient: reached
    nodes, recommendations and pending decisions are the interpreter's. Its "no behavioural
    change" is a proof only if this holds."""
    from compiler.diff import behaviour

    space = behaviour.Space([model])
    enc = behaviour.VersionEncoding(model, space)
    s = space.solver
    for values in _patients(model, 12, 3):
        outcome = evaluate_values(model, values)
        s.push()
        s.add(space.pin(values))
        assert s.check() == z3.sat
        zm = s.model()

        def true(x: object, zm: object = zm) -> bool:
            return bool(z3.is_true(zm.eval(x, model_completion=True)))  # type: ignore[attr-defined]

        for nid in model.pathway.nodes:
            assert true(enc.reached[nid]) == (nid in outcome.path), nid
        for a in model.actions:
            assert true(enc.recommended.get(a, z3.BoolVal(False))) == (a in outcome.actions), a
        pending = {p["decision"] for p in outcome.pending}
        for d in model.decisions():
            assert true(enc.pending[d.id]) == (d.id in pending), d.id
        s.pop()


def test_the_diffs_encoding_of_two_versions_agrees_with_each() -> None:
    """Over one shared set of inputs (1.0.0 and 2.0.0 of the flagship declare some
    differently), each version's terms are that version's interpreter's."""
    from compiler.diff import behaviour

    old = analysis.model_of((ROOT / "tests" / "fixtures" / "releases" /
                             "leptomeningeal-1.0.0.guide").read_text(encoding="utf-8"), "old")
    new = analysis.model_of(FLAGSHIP.read_text(encoding="utf-8"), "new")
    assert old is not None and new is not None
    space = behaviour.Space([old, new])
    first = behaviour.VersionEncoding(old, space)
    second = behaviour.VersionEncoding(new, space, partner=first)
    s = space.solver
    checked_patients = 0
    for values in _patients(new, 40, 5):
        if any(evaluate_expr(a.condition.expr, values) is False for a in old.assumptions):
            continue
        s.push()
        s.add(space.pin(values))
        if s.check() != z3.sat:  # outside the older version's ranges
            s.pop()
            continue
        zm = s.model()
        for model, enc in ((old, first), (new, second)):
            mine = {k: v for k, v in values.items() if k in model.inputs}
            outcome = evaluate_values(model, mine)
            for a in model.actions:
                got = z3.is_true(zm.eval(enc.recommended.get(a, z3.BoolVal(False)),
                                         model_completion=True))
                assert got == (a in outcome.actions), (model.meta.version, a)
        s.pop()
        checked_patients += 1
    assert checked_patients >= 20


# ----------------------------------------------------------------------------- derived forms

_TRI = (True, False, None)


@pytest.mark.parametrize("a", _TRI)
@pytest.mark.parametrize("b", _TRI)
def test_xor_and_implies_follow_kleene_tables(a: bool | None, b: bool | None) -> None:
    """`xor` is true when exactly one is, unknown when either is; `implies` is `not a or b`
    (true when a is false or b is true, whatever the other is)."""
    span = _SPAN
    x, y = m.InputRef("b", "boolean", span), m.InputRef("c", "boolean", span)
    values = {"b": a, "c": b}
    want_xor = None if a is None or b is None else a != b
    want_implies = True if a is False or b is True else (
        False if a is True and b is False else None)
    assert evaluate_expr(types.xor(x, y, span), values) is want_xor
    assert evaluate_expr(types.implies(x, y, span), values) is want_implies


def test_between_includes_both_ends_and_division_is_exact() -> None:
    span = _SPAN
    n = m.InputRef("n", "number", span)

    def const(v: Fraction) -> m.Const:
        return m.Const(v, "number", span)

    inside = types.between(n, const(Fraction(-1)), const(Fraction(1)), span)
    assert [evaluate_expr(inside, {"n": Fraction(v)}) for v in (-2, -1, 0, 1, 2)] == \
        [False, True, True, True, False]
    assert evaluate_expr(inside, {"n": None}) is None
    third = types.divide(n, const(Fraction(3)), span)
    assert evaluate_expr(third, {"n": Fraction(1)}) == Fraction(1, 3)
    assert types.to_text(m.Cmp(">", third, const(Fraction(0)), span)) == "n / 3 > 0"
    assert types.to_text(inside) == "n between -1 and 1"


# ----------------------------------------------------------------------------- plausible witnesses

_VITALS = """guideline g "G"
  version 1.0.0 status draft updated 2026-01-01 owner "T"
input sbp "Systolic BP": integer 0..300 typical 90..180
input dbp "Diastolic BP": integer 0..200 typical 50..110
input rr "Respiratory rate": integer 0..80
input lactate "Lactate": optional number >= 0 unit "mmol/L" typical 0.5..4
input shock_index_high "High shock index": boolean
action a other "A"
action b other "B"
pathway
  start -> d
  decide d "D"
    when sbp < 70 -> s1
    when sbp >= 70 and lactate > 2 -> s2
  step s1 "S1"
    recommend a
    then -> e
  step s2 "S2"
    recommend b
    then -> e
  end e
"""


def test_witnesses_stay_typical_where_the_finding_allows() -> None:
    """No all-zero patient: every number of every witness lies in its typical range (or, with
    none declared, the middle half of its range), except the one the finding needs out of it
    (a systolic pressure under 70)."""
    result = check_text(_VITALS, "g.guide")
    witnesses = [d.witness for d in result.diagnostics if d.witness]
    assert witnesses, result.diagnostics
    for w in witnesses:
        assert w["dbp"] is not None and 50 <= w["dbp"] <= 110  # type: ignore[operator]
        assert 20 <= w["rr"] <= 60  # type: ignore[operator]
        if "lactate" in w:
            assert 0.5 <= w["lactate"] <= 4 or w["lactate"] > 2  # type: ignore[operator]
    gap = [d for d in result.diagnostics if d.code == "E504"]
    assert [d.message for d in gap] == ["no branch of `d` applies when sbp >= 70 and lactate <= 2"]
    assert gap[0].witness is not None and gap[0].witness["sbp"] == 90
    # A warning about a threshold leaves the condition in place.
    assert [d.code for d in result.diagnostics if d.code == "W201"] == ["W201", "W201"]


GAP_IN_TIME = """guideline gap "A gap between 3 and 4 hours"
  version 1.0.0
  status draft
  updated 2026-06-30
  owner "Tests"

reference r1 guideline "A reference" year 2026

input onset "Onset": datetime
input seen "Seen": datetime
input surgery "Surgery": date

action treat systemic "Treat" cite r1

pathway
  start -> window

  decide window "Window?"
    when hours between onset and seen < 3 hours -> care
    when hours between onset and seen > 4 hours and days between surgery and seen > 14 days
      -> done

  step care "Care"
    recommend treat
    then -> done

  end done
"""


@pytest.mark.parametrize("source", [(ROOT / "guidelines" / "alteplase.guide"), GAP_IN_TIME],
                         ids=["alteplase", "gap"])
def test_witness_dates_fall_on_the_guidelines_updated_day(source: Path | str) -> None:
    """The solver's dates start in 1970; a witness moves them together to the guideline's
    `updated` date (a latest time before 10:00 to 10:00), keeping the times between them."""
    result = check_file(source) if isinstance(source, Path) else check_text(source, "gap.guide")
    model = result.model
    if model is None:  # a gap is an error: the model is then the one before the analysis
        model = check_text(str(source), "gap.guide", analyze=False).model
    assert model is not None
    witnesses = [d.witness for d in result.diagnostics if d.witness]
    moments = [str(v) for wit in witnesses for k, v in wit.items()
               if model.inputs[k].kind in ("date", "datetime")]
    assert moments, "no witness with a date"
    assert all(not v.startswith(("1969", "1970")) for v in moments), moments
    assert max(moments).startswith(model.meta.updated), moments
    for wit in witnesses:
        witness_outcome(model, wit)  # still a valid patient
