"""The Python target: one standalone evaluator module per guideline, and its JSON Schemas.

``guidec build FILE -o DIR -t python`` writes ``DIR/<id>.py``; ``-t schema`` writes
``DIR/<id>.schema.json`` (the patient) and ``DIR/<id>.result.schema.json`` (the result).

The module imports only the standard library and reads like code written by hand: the
validation is a fast path of straight type and range checks with a slow path that reproduces
the reference interpreter's messages; the pathway is straight-line code in which every branch
carries a comment with its source line; every recommendation with its ``because`` is a constant
built once at import. Conditions are three-valued (Kleene): an optional input that is absent is
``None``, and each condition is compiled into the plain boolean tests "definitely true",
"definitely false", "maybe true" and "maybe false", so required inputs cost nothing extra.

A node that many paths share (a chain of decisions that merge again) would make straight-line
code grow exponentially; such a node becomes a nested function that takes ``because`` as an
argument, while the rest stays straight-line.

Numbers: the interpreter compares exact decimals (a float by its shortest repr). Comparing a
float with a literal whose decimal round-trips through a float gives the same answer (``repr``
is monotonic), so such comparisons are native; any other comparison or any arithmetic on a
``number`` input goes through :class:`fractions.Fraction` exactly as the interpreter does.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import keyword
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import ModuleType
from typing import NamedTuple, assert_never

from compiler import GUIDEC_VERSION
from compiler import model as m
from dsl.files import write_text
from targets import BuildRequest, Emitted
from targets.pyformat import (
    ADD,
    ATOM,
    CMP,
    FALSE,
    MUL,
    NOT,
    OR,
    TRUE,
    WIDTH,
    Call,
    Code,
    Raw,
    comment,
    conj,
    disj,
    fill,
    flat,
    layout,
    negate,
    paren,
    py_str,
    statement,
    width,
)
from targets.schema_rules import assumption_rules, moment_pattern

#: Unrolled straight-line code that a shared node may add before it becomes a function.
SHARE_THRESHOLD = 60

NO, YES, MAYBE = 0, 1, 2

_RUNTIME_PATH = Path(__file__).with_name("python_runtime.py")


def runtime_source() -> str:
    """The fixed part of every generated module (from ``targets/python_runtime.py``)."""
    text = _RUNTIME_PATH.read_text(encoding="utf-8")
    start = text.index("# BEGIN RUNTIME\n") + len("# BEGIN RUNTIME\n")
    end = text.index("# END RUNTIME")
    return text[start:end].rstrip() + "\n"


# ----------------------------------------------------------------------------- entry points


def emit(model: m.Model, outdir: Path, request: BuildRequest) -> list[Emitted]:
    """Write the evaluator (format ``python``) and the schemas (format ``schema``)."""
    out: list[Emitted] = []
    ident = model.meta.id
    if "python" in request.formats:
        try:
            source = generate(model)
        except GenerationError as exc:
            out.append(Emitted(None, warning=f"the Python evaluator was not written: {exc}"))
        else:
            path = outdir / f"{ident}.py"
            _write(path, source)
            out.append(Emitted(path))
            if ident in sys.stdlib_module_names or not ident.isidentifier():
                out.append(Emitted(None, warning=(
                    f"{path.name} cannot be imported as `{ident}` (it is not a valid module name "
                    "or it shadows a standard-library module); import it from a package or "
                    "load it by path")))
    if "schema" in request.formats:
        for suffix, schema in ((".schema.json", patient_schema(model)),
                               (".result.schema.json", result_schema(model))):
            path = outdir / f"{ident}{suffix}"
            _write(path, dump_schema(schema))
            out.append(Emitted(path))
    return out


def _write(path: Path, text: str) -> None:
    write_text(path, text)


class GenerationError(Exception):
    """The model cannot be turned into a module (e.g. it is far too large)."""


def generate(model: m.Model) -> str:
    """The source text of the evaluator module for a checked model (deterministic)."""
    return _Module(model).source()


def load(model: m.Model, name: str | None = None) -> ModuleType:
    """Compile the evaluator in memory and return it as a module object (for the CLI's cohort
    mode and the tests). The module is not left in ``sys.modules``."""
    source = generate(model)
    mod_name = name or f"_guidec_{model.meta.id}_{hashlib.sha256(source.encode()).hexdigest()[:12]}"
    module = ModuleType(mod_name)
    module.__file__ = f"<guidec {model.meta.id}>"
    code = compile(source, module.__file__, "exec")
    sys.modules[mod_name] = module
    try:
        exec(code, module.__dict__)
    finally:
        sys.modules.pop(mod_name, None)
    return module


# ----------------------------------------------------------------------------- names


_RUNTIME_NAMES = set(re.findall(r"[A-Za-z_]\w*", runtime_source()))
_FIXED = {
    "annotations", "difflib", "math", "Iterable", "Mapping", "dataclass", "Fraction", "Any",
    "Final", "NamedTuple", "isfinite", "GUIDELINE", "VERSION", "SOURCE_SHA256", "evaluate",
    "_read", "_read_slowly", "_SPECS", "_NAMES", "_Values", "_main", "patient", "recs",
    "notes", "path", "pending", "cautions", "why", "problems", "values", "v", "main",
    "l", "O", "I", "json", "sys", "argv", "data", "result", "exc", "p",
    # What the module defines around the runtime, and evaluate's keyword: an input named
    # `STATUS` or `approved_only` must not shadow them inside evaluate.
    "re", "Literal", "NotRequired", "Required", "TypedDict", "MappingProxyType", "STATUS",
    "UPDATED", "GUIDEC_VERSION", "REFERENCES", "ACTIONS", "INPUTS", "NODES", "Patient",
    "Quantity", "approved_only",
}


class _Names:
    """Unique Python identifiers: every module-level and local name of the module."""

    def __init__(self) -> None:
        self.taken = set(dir(builtins)) | _RUNTIME_NAMES | _FIXED | set(keyword.kwlist) | \
            set(keyword.softkwlist)

    def claim_numbered(self, want: str) -> str:
        """``want``, or ``want_2``, ``want_3``, ... (for a family of constants)."""
        base = re.sub(r"\W", "_", want, flags=re.ASCII)
        if base not in self.taken and not keyword.iskeyword(base):
            return self.claim(base)
        n = 2
        while f"{base}_{n}" in self.taken:
            n += 1
        return self.claim(f"{base}_{n}")

    def claim(self, want: str) -> str:
        name = re.sub(r"\W", "_", want, flags=re.ASCII) or "_"
        if name[0].isdigit():
            name = "_" + name
        while name in self.taken or keyword.iskeyword(name) or keyword.issoftkeyword(name):
            name += "_"
        self.taken.add(name)
        return name


# ----------------------------------------------------------------------------- expressions


class Tri(NamedTuple):
    """A condition as four plain tests: definitely true, definitely false, not definitely
    true, not definitely false. For a condition that cannot be unknown, t == nf and f == nt."""

    t: Code
    f: Code
    nt: Code
    nf: Code

    @property
    def two_valued(self) -> bool:
        """True when the condition is never unknown."""
        return self.t == self.nf and self.f == self.nt

    def swap(self) -> Tri:
        """The tests of the negation."""
        return Tri(self.f, self.t, self.nf, self.nt)


def _tri2(c: Code, cn: Code) -> Tri:
    return Tri(c, cn, cn, c)


@dataclass(frozen=True)
class _Val:
    """A value expression: its code, class and the optional inputs that make it unknown.

    ``cls`` is ``int`` (Python int), ``num`` (int or float: a ``number`` input), ``exact``
    (Fraction), ``str`` (enum), ``bool``, or ``const`` (then ``const`` holds the value)."""

    code: Code
    cls: str
    guards: tuple[str, ...] = ()
    const: bool | Fraction | str | None = None




def _frac_code(v: Fraction) -> Code:
    if v.denominator == 1:
        return Code(str(v.numerator), ATOM if v >= 0 else ADD)
    return Code(f"Fraction({v.numerator}, {v.denominator})")


def _float_safe(v: Fraction) -> bool:
    """Whether comparing a float (or int) with ``float(v)`` is the same as comparing its
    shortest decimal with ``v`` exactly."""
    try:
        f = float(v)
    except OverflowError:
        return False
    return Fraction(repr(f)) == v


def _num_literal(v: Fraction, cls: str) -> Code | None:
    """``v`` as a literal to compare natively with a value of class ``cls``, or None when only
    an exact comparison is right."""
    if v.denominator == 1:
        if cls in ("int", "exact") or _float_safe(v):
            return _frac_code(v)
        return None
    if cls == "exact":
        return _frac_code(v)
    if _float_safe(v):
        f = repr(float(v))
        return Code(f, ATOM if not f.startswith("-") else ADD)
    return _frac_code(v) if cls == "int" else None


def _cmp_text(left: Code, op: str, right: Code) -> Code:
    return Code(f"{paren(left, ADD)} {op} {paren(right, ADD)}", CMP)


class _Exprs:
    """Compiles model expressions into Python code over the module's local names."""

    def __init__(self, model: m.Model, local: dict[str, str]) -> None:
        self.model = model
        self.local = local
        self.let_local: dict[str, str] = {}
        #: Hoisted lets whose value may be unknown (None): read like an optional input.
        self.let_unknown: set[str] = set()
        self.recommended: dict[str, Code] = {}

    # -- values
    def value(self, e: m.Expr) -> _Val:
        if isinstance(e, m.InputRef):
            inp = self.model.inputs[e.name]
            name = self.local[e.name]
            cls = {"integer": "int", "number": "num", "enum": "str", "boolean": "bool",
                   "set": "set", "date": "int", "datetime": "int"}[inp.kind]
            return _Val(Code(name), cls, (name,) if inp.optional else ())
        if isinstance(e, m.Const):
            text = py_str(e.value) if isinstance(e.value, str) else (
                repr(e.value) if isinstance(e.value, bool) else _frac_code(e.value).text)
            return _Val(Code(text), "const", (), e.value)
        if isinstance(e, m.LetRef):
            if e.name in self.let_local:
                name = self.let_local[e.name]
                guards: tuple[str, ...] = (name,) if e.name in self.let_unknown else ()
                return _Val(Code(name), self._let_cls(e.expr), guards)
            return self.value(e.expr)
        if isinstance(e, m.Arith):
            left, right = self.value(e.left), self.value(e.right)
            if left.cls == "const" and right.cls == "const":
                assert isinstance(left.const, Fraction) and isinstance(right.const, Fraction)
                v = left.const + right.const if e.op == "+" else left.const - right.const
                return _Val(_frac_code(v), "const", (), v)
            guards = _union(left.guards, right.guards)
            if _intlike(left) and _intlike(right):
                lc, rc = self._num_code(left), self._num_code(right)
            else:
                lc, rc = self._exact(left), self._exact(right)
            text = f"{paren(lc, ADD)} {e.op} {paren(rc, ADD + 1)}"
            cls = "int" if _intlike(left) and _intlike(right) else "exact"
            return _Val(Code(text, ADD), cls, guards)
        if isinstance(e, m.Scale):
            op = self.value(e.operand)
            if op.cls == "const":
                assert isinstance(op.const, Fraction)
                v = op.const * e.factor
                return _Val(_frac_code(v), "const", (), v)
            if _intlike(op) and e.factor.denominator == 1:
                text = f"{paren(self._num_code(op), MUL)} * {paren(_frac_code(e.factor), MUL)}"
                return _Val(Code(text, MUL), "int", op.guards)
            text = f"{paren(self._exact(op), MUL)} * {paren(_frac_code(e.factor), MUL)}"
            return _Val(Code(text, MUL), "exact", op.guards)
        if isinstance(e, m.Derived):
            return self.value(e.meaning)
        if isinstance(e, m.Points):
            return self._points(e)
        if isinstance(e, m.And | m.Or | m.Not | m.Known | m.Member | m.Recommended | m.Cmp |
                      m.Contains):
            # A boolean expression used as a value (`(a and b) == c`): callers use tri().
            raise AssertionError(f"not a value expression: {type(e).__name__}")
        assert_never(e)

    def _points(self, e: m.Points) -> _Val:
        """A score: the sum of its criteria's weights; when a criterion may be unknown,
        ``_points`` makes the whole None, and the code is its own guard."""
        cls = "int" if e.whole else "exact"
        tris = [(self.tri(c.condition), c.weight) for c in e.criteria]
        if all(t.two_valued for t, _ in tris):
            terms = [f"({_frac_code(w).text} if {paren(t.t, OR)} else 0)" for t, w in tris]
            return _Val(Code(" + ".join(terms), ADD), cls)
        args = [f"{_frac_code(w).text} if {paren(t.t, OR)} else 0 if {paren(t.f, OR)} else None"
                if not t.two_valued else f"{_frac_code(w).text} if {paren(t.t, OR)} else 0"
                for t, w in tris]
        code = "_points(" + ", ".join(f"({a})" for a in args) + ")"
        return _Val(Code(code), cls, (code,))

    def _let_cls(self, e: m.Expr) -> str:
        if e.type == "boolean":
            return "bool"
        if e.type.startswith("enum"):
            return "str"
        v = self.value(e)
        return "exact" if v.cls == "const" else v.cls

    def _num_code(self, v: _Val) -> Code:
        if v.cls == "const":
            assert isinstance(v.const, Fraction)
            return _frac_code(v.const)
        return v.code

    def _exact(self, v: _Val) -> Code:
        if v.cls == "const":
            assert isinstance(v.const, Fraction)
            return _frac_code(v.const)
        if v.cls == "num":
            return Code(f"_exact({v.code.text})")
        return v.code

    # -- conditions
    def tri(self, e: m.Expr) -> Tri:
        """The four tests of a boolean expression."""
        if isinstance(e, m.Const):
            return _tri2(TRUE, FALSE) if e.value is True else _tri2(FALSE, TRUE)
        if isinstance(e, m.InputRef):
            name = self.local[e.name]
            if self.model.inputs[e.name].optional:
                return Tri(Code(f"{name} is True", CMP), Code(f"{name} is False", CMP),
                           Code(f"{name} is not True", CMP), Code(f"{name} is not False", CMP))
            return _tri2(Code(name), negate(Code(name)))
        if isinstance(e, m.LetRef):
            if e.name in self.let_local:
                name = self.let_local[e.name]
                if e.name in self.let_unknown:
                    return Tri(Code(f"{name} is True", CMP), Code(f"{name} is False", CMP),
                               Code(f"{name} is not True", CMP),
                               Code(f"{name} is not False", CMP))
                return _tri2(Code(name), negate(Code(name)))
            return self.tri(e.expr)
        if isinstance(e, m.Not):
            return self.tri(e.operand).swap()
        if isinstance(e, m.And):
            parts = [self.tri(o) for o in e.operands]
            return Tri(conj([p.t for p in parts]), disj([p.f for p in parts]),
                       disj([p.nt for p in parts]), conj([p.nf for p in parts]))
        if isinstance(e, m.Or):
            parts = [self.tri(o) for o in e.operands]
            return Tri(disj([p.t for p in parts]), conj([p.f for p in parts]),
                       conj([p.nt for p in parts]), disj([p.nf for p in parts]))
        if isinstance(e, m.Known):
            pos, neg = self._known(e.operand)
            return _tri2(pos, neg) if e.known else _tri2(neg, pos)
        if isinstance(e, m.Recommended):
            code = self.recommended.get(e.action, FALSE)
            return _tri2(code, negate(code))
        if isinstance(e, m.Member):
            v = self.value(e.operand)
            if v.cls == "const":
                held = v.const in e.values
                return _tri2(TRUE, FALSE) if held else _tri2(FALSE, TRUE)
            values = "{" + ", ".join(py_str(x) for x in e.values) + "}"
            c = Code(f"{paren(v.code, ADD)} in {values}", CMP)
            cn = Code(f"{paren(v.code, ADD)} not in {values}", CMP)
            safe = len(v.guards) == 1 and v.code.text == v.guards[0]
            return _atom(v.guards, c, cn, False if safe else None)
        if isinstance(e, m.Cmp):
            return self._cmp(e)
        if isinstance(e, m.Derived):
            return self.tri(e.meaning)
        if isinstance(e, m.Contains):
            v = self.value(e.operand)
            c = Code(f"{py_str(e.value)} in {paren(v.code, CMP + 1)}", CMP)
            cn = Code(f"{py_str(e.value)} not in {paren(v.code, CMP + 1)}", CMP)
            return _atom(v.guards, c, cn, None)
        if isinstance(e, m.Arith | m.Scale | m.Points):
            raise AssertionError(f"not a condition: {type(e).__name__}")
        assert_never(e)

    def _known(self, e: m.Expr) -> tuple[Code, Code]:
        """(is known, is unknown) for an operand."""
        if e.type == "boolean" and not isinstance(e, m.InputRef):
            t = self.tri(e)
            return disj([t.t, t.f]), conj([t.nt, t.nf])
        guards = self.value(e).guards
        return (conj([Code(f"{g} is not None", CMP) for g in guards]),
                disj([Code(f"{g} is None", CMP) for g in guards]))

    def _cmp(self, e: m.Cmp) -> Tri:
        op = e.op
        if e.left.type == "boolean":
            left, right = e.left, e.right
            if isinstance(left, m.Const) and not isinstance(right, m.Const):
                left, right = right, left
            if isinstance(right, m.Const):
                t = self.tri(left)
                positive = (op == "==") == bool(right.value)
                return t if positive else t.swap()
            a, b = self.tri(left), self.tri(right)
            if a.two_valued and b.two_valued:
                c = _cmp_text(a.t, "==", b.t)
                cn = _cmp_text(a.t, "!=", b.t)
                return _tri2(c, cn) if op == "==" else _tri2(cn, c)
            same = disj([conj([a.t, b.t]), conj([a.f, b.f])])
            diff = disj([conj([a.t, b.f]), conj([a.f, b.t])])
            tri = Tri(same, diff, negate(same), negate(diff))
            return tri if op == "==" else tri.swap()
        lv, rv = self.value(e.left), self.value(e.right)
        if lv.cls == "const" and rv.cls != "const":
            lv, rv, op = rv, lv, m.SWAPPED[op]
        if lv.cls == "const":
            held = bool(m.COMPARISONS[op](lv.const, rv.const))
            return _tri2(TRUE, FALSE) if held else _tri2(FALSE, TRUE)
        guards = _union(lv.guards, rv.guards)
        if lv.cls == "str":
            c = _cmp_text(lv.code, op, rv.code)
            cn = _cmp_text(lv.code, m.NEGATED[op], rv.code)
            safe = rv.cls == "const" and len(guards) == 1 and lv.code.text == guards[0]
            return _atom(guards, c, cn, (op == "!=") if safe else None)
        lc, rc = self._num_pair(lv, rv)
        return _atom(guards, _cmp_text(lc, op, rc), _cmp_text(lc, m.NEGATED[op], rc), None)

    def _num_pair(self, left: _Val, right: _Val) -> tuple[Code, Code]:
        """Operands of a numeric comparison: native where that is exact, else Fractions."""
        if right.cls == "const":
            assert isinstance(right.const, Fraction)
            lit = _num_literal(right.const, left.cls)
            if lit is not None:
                return left.code, lit
            return self._exact(left), _frac_code(right.const)
        if left.cls == "int" and right.cls == "int":
            return left.code, right.code
        return self._exact(left), self._exact(right)


def _intlike(v: _Val) -> bool:
    if v.cls == "const":
        return isinstance(v.const, Fraction) and v.const.denominator == 1
    return v.cls == "int"


def _union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
    return a + tuple(x for x in b if x not in a)


def _atom(guards: tuple[str, ...], c: Code, cn: Code, none_value: bool | None) -> Tri:
    """The tests of a comparison that is unknown when one of ``guards`` is None.

    ``none_value`` says what ``c`` evaluates to (without error) when its single guard is None
    (``x == "a"`` is False, ``x != "a"`` is True); None when it must not be evaluated."""
    if not guards:
        return _tri2(c, cn)
    ok = conj([Code(f"{g} is not None", CMP) for g in guards])
    unknown = disj([Code(f"{g} is None", CMP) for g in guards])
    if none_value is False:
        return Tri(c, conj([ok, cn]), cn, disj([unknown, c]))
    if none_value is True:
        return Tri(conj([ok, c]), cn, disj([unknown, cn]), c)
    return Tri(conj([ok, c]), conj([ok, cn]), disj([unknown, cn]), disj([unknown, c]))


# ----------------------------------------------------------------------------- pathway state


@dataclass
class _Ctx:
    """What is known at a point of the generated code: which nodes have run and which actions
    are recommended (NO, YES or MAYBE; ``default`` for names not listed)."""

    seen: dict[str, int] = field(default_factory=dict)
    recd: dict[str, int] = field(default_factory=dict)
    default: int = NO

    def copy(self) -> _Ctx:
        return _Ctx(dict(self.seen), dict(self.recd), self.default)

    def node(self, n: str) -> int:
        return self.seen.get(n, self.default)

    def action(self, a: str) -> int:
        return self.recd.get(a, self.default)


def _join(ctxs: Iterable[_Ctx | None]) -> _Ctx | None:
    live = [c for c in ctxs if c is not None]
    if not live:
        return None
    out = live[0].copy()
    for c in live[1:]:
        for attr in ("seen", "recd"):
            mine: dict[str, int] = getattr(out, attr)
            theirs: dict[str, int] = getattr(c, attr)
            for k in set(mine) | set(theirs):
                a = mine.get(k, out.default)
                b = theirs.get(k, c.default)
                mine[k] = a if a == b else MAYBE
        if out.default != c.default:
            out.default = MAYBE
    return out


@dataclass(frozen=True)
class _Why:
    """The ``because`` of a point: a dynamic prefix (the ``why`` argument of a shared node's
    function) or none, then words known statically."""

    dynamic: bool
    words: tuple[str, ...]

    def add(self, w: str) -> _Why:
        return _Why(self.dynamic, (*self.words, w))

    def lit(self) -> object:
        if not self.dynamic:
            return self.words
        if not self.words:
            return Raw("why")
        return (Raw("*why"), *self.words)


# ----------------------------------------------------------------------------- the module


class _Module:
    """Builds the module text for one model."""

    def __init__(self, model: m.Model) -> None:
        self.m = model
        self.names = _Names()
        self.local = {n: self.names.claim(n) for n in model.inputs}
        self.ex = _Exprs(model, self.local)
        self.const_lines: list[str] = []
        self.const_names: dict[object, str] = {}
        self.lines: list[str] = []
        self.ind = 0
        self.buf_path: list[str] = []
        self.buf_notes: list[str] = []
        self.node_flag_used: set[str] = set()
        self.action_flag_used: set[str] = set()
        self.node_flags: set[str] = set()
        self.action_flags: set[str] = set()
        self.assigned: list[set[str]] = []
        self.emitted = 0
        self.statements = 0
        self.limit = 50_000
        self.flag_name: dict[str, str] = {}
        self.shared = self._plan_sharing()
        self.visit_name = {n: self.names.claim(f"visit_{n}") for n in self.shared}
        self.uses_isfinite = False
        self.uses_pending = False

    # -- writing
    def w(self, text: str = "") -> None:
        self.flush()
        self.statements += 1
        self.lines.append((" " * self.ind + text) if text else "")
        self.emitted += 1
        if self.emitted > self.limit:
            raise GenerationError(
                f"the pathway would need more than {self.limit:,} lines of straight-line code")

    def wl(self, lines: Iterable[str]) -> None:
        self.statements += 1
        for line in lines:
            self.flush()
            self.lines.append(line)

    def note_comment(self, text: str) -> None:
        self.flush()
        self.lines.append(comment(text, self.ind))

    @contextmanager
    def block(self, head: Code | str, keyword_: str = "if") -> Iterator[None]:
        self.flush()
        if isinstance(head, Code):
            self.wl(statement(f"{' ' * 0}{keyword_} ", head, ":", self.ind))
        else:
            self.w(head)
        self.ind += 4
        mark = self.statements
        try:
            yield
        finally:
            self.flush()
            if self.statements == mark:
                self.w("pass")
            self.ind -= 4

    def flush(self) -> None:
        if self.buf_path or self.buf_notes:
            self.statements += 1
        if self.buf_path:
            items = self.buf_path
            self.buf_path = []
            if len(items) == 1:
                self.lines.extend(layout(items[0], self.ind, "path.append(", ")"))
            else:
                self.lines.extend(layout(tuple(items), self.ind, "path.extend(", ")"))
        if self.buf_notes:
            items = self.buf_notes
            self.buf_notes = []
            for name in items:
                self.lines.append(" " * self.ind + f"notes.extend({name})")

    def const(self, key: object, base: str, value: object) -> str:
        """A module-level constant for ``value`` (one per key), returning its name."""
        if key in self.const_names:
            return self.const_names[key]
        name = self.names.claim_numbered(base)
        self.const_names[key] = name
        self.const_lines.extend(layout(value, 0, f"{name} = "))
        return name

    # -- planning
    def _plan_sharing(self) -> set[str]:
        p = self.m.pathway
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(n: str) -> None:
            stack = [(n, iter(p.successors(n)))]
            state[n] = 1
            while stack:
                cur, it = stack[-1]
                for nxt in it:
                    if nxt in p.nodes and nxt not in state:
                        state[nxt] = 1
                        stack.append((nxt, iter(p.successors(nxt))))
                        break
                else:
                    stack.pop()
                    order.append(cur)

        for s in p.start:
            if s in p.nodes and s not in state:
                visit(s)
        order.reverse()
        size: dict[str, int] = {}
        for n in reversed(order):
            node = p.nodes[n]
            own = 1
            if isinstance(node, m.Step):
                own = 2 + sum(2 + len(s.actions) for s in node.recommends)
            elif isinstance(node, m.Decision):
                own = 3 + 3 * len(node.branches)
            size[n] = min(10**9, own + sum(size.get(t, 1) for t in self._edges(n)))
        occ: dict[str, int] = dict.fromkeys(order, 0)
        for s in p.start:
            if s in occ:
                occ[s] += 1
        shared: set[str] = set()
        for n in order:
            node = p.nodes[n]
            if not isinstance(node, m.End) and occ[n] > 1 and \
                    (occ[n] - 1) * size[n] > SHARE_THRESHOLD:
                shared.add(n)
            mult = 1 if n in shared else occ[n]
            for t in self._edges(n):
                if t in occ:
                    occ[t] += mult
        return shared

    def _edges(self, n: str) -> list[str]:
        node = self.m.pathway.nodes[n]
        if isinstance(node, m.Step):
            return list(node.next)
        if isinstance(node, m.Decision):
            out = [t for b in node.branches for t in b.targets]
            if node.otherwise is not None:
                out.extend(node.otherwise.targets)
            return out
        return []

    def _reach(self, n: str) -> set[str]:
        p = self.m.pathway
        seen = {n}
        todo = [n]
        while todo:
            cur = todo.pop()
            for t in p.successors(cur):
                if t in p.nodes and t not in seen:
                    seen.add(t)
                    todo.append(t)
        return seen

    def _actions_in(self, nodes: set[str]) -> set[str]:
        out: set[str] = set()
        for n in nodes:
            node = self.m.pathway.nodes[n]
            if isinstance(node, m.Step):
                for s in node.recommends:
                    out.update(s.actions)
        return out

    # -- flags
    def node_flag(self, n: str) -> str:
        if n not in self.flag_name:
            self.flag_name[n] = self.names.claim(f"seen_{n}")
        return self.flag_name[n]

    def action_flag(self, a: str) -> str:
        key = "\0action:" + a
        if key not in self.flag_name:
            self.flag_name[key] = self.names.claim(f"has_{a}")
        return self.flag_name[key]

    def temp(self, want: str) -> str:
        """A local for a decision's intermediate result (``b0``, ``u1``...), claimed once."""
        key = "\0temp:" + want
        if key not in self.flag_name:
            self.flag_name[key] = self.names.claim(want)
        return self.flag_name[key]

    def set_flag(self, name: str) -> None:
        self.w(f"{name} = True")
        if self.assigned:
            self.assigned[-1].add(name)

    # -- the pathway
    def node(self, nid: str, why: _Why, ctx: _Ctx) -> _Ctx | None:
        if nid not in self.m.pathway.nodes:
            return ctx
        st = ctx.node(nid)
        if st == YES:
            return ctx
        if nid in self.shared:
            call = layout(why.lit(), self.ind + (4 if st == MAYBE else 0),
                          f"{self.visit_name[nid]}(", ")")
            if st == MAYBE:
                self.node_flag_used.add(nid)
                with self.block(f"if not {self.node_flag(nid)}:"):
                    self.wl(call)
            else:
                self.wl(call)
            after = ctx.copy()
            reach = self._reach(nid)
            for n in reach:
                if after.node(n) != YES:
                    after.seen[n] = MAYBE
            after.seen[nid] = YES
            for a in self._actions_in(reach):
                if after.action(a) != YES:
                    after.recd[a] = MAYBE
            return after
        if st == MAYBE:
            self.node_flag_used.add(nid)
            inner_ctx = ctx.copy()
            inner_ctx.seen[nid] = NO
            with self.block(f"if not {self.node_flag(nid)}:"):
                inner = self.visit(nid, why, inner_ctx)
            skip = ctx.copy()
            skip.seen[nid] = YES
            return _join([inner, skip])
        return self.visit(nid, why, ctx)

    def visit(self, nid: str, why: _Why, ctx: _Ctx) -> _Ctx | None:
        node = self.m.pathway.nodes[nid]
        ctx = ctx.copy()
        ctx.seen[nid] = YES
        if isinstance(node, m.Step):
            self.note_comment(f"line {node.span.line}: step {nid} {json.dumps(node.title)}")
        elif isinstance(node, m.Decision):
            policy = " first" if node.policy == "first" else ""
            self.note_comment(f"line {node.span.line}: decide {nid} "
                              f"{json.dumps(node.question)}{policy}")
        else:
            title = f" {json.dumps(node.title)}" if node.title else ""
            self.note_comment(f"line {node.span.line}: end {nid}{title}")
        if nid in self.node_flags:
            self.set_flag(self.node_flag(nid))
        self.buf_path.append(nid)
        if isinstance(node, m.End):
            return ctx
        if isinstance(node, m.Step):
            self.notes(nid, node.notes, f"_NOTES_{nid.upper()}")
            for site in node.recommends:
                ctx = self.site(node, site, why, ctx)
            out: _Ctx | None = ctx
            for t in node.next:
                if out is None:
                    break
                out = self.node(t, why, out)
            return out
        return self.decide(node, why, ctx)

    def notes(self, node: str, notes: tuple[m.Note, ...], base: str) -> None:
        if not notes:
            return
        value = tuple(Call("Note", (node, n.text)) for n in notes)
        name = self.const(("notes", node, tuple(n.text for n in notes)), base, value)
        self.buf_notes.append(name)

    def recommend(self, action: str, step: str, why: _Why, ctx: _Ctx) -> None:
        st = ctx.action(action)
        if st == YES:
            return
        act = self.m.actions[action]
        fields = (action, act.text, act.detail, act.kind, act.strength, act.citations, step)
        # GRADE's fields follow `because`, written only when not the defaults.
        grade: tuple[object, ...] = (act.direction, act.certainty, act.grading) if (
            act.direction, act.certainty, act.grading) != ("for", None, "graded") else ()
        if why.dynamic:
            base = self.const(("rec", fields, grade, None),
                              f"_{action.upper()}_AT_{step.upper()}",
                              Call("Recommendation", (*fields, (), *grade)))
            rec: object = Call("_because", (Raw(base), why.lit()))
        else:
            rec = Raw(self.const(("rec", fields, grade, why.words), f"_{action.upper()}",
                                 Call("Recommendation", (*fields, why.words, *grade))))
        if st == MAYBE:
            self.action_flag_used.add(action)
            flag = self.action_flag(action)
            with self.block(f"if not {flag}:"):
                self.wl(layout(rec, self.ind, "recs.append(", ")"))
                self.set_flag(flag)
        else:
            self.wl(layout(rec, self.ind, "recs.append(", ")"))
            if action in self.action_flags:
                self.set_flag(self.action_flag(action))
        ctx.recd[action] = YES

    def site(self, step: m.Step, site: m.RecommendSite, why: _Why, ctx: _Ctx) -> _Ctx:
        what = ", ".join(site.actions)
        if site.condition is None:
            self.note_comment(f"line {site.span.line}: recommend {what}")
            for a in site.actions:
                self.recommend(a, step.id, why, ctx)
            return ctx
        cond = site.condition
        self.note_comment(f"line {site.span.line}: recommend {what} when {cond.text}")
        tri = self.ex.tri(cond.expr)
        reason = why.add(cond.words)
        if tri.t == TRUE:
            for a in site.actions:
                self.recommend(a, step.id, reason, ctx)
            return ctx
        arms: list[_Ctx | None] = [ctx]
        if tri.two_valued and len(site.actions) == 1 and ctx.action(site.actions[0]) == MAYBE:
            # `if C and not has_a:` rather than an `if` nested in an `if`.
            a = site.actions[0]
            self.action_flag_used.add(a)
            held = ctx.copy()
            with self.block(conj([tri.t, negate(Code(self.action_flag(a)))])):
                held.recd[a] = NO
                self.recommend(a, step.id, reason, held)
            out = _join([ctx, held])
            assert out is not None
            return out
        if tri.t != FALSE:
            held = ctx.copy()
            with self.block(tri.t):
                for a in site.actions:
                    self.recommend(a, step.id, reason, held)
            arms.append(held)
            if not tri.two_valued and tri.nf != FALSE:
                with self.block(tri.nf, "elif"):
                    self.wait(step.id, [cond])
        elif tri.nf != FALSE:
            with self.block(tri.nf):
                self.wait(step.id, [cond])
        out = _join(arms)
        assert out is not None
        return out

    def _reads(self, cond: m.Condition) -> list[str]:
        return [i for i in m.inputs_of(cond.expr) if self.m.inputs[i].optional]

    def wait(self, node: str, conds: list[m.Condition]) -> None:
        """``pending.append(...)`` for conditions that are all unknown here."""
        self.uses_pending = True
        reads: list[str] = []
        for c in conds:
            reads.extend(i for i in self._reads(c) if i not in reads)
        if len(reads) == 1:
            inputs: object = (reads[0],)
        else:
            inputs = Call("_unknown", (tuple((i, Raw(self.local[i])) for i in reads),))
        self.wl(layout(Call("Pending", (node, inputs)), self.ind, "pending.append(", ")"))

    def take(self, d: m.Decision, targets: tuple[str, ...], notes: tuple[m.Note, ...],
             words: str, label: str, why: _Why, ctx: _Ctx) -> _Ctx | None:
        self.notes(d.id, notes, f"_NOTES_{d.id.upper()}_{label.upper()}")
        out: _Ctx | None = ctx.copy()
        for t in targets:
            if out is None:
                break
            out = self.node(t, why.add(words), out)
        return out

    def branch_comment(self, b: m.Branch) -> None:
        self.note_comment(f"line {b.span.line}: when {b.condition.text} -> "
                          f"{', '.join(b.targets)}")

    def otherwise(self, d: m.Decision, why: _Why, ctx: _Ctx) -> _Ctx | None:
        o = d.otherwise
        if o is None:
            self.w(f"raise Stuck({py_str(d.id)}, \"gap\")")
            return None
        self.note_comment(f"line {o.span.line}: otherwise -> {', '.join(o.targets)}")
        words = o.label or "none of the branches apply"
        return self.take(d, o.targets, o.notes, words, "otherwise", why, ctx)

    def decide(self, d: m.Decision, why: _Why, ctx: _Ctx) -> _Ctx | None:
        self.notes(d.id, d.notes, f"_NOTES_{d.id.upper()}")
        live = [(b, self.ex.tri(b.condition.expr)) for b in d.branches]
        live = [(b, t) for b, t in live if not (t.t == FALSE and t.nf == FALSE)]
        if d.policy == "first":
            return self._first(d, live, why, ctx)
        return self._unique(d, live, why, ctx)

    def _first(self, d: m.Decision, live: list[tuple[m.Branch, Tri]], why: _Why,
               ctx: _Ctx) -> _Ctx | None:
        arms: list[_Ctx | None] = []
        kw = "if"
        for b, t in live:
            words = b.label or b.condition.words
            if t.t == TRUE:
                if kw == "if":
                    self.branch_comment(b)
                    return self.take(d, b.targets, b.notes, words, str(b.index), why, ctx)
                with self.block("else:"):
                    self.branch_comment(b)
                    arms.append(self.take(d, b.targets, b.notes, words, str(b.index), why, ctx))
                return _join(arms)
            if t.t != FALSE:
                with self.block(t.t, kw):
                    self.branch_comment(b)
                    arms.append(self.take(d, b.targets, b.notes, words, str(b.index), why, ctx))
                kw = "elif"
            if not t.two_valued:
                with self.block(t.nf, kw):
                    self.note_comment(f"line {b.span.line}: unknown: {b.condition.text}")
                    self.wait(d.id, [b.condition])
                arms.append(ctx)
                kw = "elif"
        if kw == "if":
            return self.otherwise(d, why, ctx)
        with self.block("else:"):
            arms.append(self.otherwise(d, why, ctx))
        return _join(arms)

    def _unique(self, d: m.Decision, live: list[tuple[m.Branch, Tri]], why: _Why,
                ctx: _Ctx) -> _Ctx | None:
        if not live:
            return self.otherwise(d, why, ctx)
        tri_branches = [(b, t) for b, t in live if not t.two_valued]
        held: dict[int, Code] = {}
        if len(live) == 1 and not tri_branches:
            held[live[0][0].index] = live[0][1].t
        else:
            for b, t in live:
                if t.t.prec == ATOM and t.t.text.isidentifier() and t.t not in (TRUE, FALSE):
                    held[b.index] = t.t
                    continue
                name = self.temp(f"b{b.index}")
                self.wl(statement(f"{name} = ", t.t, "", self.ind))
                held[b.index] = Code(name)
        if len(live) > 1:
            names = [held[b.index].text for b, _ in live]
            if len(names) == 2:
                test = Code(f"{names[0]} and {names[1]}")
                which: object = (live[0][0].index, live[1][0].index)
            else:
                test = Code(" + ".join(names) + " > 1")
                which = Call("_holding", tuple((b.index, Raw(held[b.index].text))
                                               for b, _ in live))
            with self.block(test):
                self.wl(layout(Call("Stuck", (d.id, "overlap", which)), self.ind, "raise "))
        arms: list[_Ctx | None] = []
        kw = "if"
        if tri_branches:
            unknown: dict[int, Code] = {}
            for b, t in tri_branches:
                name = self.temp(f"u{b.index}")
                self.wl(statement(f"{name} = ", conj([negate(held[b.index]), t.nf]), "",
                                  self.ind))
                unknown[b.index] = Code(name)
            with self.block(disj(list(unknown.values())), "if"):
                self.note_comment(f"line {d.span.line}: a branch is unknown: pending")
                if len(tri_branches) == 1:
                    self.wait(d.id, [tri_branches[0][0].condition])
                else:
                    groups = tuple(
                        Raw(flat(tuple((i, Raw(self.local[i])) for i in self._reads(b.condition)))
                            + f" if {unknown[b.index].text} else ()")
                        for b, _ in tri_branches)
                    self.uses_pending = True
                    self.wl(layout(Call("Pending", (d.id, Call("_unknown", groups))), self.ind,
                                   "pending.append(", ")"))
            arms.append(ctx)
            kw = "elif"
        for b, _ in live:
            words = b.label or b.condition.words
            with self.block(held[b.index], kw):
                self.branch_comment(b)
                arms.append(self.take(d, b.targets, b.notes, words, str(b.index), why, ctx))
            kw = "elif"
        with self.block("else:"):
            arms.append(self.otherwise(d, why, ctx))
        return _join(arms)

    # -- evaluate()
    def used_lets(self) -> list[str]:
        """Lets read by the pathway or a caution that are computed once up front, in
        dependency order: those never unknown, and those that read other lets (none that asks
        `is recommended`, which depends on the walk)."""
        exprs: list[m.Expr] = []
        for node in self.m.pathway.nodes.values():
            if isinstance(node, m.Step):
                exprs.extend(s.condition.expr for s in node.recommends if s.condition)
            elif isinstance(node, m.Decision):
                exprs.extend(b.condition.expr for b in node.branches)
        exprs.extend(c.condition.expr for c in self.m.cautions)
        order: list[str] = []

        def lets_in(e: m.Expr) -> Iterator[m.LetRef]:
            if isinstance(e, m.LetRef):
                yield e
            elif isinstance(e, m.Cmp | m.Arith):
                yield from lets_in(e.left)
                yield from lets_in(e.right)
            elif isinstance(e, m.Scale | m.Not | m.Known | m.Member | m.Contains):
                yield from lets_in(e.operand)
            elif isinstance(e, m.And | m.Or):
                for o in e.operands:
                    yield from lets_in(o)
            elif isinstance(e, m.Derived):
                yield from lets_in(e.meaning)
            elif isinstance(e, m.Points):
                for c in e.criteria:
                    yield from lets_in(c.condition)

        def add(ref: m.LetRef) -> None:
            if ref.name in order:
                return
            for inner in lets_in(ref.expr):
                add(inner)
            # A let that may be unknown is inlined where it is read (as a person would write
            # it), unless it reads other lets: then it is computed once, so that a chain of
            # lets stays shallow and linear however often each is read.
            if ref.name not in order and not m.actions_of(ref.expr) and (
                    self._let_two_valued(ref.expr) or any(True for _ in lets_in(ref.expr))
                    or isinstance(ref.expr, m.Points)):
                order.append(ref.name)

        for e in exprs:
            for ref in lets_in(e):
                add(ref)
        return order

    def _let_two_valued(self, e: m.Expr) -> bool:
        if m.actions_of(e):
            return False
        return not any(self.m.inputs[i].optional for i in m.inputs_of(e))

    def evaluate_fn(self, final: bool) -> list[str]:
        """The lines of ``evaluate`` (pass 1 only collects which flags are needed)."""
        self.lines = []
        self.ind = 4
        self.emitted = 0
        model = self.m
        lets = self.used_lets()
        self.ex.let_local = {}
        self.ex.let_unknown = set()
        let_lines: list[str] = []
        for name in lets:
            let = model.lets[name]
            if name not in self.let_names:
                self.let_names[name] = self.names.claim(name)
            local = self.let_names[name]
            unknown = not self._let_two_valued(let.expr)
            if let.expr.type == "boolean" and unknown:
                # Computed once, True, False or None: a chain of lets each read twice stays
                # linear, and no condition nests deeper than one let.
                tri = self.ex.tri(let.expr)
                code = Code(f"True if {paren(tri.t, NOT)} else False if {paren(tri.f, NOT)} "
                            "else None", OR - 1)
            elif let.expr.type == "boolean":
                code = self.ex.tri(let.expr).t
            else:
                v = self.ex.value(let.expr)
                code = self.ex._num_code(v) if v.cls == "const" else v.code
                if unknown and v.guards and not isinstance(let.expr, m.Points):
                    test = disj([Code(f"{g} is None", CMP) for g in v.guards])
                    code = Code(f"None if {paren(test, NOT)} else {paren(code, NOT)}", OR - 1)
            let_lines.append(comment(f"line {let.span.line}: let {name}", 4))
            let_lines.extend(statement(f"{local} = ", code, "", 4))
            self.ex.let_local[name] = local
            if unknown:
                self.ex.let_unknown.add(name)
        # Shared nodes: nested functions, emitted first (their bodies never see flags of the
        # caller's straight-line code, so everything they reach is MAYBE on entry).
        closures: list[str] = []
        for nid in sorted(self.shared, key=list(model.pathway.nodes).index):
            saved = self.lines
            self.lines = [""]
            self.assigned.append(set())
            with self.block(f"def {self.visit_name[nid]}(why: tuple[str, ...]) -> None:"):
                self.w(f'"""Run `{nid}` and what follows it, for a patient reached here '
                       f'because of ``why``."""')
                mark = len(self.lines)
                entry = _Ctx(default=MAYBE)
                entry.seen[nid] = NO
                self.visit(nid, _Why(True, ()), entry)
                self.flush()
            assigned = self.assigned.pop()
            if assigned:
                # `nonlocal` takes no parentheses: one statement per line that fits.
                names = sorted(assigned)
                decls = [ln.rstrip(",") for ln in fill([f"{n}," for n in names], 0, WIDTH - 17)]
                self.lines[mark:mark] = [" " * 8 + "nonlocal " + d for d in decls]
            closures.extend(self.lines)
            self.lines = saved
        ctx: _Ctx | None = _Ctx()
        self.assigned.append(set())
        for s in model.pathway.start:
            if ctx is None:
                break
            ctx = self.node(s, _Why(False, ()), ctx)
        self.assigned.pop()
        self.flush()
        body = self.lines
        # Cautions, once the recommendations are known.
        self.lines = []
        end = ctx or _Ctx()
        self.ex.recommended = {}
        for c in model.cautions:
            for a in m.actions_of(c.condition.expr):
                st = end.action(a)
                if st == MAYBE:
                    self.action_flag_used.add(a)
                    self.ex.recommended[a] = Code(self.action_flag(a))
                else:
                    self.ex.recommended[a] = TRUE if st == YES else FALSE
        caution_lines: list[str] = []
        if model.cautions:
            caution_lines.append("    cautions: list[Caution] = []")
            for c in model.cautions:
                name = self.const(("caution", c.id), f"_CAUTION_{c.id.upper()}",
                                  Call("Caution", (c.id, c.text, c.citations)))
                t = self.ex.tri(c.condition.expr).t
                caution_lines.append(comment(f"line {c.span.line}: caution {c.id} when "
                                             f"{c.condition.text}", 4))
                if t == TRUE:
                    caution_lines.append(f"    cautions.append({name})")
                elif t != FALSE:
                    caution_lines.extend(statement("if ", t, ":", 4))
                    caution_lines.append(f"        cautions.append({name})")
        score_lines: list[str] = []
        if model.scores():
            items = []
            for let in model.scores():
                assert isinstance(let.expr, m.Points)
                crits = []
                for crit in let.expr.criteria:
                    tri = self.ex.tri(crit.condition)
                    met = tri.t.text if tri.two_valued else \
                        f"True if {paren(tri.t, OR)} else False if {paren(tri.f, OR)}" \
                        " else None"
                    crits.append(Raw(f"({py_str(crit.label)}, "
                                     f"{_frac_code(crit.weight).text}, {met})"))
                items.append(Call("_score", (let.name, let.label or let.name, tuple(crits))))
            score_lines = layout(tuple(items), 4, "scores = ")
        if not final:
            return []
        head = ['    """Evaluate one patient (decoded JSON: input name -> value).',
                "",
                "    Raises InvalidPatient listing every problem when the patient is not valid;",
                "    with ``approved_only``, NotApproved unless the committee approved the logic.",
                '    """',
                '    if approved_only and STATUS != "approved":',
                "        raise NotApproved(GUIDELINE, VERSION, STATUS)"]
        used = set(re.findall(r"[A-Za-z_]\w*", "\n".join([*let_lines, *closures, *body,
                                                            *caution_lines])))
        unpack = self._unpack(used)
        setup = ["    recs: list[Recommendation] = []",
                 "    notes: list[Note] = []",
                 "    path: list[NodeId] = []"]
        if self.uses_pending:
            setup.append("    pending: list[Pending] = []")
        for n in sorted(self.node_flags, key=self.node_flag):
            setup.append(f"    {self.node_flag(n)} = False")
        for a in sorted(self.action_flags, key=self.action_flag):
            setup.append(f"    {self.action_flag(a)} = False")
        result = Call("Result", (
            Raw("GUIDELINE"), Raw("VERSION"), Raw("STATUS"), Raw("SOURCE_SHA256"),
            Raw("tuple(recs)"),
            Raw("tuple(cautions)" if model.cautions else "()"), Raw("tuple(notes)"),
            Raw("tuple(path)"), Raw("tuple(pending)" if self.uses_pending else "()"),
            *([Raw("scores")] if score_lines else [])))
        return [
            "def evaluate(patient: Mapping[str, object], *, approved_only: bool = False"
            ") -> Result:",
            *head, *unpack, *let_lines, *setup, *closures, *body, *caution_lines,
            *score_lines, *layout(result, 4, "return "),
        ]

    def _unpack(self, used: set[str]) -> list[str]:
        names = [self.local[n] if self.local[n] in used else "_" for n in self.m.inputs]
        if not names:
            return ["    _read(patient)"]
        if len(names) == 1:
            return [f"    ({names[0]},) = _read(patient)"]
        one = "    " + ", ".join(names) + " = _read(patient)"
        if width(one) <= WIDTH:
            return [one]
        return ["    (", *fill([f"{n}," for n in names], 8), "    ) = _read(patient)"]

    # -- the guideline's names and its patient, as types
    def type_aliases(self) -> list[str]:
        """``ActionId``, ``NodeId``, ... as Literal types of the guideline's own names (``str``
        where there are none), so that a consumer's type checker catches a misspelt id."""
        model = self.m
        out = ["# " + "-" * 75 + " names as types", ""]
        for alias, names, what in (
                ("ActionId", list(model.actions), "an action"),
                ("NodeId", list(model.pathway.nodes), "a step, decision or end of the pathway"),
                ("InputName", list(model.inputs), "an input (a key of a patient)"),
                ("ReferenceId", list(model.references), "a reference"),
                ("CautionId", [c.id for c in model.cautions], "a caution")):
            out.append(f"#: The id of {what}.")
            out.extend(_literal(alias, names))
        return out

    def patient_type(self) -> list[str]:
        """``Patient``: a TypedDict of the inputs (the required ones ``Required``), each with
        the JSON type a patient gives it in."""
        out = ["# " + "-" * 67 + " the patient as a type", "", "",
               "class Quantity(TypedDict):",
               '    """A value with its unit, e.g. ``{"value": 90, "unit": "mg/dL"}``."""', "",
               "    value: float",
               "    unit: str", "", "",
               ]
        fields = []
        for inp in self.m.inputs.values():
            t = _json_type(inp)
            fields.append((inp.name, f"NotRequired[{t} | None]" if inp.may_be_absent
                           else f"Required[{t}]"))
        doc = '    """A patient as the JSON object `evaluate` takes (decoded): input -> value."""'
        if all(n.isidentifier() and not keyword.iskeyword(n) for n, _ in fields):
            out += ["class Patient(TypedDict, total=False):", doc, ""]
            out += [f"    {n}: {t}" for n, t in fields] or ["    pass"]
        else:
            # An input named like a Python keyword (`class`, `from`) needs the call syntax.
            out.append('Patient = TypedDict("Patient", {')
            out += [line for n, t in fields for line in fill([f"{py_str(n)}: {t},"], 4)]
            out.append("}, total=False)")
        return out

    # -- validation
    def _py_type(self, inp: m.Input) -> str:
        base = {"boolean": "bool", "enum": "str", "integer": "int", "number": "float",
                "set": "frozenset[str]", "date": "int", "datetime": "int"}[inp.kind]
        return f"{base} | None" if inp.optional else base

    def values_alias(self) -> list[str]:
        types = [self._py_type(i) for i in self.m.inputs.values()]
        if not types:
            return ["_Values = tuple[()]"]
        text = "tuple[" + ", ".join(types) + "]"
        if len(types) == 1:
            return [f"_Values = tuple[{types[0]}]"]
        if width("_Values = " + text) <= WIDTH:
            return ["_Values = " + text]
        return ["_Values = tuple[", *fill([f"{t}," for t in types], 4), "]"]

    def specs(self) -> list[str]:
        items = []
        for inp in self.m.inputs.values():
            extra: tuple[object, ...] = ()  # the fields left at their defaults are not written
            if inp.ucum is not None:
                extra = (inp.low_open, inp.high_open, _default_lit(inp),
                         tuple((code, _frac_lit(f)) for code, f
                               in inp.accepted_units()), inp.unit or inp.ucum)
            elif inp.default is not None:
                extra = (inp.low_open, inp.high_open, _default_lit(inp))
            elif inp.low_open or inp.high_open:
                extra = (inp.low_open, inp.high_open)
            items.append(Call("_Spec", (
                inp.name, inp.kind, inp.optional, _frac_lit(inp.low), _frac_lit(inp.high),
                _frac_lit(inp.step), inp.values, inp.kind_words, inp.range_text,
                m.number_text(inp.step) if inp.step is not None else "", *extra)))
        return layout(tuple(items), 0, "_SPECS: Final = ")

    def fast_check(self, inp: m.Input, name: str) -> list[str]:
        """Lines that read one input and fall back to the slow path when it is not plainly
        valid."""
        default = _default_lit(inp)
        if inp.kind == "set":
            return self._fast_set(inp, name, default)

        out = [f"    {name} = patient.get({py_str(inp.name)})" if default is None else
               f"    {name} = patient.get({py_str(inp.name)}, {flat(default)})"]
        if inp.kind == "boolean":
            bad = Code(f"type({name}) is not bool", CMP)
        elif inp.kind == "enum":
            values = "{" + ", ".join(py_str(v) for v in inp.values) + "}"
            bad = disj([Code(f"type({name}) is not str", CMP),
                        Code(f"{name} not in {values}", CMP)])
        elif inp.kind == "integer":
            parts = [Code(f"type({name}) is not int", CMP)]
            parts.extend(self._bounds_bad(inp, name, "int"))
            if inp.step is not None:
                low = inp.low or Fraction(0)
                shifted = name if low == 0 else f"({name} - {_frac_code(low).text})"
                parts.append(Code(f"{shifted} % {_frac_code(inp.step).text}", MUL))
            bad = disj(parts)
        else:
            self.uses_isfinite = True
            not_num = conj([Code(f"type({name}) is not int", CMP),
                            disj([Code(f"type({name}) is not float", CMP),
                                  negate(Code(f"isfinite({name})"))])])
            bad = disj([not_num, *self._bounds_bad(inp, name, "num")])
        if inp.optional:
            bad = conj([Code(f"{name} is not None", CMP), bad])
        out.extend(statement("if ", bad, ":", 4))
        out.append("        return _read_slowly(patient)")
        return out

    def _fast_set(self, inp: m.Input, name: str, default: object) -> list[str]:
        """A set input: a list of distinct declared values becomes a frozenset; anything else
        takes the slow path (absent: unknown, or the default)."""
        key = py_str(inp.name)
        allowed = self.const(("set", inp.name), f"_VALUES_{name.upper().strip('_')}",
                             Call("frozenset", (tuple(inp.values),)))
        out = [f"    {name}_raw = patient.get({key})"]
        if inp.may_be_absent:
            out.append(f"    if {name}_raw is None:")
            out.append(f"        {name} = {flat(default) if default is not None else 'None'}")
            out.append("    else:")
            pad = "        "
        else:
            pad = "    "
        bad = disj([Code(f"type({name}_raw) is not list", CMP),
                    negate(Code(f"{allowed}.issuperset({name}_raw)")),
                    Code(f"len(set({name}_raw)) != len({name}_raw)", CMP)])
        out.extend(statement("if ", bad, ":", len(pad)))
        out.append(f"{pad}    return _read_slowly(patient)")
        out.append(f"{pad}{name} = frozenset({name}_raw)")
        return out

    def _bounds_bad(self, inp: m.Input, name: str, cls: str) -> list[Code]:
        out: list[Code] = []
        for bound, op in ((inp.low, "<=" if inp.low_open else "<"),
                          (inp.high, ">=" if inp.high_open else ">")):
            if bound is None:
                continue
            lit = _num_literal(bound, cls)
            if lit is None:
                out.append(Code(f"_exact({name}) {op} {_frac_code(bound).text}", CMP))
            else:
                out.append(_cmp_text(Code(name), op, lit))
        return out

    def read_fns(self) -> list[str]:
        model = self.m
        self.ex.let_local = {}
        names = [self.local[n] for n in model.inputs]
        lines = [
            "def _read(patient: Mapping[str, object]) -> _Values:",
            '    """The values of a patient: straight checks for a plainly valid patient, the '
            'slow path',
            '    (every problem, exact messages) for anything else."""',
            "    if type(patient) is not dict or not _NAMES.issuperset(patient):",
            "        return _read_slowly(patient)",
        ]
        if any(i.kind in ("date", "datetime") for i in model.inputs.values()):
            # Dates are text to parse: the slow path reads every patient of such a guideline.
            lines[-2:] = ["    return _read_slowly(patient)"]
        else:
            for inp in model.inputs.values():
                lines.extend(self.fast_check(inp, self.local[inp.name]))
            broken = disj([self.ex.tri(a.condition.expr).f for a in model.assumptions])
            if broken != FALSE:
                lines.extend(statement("if ", broken, ":", 4))
                lines.append("        return _read_slowly(patient)")
            lines.extend(self._return_tuple(names, "    return "))
        lines += [
            "",
            "",
            "def _read_slowly(patient: object) -> _Values:",
            '    """Every problem of a patient at once (InvalidPatient), or its values."""',
            "    v = _convert_all(patient, _SPECS, _NAMES)" if names else
            "    _convert_all(patient, _SPECS, _NAMES)",
        ]
        lines.extend(self._return_tuple([f"v[{i}]" for i in range(len(names))],
                                        "    values: _Values = "))
        if model.assumptions:
            lines.append("    problems: list[Problem] = []")
            read = {i for a in model.assumptions for i in m.inputs_of(a.condition.expr)}
            for i, n in enumerate(model.inputs):
                if n in read:
                    lines.append(f"    {self.local[n]} = values[{i}]")
            for i, a in enumerate(model.assumptions):
                problem = Call("Problem", (a.inputs, a.message, a.rule))
                const = self.const(("assume", i), f"_BROKEN_{i + 1}", problem)
                lines.append(comment(f"line {a.span.line}: assume {a.condition.text}", 4))
                f = self.ex.tri(a.condition.expr).f
                if f == FALSE:
                    continue
                lines.extend(statement("if ", f, ":", 4))
                lines.append(f"        problems.append({const})")
            lines += ["    if problems:", "        raise InvalidPatient(problems)"]
        lines.append("    return values")
        return lines

    def _return_tuple(self, items: list[str], head: str) -> list[str]:
        if not items:
            return [f"{head}()"]
        if len(items) == 1:
            return [f"{head}({items[0]},)"]
        one = head + ", ".join(items) if "=" not in head else head + "(" + ", ".join(items) + ")"
        if width(one) <= WIDTH:
            return [one]
        return [head + "(", *fill([f"{n}," for n in items], 8), "    )"]

    # -- the whole text
    def source(self) -> str:
        model = self.m
        self.let_names: dict[str, str] = {}
        reads = self.read_fns()
        # Pass 1 finds the flags that some MAYBE check reads; pass 2 writes the function. Both
        # walk the same way, so the constants and names of pass 1 serve pass 2 as they are.
        self.evaluate_fn(final=False)
        self.node_flags = set(self.node_flag_used)
        self.action_flags = set(self.action_flag_used)
        self.uses_pending = False
        evaluate = self.evaluate_fn(final=True)
        meta = model.meta
        doc = _docstring(model)
        imports = [
            "from __future__ import annotations",
            "",
            "import difflib",
            "import math",
            "import re",
            "from collections.abc import Iterable, Mapping",
            "from dataclasses import dataclass",
            "from fractions import Fraction",
        ]
        if self.uses_isfinite:
            imports.append("from math import isfinite")
        imports.append("from types import MappingProxyType")
        imports.append("from typing import Any, Final, Literal, NamedTuple, NotRequired, "
                       "Required, TypedDict")
        public = ["ACTIONS", "BANNER", "DISCLAIMER", "GUIDELINE", "GUIDEC_VERSION", "INPUTS",
                  "NODES", "REFERENCES", "SOURCE", "SOURCE_SHA256", "STATUS", "UPDATED",
                  "VERSION", "ActionId", "ActionInfo", "Caution", "CautionId", "Certainty",
                  "Direction", "Grading", "InputInfo", "InputName", "InvalidPatient", "Kind",
                  "NodeId", "Note", "NotApproved", "Patient", "Pending", "Problem", "Quantity",
                  "Recommendation", "Reference", "ReferenceId", "Result", "Status", "Strength",
                  "Stuck", "evaluate"]
        # Sorted as ruff's RUF022 sorts: constants, then classes, then functions.
        public.sort(key=lambda p: (not p.isupper(), not p[:1].isupper(), p))
        all_lines = ["__all__ = [", *_fill(", ".join(py_str(p) for p in public) + ",", 4), "]"]
        header = [
            *layout(meta.id, 0, "GUIDELINE: Final = "),
            *layout(meta.version, 0, "VERSION: Final = "),
            "#: The committee's status: a draft's results say so (``Result.status``), and",
            "#: ``evaluate(patient, approved_only=True)`` refuses logic that is not approved.",
            *layout(meta.status, 0, "STATUS: Final[Status] = "),
            *layout(meta.updated, 0, "UPDATED: Final = "),
            *layout(GUIDEC_VERSION, 0, "GUIDEC_VERSION: Final = "),
            *layout(model.source_sha256, 0, "SOURCE_SHA256: Final = "),
            "#: The source document, its own status banner and its disclaimer, quoted.",
            *layout(meta.source, 0, "SOURCE: Final[str | None] = "),
            *layout(meta.banner, 0, "BANNER: Final[str | None] = "),
            *layout(meta.disclaimer, 0, "DISCLAIMER: Final[str | None] = "),
        ]
        refs = ["#: The references recommendations cite, by id.",
                "REFERENCES: Final[Mapping[ReferenceId, Reference]] = MappingProxyType({"]
        for r in model.references.values():
            refs += layout(Call("Reference", (r.label, r.title, r.source, r.year, r.url)), 4,
                           f"{py_str(r.id)}: ", ",")
        refs.append("})")
        refs += ["", "#: The guideline's actions as declared, by id.",
                 "ACTIONS: Final[Mapping[ActionId, ActionInfo]] = MappingProxyType({"]
        for a in model.actions.values():
            refs += layout(Call("ActionInfo", (
                a.text, a.short, a.detail, a.kind, a.strength, a.direction, a.certainty,
                a.grading, a.citations)), 4, f"{py_str(a.id)}: ", ",")
        refs.append("})")
        refs += ["", "#: The guideline's inputs (the keys of a patient), by name.",
                 "INPUTS: Final[Mapping[InputName, InputInfo]] = MappingProxyType({"]
        for i in model.inputs.values():
            refs += layout(Call("InputInfo", (
                i.label, i.kind, i.unit, i.values, i.may_be_absent)), 4, f"{py_str(i.name)}: ",
                ",")
        refs.append("})")
        refs += ["", "#: The pathway's steps, decisions and ends, by id: their titles.",
                 "NODES: Final[Mapping[NodeId, str]] = MappingProxyType({"]
        for n in model.pathway.nodes.values():
            title = n.question if isinstance(n, m.Decision) else (n.title or n.id)
            refs += layout(title, 4, f"{py_str(n.id)}: ", ",")
        refs.append("})")
        names = tuple(model.inputs)
        inputs_part = [
            "# " + "-" * 77 + " inputs",
            "",
            *layout(Call("frozenset", (names,)) if names else Raw("frozenset[str]()"), 0,
                    "_NAMES: Final = "),
            *self.values_alias(),
            *self.specs(),
        ]
        parts = [
            doc,
            *imports,
            "",
            *all_lines,
            "",
            *header,
            "",
            *self.type_aliases(),
            "",
            runtime_source().rstrip("\n"),
            "",
            "",
            *self.patient_type(),
            "",
            "",
            *refs,
            "",
            "",
            *inputs_part,
            "",
            "# " + "-" * 68 + " recommendations and notes",
            "",
            *self.const_lines,
            "",
            "# " + "-" * 77 + " reading",
            "",
            "",
            *reads,
            "",
            "",
            "# " + "-" * 76 + " the pathway",
            "",
            "",
            *evaluate,
            "",
            "",
            *_MAIN,
        ]
        text = "\n".join(parts).rstrip("\n") + "\n"
        return re.sub(r"\n{4,}", "\n\n\n", text)


#: The module's script mode (``python MODULE.py PATIENT.json``), as it is written.
_MAIN_SOURCE = '''def _main(argv: list[str]) -> int:
    """``python MODULE.py PATIENT.json`` (or ``-`` for standard input): print the result as
    JSON; an unreadable file or an invalid patient lists its problems on standard error and
    exits 2. A closed pipe (``... | head``) ends quietly."""
    import io
    import json
    import os
    import sys

    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):  # a lone surrogate from a patient: \\udXXX
            stream.reconfigure(errors="backslashreplace")
    if len(argv) != 1:
        print("usage: python MODULE.py PATIENT.json (or - for standard input)", file=sys.stderr)
        return 2
    name = "standard input" if argv[0] == "-" else argv[0]
    try:
        if argv[0] == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(argv[0], "rb") as f:
                raw = f.read()
    except OSError as exc:
        print(f"error: {name}: cannot be read ({exc.strerror})", file=sys.stderr)
        return 2
    try:
        data = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_unique_keys,
                          parse_int=_json_int)
        result = evaluate(data)
    except InvalidPatient as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"error: {name}: is not UTF-8 text (byte {exc.start})", file=sys.stderr)
        return 2
    except (ValueError, RecursionError) as exc:
        print(f"error: {name}: malformed JSON ({str(exc)[:200]})", file=sys.stderr)
        return 2
    try:
        print(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise InvalidPatient([Problem((_text(key),), "appears twice in one object")])
            seen.add(key)
    return out


'''
_MAIN = [
    *_MAIN_SOURCE.split("\n"),
    'if __name__ == "__main__":',
    "    import sys",
    "",
    "    sys.exit(_main(sys.argv[1:]))",
]


def _literal(alias: str, names: list[str]) -> list[str]:
    """``alias = Literal["a", "b", ...]`` wrapped at the width, or ``alias = str`` for none."""
    if not names:
        return [f"{alias} = str"]
    one = f"{alias} = Literal[" + ", ".join(py_str(n) for n in names) + "]"
    if width(one) <= WIDTH:
        return [one]
    return [f"{alias} = Literal[", *fill([py_str(n) + "," for n in names], 4), "]"]


def _json_type(inp: m.Input) -> str:
    """The Python type of an input's JSON value (a quantity may come with its unit)."""
    if inp.kind in ("enum", "set"):
        values = "Literal[" + ", ".join(py_str(v) for v in inp.values) + "]"
        return values if inp.kind == "enum" else f"list[{values}]"
    base = {"boolean": "bool", "integer": "int", "number": "float", "date": "str",
            "datetime": "str"}[inp.kind]
    return f"{base} | Quantity" if inp.ucum is not None else base


def _docstring(model: m.Model) -> str:
    meta = model.meta

    def safe(s: str) -> str:
        text = "".join(c if c.isprintable() else " " for c in s)
        return " ".join(text.replace("\\", "\\\\").replace('"', '\\"').split())

    title = safe(meta.title)
    lines = [f'"""{title}: the evaluator generated by guidec.']
    if width(lines[0]) > WIDTH:
        lines = ['"""The evaluator generated by guidec for:', *_fill(title, 0)]
    lines += [
        "",
        *_fill(f"Guideline `{safe(meta.id)}` version {safe(meta.version)} ({safe(meta.status)}, "
               f"updated {safe(meta.updated)}), from {safe(Path(model.filename).name)} "
               f"(SHA-256 {model.source_sha256}). Do not edit: regenerate it with "
               "`guidec build`.", 0),
        "",
        "    from " + _module_hint(meta.id) + " import InvalidPatient, evaluate",
        "",
        "    result = evaluate(patient)      # patient: input name -> JSON value",
        "    result.recommendations          # what to do, with strength, evidence and why",
        "    result.to_dict()                # JSON, as `guidec eval --format json` prints",
        "",
        "Every problem of an invalid patient is listed at once in ``InvalidPatient.problems``.",
        "This module imports only the standard library.",
        '"""',
    ]
    return "\n".join(lines)


def _module_hint(ident: str) -> str:
    return ident if ident.isidentifier() and not keyword.iskeyword(ident) else "module"


def _fill(text: str, indent: int) -> list[str]:
    return fill(text.split(" "), indent, WIDTH - 4)


def _default_lit(inp: m.Input) -> object:
    """An input's default as a literal of the evaluator's values (a number as read from JSON,
    a set as a frozenset), or None."""
    d = inp.default
    if d is None or isinstance(d, bool | str):
        return d
    if isinstance(d, frozenset):
        return Call("frozenset", (tuple(v for v in inp.values if v in d),))
    return int(d) if inp.kind == "integer" or d.denominator == 1 else Raw(repr(float(d)))


def _frac_lit(v: Fraction | None) -> object:
    if v is None:
        return None
    if v.denominator == 1:
        return Raw(f"Fraction({v.numerator})")
    return Raw(f"Fraction({v.numerator}, {v.denominator})")


# ----------------------------------------------------------------------------- schemas

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _json_num(v: Fraction) -> int | float:
    return v.numerator if v.denominator == 1 else float(v)


def patient_schema(model: m.Model) -> dict[str, object]:
    """JSON Schema 2020-12 of a patient: required keys, types, enums, ranges, integer steps;
    optional inputs are nullable; no other keys; and every assumption JSON Schema can state
    (:mod:`targets.schema_rules`), the others named in ``$comment``."""
    props: dict[str, object] = {}
    for inp in model.inputs.values():
        p: dict[str, object] = {"title": inp.label}
        if inp.kind == "boolean":
            p["type"] = ["boolean", "null"] if inp.may_be_absent else "boolean"
        elif inp.kind == "enum":
            p["type"] = ["string", "null"] if inp.may_be_absent else "string"
            p["enum"] = [*inp.values, None] if inp.may_be_absent else list(inp.values)
        elif inp.kind in ("date", "datetime"):
            p["type"] = ["string", "null"] if inp.may_be_absent else "string"
            p["pattern"] = moment_pattern(inp.kind == "datetime")
        elif inp.kind == "set":
            p["type"] = ["array", "null"] if inp.may_be_absent else "array"
            p["items"] = {"type": "string", "enum": list(inp.values)}
            p["uniqueItems"] = True
        else:
            kind = "integer" if inp.kind == "integer" else "number"
            p["type"] = [kind, "null"] if inp.may_be_absent else kind
            if inp.low is not None:
                p["exclusiveMinimum" if inp.low_open else "minimum"] = _json_num(inp.low)
            if inp.high is not None:
                p["exclusiveMaximum" if inp.high_open else "maximum"] = _json_num(inp.high)
            if inp.step is not None:
                low = inp.low or Fraction(0)
                if low % inp.step == 0:
                    p["multipleOf"] = _json_num(inp.step)
                elif inp.high is not None and (inp.high - low) / inp.step <= 1000:
                    count = int((inp.high - low) / inp.step) + 1
                    p["enum"] = [_json_num(low + k * inp.step) for k in range(count)
                                 if inp.in_range(low + k * inp.step)] + \
                        ([None] if inp.may_be_absent else [])
                else:
                    p["$comment"] = f"a multiple of {m.number_text(inp.step)} counted from " \
                                    f"{m.number_text(low)}"
            if inp.unit:
                p["description"] = f"unit: {inp.unit}"
            if inp.ucum is not None and inp.kind in ("integer", "number"):
                # A value may also come with its unit, converted by the evaluator.
                given = {"type": "object", "properties": {
                    "value": {"type": "number"},
                    "unit": {"enum": [code for code, _ in inp.accepted_units()]}},
                    "required": ["value", "unit"], "additionalProperties": False,
                    "$comment": "the evaluator checks the range after converting the unit"}
                plain = {k: v for k, v in p.items() if k not in ("title", "description")}
                p = {"title": inp.label, "description": p["description"],
                     "anyOf": [plain, given]}
        if isinstance(inp.default, frozenset):
            p["default"] = [v for v in inp.values if v in inp.default]
        elif inp.default is not None:
            d = _default_lit(inp)
            p["default"] = float(d.text) if isinstance(d, Raw) else d
        props[inp.name] = p
    schema: dict[str, object] = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:guidec:{model.meta.id}:{model.meta.version}:patient",
        "title": f"A patient for {model.meta.title}",
        "type": "object",
        "properties": props,
        "required": [n for n, i in model.inputs.items() if not i.may_be_absent],
        "additionalProperties": False,
    }
    rules, left = assumption_rules(model)
    if rules:
        schema["allOf"] = rules
    if left:
        # Beyond JSON Schema (two numbers or dates compared, a value converted from its unit).
        schema["$comment"] = "Also assumed (checked by the evaluator only): " + "; ".join(
            f"{a.condition.text}" + (f" ({a.text})" if a.text else "") for a in left)
    return schema


def result_schema(model: m.Model) -> dict[str, object]:
    """JSON Schema 2020-12 of ``Result.to_dict()`` (and ``guidec eval --format json``)."""
    steps = [s.id for s in model.steps()]
    waits = [d.id for d in model.decisions()] + steps
    optional = [n for n, i in model.inputs.items() if i.optional]
    refs = list(model.references)

    def strings(values: list[str]) -> dict[str, object]:
        return {"type": "string", "enum": values} if values else {"type": "string"}

    def array(items: dict[str, object]) -> dict[str, object]:
        return {"type": "array", "items": items}

    def obj(props: dict[str, object]) -> dict[str, object]:
        return {"type": "object", "properties": props, "required": list(props),
                "additionalProperties": False}

    rec = obj({
        "id": strings(list(model.actions)),
        "text": {"type": "string"},
        "detail": {"type": ["string", "null"]},
        "kind": strings(list(m.ACTION_KINDS)),
        "strength": strings(["strong", "conditional"]),
        "direction": strings(["for", "against"]),
        "certainty": {"enum": [*m.CERTAINTIES, None]},
        "grading": strings(["graded", "good_practice"]),
        "citations": array(strings(refs)),
        "step": strings(steps),
        "because": array({"type": "string"}),
    })
    caution = obj({"id": strings([c.id for c in model.cautions]), "text": {"type": "string"},
                   "citations": array(strings(refs))})
    note = obj({"node": strings(list(model.pathway.nodes)), "text": {"type": "string"}})
    pending = obj({"decision": strings(waits), "inputs": array(strings(optional))})
    schema = obj({
        "guideline": {"const": model.meta.id},
        "version": {"const": model.meta.version},
        "status": {"const": model.meta.status},
        "source_sha256": {"const": model.source_sha256},
        "recommendations": array(rec),
        "cautions": array(caution),
        "notes": array(note),
        "path": array(strings(list(model.pathway.nodes))),
        "pending": array(pending),
    })
    if model.scores():
        criterion = obj({"label": {"type": "string"}, "points": {"type": "number"},
                         "met": {"type": ["boolean", "null"]}})
        score = obj({"id": strings([s.name for s in model.scores()]),
                     "label": {"type": "string"}, "value": {"type": ["number", "null"]},
                     "criteria": array(criterion)})
        props = schema["properties"]
        required = schema["required"]
        assert isinstance(props, dict) and isinstance(required, list)
        props["scores"] = array(score)
        required.append("scores")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:guidec:{model.meta.id}:{model.meta.version}:result",
        "title": f"The result of {model.meta.title} for one patient",
        **schema,
    }


def dump_schema(schema: dict[str, object]) -> str:
    """Deterministic JSON text: sorted keys, two-space indentation, a final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
