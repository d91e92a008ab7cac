"""Snippets with the searched words marked, made from the text as it is in the database now
(never from what a backend stored), the same way for every backend.

A word of the text matches a searched word when they share a stem in English or Italian, so
"passwords" is marked for a search of "password" and "reimpostare" for "reimpostazione".
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape
from whoosh.lang import stemmer_for_language

from community.search.whoosh_backend import LANGUAGES, STOP_WORDS

_WORD_RE = re.compile(r"\w+", re.UNICODE)
SNIPPET_CHARS = 240


@lru_cache(maxsize=8)
def _stemmers() -> tuple:
    return tuple(stemmer_for_language(lang) for lang in LANGUAGES)


@lru_cache(maxsize=20_000)
def _stems(word: str) -> frozenset[str]:
    lowered = word.lower()
    return frozenset(stem(lowered) for stem in _stemmers()) | {lowered}


def _wanted(words: list[str]) -> frozenset[str]:
    stems: set[str] = set()
    for word in words:
        if word.lower() not in STOP_WORDS:
            stems |= _stems(word)
    return frozenset(stems)


def _matches(text: str, wanted: frozenset[str]) -> list[tuple[int, int]]:
    return [m.span() for m in _WORD_RE.finditer(text) if _stems(m.group()) & wanted]


def has_match(text: str, words: list[str]) -> bool:
    wanted = _wanted(words)
    return bool(wanted) and any(_stems(m.group()) & wanted for m in _WORD_RE.finditer(text))


def _mark(text: str, spans: list[tuple[int, int]], start: int, end: int) -> Markup:
    out: list[str] = []
    position = start
    for a, b in spans:
        if a < start or b > end:
            continue
        out.append(str(escape(text[position:a])))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        position = b
    out.append(str(escape(text[position:end])))
    return Markup("".join(out))  # noqa: S704 - every piece of text was escaped above


def highlight_title(title: str, words: list[str]) -> Markup:
    return _mark(title, _matches(title, _wanted(words)), 0, len(title))


def snippet(text: str, words: list[str], length: int = SNIPPET_CHARS) -> Markup:
    """About ``length`` characters of ``text`` around the densest group of matches, with the
    matching words in ``<mark>``; the beginning of the text when nothing matches."""
    spans = _matches(text, _wanted(words))
    if not spans:
        return escape(text[:length]) + ("…" if len(text) > length else "")
    # The window of `length` characters that holds the most matches.
    best_start, best_count = spans[0][0], 0
    j = 0
    for i, (a, _b) in enumerate(spans):
        while j < len(spans) and spans[j][1] <= a + length:
            j += 1
        if j - i > best_count:
            best_start, best_count = a, j - i
    start = max(0, best_start - length // 4)
    start = text.rfind(" ", 0, start) + 1 if start > 0 else 0
    end = min(len(text), start + length)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + length // 2 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    return escape(prefix) + _mark(text, spans, start, end) + suffix
