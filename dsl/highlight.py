"""A Pygments lexer for `.guide` files, and the highlighted HTML the handout and the docs use.

Registered as the Pygments entry point ``guide`` (``pygmentize -l guide FILE``, and any
Markdown or Sphinx build that meets a ```` ```guide ```` block; ``tools/docs.py`` renders this
repository's docs with it). It colours by the parser's
own keyword list (:data:`dsl.parser.KEYWORDS`), so a new keyword is never left plain; what the
parser's lexer would reject (a stray character, a quote not closed on its line, a bad escape)
is an ``Error`` token, as the editor's grammar marks it ``invalid``. An ellipsis ``...`` is the
docs' elision in an excerpt, not an error.
"""

from __future__ import annotations

from typing import Any, ClassVar, cast

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment,
    Error,
    Keyword,
    Name,
    Number,
    Operator,
    Punctuation,
    String,
    Text,
)

from dsl.parser import KEYWORDS

#: Keywords that declare something (the name after them is a declaration).
DECLARING = ("guideline", "reference", "input", "let", "action", "section", "step", "decide",
             "end", "patient", "caution")
#: Keywords that read as operators of a condition.
OPERATORS = ("and", "or", "not", "xor", "implies", "is", "known", "recommended", "in", "has",
             "any", "none", "all", "between")
#: A condition's constants.
CONSTANTS = ("true", "false", "unknown")
#: The types of an input.
TYPES = ("boolean", "integer", "number", "one", "of", "set", "date", "datetime")
OTHER = tuple(k for k in KEYWORDS if k not in {*DECLARING, *OPERATORS, *CONSTANTS, *TYPES})


#: A declaring keyword, the space after it and the name it declares (pygments' bygroups is
#: untyped).
_DECLARATION = cast(Any, bygroups)(Keyword.Declaration, Text, Name.Function)


class GuideLexer(RegexLexer):
    """The guidec guideline language."""

    name = "guidec guideline"
    aliases: ClassVar[list[str]] = ["guide", "guidec"]
    filenames: ClassVar[list[str]] = ["*.guide"]
    mimetypes: ClassVar[list[str]] = ["text/x-guide"]

    tokens: ClassVar[dict[str, list[object]]] = {
        "root": [
            (r"[ \t\f\r\n]+", Text),
            (r"#[^\n]*", Comment.Single),
            (r"(" + "|".join(DECLARING) + r")([ \t]+)([A-Za-z_][A-Za-z0-9_]*)",
             _DECLARATION),
            (r'"(?=(?:[^"\\\n]|\\.)*")', String.Double, "string"),
            (r"'[^'\n]*'", String.Single),
            (r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?)?\b", Number.Other),
            (r"\d+\.\d+\.\d+\b", Number.Other),
            (r"-?\d+(?:\.\d+)?\b", Number),
            (r"\b[EWI]\d{3}\b", Name.Label),
            (words(CONSTANTS, suffix=r"\b"), Keyword.Constant),
            (words(OPERATORS, suffix=r"\b"), Operator.Word),
            (words(TYPES, suffix=r"\b"), Keyword.Type),
            (words(DECLARING + OTHER, suffix=r"\b"), Keyword),
            (r"\.\.\.", Comment.Special),  # an elision in the docs' excerpts
            (r"->|==|!=|<=|>=|\.\.|[<>=+\-*/:]", Operator),
            (r"[(),]", Punctuation),
            (r"[A-Za-z_][A-Za-z0-9_]*", Name),
            (r".", Error),
        ],
        "string": [
            (r'\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4})', String.Escape),
            (r"\\.", Error),
            (r'[^"\\\n]+', String.Double),
            (r'"', String.Double, "#pop"),
        ],
    }


def highlight_html(source: str) -> str:
    """``source`` as HTML: one ``<pre class="guide">`` whose spans carry Pygments' short
    class names (``k``, ``nf``, ``s2``, ...), every character escaped."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter

    formatter = HtmlFormatter(nowrap=True)
    body: str = highlight(source, GuideLexer(stripnl=False, ensurenl=False), formatter)
    return f'<pre class="guide"><code>{body}</code></pre>'


__all__ = ["GuideLexer", "highlight_html"]
