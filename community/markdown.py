"""Markdown to safe HTML: markdown-it-py (CommonMark, raw HTML off) then nh3 with an allowlist.

Rendering happens on save; the HTML is stored next to the source. The sanitizer runs even though
raw HTML is off, so that a bug or a plugin filter upstream can never reach the page unsanitized.
"""

from __future__ import annotations

import html
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
# Classes nh3 keeps, by tag; every other class is removed. "mention": links to members
# (community.mentions).
ALLOWED_CLASSES = {"a": {"mention"}}
URL_SCHEMES = {"http", "https", "mailto"}


def new_parser() -> MarkdownIt:
    """A parser of the site's Markdown: CommonMark with tables and strikethrough, raw HTML off."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return new_parser()


def render_markdown(source: str, *, mentions: bool = False) -> str:
    """``source`` as sanitized HTML. With ``mentions``, ``@username`` of an active account
    becomes a link to its profile (see :mod:`community.mentions`: it needs an app context
    and asks the database once when the text mentions anyone); without, the result depends
    on the text alone."""
    if mentions:
        # Imported here: plain rendering (excerpts, the demo) has no need of the database.
        from community.mentions import render_with_mentions

        html = render_with_mentions(source)
    else:
        html = _parser().render(source)
    return sanitize_html(html)


def sanitize_html(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow ugc noopener",
        filter_style_properties={"text-align"},
    )


def plain_excerpt(source: str, length: int = 200) -> str:
    """Text of a post for listings, meta descriptions and plain-text emails: no markup, and
    characters as they are (``<`` rather than ``&lt;``): templates escape it once."""
    text = html.unescape(nh3.clean(_parser().render(source), tags=set()))
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"
