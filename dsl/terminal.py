"""Text printed to a terminal from a guideline or a patient, made harmless.

A guideline's strings (an action's text, a title, a case name) and a patient's values are
printed by ``check``, ``eval``, ``test`` and ``diff``. A string holding ``ESC[2K`` (erase the
line), ``ESC[2J`` (clear the screen), an OSC title sequence, a bare carriage return or a bidi
override could rewrite what the reader sees, e.g. erase a recommendation from the screen.
Every such character is printed as an escape instead (``\\u001b``, ``\\r``, ``\\u202e``): the
escapes are valid inside JSON strings, so JSON output keeps its meaning, and text output shows
the reader that the string holds a control character.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

#: Characters that can move the cursor, erase, retitle the window, reorder or hide text, or
#: that cannot be encoded: C0 controls except tab and line feed, DEL and the C1 controls, the
#: soft hyphen, the Arabic letter mark, zero-width and bidi format characters, the line and
#: paragraph separators, the byte-order mark, interlinear annotations, surrogates, and tags.
UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e"
    "\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff\U000e0000-\U000e007f]")

_NAMED = {"\r": "\\r", "\x0c": "\\f", "\x08": "\\b"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code > 0xFFFF:  # as JSON writes it: a surrogate pair
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def neutralise(text: str) -> str:
    """``text`` with every character that could act on a terminal written as an escape."""
    return UNSAFE.sub(_escape, text)


class PipeClosed(BaseException):
    """The reader of standard output went away (``guidec ... | head``): stop quietly. A
    BaseException, so that no command's error handling mistakes it for a failure."""


class GuardedStream(io.TextIOBase):
    """A text stream that neutralises everything written to it before passing it on.

    ``allowed`` are exact sequences that go through untouched: the colours guidec itself
    writes (a guideline string cannot smuggle one in where the text was neutralised first).
    """

    def __init__(self, stream: TextIO, allowed: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._stream = stream
        self._allowed = re.compile("|".join(map(re.escape, allowed))) if allowed else None

    @property
    def raw(self) -> TextIO:
        """The stream underneath, for guidec's own terminal control (a progress bar)."""
        return self._stream

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._stream.encoding

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return self._stream.errors

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        try:
            self._write(text)
        except BrokenPipeError:
            raise PipeClosed from None
        return len(text)

    def _write(self, text: str) -> None:
        if self._allowed is None:
            self._stream.write(neutralise(text))
        else:
            at = 0
            for m in self._allowed.finditer(text):
                self._stream.write(neutralise(text[at:m.start()]))
                self._stream.write(m.group())
                at = m.end()
            self._stream.write(neutralise(text[at:]))

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise PipeClosed from None


#: The colours of ``guidec check --color`` (dsl.diagnostics.render).
COLOURS = ("\x1b[0m", "\x1b[1m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m")
