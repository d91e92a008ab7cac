"""Notifications: regressions found in review (digest catch-up, private tags, unsubscribe scope,
fan-out queries, merges, disabled kinds, long keys, odd page numbers)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from community.dbtypes import utcnow
from community.extensions import db
from community.notifications import delivery, service
from community.notifications.models import Notification, NotificationEvent
from tests.test_notifications import notifications_of

NOTIFIER = {"PLUGINS": ["tests.plugins.notifier"]}


@pytest.fixture
def space(create_space):
    return create_space("routers")


def test_the_hourly_catch_up_does_not_send_a_daily_digest_every_hour(
    app, create_user, create_topic, create_post, space, run_tasks, outbox
):
    """digests_hourly() calls send_digests("daily", older_than=25 h) at every hour but the
    digest hour. A user with an old notification waiting for the *weekly* digest is picked,
    and then gets everything chosen *daily* at once, every hour, instead of once a day."""
    reader = create_user("reader")
    service.set_preferences(reader, {"topic": "weekly", "reply": "daily"})
    service.follow(reader, "space", space.id)
    create_topic(create_user("someone"), space)
    run_tasks()
    # Three days ago; it waits for the weekly digest, as it should.
    db.session.execute(update(Notification).values(created_at=utcnow() - timedelta(days=3)))
    db.session.commit()
    # An answer a minute ago, for the daily digest at NOTIFICATION_DIGEST_HOUR.
    create_post(create_user("helper"), create_topic(reader, space))
    run_tasks()
    assert delivery.send_digests("daily", older_than=timedelta(hours=25)) == 0
    run_tasks()
    assert outbox == []


@pytest.mark.parametrize("app_config", [{}])
def test_telling_many_followers_costs_a_fixed_number_of_queries(
    app, create_user, create_topic, space, count_queries
):
    """_fan_out -> add_notifications -> may_see -> can() runs moderated_space_ids() once per
    recipient (a SELECT on space_moderators each): an event costs one query per follower."""

    def queries_for_new_topic(followers: int) -> int:
        for _ in range(followers):
            service.follow(create_user(), "space", space.id)
        create_topic(create_user(), space)
        [event_id] = db.session.scalars(select(NotificationEvent.id))
        db.session.rollback()
        with count_queries() as counted:
            delivery.process_event(event_id)
        return counted.statements

    few = queries_for_new_topic(3)
    many = queries_for_new_topic(30)  # 33 followers in all
    repeated = Counter(many).most_common(1)
    assert len(many) <= len(few) + 2, (
        f"{len(few)} queries for 3 followers, {len(many)} for 33; most repeated: {repeated}"
    )


def test_following_a_tag_by_number_does_not_reveal_a_private_tag(
    app, client, create_user, create_space, create_topic
):
    """_target() gives any tag's name for its id: numbering through /follow/tag/<id> lists
    the tags of staff-only topics (in the redirect, the flash, and the follow list)."""
    from community.topics.models import Tag

    internal = create_space("internal", visibility="staff")
    create_topic(
        create_user("boss", staff=True), internal, title="Buying Falcon Ltd", tags="falcon-deal"
    )
    tag_id = db.session.scalar(select(Tag.id).where(Tag.name == "falcon-deal"))
    create_user("ann")
    client.login("ann")
    response = client.submit(f"/follow/tag/{tag_id}")
    assert "falcon" not in response.headers.get("Location", "")
    settings = client.get("/settings/notifications").get_data(as_text=True)
    assert "falcon" not in settings
    assert response.status_code == 404


def test_an_unsubscribe_link_for_one_kind_cannot_change_the_others(app, client, create_user):
    """undo_unsubscribe() restores whatever kinds the form names, whatever kind the token
    is for: a link to stop "accepted" emails turns on emails of every other kind."""
    user = create_user("ann")
    service.set_preferences(user, {"mention": "off", "comment": "app"})
    token = delivery.unsubscribe_token(user, "accepted")
    client.post(f"/unsubscribe/{token}")
    client.submit(
        f"/unsubscribe/{token}/undo",
        {"kind": ["mention", "comment"], "was-mention": "email", "was-comment": "weekly"},
    )
    chosen = service.preferences(user)
    assert (chosen["mention"], chosen["comment"]) == ("off", "app")


def test_reading_the_topic_a_duplicate_was_merged_into_reads_its_notifications(
    app, client, create_user, create_topic, create_post, space, run_tasks
):
    """mark_topic_read() matches Notification.topic_id, the topic at the time: after a merge
    the answers live in the kept topic, yet reading it leaves their notifications unread
    (and the bell lit) for good."""
    from community.topics.services import merge_topic

    asker = create_user("asker")
    duplicate = create_topic(asker, space, title="Router keeps rebooting every hour")
    kept = create_topic(create_user("other"), space, title="Router reboots by itself")
    create_post(create_user("helper"), duplicate, body="Update the firmware first.")
    run_tasks()
    merge_topic(create_user("mod", role="moderator"), duplicate, kept)
    client.login("asker")
    page = client.get(f"/t/{kept.id}/{kept.slug}").get_data(as_text=True)
    assert "Update the firmware first." in page
    assert [n.read_at is not None for n in notifications_of(asker, "reply")] == [True]
    assert "data-unread" not in page


@pytest.mark.parametrize("app_config", [NOTIFIER])
def test_the_bell_counts_only_what_the_inbox_shows(app, client, create_user, run_tasks):
    """unread_count() counts notifications of kinds no longer declared (a plugin disabled),
    which inbox() leaves out: the bell says 1, the inbox is empty and says nothing."""
    from community.plugins.services import disable_plugin

    ann = create_user("ann")
    service.notify([ann], "notifier.ping", key="ping:1", url="/notifications")
    disable_plugin("notifier")
    client.login("ann")
    page = client.get("/notifications").get_data(as_text=True)
    assert 'class="notification' not in page
    assert "data-unread" not in page


@pytest.mark.parametrize("app_config", [NOTIFIER])
def test_a_plugin_key_too_long_for_its_column_is_refused_on_every_database(app, create_user):
    """notifications.key and group_key are VARCHAR(96), url VARCHAR(500); notify() checks
    none of it: SQLite stores a longer key, PostgreSQL raises DataError (from inside the
    plugin's request). It should be the same clear ValueError everywhere."""
    ann = create_user("ann")
    with pytest.raises(ValueError):
        service.notify([ann], "notifier.ping", key="ping:" + "x" * 200)
    db.session.rollback()
    assert notifications_of(ann) == []


def test_a_page_number_in_other_digits_is_a_404_not_a_500(app, client, create_user):
    """page_number() (web/helpers.py) checks str.isdigit(), which "²" passes and int()
    refuses: a ValueError, a 500, on the inbox and the settings' follow list."""
    create_user("ann")
    client.login("ann")
    assert client.get("/notifications?page=%C2%B2").status_code == 404
    assert client.get("/settings/notifications?page=%C2%B2").status_code == 404
