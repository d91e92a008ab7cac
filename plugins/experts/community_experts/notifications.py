"""The plugin's kinds of notification."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from community.notifications.kinds import NotificationKind

EARNED = "experts_earned"
GRANTED = "experts_granted"
OFFERED = "experts_offered"


def _describe_earned(notification, count):
    data = notification.data or {}
    if data.get("scope") == "tag":
        return _("You are now an expert on the tag “%(name)s”.", name=data.get("name", ""))
    return _("You are now an expert in %(name)s.", name=data.get("name", ""))


def _describe_granted(notification, count):
    data = notification.data or {}
    return _("You were made an expert in %(name)s.", name=data.get("name", ""))


def _describe_offered(notification, count):
    topic = notification.topic
    title = topic.title if topic is not None else ""
    return _("A question waits for an expert: “%(title)s”", title=title)


NOTIFICATION_KINDS = [
    NotificationKind(
        EARNED,
        _l("I became an expert"),
        _describe_earned,
        default="app",
        description=_l("When your accepted answers make you an expert in a space or on a tag."),
    ),
    NotificationKind(
        GRANTED,
        _l("I was made an expert"),
        _describe_granted,
        default="app",
        description=_l("When an administrator or a moderator makes you an expert in a space."),
    ),
    NotificationKind(
        OFFERED,
        _l("Questions waiting for an expert"),
        _describe_offered,
        default="email",
        description=_l(
            "When a question in a space where you are an expert has no answer yet and is "
            "offered to you."
        ),
    ),
]
