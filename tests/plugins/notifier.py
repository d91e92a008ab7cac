"""A test plugin that adds a kind of notification ("notifier.ping") and a delivery channel
that records what it receives; the channel fails while ``fail["times"]`` is above zero (to
test that failed deliveries are retried)."""

from flask_babel import lazy_gettext as _l

from community.hookspecs import hookimpl
from community.notifications import Channel, NotificationKind

delivered: list[tuple[int, str, str, str]] = []
fail = {"times": 0}


def _describe(notification, count):
    return f"Ping from the notifier: {notification.data.get('word', '')}"


PING = NotificationKind("notifier.ping", _l("Pings from the notifier"), _describe, default="email")


class RecordingChannel(Channel):
    name = "recording"
    label = "Recording"
    retries = 2
    retry_delay = 0

    def deliver(self, notification, user, text, url):
        if fail["times"] > 0:
            fail["times"] -= 1
            raise ConnectionError("the recording channel is down")
        delivered.append((notification.id, user.username, text, url))


@hookimpl
def community_notification_kinds():
    return [PING]


@hookimpl
def community_notification_channels():
    return [RecordingChannel()]
