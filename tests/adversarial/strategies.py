"""Hypothesis strategies for hostile input: strings for every string position of a guideline,
names that collide with the generated code, and patients as a careless or hostile caller sends
them (as decoded values, and as raw JSON bytes)."""

from __future__ import annotations

import json
import keyword

from hypothesis import strategies as st

from tests.adversarial.hostile import SMALL

#: Strings that have broken, or could break, some output: Python string and comment syntax,
#: HTML and its raw-text elements, Jinja, DOT records and HTML-like labels, Markdown, the
#: terminal, and Unicode line breaks and bidi controls.
NASTY = (
    '"', "'", '"""', "'''", "\\", "\\n", "\\N{BULLET}", "\\x00", "{", "}", "{x}", "{{ 7*7 }}",
    "{% raw %}", "{# c #}", "\n", "\r", "\r\n", "\t", "\x00", "\x0b", "\x0c", "\x85",
    "\u2028", "\u2029", "\u202e", "\u200f", "\ufeff", "</script>", "<script>alert(1)</script>",
    "</style>", "<!--", "-->", "]]>", "<![CDATA[", "&amp;", "&#0;", '"><img src=x onerror=1>',
    "javascript:alert(1)", "|", "`", "**", "# ", "-> ", "];", "digraph { a -> b }", "<b>",
    "<BR/>", "\\G", "\\N", "\\L", "%s", "%(x)s", "\x1b[2J", "\x1b]0;t\x07", "é漢字🙂", "🩺",
)

#: The generated module's own names, Python's keywords and builtins: none may break it.
CLASHING_NAMES = (*(k for k in keyword.kwlist if k not in ("True", "False")), "print",
                  "json", "sys", "os", "re", "math", "patient", "evaluate", "result",
                  "Recommendation", "Result", "Problem", "InvalidPatient", "_x", "_", "self",
                  "cls", "str", "int", "dict", "list", "type", "id", "input", "values")


@st.composite
def hostile_text(draw: st.DrawFn, max_size: int = 40) -> str:
    """A string mixing the nasty pieces with arbitrary text (no lone surrogates: a source
    file is UTF-8 and cannot hold one)."""
    pieces = draw(st.lists(st.one_of(
        st.sampled_from(NASTY),
        st.text(st.characters(exclude_categories=("Cs",)), max_size=8)), min_size=1,
        max_size=6))
    text = "".join(pieces)[:max_size]
    return text if text.strip() else "x" + text


def quoted(text: str) -> str:
    """``text`` as a string literal of the language (JSON escapes are the language's)."""
    return json.dumps(text, ensure_ascii=True)


#: Every string position of the small guideline, as (what it replaces, the template).
POSITIONS = {
    "title": ('"Small"', "{}"),
    "owner": ('"Tests"', "{}"),
    "input label": ('"X"', "{}"),
    "action text": ('"Act" strong', "{} strong\n  short {}\n  detail {}"),
    "reference": ('"Committee"', "{}\n  source {}\n  url {}\n  note {}"),
    "step title": ('"S"', "{}\n    note {}"),
    "branch label": ("then -> e", 'then -> d\n\n  decide d "D"\n    when x > 50 {} -> e\n'
                                  "    otherwise -> e"),
}


def guide_with(strings: dict[str, list[str]]) -> str:
    """The small guideline with ``strings`` (by position, as many as its template takes)."""
    # Every position is marked before any is filled: a string drawn for one position (a
    # detail of "S") must not be taken for another's placeholder (the step title "S").
    source = SMALL
    filled: dict[str, str] = {}
    for k, (position, (old, template)) in enumerate(POSITIONS.items()):
        mark = f"\x00{k}\x00"
        source = source.replace(old, mark, 1)
        filled[mark] = template.format(*map(quoted, strings[position]))
    for mark, text in filled.items():
        source = source.replace(mark, text)
    return source


def plain_guide() -> str:
    """The same guideline with plain strings: what a hostile one is compared with."""
    return guide_with({p: ["Plain text"] * t.count("{}") for p, (_, t) in POSITIONS.items()})


@st.composite
def hostile_guide(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """The small guideline with hostile strings in its string positions; with them by
    position (the first string of each)."""
    strings = {p: [draw(hostile_text()) for _ in range(t.count("{}"))]
               for p, (_, t) in POSITIONS.items()}
    return guide_with(strings), {p: texts[0] for p, texts in strings.items()}


#: JSON values of every type, nested.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                                 max_size=3),
    max_leaves=8)


@st.composite
def hostile_patient(draw: st.DrawFn, names: tuple[str, ...]) -> dict[str, object]:
    """A decoded patient for a guideline with inputs ``names``: some keys right, some with
    values of any type, some unknown keys."""
    patient: dict[str, object] = {}
    for name in names:
        choice = draw(st.integers(0, 3))
        if choice == 0:
            continue
        patient[name] = draw(st.one_of(
            json_values, st.integers(-(10 ** 30), 10 ** 30), st.floats(),
            st.sampled_from([10 ** 5000, -(10 ** 4400), float("inf"), float("nan"), "\ud800",
                             "x" * 10_000, [], {}, True, 0, 100, 1e308]),
            st.text(max_size=12)))
    extra = draw(st.dictionaries(st.text(max_size=10), json_values, max_size=2))
    patient.update({k: v for k, v in extra.items() if k not in names})
    return patient


#: Raw patient files: each is bytes a user could pass to ``guidec eval``.
RAW_PATIENTS = {
    "empty": b"",
    "not json": b"{kps: 80}",
    "an array": b"[1, 2, 3]",
    "a number": b"42",
    "null": b"null",
    "a huge integer": b'{"kps": ' + b"9" * 5000 + b"}",
    "a huge negative": b'{"kps": -' + b"9" * 5000 + b"}",
    "a huge exponent": b'{"kps": 1e999999}',
    "NaN": b'{"kps": NaN}',
    "Infinity": b'{"kps": Infinity}',
    "duplicate keys": b'{"kps": 80, "kps": 90}',
    "a BOM": b'\xef\xbb\xbf{"kps": 80}',
    "not UTF-8": b'{"primary_site": "\xff\xfe"}',
    "a lone surrogate": b'{"primary_site": "\\ud800"}',
    "a surrogate key": b'{"\\udc00": 1}',
    "deep nesting": b'{"kps": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "a NUL": b'{"primary_site": "lu\\u0000ng"}',
    "trailing garbage": b'{"kps": 80} x',
    "two objects": b'{"kps": 80}\n{"kps": 90}',
}
