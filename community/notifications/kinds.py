"""Kinds of notification and delivery channels: core's own and those plugins add.

A kind names one reason to tell someone something ("a new answer in a topic you follow").
Users choose per kind how they hear about it (see :data:`~community.notifications.models.
DELIVERIES`). A channel is one more way out for every notification a user receives, besides
the inbox and email (e.g. a webhook or a chat message), provided by a plugin.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

if TYPE_CHECKING:
    from community.accounts.models import User
    from community.notifications.models import Notification

KIND_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_."


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notification.

    :param name: unique, lowercase (``a-z 0-9 _ .``); a plugin prefixes its own, e.g.
        ``"ideas.shipped"``.
    :param label: what the settings page calls it (translatable, e.g. ``lazy_gettext``).
    :param describe: ``describe(notification, count)`` gives the sentence shown in the inbox
        and in emails, in the current language; ``count`` is how many unread notifications of
        this kind it stands for ("3 new answers in …"). Plain text: it is escaped when shown.
    :param default: the delivery for users who did not choose: ``"app"``, ``"email"``,
        ``"daily"``, ``"weekly"`` or ``"off"``.
    :param description: a longer explanation for the settings page.
    """

    name: str
    label: Any
    describe: Callable[[Notification, int], str]
    default: str = "app"
    description: Any = ""


class Channel:
    """A way to deliver notifications besides the inbox and email, given by a plugin through
    ``community_notification_channels``.

    The worker calls :meth:`deliver` once for every notification a user receives (whatever
    they chose for its kind, except "off"), after the notification was saved, retrying it
    with backoff when it raises. The channel decides whether this user and notification
    concern it (e.g. only users who set up a webhook).
    """

    #: unique name, e.g. ``"webhook"``
    name: str = ""
    #: shown to admins
    label: Any = ""
    #: how many more times a failed delivery is tried, the first after ``retry_delay``
    #: seconds, each next one after twice as long
    retries: int = 5
    retry_delay: int = 30

    def deliver(self, notification: Notification, user: User, text: str, url: str) -> None:
        """Deliver ``notification`` to ``user``. ``text`` is its sentence in the user's
        language, ``url`` the absolute address of what it is about. Raise to be retried."""
        raise NotImplementedError


# --- core's kinds ---------------------------------------------------------------------------


def _title(n: Notification) -> str:
    return n.topic.title if n.topic is not None else ""


def _actor(n: Notification) -> str:
    return n.actor.username if n.actor is not None else _("Someone")


def _describe_reply(n: Notification, count: int) -> str:
    question = n.topic is not None and n.topic.is_question
    if count > 1:
        if question:
            return ngettext(
                "%(num)d new answer to “%(title)s”",
                "%(num)d new answers to “%(title)s”",
                count,
                title=_title(n),
            )
        return ngettext(
            "%(num)d new reply in “%(title)s”",
            "%(num)d new replies in “%(title)s”",
            count,
            title=_title(n),
        )
    if question:
        return _("%(name)s answered “%(title)s”", name=_actor(n), title=_title(n))
    return _("%(name)s replied in “%(title)s”", name=_actor(n), title=_title(n))


def _describe_comment(n: Notification, count: int) -> str:
    if count > 1:
        return ngettext(
            "%(num)d new comment on your post in “%(title)s”",
            "%(num)d new comments on your posts in “%(title)s”",
            count,
            title=_title(n),
        )
    return _("%(name)s commented on your post in “%(title)s”", name=_actor(n), title=_title(n))


def _describe_mention(n: Notification, count: int) -> str:
    return _("%(name)s mentioned you in “%(title)s”", name=_actor(n), title=_title(n))


def _describe_accepted(n: Notification, count: int) -> str:
    return _("Your answer to “%(title)s” was accepted", title=_title(n))


def _describe_topic(n: Notification, count: int) -> str:
    where = n.data.get("where", "")
    if count > 1:
        return ngettext(
            "%(num)d new topic in %(where)s", "%(num)d new topics in %(where)s", count, where=where
        )
    return _(
        "New in %(where)s: “%(title)s” by %(name)s", where=where, title=_title(n), name=_actor(n)
    )


# The default workflow's statuses, named as the theme's ``status_label`` macro names them.
DEFAULT_STATUS_NAMES = {
    "new": _l("New"),
    "under_review": _l("Under review"),
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "shipped": _l("Shipped"),
    "declined": _l("Declined"),
    "duplicate": _l("Duplicate"),
}


def _status_name(status: str) -> str | None:
    """The status's name in the reader's language (the notification is described when it is
    read or mailed, in the recipient's language): as a plugin names it, else core's name of a
    default status."""
    from community.plugins import idea_status_label

    if not status:
        return None
    named = idea_status_label(status) or DEFAULT_STATUS_NAMES.get(status)
    return str(named) if named else None


def _describe_status(n: Notification, count: int) -> str:
    return _(
        "The idea “%(title)s” is now: %(status)s",
        title=_title(n),
        status=_status_name(n.data.get("status", "")) or n.data.get("status_label") or "",
    )


CORE_KINDS = [
    NotificationKind(
        "reply",
        _l("New answers and replies in topics I follow"),
        _describe_reply,
        default="email",
        description=_l("You follow the topics you start, answer, or vote for as an idea."),
    ),
    NotificationKind("comment", _l("Comments on my posts"), _describe_comment, default="email"),
    NotificationKind("mention", _l("Mentions of my @name"), _describe_mention, default="email"),
    NotificationKind("accepted", _l("My answer was accepted"), _describe_accepted, default="app"),
    NotificationKind(
        "topic",
        _l("New topics in spaces and tags I follow"),
        _describe_topic,
        default="daily",
    ),
    NotificationKind(
        "idea_status", _l("Status changes of ideas I follow"), _describe_status, default="email"
    ),
]


@dataclass
class Registry:
    kinds: dict[str, NotificationKind] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)


def _valid_name(name: Any) -> bool:
    return (
        isinstance(name, str) and 0 < len(name) <= 32 and all(ch in KIND_NAME_CHARS for ch in name)
    )


def all_kinds() -> dict[str, NotificationKind]:
    """Every kind: core's, then each enabled plugin's (a plugin's kind with a name already
    taken is ignored and the plugin recorded as failing)."""
    from community.plugins.host import current_host

    kinds = {kind.name: kind for kind in CORE_KINDS}
    host = current_host()
    for plugin, answer in host.answers("community_notification_kinds", {}):
        try:
            for kind in answer or ():
                if not isinstance(kind, NotificationKind) or not _valid_name(kind.name):
                    raise TypeError(f"not a valid NotificationKind: {kind!r}")
                if kind.name in kinds:
                    raise ValueError(f"notification kind {kind.name!r} already exists")
                if kind.default not in ("off", "app", "email", "daily", "weekly"):
                    raise ValueError(f"unknown default delivery {kind.default!r}")
                kinds[kind.name] = kind
        except Exception as exc:
            host.record_failure(plugin, "community_notification_kinds", exc)
    return kinds


def all_channels() -> dict[str, Channel]:
    """The channels of enabled plugins, by name."""
    from community.plugins.host import current_host

    channels: dict[str, Channel] = {}
    host = current_host()
    for plugin, answer in host.answers("community_notification_channels", {}):
        try:
            for channel in answer or ():
                if not isinstance(channel, Channel) or not channel.name:
                    raise TypeError(f"not a Channel with a name: {channel!r}")
                channels.setdefault(channel.name, channel)
        except Exception as exc:
            host.record_failure(plugin, "community_notification_channels", exc)
    return channels


def kind_of(name: str) -> NotificationKind | None:
    return all_kinds().get(name)
