"""What a person may type in the search box, parsed once for every backend.

The language is deliberately small: words, "quoted phrases", ``AND`` (the default between
words), ``OR``, and ``NOT`` or a leading ``-`` to leave out a word or phrase. Operators count
only in capitals, so "cats and dogs" searches three words. There are no wildcards, field
names, ranges or boosts: the filters (space, kind, author, dates...) come from the search form
and are applied on the server, and a query can never make a backend scan its whole vocabulary.

Input is bounded before it is looked at: at most :data:`MAX_QUERY_CHARS` characters,
:data:`MAX_TERMS` words or phrases, :data:`MAX_WORD_CHARS` characters per word. Anything else
(unbalanced quotes, lone operators, punctuation, control characters) is read as well as it can
be and never raises.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 300
MAX_TERMS = 8
MAX_WORD_CHARS = 40
MAX_PHRASE_WORDS = 8

_TOKEN_RE = re.compile(r'"[^"]*"?|[^\s"]+')
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_OPERATORS = {"AND", "OR", "NOT"}


@dataclass(frozen=True)
class Term:
    """A word, or a phrase (several words in this order)."""

    words: tuple[str, ...]
    negated: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class ParsedQuery:
    """``groups`` are alternatives (OR); the terms of one group must all match (AND), except
    negated ones, which must not. Every group has at least one term that is not negated."""

    groups: tuple[tuple[Term, ...], ...]
    text: str = ""
    truncated: bool = False
    notes: tuple[str, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.groups

    def positive_words(self) -> list[str]:
        """Every word the results should contain, for highlighting."""
        seen: dict[str, None] = {}
        for group in self.groups:
            for term in group:
                if not term.negated:
                    for word in term.words:
                        seen.setdefault(word, None)
        return list(seen)


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD_RE.findall(text) if len(w) <= MAX_WORD_CHARS]


def _clean(text: str) -> str:
    # Control characters (NUL included) become spaces; nothing else is special.
    return "".join(" " if ord(ch) < 32 or ord(ch) == 127 else ch for ch in text)


def parse_query(text: str) -> ParsedQuery:
    """Parse what was typed in the search box."""
    raw = _clean(text or "")
    truncated = len(raw) > MAX_QUERY_CHARS
    raw = raw[:MAX_QUERY_CHARS]
    groups: list[list[Term]] = [[]]
    negate_next = False
    count = 0
    for piece in _TOKEN_RE.findall(raw):
        if piece in _OPERATORS:
            if piece == "OR":
                if groups[-1]:
                    groups.append([])
                negate_next = False
            elif piece == "NOT":
                negate_next = True
            continue
        if piece == "-":  # -"a phrase" comes as "-" then the phrase
            negate_next = True
            continue
        negated = negate_next
        negate_next = False
        if piece.startswith("-"):
            negated, piece = True, piece[1:]
        if piece.startswith('"'):
            words = _words(piece.strip('"'))[:MAX_PHRASE_WORDS]
            terms = [Term(tuple(words), negated)] if words else []
        else:
            # "wi-fi", "e-mail", "a*": the word characters of a piece, all required.
            terms = [Term((word,), negated) for word in _words(piece)]
        for term in terms:
            if count >= MAX_TERMS:
                truncated = True
                break
            groups[-1].append(term)
            count += 1
    kept = tuple(tuple(g) for g in groups if any(not t.negated for t in g))
    return ParsedQuery(kept, text=raw.strip(), truncated=truncated)


def any_of(text: str) -> ParsedQuery:
    """Every word of ``text`` as an alternative: the query behind "similar questions", where
    a title shares some words with the existing question, not necessarily all."""
    words = list(dict.fromkeys(_words(_clean(text or "")[:MAX_QUERY_CHARS])))[:MAX_TERMS]
    return ParsedQuery(tuple((Term((w,)),) for w in words), text=text.strip())
