"""@mentions: ``@username`` in a post links to that member's profile.

A mention is ``@`` and a name that could be a username (see
:func:`community.security.username_problem`): letters of one script, digits, ``_``, ``-`` and
``.``, starting and ending with a letter or digit, so a trailing ``.``, ``-`` or ``_`` ends the
sentence, not the name. The ``@`` must start a word: ``ann@example.com``, ``example.com/@ann``
and ``@ann@example.social`` (another site's account) mention nobody. Being Markdown syntax, a
mention is never found in code spans, code blocks, links or autolinks, and ``\\@ann`` is plain
text.

Names match as usernames do (:func:`community.security.normalize_username`: ``@Giulia.Rossi``
is the account "giulia.rossi"), only active accounts are mentioned, and the link shows the
account's username as it is spelled. The first :data:`MAX_MENTIONS` different names of a text
are looked up, in one query; names after those stay plain text.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from flask import current_app, has_request_context, url_for
from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db
from community.markdown import new_parser
from community.permissions import can
from community.security import USERNAME_MAX, normalize_username, username_problem

# Different names looked up per text: a post cannot make one render (or one notification
# round) reach an unbounded number of accounts.
MAX_MENTIONS = 20
# Usernames offered by the autocomplete for one prefix.
MAX_SUGGESTIONS = 8

_NAME_PUNCTUATION = "_-."


def _is_name_char(char: str) -> bool:
    category = unicodedata.category(char)
    return char in _NAME_PUNCTUATION or category[0] in "LM" or category == "Nd"


def _mention_rule(state: StateInline, silent: bool) -> bool:
    """Inline rule: ``@name`` at the parser's position becomes a ``mention`` token (the name
    in ``content``, its username key in ``meta["key"]``), resolved by :func:`_link_mentions`."""
    src, pos = state.src, state.pos
    # Link texts are links already (linkLevel counts the [...] being parsed).
    if src[pos] != "@" or state.linkLevel > 0:
        return False
    # Inside a word, an email address or a path.
    if pos > 0 and (_is_name_char(src[pos - 1]) or src[pos - 1] in "@/"):
        return False
    end = pos + 1
    while end < state.posMax and _is_name_char(src[end]):
        end += 1
    # "@ann@example.social" is someone on another site, "@scope/package" a package name.
    if end < state.posMax and src[end] in "@/":
        return False
    name = src[pos + 1 : end].rstrip(_NAME_PUNCTUATION)
    if username_problem(name) is not None:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.markup = "@"
        token.content = name
        token.meta = {"key": normalize_username(name)}
    state.pos = pos + 1 + len(name)
    return True


def _link_mentions(state: StateCore) -> None:
    """Core rule: look the mentioned names up (one query) and turn each ``mention`` token into
    a link to the account, or back into text. The accounts found, in order of first mention,
    are left in ``env["mentioned_users"]``."""
    inlines = [token for token in state.tokens if token.type == "inline" and token.children]
    # A dict keeps the order of first mention, and finds a name again in constant time.
    distinct: dict[str, None] = {}
    for inline in inlines:
        for child in inline.children or ():
            if child.type == "mention":
                distinct.setdefault(child.meta["key"])
    keys = list(distinct)[:MAX_MENTIONS]
    users = _active_users(keys)
    state.env["mentioned_users"] = [users[key] for key in keys if key in users]
    for inline in inlines:
        inline.children = _resolve(inline.children or [], users)


def _resolve(children: list[Token], users: dict[str, User]) -> list[Token]:
    resolved: list[Token] = []
    for child in children:
        if child.type == "image" and child.children:
            # An image's alt text is text only.
            child.children = _resolve(child.children, {})
        if child.type != "mention":
            resolved.append(child)
            continue
        user = users.get(child.meta["key"])
        if user is None:
            resolved.append(_text(child, "@" + child.content))
            continue
        link_open = Token("link_open", "a", 1, level=child.level, markup="mention")
        link_open.attrs = {"class": "mention", "href": _profile_path(user)}
        link_close = Token("link_close", "a", -1, level=child.level, markup="mention")
        resolved += [link_open, _text(child, "@" + user.username), link_close]
    return resolved


def _text(token: Token, content: str) -> Token:
    return Token("text", "", 0, level=token.level, content=content)


def _active_users(keys: list[str]) -> dict[str, User]:
    """Active accounts by username key; no query for no keys."""
    if not keys:
        return {}
    found = db.session.scalars(
        select(User).where(User.username_key.in_(keys), User.active.is_(True))
    )
    return {user.username_key: user for user in found}


def _profile_path(user: User) -> str:
    """The path of ``user``'s profile, as stored in a post's HTML (never a full URL: the HTML
    is the same whichever address the site is reached at)."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("accounts.profile", username=user.username, _external=False)
    # A command or the worker, outside a request and without SERVER_NAME: url_for cannot
    # build there, the URL map can.
    return current_app.url_map.bind("localhost").build(
        "accounts.profile", {"username": user.username}
    )


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = new_parser()
    md.inline.ruler.push("mention", _mention_rule)
    # Before text_join, which merges the text of names that stay text with their neighbours.
    md.core.ruler.before("text_join", "mentions", _link_mentions)
    return md


def render_with_mentions(source: str) -> str:
    """``source`` rendered to HTML (not sanitized yet) with its mentions linked. Use
    ``community.markdown.render_markdown(source, mentions=True)``, which sanitizes."""
    return _parser().render(source, {})


def mentioned_users(source: str) -> list[User]:
    """The active accounts the Markdown ``source`` mentions, by the rules that link them when
    it is rendered: in order of first mention, each once, at most :data:`MAX_MENTIONS`
    (names after the first :data:`MAX_MENTIONS` different ones do not count, known or not).
    One query when the text has any mention, none otherwise. Whether a mentioned user may
    see the post is the caller's question."""
    env: dict[str, list[User]] = {}
    _parser().parse(source, env)
    return env.get("mentioned_users", [])


def suggest_users(prefix: str) -> list[User]:
    """Up to :data:`MAX_SUGGESTIONS` active accounts whose username starts with ``prefix``
    (compared as usernames are: case and width do not matter), in the order of their names,
    that the current user may see. Anything that cannot begin a username gives none."""
    prefix = prefix.strip()
    if not 1 <= len(prefix) <= USERNAME_MAX:
        return []
    key = normalize_username(prefix)
    if not all(_is_name_char(char) for char in key):
        return []
    users = db.session.scalars(
        select(User)
        .where(User.username_key.startswith(key, autoescape=True), User.active.is_(True))
        .order_by(User.username_key)
        .limit(MAX_SUGGESTIONS)
    )
    return [user for user in users if can("user.view", user)]
