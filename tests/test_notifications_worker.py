"""The issue's "done when", end to end with real processes: a member asks, another answers
through the web, and a real `community worker` process puts the notification in the asker's
inbox and sends the email, in the asker's language, to a real SMTP server on 127.0.0.1."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from community.extensions import db
from community.notifications import service
from community.notifications.models import Notification
from community.topics.models import Topic
from tests.test_mail_worker import start_worker, stop, wait_until_ready


@pytest.fixture
def app_config(smtp_server):
    # The web side and the worker share the queue: a SQLite file in the instance folder.
    return {"TASKS_URL": "sqlite:///tasks.db", **smtp_server.settings}


def test_an_answer_reaches_the_askers_inbox_and_mailbox_in_their_language(
    app, client, database_url, create_user, create_space, smtp_server, tmp_path
):
    create_space("routers", title="Router")
    asker = create_user("chiara", locale="it")
    create_user("helper")
    worker = start_worker(
        app,
        database_url,
        "sqlite:///tasks.db",
        smtp_server,
        tmp_path / "worker.log",
        SITE_URL="http://community.test",
    )
    try:
        wait_until_ready(worker)
        client.login("chiara")
        title = "Il router si riavvia da solo ogni notte"
        response = client.submit(
            "/s/routers/new",
            {"kind": "question", "title": title, "body": "Succede alle tre.", "tags": ""},
        )
        assert response.status_code == 302
        topic = db.session.scalar(select(Topic).where(Topic.title == title))
        client.logout()
        client.login("helper")
        response = client.submit(
            f"/t/{topic.id}/reply", {"body": "Disattiva gli aggiornamenti notturni."}
        )
        assert response.status_code == 302

        [message] = smtp_server.wait_for(1)
    finally:
        log = stop(worker)
    assert "Traceback" not in log, log

    assert message["To"] == "chiara@example.com"
    assert message["Subject"] == f"helper ha risposto a “{title}”"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Disattiva gli aggiornamenti notturni." in text and "Apri:" in text
    assert 'lang="it"' in html and "Disattiva gli aggiornamenti notturni." in html
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith("http://community.test/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = re.search(r"http://community\.test/p/(\d+)", text)
    assert link, text

    # In the inbox, in Italian, leading to the answer.
    [notification] = db.session.scalars(
        select(Notification).where(Notification.user_id == asker.id)
    ).all()
    assert int(link.group(1)) == notification.post_id
    client.logout()
    client.login("chiara")
    inbox = client.get("/notifications").get_data(as_text=True)
    assert f"helper ha risposto a “{title}”" in inbox
    assert 'aria-label="Notifiche, 1 non letta"' in inbox

    # The link in the email works without signing in.
    client.logout()
    path = unsubscribe.removeprefix("http://community.test")
    assert client.get(path).status_code == 200
    assert client.post(path).status_code == 200
    assert service.preferences(asker)["reply"] == "app"


class TestTwoWorkersOnRedis:
    """Two worker processes share a Redis queue in which every notification event was queued
    twice (as a sweep racing the first task would): each notification is written once and
    each email arrives once."""

    REDIS_URL = "redis://127.0.0.1:6379/11"  # 12 and 13 belong to other tests
    QUESTIONS = 12

    @pytest.fixture
    def app_config(self, smtp_server):
        return {"TASKS_URL": self.REDIS_URL, **smtp_server.settings}

    @pytest.fixture(autouse=True)
    def empty_redis(self):
        import redis

        connection = redis.Redis.from_url(self.REDIS_URL)
        connection.flushdb()
        yield
        connection.flushdb()
        connection.close()

    def test_each_notification_and_email_once(
        self,
        app,
        database_url,
        create_user,
        create_space,
        create_topic,
        create_post,
        smtp_server,
        tmp_path,
    ):
        from community.notifications.delivery import process_event
        from community.notifications.models import NotificationEvent
        from community.tasks import enqueue

        space = create_space("routers")
        askers = [create_user(f"asker{n}") for n in range(self.QUESTIONS)]
        helper = create_user("helper")
        for asker in askers:
            create_post(helper, create_topic(asker, space))
        for event_id in db.session.scalars(select(NotificationEvent.id)):
            enqueue(process_event, event_id)
        workers = [
            start_worker(app, database_url, self.REDIS_URL, smtp_server, tmp_path / f"w{n}.log")
            for n in range(2)
        ]
        try:
            for worker in workers:
                wait_until_ready(worker)
            smtp_server.wait_for(self.QUESTIONS)
        finally:
            logs = [stop(worker) for worker in workers]
        for log in logs:
            assert "Traceback" not in log, log
        assert sorted(m["To"] for m in smtp_server.messages) == sorted(
            f"asker{n}@example.com" for n in range(self.QUESTIONS)
        )
        db.session.rollback()
        rows = db.session.scalars(select(Notification)).all()
        assert sorted(n.user_id for n in rows) == sorted(a.id for a in askers)
        assert all(n.emailed_at is not None for n in rows)
        assert db.session.scalar(select(NotificationEvent.id)) is None
        # Every event task ran (a question and an answer each, every one queued twice), the
        # duplicates included: they found nothing left to do.
        executed = "Executing community.tasks.community.notifications.delivery.process_event"
        assert sum(log.count(executed) for log in logs) == 2 * 2 * self.QUESTIONS
