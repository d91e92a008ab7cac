"""Review of the ideation plugin: each test proves a bug (it fails until the bug is fixed);
tests marked "guard" passed on first run and pin down important guarantees."""

from __future__ import annotations

import pytest
from community_ideation import changes, duplicates, importance, notes, team
from community_ideation.models import Change, Delivery, Duplicate, ProductTeam
from sqlalchemy import func, select, update

from community.errors import Refused
from community.extensions import db
from community.plugins.settings import plugin_settings, save_plugin_settings
from community.topics import services
from community.topics.models import Topic
from community.topics.queries import opening_post


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic):
    enable_plugin("ideation")
    w = {
        "admin": create_user("admin", role="admin"),
        "staff": create_user("staffer", staff=True),
        "pm": create_user("product"),
        "member": create_user("member"),
        "voter": create_user("voter"),
        "author": create_user("author"),
    }
    w["ideas"] = create_space("ideas", default_kind="idea")
    w["secret"] = create_space("secret", default_kind="idea", visibility="staff")
    team.add_member(w["admin"], w["ideas"], w["pm"])
    w["original"] = create_topic(w["author"], w["ideas"], kind="idea", title="Export data as CSV")
    w["copy"] = create_topic(w["member"], w["ideas"], kind="idea", title="A CSV export of data")
    return w


def configure(**values):
    current = dict(plugin_settings("ideation"))
    current.update(values)
    assert save_plugin_settings("ideation", current) == {}


def text(response):
    return response.get_data(as_text=True)


def url(topic):
    return f"/t/{topic.id}/{topic.slug}"


# --- bugs -------------------------------------------------------------------------------------


@pytest.mark.parametrize("release", ["²", "99999999999999999999"])
def test_status_form_with_an_odd_release_id_is_a_500(site, client, release):
    # web_ideas.py change_status: "²".isdigit() is true but int("²") fails; a huge number
    # overflows the database's integer. Both must come back as the form with a message.
    idea = site["original"]
    changes.change_status(site["pm"], idea, "planned", "Soon")
    client.login("product")
    response = client.submit(
        f"/ideas/{idea.id}/status",
        {"status": "shipped", "response": "Shipped it, typed", "release": release},
    )
    assert response.status_code == 400
    assert "There is no such release." in text(response) and "Shipped it, typed" in text(response)
    db.session.expire_all()
    assert idea.status == "planned"


def test_delete_note_with_a_huge_id_is_a_500(site, client):
    # web_ideas.py delete_note uses <int:note_id>, not core's bounded <id:...> converter.
    client.login("admin")
    assert client.submit("/ideas/notes/99999999999999999999/delete").status_code == 404


def test_team_remove_with_a_huge_user_id_is_a_500(site, client):
    # web_team.py remove uses <int:user_id>, not core's bounded <id:...> converter.
    client.login("admin")
    response = client.submit("/product-team/ideas/remove/99999999999999999999")
    assert response.status_code == 404


def test_duplicate_of_a_staff_only_idea_leaks_its_title_to_members(site, create_topic, client):
    # duplicates.py mark_duplicate only checks that the *actor* sees the original; the
    # official response it writes on the public idea links it by title, for every reader.
    secret = create_topic(site["staff"], site["secret"], kind="idea", title="Project Nightjar")
    with pytest.raises(Refused):  # fixed: the original must be seen by all who see the copy
        duplicates.mark_duplicate(site["admin"], site["copy"], secret)
    client.login("member")
    page = text(client.get(url(site["copy"])))
    assert "Nightjar" not in page
    db.session.expire_all()
    assert site["copy"].status == "new"


def test_importance_moves_to_the_original_without_its_vote(site):
    # importance.move moves every voter's level, also that of the original's author, whose
    # vote core drops (no vote on one's own post): importance without a vote.
    copy, original = site["copy"], site["original"]
    services.cast_vote(site["author"], opening_post(copy), 1)
    importance.set_level(site["author"], copy, "critical")
    duplicates.mark_duplicate(site["pm"], copy, original)
    assert not importance.has_voted(site["author"], original)
    assert importance.counts([original.id]) == {}


def test_an_unconfirmed_product_team_member_changes_a_status(site, create_user):
    # team.permission grants topic.set_status without core's "may write" rule (confirmed,
    # active account) that staff and moderators must meet.
    unconfirmed = create_user("newbie", confirmed=False)
    team.add_member(site["admin"], site["ideas"], unconfirmed)
    with pytest.raises(Refused):
        changes.change_status(unconfirmed, site["original"], "planned", "Me!")


def test_duplicate_of_a_staff_only_idea_leaks_its_title_in_the_webhook(
    site, create_topic, run_tasks
):
    # Same cause (duplicates.py mark_duplicate): the public idea's status_changed body
    # carries the response naming the staff-only idea to the outside receiver.
    configure(webhook_url="http://127.0.0.1:9/", webhook_secret="s3cret")  # noqa: S106
    secret = create_topic(site["staff"], site["secret"], kind="idea", title="Project Nightjar")
    with pytest.raises(Refused):
        duplicates.mark_duplicate(site["admin"], site["copy"], secret)
    run_tasks()
    assert not any("Nightjar" in d.payload for d in db.session.scalars(select(Delivery)))


def test_header_shows_a_stale_response_of_an_earlier_status(site, client):
    # changes.latest_response (used by web_ideas.header) takes the latest change *with* a
    # response: after Declined -> Under review the header still says "Official response ·
    # Declined: Not now" although the idea is under review again.
    idea = site["original"]
    changes.change_status(site["pm"], idea, "declined", "Not now, sorry")
    changes.change_status(site["pm"], idea, "under_review", "")
    page = text(client.get(url(idea)))
    assert "Not now, sorry" not in page.split('class="ideation-response"', 1)[-1][:600]


def test_votes_on_ideas_without_a_status_escape_the_budget(site):
    # voting.py active_votes: Topic.status.not_in(closed) is NULL for an idea with no status
    # (older ideas, which insight counts as New, i.e. open): they never count against it.
    configure(vote_budget=1)
    db.session.execute(update(Topic).where(Topic.id == site["original"].id).values(status=None))
    db.session.commit()
    services.cast_vote(site["voter"], opening_post(site["original"]), 1)
    with pytest.raises(Refused):
        services.cast_vote(site["voter"], opening_post(site["copy"]), 1)


# --- guards (passed on first run) -------------------------------------------------------------


def test_guard_removed_team_member_loses_the_right_at_once(site):
    # guard
    team.remove_member(site["admin"], site["ideas"], site["pm"])
    with pytest.raises(Refused):
        changes.change_status(site["pm"], site["original"], "planned", "Still me")
    assert db.session.scalar(select(func.count()).select_from(ProductTeam)) == 0
    assert db.session.scalar(select(func.count()).select_from(Change)) == 0


def test_guard_staff_notes_need_the_right(site):
    # guard
    with pytest.raises(Refused):
        notes.add_note(site["member"], site["original"], "Mine")
    assert db.session.scalar(select(func.count()).select_from(Duplicate)) == 0


@pytest.mark.parametrize(
    "path",
    ["/ideas/{id}/status", "/ideas/{id}/duplicate", "/ideas/{id}/importance", "/ideas/{id}/notes"],
)
def test_guard_posts_need_a_csrf_token(site, client, path):
    # guard
    client.login("admin")
    idea = site["copy"]
    data = {"status": "planned", "response": "x", "original": str(site["original"].id)}
    data |= {"level": "nice", "body": "A note"}
    assert client.post(path.format(id=idea.id), data=data).status_code == 400
    db.session.expire_all()
    assert idea.status == "new" and db.session.get(Duplicate, idea.id) is None


def test_guard_questions_and_invisible_ideas_are_404(site, client, create_topic):
    # guard
    question = create_topic(site["member"], site["ideas"], kind="question")
    hidden = create_topic(site["staff"], site["secret"], kind="idea", title="Hidden idea here")
    client.login("product")
    for topic in (question, hidden):
        assert client.get(f"/ideas/{topic.id}/status").status_code == 404
        assert client.submit(f"/ideas/{topic.id}/importance", {"level": "nice"}).status_code == 404


def test_guard_unknown_status_comes_back_with_the_text(site, client):
    # guard
    client.login("product")
    idea = site["original"]
    response = client.submit(f"/ideas/{idea.id}/status", {"status": "nope", "response": "Kept"})
    assert response.status_code == 400
    assert "There is no such status." in text(response) and "Kept" in text(response)
