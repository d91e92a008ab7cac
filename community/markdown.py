"""Markdown to safe HTML: markdown-it-py (CommonMark, raw HTML off) then nh3 with an allowlist.

Rendering happens on save; the HTML is stored next to the source. The sanitizer runs even though
raw HTML is off, so that a bug or a plugin filter upstream can never reach the page unsanitized.
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "kbd",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "code": {"class"},
    "th": {"style"},
    "td": {"style"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def render_markdown(source: str) -> str:
    html = _parser().render(source)
    return sanitize_html(html)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener",
        filter_style_properties={"text-align"},
    )


def plain_excerpt(source: str, length: int = 200) -> str:
    """Text of a post for listings and meta descriptions (no markup)."""
    text = nh3.clean(_parser().render(source), tags=set())
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
