"""Tests of the thanks plugin. The fixtures come from Community's pytest plugin."""

import pytest
from community_thanks import services
from community_thanks.models import ThanksNote
from sqlalchemy import func, select

from community.extensions import db


@pytest.fixture
def answer(enable_plugin, create_user, create_space, create_topic, create_post):
    """An answer by "helper" to a question by "asker", with the plugin enabled."""
    enable_plugin("thanks")
    asker, helper = create_user("asker"), create_user("helper")
    topic = create_topic(asker, create_space("help"), title="How do I reset my router?")
    return create_post(helper, topic, "Hold the reset button for ten seconds.")


def topic_url(post):
    return f"/t/{post.topic.id}/{post.topic.slug}"


def thanks_count():
    return db.session.scalar(select(func.count()).select_from(ThanksNote))


def test_say_thanks(client, answer):
    client.login("asker")
    assert "Say thanks" in client.get(topic_url(answer)).get_data(as_text=True)

    response = client.submit(f"/thanks/p/{answer.id}")

    assert response.status_code == 302
    page = client.get(topic_url(answer)).get_data(as_text=True)
    assert "Thanked 1 time" in page
    assert "You said thanks" in page
    assert "How do I reset my router?" in client.get("/thanks/").get_data(as_text=True)


def test_thanks_only_once(client, answer):
    client.login("asker")
    client.submit(f"/thanks/p/{answer.id}")
    client.submit(f"/thanks/p/{answer.id}")
    assert thanks_count() == 1


def test_no_thanks_for_your_own_answer(client, answer):
    client.login("helper")
    assert "Say thanks" not in client.get(topic_url(answer)).get_data(as_text=True)
    assert client.submit(f"/thanks/p/{answer.id}").status_code == 403
    assert thanks_count() == 0


def test_visitors_are_sent_to_sign_in(client, answer):
    response = client.submit(f"/thanks/p/{answer.id}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_accepting_an_answer_thanks_its_author(client, answer):
    client.login("asker")
    client.submit(f"/p/{answer.id}/accept")
    note = db.session.scalars(select(ThanksNote)).one()
    assert (note.post_id, note.user.username, note.on_accept) == (answer.id, "asker", True)


def test_settings(client, create_user, answer):
    create_user("root", role="admin")
    client.login("root")
    response = client.submit(
        "/admin/plugins/thanks", {"label": "Thank you!", "per_page": "10"}
    )  # the unticked checkbox turns thanks-on-accept off
    assert response.status_code == 302
    assert "Thank you!" in client.get(topic_url(answer)).get_data(as_text=True)
    client.submit(f"/p/{answer.id}/accept")  # admins may accept any answer
    assert thanks_count() == 0


def test_settings_are_validated(client, create_user, answer):
    create_user("root", role="admin")
    client.login("root")
    response = client.submit("/admin/plugins/thanks", {"label": "Thanks", "per_page": "1000"})
    assert response.status_code == 400


def test_private_spaces_do_not_leak(
    client, create_user, create_space, create_topic, create_post, answer
):
    staff_room = create_space("staff-room", visibility="staff")
    boss = create_user("boss", staff=True)
    secret = create_topic(boss, staff_room, title="Secret plans for next year")
    reply = create_post(create_user("colleague", staff=True), secret, "Count me in.")
    client.login("boss")
    client.submit(f"/thanks/p/{reply.id}")
    assert "Secret plans" in client.get("/thanks/").get_data(as_text=True)
    client.logout()

    assert "Secret plans" not in client.get("/thanks/").get_data(as_text=True)


def test_disabled_plugin_is_gone(client, runner, answer):
    result = runner.invoke(args=["plugins", "disable", "thanks"])
    assert result.exit_code == 0, result.output
    client.login("asker")
    assert "Say thanks" not in client.get(topic_url(answer)).get_data(as_text=True)
    assert client.get("/thanks/").status_code == 404
    assert client.get("/plugins/thanks/static/thanks.css").status_code == 404
    assert client.submit(f"/thanks/p/{answer.id}").status_code == 404
    client.submit(f"/p/{answer.id}/accept")  # the listener is not called either
    assert thanks_count() == 0


def test_topic_page_queries_do_not_grow_with_answers(
    client, count_queries, create_user, create_post, answer
):
    for n in range(5):
        create_post(create_user(), answer.topic, f"Another idea, number {n}.")
    with count_queries() as queries:
        client.get(topic_url(answer))
    assert sum("thanks_notes" in sql for sql in queries.statements) <= 2


def test_thanks_page_queries_do_not_grow_with_thanks(client, count_queries, create_user, answer):
    services.thank(create_user(), answer)
    with count_queries() as one:
        client.get("/thanks/")
    for _ in range(4):
        services.thank(create_user(), answer)
    with count_queries() as five:
        client.get("/thanks/")
    assert len(five) == len(one)  # no query per row of the page


def test_italian(client, answer):
    page = client.get("/thanks/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "Grazie" in page
