"""Review of the experts plugin: privacy, permissions, consistency of the standings with a
rebuild, bad input and query counts."""

from __future__ import annotations

import pytest
from community_experts import expertise, routing
from community_experts.models import OPEN, SPACE, TAG, Grant, Offer, Standing
from community_experts.testing import grant, wait
from sqlalchemy import select

from community.extensions import db
from community.notifications.models import Notification
from community.plugins.settings import save_plugin_settings
from community.topics import services
from community.topics.models import Post, Tag


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("experts")
    errors = save_plugin_settings(
        "experts",
        {
            "min_accepted": 2,
            "min_score": 10,
            "accepted_weight": 5,
            "window_days": 30,
            "route_after_minutes": 30,
            "per_round": 1,
            "max_rounds": 3,
        },
    )
    assert errors == {}
    root = create_user("root", role="admin")
    routers = create_space("routers", title="Routers")
    return {
        "root": root,
        "helper": create_user("helper"),
        "asker": create_user("asker"),
        "other": create_user("other"),
        "routers": routers,
        "billing": create_space("billing", title="Billing"),
        "lab": create_space("lab", title="Secret Lab", visibility="staff"),
    }


def answered(site, create_topic, create_post, space, n=1, tags=""):
    answers = []
    for i in range(n):
        topic = create_topic(site["asker"], space, title=f"Question {space.slug} {i}?", tags=tags)
        answer = create_post(site["helper"], topic, f"Answer {i} in {space.slug}, long enough")
        services.accept_answer(site["asker"], answer)
        answers.append(answer)
    return answers


def snapshot():
    db.session.expire_all()
    return sorted(
        (r.user_id, r.scope, r.scope_id, r.accepted, r.votes, r.score, r.is_expert)
        for r in db.session.scalars(select(Standing))
    )


def assert_matches_rebuild():
    before = snapshot()
    expertise.rebuild()
    after = snapshot()
    assert before == after


def opening(topic):
    return db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.is_opening))


def tag_id(name):
    return db.session.scalar(select(Tag.id).where(Tag.name == name))


# --- consistency with rebuild ------------------------------------------------------------------


def test_standings_match_rebuild_after_accept_vote_hide_delete_restore(
    site, create_topic, create_post
):
    """Pins: the basic events keep the incremental table equal to a rebuild."""
    answers = answered(site, create_topic, create_post, site["routers"], n=3, tags="wifi")
    services.cast_vote(site["other"], answers[0], 1)
    assert_matches_rebuild()
    services.hide_post(site["root"], answers[1], "spam")
    assert_matches_rebuild()
    services.delete_post(site["root"], answers[2])
    assert_matches_rebuild()
    services.restore_post(site["root"], answers[2])
    assert_matches_rebuild()
    services.move_topic(site["root"], answers[0].topic, site["billing"])
    assert_matches_rebuild()


def test_removing_a_tag_while_editing_the_question_leaves_a_stale_tag_expert(
    site, create_topic, create_post
):
    answers = answered(site, create_topic, create_post, site["routers"], n=2, tags="wifi")
    wifi = tag_id("wifi")
    assert expertise.tag_experts([wifi])[wifi] == {site["helper"].id}
    topic = answers[0].topic
    # The asker edits the question's text and drops the tag: the answers no longer count for
    # "wifi", but the plugin only works out the standings of the topic's *new* tags.
    services.edit_post(site["asker"], opening(topic), "New details about it, rewritten.", tags="")
    assert_matches_rebuild()


def test_splitting_out_an_accepted_answer_leaves_a_stale_standing(site, create_topic, create_post):
    answers = answered(site, create_topic, create_post, site["routers"], n=2)
    assert expertise.is_expert(site["helper"].id, site["routers"].id)
    # The accepted answer becomes the opening post of a new topic: it is no longer an
    # answer, and the source question has no accepted answer any more.
    services.split_topic(site["root"], answers[0].topic, [answers[0].id], "A topic of its own")
    db.session.expire_all()
    assert_matches_rebuild()


def test_merging_a_tagged_question_into_an_untagged_one_leaves_a_stale_tag_expert(
    site, create_topic, create_post
):
    answers = answered(site, create_topic, create_post, site["routers"], n=2, tags="wifi")
    target = create_topic(site["other"], site["routers"], title="The same question, untagged?")
    services.merge_topic(site["root"], answers[0].topic, target)
    db.session.expire_all()
    assert_matches_rebuild()


# --- privacy -----------------------------------------------------------------------------------


def test_moving_answers_into_a_staff_space_tells_a_member_its_name(site, create_topic, create_post):
    answers = answered(site, create_topic, create_post, site["routers"], n=2)
    for answer in answers:
        services.move_topic(site["root"], answer.topic, site["lab"])
    db.session.expire_all()
    names = [
        n.data.get("name")
        for n in db.session.scalars(
            select(Notification).where(
                Notification.user_id == site["helper"].id, Notification.kind == "experts_earned"
            )
        )
    ]
    # helper may not see "Secret Lab": no notification may name it.
    assert "Secret Lab" not in names


def test_private_expertise_is_not_shown_on_badges_profile_and_directory(
    client, site, create_topic, create_post
):
    """Pins: an expert of a staff-only space: nothing of it on public pages."""
    grant(site["helper"], site["lab"])
    answered(site, create_topic, create_post, site["routers"], n=1)
    client.login("other")
    for url in ("/experts/", f"/u/{site['helper'].username}", "/experts/s/routers"):
        page = client.get(url)
        assert page.status_code in (200, 404)
        assert "Secret Lab" not in page.get_data(as_text=True)
    assert client.get("/experts/s/lab").status_code == 404
    assert client.get("/experts/s/lab/metrics.json").status_code == 404


def test_an_offer_of_a_question_one_lost_sight_of_stays_open_and_counted_in_the_menu(
    client, site, create_topic
):
    from community.spaces.services import save_space

    ann = site["other"]
    help_space = site["billing"]
    grant(ann, help_space)
    question = create_topic(site["asker"], help_space, title="Who can help with billing?")
    wait(question, 31)
    assert routing.route() == 1
    # The space becomes staff-only: ann may not see the question any more.
    save_space(help_space, visibility="staff")
    db.session.expire_all()
    routing.route()
    db.session.expire_all()
    still_open = db.session.scalars(
        select(Offer).where(Offer.user_id == ann.id, Offer.state == OPEN)
    ).all()
    client.login("other")
    page = client.get("/experts/unanswered").get_data(as_text=True)
    assert "Who can help with billing?" not in page
    # The menu must not count a question she may not see, and the offer must be withdrawn.
    assert 'class="experts-waiting"' not in page
    assert not still_open


# --- permissions -------------------------------------------------------------------------------


def test_locked_questions_and_unconfirmed_experts_are_not_offered(site, create_user, create_topic):
    """Pins: the expert must be able to reply."""
    unconfirmed = create_user("fresh", confirmed=False)
    grant(unconfirmed, site["routers"])
    grant(site["other"], site["routers"])
    locked = create_topic(site["asker"], site["routers"], title="Locked question here?")
    services.set_topic_flag(site["root"], locked, "is_locked", True)
    wait(locked, 200)
    plain = create_topic(site["asker"], site["routers"], title="Plain question here?")
    wait(plain, 200)
    routing.route()
    db.session.expire_all()
    offered = set(db.session.scalars(select(Offer.user_id).where(Offer.topic_id == locked.id)))
    assert offered == set()
    offered = set(db.session.scalars(select(Offer.user_id).where(Offer.topic_id == plain.id)))
    assert offered == {site["other"].id}


def test_space_moderator_may_not_change_another_spaces_routing_or_grant(client, site, create_user):
    """Pins: a moderator of Routers has no say in Billing."""
    from community.spaces.services import add_moderator

    mod = create_user("mod")
    add_moderator(site["routers"], mod)
    client.login("mod")
    data = {"enabled": "y", "after_minutes": "5", "mode": "round_robin", "per_round": "3"}
    assert client.submit("/experts/s/billing/routing", data).status_code == 403
    grant_data = {"username": "other", "reason": "knows it"}
    assert client.submit("/experts/s/billing/grant", grant_data).status_code == 403
    assert client.submit("/experts/s/lab/grant", grant_data).status_code == 404
    # Without the CSRF token, refused even in their own space.
    response = client.post("/experts/s/routers/grant", data=grant_data)
    assert response.status_code in (400, 403)
    db.session.expire_all()
    assert db.session.scalar(select(Grant.id)) is None


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("until", ["9999-12-31", "0001-01-01", "2024-02-30", "x" * 5000, "+1"])
def test_away_dates_at_the_edges_never_fail(client, site, until):
    grant(site["other"], site["routers"])
    client.login("other")
    response = client.submit("/experts/away", {"action": "away", "until": until, "note": "off"})
    assert response.status_code in (302, 400)
    for url in ("/experts/away", "/experts/unanswered", "/u/other", "/experts/s/routers"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize(
    "url",
    [
        "/experts/?page=99999999999999999999",
        "/experts/tags?page=10001",
        "/experts/tag/" + "x" * 500,
        "/experts/tag/%00",
        "/experts/s/routers?page=abc",
        "/experts/s/nope/metrics.json",
        "/experts/unanswered/abc/pass",
        "/experts/s/routers/revoke/99999999999999999999",
    ],
)
def test_odd_urls_are_not_server_errors(client, site, url):
    client.login("root")
    assert client.get(url).status_code < 500
    assert client.submit(url, {"reason": "x"}).status_code < 500


# --- query counts ------------------------------------------------------------------------------


def test_tag_page_queries_do_not_grow_with_experts(client, site, create_user, count_queries):
    wifi = create_user("seed")
    from community.topics.services import create_topic as make

    make(wifi, site["routers"], "question", "Seed question for the tag?", "Body text.", "wifi")
    tid = tag_id("wifi")

    def add_experts(n, start):
        for i in range(start, start + n):
            user = create_user(f"tx{i}")
            db.session.add(
                Standing(
                    user_id=user.id, scope=TAG, scope_id=tid, accepted=3, score=30, is_expert=True
                )
            )
            db.session.add(
                Standing(
                    user_id=user.id,
                    scope=SPACE,
                    scope_id=site["routers"].id,
                    accepted=3,
                    score=30,
                    is_expert=True,
                )
            )
        db.session.commit()

    add_experts(2, 0)
    client.get("/experts/tag/wifi")
    with count_queries() as few:
        assert client.get("/experts/tag/wifi").status_code == 200
    add_experts(10, 2)
    with count_queries() as many:
        assert client.get("/experts/tag/wifi").status_code == 200
    assert len(many) == len(few)
    with count_queries() as few_space:
        assert client.get("/experts/s/routers").status_code == 200
    add_experts(10, 12)
    with count_queries() as many_space:
        assert client.get("/experts/s/routers").status_code == 200
    assert len(many_space) == len(few_space)


def test_a_badge_on_a_child_space_page_does_not_name_a_hidden_parent(
    client, site, create_user, create_space, create_topic, create_post
):
    from community.spaces.services import add_moderator

    hq = create_space("hq", title="Hidden HQ", visibility="staff")
    team = create_space("team", title="Team", parent=hq)
    mod = create_user("mod")
    add_moderator(team, mod)  # sees Team (they moderate it), not Hidden HQ
    boss = create_user("boss", staff=True)
    grant(boss, hq)
    topic = create_topic(mod, team, title="A question in Team?")
    create_post(boss, topic, "An answer from the expert of the parent space.")
    client.login("mod")
    assert client.get("/experts/s/hq").status_code == 404
    page = client.get(f"/t/{topic.id}/{topic.slug}", follow_redirects=True)
    assert page.status_code == 200
    assert "Hidden HQ" not in page.get_data(as_text=True)
