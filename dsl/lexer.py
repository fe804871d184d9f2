"""Lark's contextual lexer, built lazily and sharing one scanner between parser states.

Lark's ``ContextualLexer`` gives every parser state its own lexer and compiles one regular
expression per state, plus one per state for the keywords that ``NAME`` also matches. For a
short file that compiling, not the parse, is most of ``guidec fmt``'s run time. This lexer
gives the same tokens (``tests/test_syntax.py`` compares them with Lark's on every guide and on
mutated sources) with far less compiling:

* one scanner over every terminal is tried first. A regular-expression alternation takes the
  first alternative that matches, and a state's terminals are a subsequence of all terminals
  in the same order, so when the shared match is a terminal the state accepts, the state's own
  scanner would have found the same token; when it is a keyword the state accepts, likewise
  (only ``NAME`` matches a word, and a state without ``NAME`` lists its keywords by length);
  otherwise the state's own scanner is compiled and used;
* keywords are told from names with a dictionary rather than a compiled alternation;
* the per-state lexers are created on first use. This path is taken only when Lark loads the
  grammar from its cache, where Lark itself skips validation; a fresh build (a cache miss)
  uses Lark's own constructor, so ``strict=True`` still checks every terminal.

It plugs in through Lark's ``_plugins`` option, which Lark accepts with a cached grammar.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from copy import copy
from typing import Any

import lark
from lark import lexer as _lark_lexer
from lark.common import LexerConf
from lark.lexer import BasicLexer, ContextualLexer, PatternRE, PatternStr, TerminalDef, Token

# Lark leaves these untyped.
Scanner: Any = _lark_lexer.Scanner
CallChain: Any = _lark_lexer.CallChain
_get_match: Any = _lark_lexer._get_match


class _Keywords:
    """The callback that retypes a ``NAME`` that is one of a state's keywords."""

    __slots__ = ("types",)

    def __init__(self, types: dict[str, str]) -> None:
        self.types = types

    def __call__(self, token: Token) -> Token:
        kind = self.types.get(token.value)
        if kind is not None:
            token.type = kind
        return token


class _Shared:
    """What every state's lexer shares: the scanner over all terminals and the keyword table."""

    def __init__(self, root: BasicLexer) -> None:
        self.root = root
        self.embedded: dict[tuple[str, str], bool] = {}
        self.keywords: dict[str, str] = {}
        self._scanner: Any = None

    def split(self, lexer: BasicLexer, terminals: Iterable[TerminalDef]
              ) -> tuple[list[TerminalDef], dict[str, Any]]:
        """Lark's ``_create_unless``: the terminals left for the scanner once the keywords a
        regular expression also matches are folded into it, and the retyping callbacks."""
        terminals = list(terminals)
        strings = [t for t in terminals if isinstance(t.pattern, PatternStr)]
        folded: set[str] = set()
        callbacks: dict[str, Any] = {}
        for regex in terminals:
            if not isinstance(regex.pattern, PatternRE):
                continue
            types: dict[str, str] = {}
            for word in strings:
                # Lark retypes a flagged word (e.g. "when"i) but never folds it into the
                # regex; this grammar has none, so flagged words are left to the scanner.
                if word.priority != regex.priority or word.pattern.flags:
                    continue
                key = (regex.name, word.name)
                hit = self.embedded.get(key)
                if hit is None:
                    value = word.pattern.value
                    hit = value == _get_match(lexer.re, regex.pattern.to_regexp(), value,
                                              lexer.g_regex_flags)
                    self.embedded[key] = hit
                if hit:
                    types[word.pattern.value] = word.name
                    folded.add(word.name)
            if types:
                callbacks[regex.name] = _Keywords(types)
        return [t for t in terminals if t.name not in folded], callbacks

    @property
    def scanner(self) -> Any:
        """The scanner over every terminal, compiled on first use."""
        if self._scanner is None:
            root = self.root
            terminals, callbacks = self.split(root, root.terminals)
            for callback in callbacks.values():
                self.keywords.update(callback.types)
            self._scanner = Scanner(terminals, root.g_regex_flags, root.re, root.use_bytes)
        return self._scanner


class _StateScanner:
    """One state's scanner: the shared match when the state accepts it, else its own."""

    def __init__(self, shared: _Shared, lexer: BasicLexer, terminals: list[TerminalDef]) -> None:
        self.shared = shared
        self.lexer = lexer
        self.terminals = terminals
        self.allowed_types = {t.name for t in terminals}
        self._own: Any = None

    def match(self, text: Any, pos: int) -> tuple[str, str] | None:
        found: tuple[str, str] | None = self.shared.scanner.match(text, pos)
        if found is not None:
            if found[1] in self.allowed_types:
                return found
            keyword = self.shared.keywords.get(found[0])
            if keyword in self.allowed_types:
                return found[0], keyword
        if self._own is None:
            lx = self.lexer
            self._own = Scanner(self.terminals, lx.g_regex_flags, lx.re, lx.use_bytes)
        own: tuple[str, str] | None = self._own.match(text, pos)
        return own


class _StateLexer(BasicLexer):
    shared: _Shared

    def _build_scanner(self) -> Any:
        terminals, self.callback = self.shared.split(self, self.terminals)
        for kind, callback in self.user_callbacks.items():
            if kind in self.callback:
                self.callback[kind] = CallChain(self.callback[kind], callback,
                                                lambda t, kind=kind: t.type == kind)
            else:
                self.callback[kind] = callback
        return _StateScanner(self.shared, self, terminals)


class _Lexers(dict[int, Any]):
    """Parser state -> its lexer, each made when the parser first reaches the state."""

    def __init__(self, owner: SharedContextualLexer) -> None:
        super().__init__()
        self.owner = owner
        self.by_accepts: dict[frozenset[str], BasicLexer] = {}

    def __missing__(self, state: int) -> BasicLexer:
        owner = self.owner
        key = frozenset(owner.state_accepts[state])
        lexer = self.by_accepts.get(key)
        if lexer is None:
            conf = copy(owner.conf)
            names = set(key) | set(conf.ignore) | set(owner.always_accept)
            conf.terminals = [owner.conf.terminals_by_name[n] for n in names
                              if n in owner.conf.terminals_by_name]
            lexer = _StateLexer(conf)
            lexer.shared = owner.shared
            self.by_accepts[key] = lexer
        self[state] = lexer
        return lexer


class SharedContextualLexer(ContextualLexer):
    """A drop-in ``ContextualLexer`` for ``Lark(..., _plugins={"ContextualLexer": ...})``."""

    def __init__(self, conf: LexerConf, states: dict[int, Collection[str]],
                 always_accept: Collection[str] = ()) -> None:
        if not conf.skip_validation:
            super().__init__(conf, states, always_accept)
            return
        self.conf = conf
        self.state_accepts = states
        self.always_accept = always_accept
        root_conf = copy(conf)
        root_conf.terminals = list(conf.terminals)
        root = _StateLexer(root_conf)
        self.shared = root.shared = _Shared(root)
        self.root_lexer = root
        self.lexers = _Lexers(self)


#: The Lark releases this lexer is tested against (it subclasses Lark's lexer and uses a few
#: of its internals); with any other, Lark's own lexer is used.
TESTED_LARK = ("1.3.",)


def plugins() -> dict[str, Any]:
    """The ``_plugins`` option for ``Lark(...)``: this lexer where the Lark release is tested."""
    if lark.__version__.startswith(TESTED_LARK):
        return {"ContextualLexer": SharedContextualLexer}
    return {}


__all__ = ["TESTED_LARK", "SharedContextualLexer", "plugins"]
