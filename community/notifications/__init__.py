"""Notifications: following, the inbox, email at once or in digests, and plugin channels.

Plugins use this module's API::

    from community.notifications import Channel, NotificationKind, notify

- declare kinds with the ``community_notification_kinds`` hook and channels with
  ``community_notification_channels``;
- tell users something with :func:`notify` (it checks visibility, the users' choices, and never
  tells the same thing twice);
- :func:`follow` / :func:`unfollow` / :func:`is_following` for topics, spaces and tags.

See ``docs/plugins.md`` for examples.
"""

from __future__ import annotations

from flask import Flask

from community.notifications.kinds import Channel, NotificationKind
from community.notifications.service import follow, is_following, notify, unfollow

__all__ = [
    "Channel",
    "NotificationKind",
    "follow",
    "init_notifications",
    "is_following",
    "notify",
    "unfollow",
]


def init_notifications(app: Flask) -> None:
    from community.notifications import delivery, models  # noqa: F401 - tables and tasks
    from community.notifications.service import is_following, unread_count

    app.jinja_env.globals.update(
        unread_notifications=lambda: unread_count(_current_user()),
        is_following=lambda target_type, target_id: is_following(
            _current_user(), target_type, target_id
        ),
    )


def _current_user():
    from flask_login import current_user

    return current_user._get_current_object()
