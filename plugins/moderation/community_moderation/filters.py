"""Filters on what members write: watched words, a newcomer's links, duplicates.

- **blocked words** refuse the post, naming the word;
- **words that need approval** hold it for a moderator (an edit is refused only when it adds
  such a word: the post was approved with the words it had);
- **replaced words** are shown replaced, in the text of the rendered HTML only;
- **newcomers** may put at most ``newcomer_max_links`` links in a post;
- **duplicates**: the same text by the same member within ``duplicate_hours`` is refused
  (new posts only; texts shorter than ``DUPLICATE_MIN_LENGTH`` are left alone, "Thanks!"
  may well be said twice).

Words match whole words, whatever their case, in the title and the body. Staff, global
moderators and moderators of the space are not filtered (replaced words are shown replaced
for everyone's posts).
"""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache

from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import escape
from sqlalchemy import select

from community.dbtypes import utcnow
from community.extensions import db
from community.plugins import Hold
from community_moderation.common import is_newcomer, is_staffish, moderated_space_ids
from community_moderation.settings import settings, word_list

WRITE_ACTIONS = ("topic.create", "post.create", "comment.create", "post.edit")
CREATE_ACTIONS = ("topic.create", "post.create", "comment.create")
DUPLICATE_MIN_LENGTH = 20


@lru_cache(maxsize=64)
def _pattern(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regular expression matching any of ``words`` as a whole word (longest first)."""
    words = tuple(sorted({w for w in words if w}, key=len, reverse=True))
    if not words:
        return None
    alternatives = "|".join(re.escape(word) for word in words)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def find_word(text: str, words: list[str]) -> str | None:
    pattern = _pattern(tuple(words))
    if pattern is None or not text:
        return None
    match = pattern.search(text)
    return match.group(0) if match else None


def _replacements() -> dict[str, str]:
    """``word = replacement`` lines (no replacement: ***), by lowercased word."""
    pairs = {}
    for line in word_list("replaced_words"):
        word, _sep, replacement = line.partition("=")
        word = word.strip()
        if word:
            pairs[word] = replacement.strip() or "***"
    return pairs


# --- links -----------------------------------------------------------------------------------

_MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
_BARE_URL = re.compile(r"(?:\bhttps?://|\bftp://|\bwww\.)[^\s<>()\[\]]+", re.IGNORECASE)


def count_links(markdown: str) -> int:
    """Links in a Markdown text: ``[text](url)`` (images too) and bare addresses."""
    if not markdown:
        return 0
    inline = len(_MARKDOWN_LINK.findall(markdown))
    rest = _MARKDOWN_LINK.sub(" ", markdown)
    return inline + len(_BARE_URL.findall(rest))


# --- duplicates --------------------------------------------------------------------------------


def normalize(text: str) -> str:
    return " ".join((text or "").casefold().split())


def find_duplicate(user, body: str, hours: int):
    """The user's live post with the same text in the last ``hours``, or None."""
    from community.topics.models import Post

    wanted = normalize(body)
    if len(wanted) < DUPLICATE_MIN_LENGTH:
        return None
    since = utcnow() - timedelta(hours=hours)
    rows = db.session.scalars(
        select(Post)
        .where(Post.author_id == user.id, Post.created_at >= since, Post.deleted_at.is_(None))
        .order_by(Post.created_at.desc())
        .limit(200)
    )
    for post in rows:
        if normalize(post.body_source) == wanted:
            return post
    return None


# --- the gate ----------------------------------------------------------------------------------


def _exempt(user, space) -> bool:
    if is_staffish(user):
        return True
    return space is not None and space.id in moderated_space_ids(user)


def post_gate(user, action, space=None, topic=None, post=None, title=None, body="", **_kw):
    if action not in WRITE_ACTIONS or not getattr(user, "is_authenticated", False):
        return None
    if _exempt(user, space):
        return None
    values = settings()
    text = f"{title or ''}\n{body or ''}"

    word = find_word(text, word_list("blocked_words"))
    if word:
        return _("Your post contains a blocked word: “%(word)s”. Please rephrase it.", word=word)

    if is_newcomer(user):
        allowed = values["newcomer_max_links"]
        if count_links(body or "") > allowed:
            if allowed == 0:
                return _("New members cannot add links to a post yet.")
            return ngettext(
                "New members can add at most %(num)d link to a post.",
                "New members can add at most %(num)d links to a post.",
                allowed,
            )

    if action in CREATE_ACTIONS and values["duplicate_hours"] > 0:
        earlier = find_duplicate(user, body, values["duplicate_hours"])
        if earlier is not None:
            return _(
                "You posted the same text a moment ago: “%(title)s”. "
                "Please add something new instead.",
                title=earlier.topic.title,
            )

    approval = word_list("approval_words")
    word = find_word(text, approval)
    if word:
        if action == "post.edit" and post is not None:
            # Held only for words the edit adds: the post was published with the others.
            before = f"{post.topic.title if post.is_opening else ''}\n{post.body_source}"
            added = [w for w in approval if find_word(text, [w]) and not find_word(before, [w])]
            if not added:
                return None
        return Hold(_("Your post contains a word that a moderator must review first."))
    return None


# --- replaced words in the rendered HTML ---------------------------------------------------------

# Tags, comments and character references are left exactly as they are.
_MARKUP = re.compile(r"(<!--.*?-->|<[^>]*>|&#?\w+;)", re.DOTALL)


def replace_watched_words(html: str) -> str | None:
    pairs = _replacements()
    if not pairs or not html:
        return None
    pattern = _pattern(tuple(pairs))
    if pattern is None:
        return None
    changed = False
    pieces = _MARKUP.split(html)
    for index in range(0, len(pieces), 2):  # even pieces are text, odd ones markup
        piece = pieces[index]
        if not piece or not pattern.search(piece):
            continue
        pieces[index] = pattern.sub(
            lambda m: str(escape(pairs.get(m.group(0).lower(), "***"))), piece
        )
        changed = True
    return "".join(pieces) if changed else None
