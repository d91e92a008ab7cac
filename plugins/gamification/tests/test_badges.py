"""Badges: the rules of the built-in badges, awarding once with a notification, manual badges
granted and revoked by administrators, and the public badges pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from community_gamification import badges
from community_gamification.models import Award, BadgeDefinition
from sqlalchemy import func, select, update

from community.accounts.models import User
from community.extensions import db
from community.notifications.models import Notification
from community.topics.models import Post
from community.topics.services import (
    accept_answer,
    cast_vote,
    delete_post,
    set_idea_status,
)


@pytest.fixture
def site(enable_plugin, create_user, create_space):
    enable_plugin("gamification")
    users = {name: create_user(name) for name in ("asker", "helper", "other")}
    users["root"] = create_user("root", role="admin")
    users["mod"] = create_user("mod", role="moderator")
    users["space"] = create_space("help")
    return users


def holders(slug):
    return set(
        db.session.scalars(
            select(User.username).join(Award, Award.user_id == User.id).where(Award.badge == slug)
        )
    )


def awards_count():
    return db.session.scalar(select(func.count()).select_from(Award))


def notifications_of(user):
    return list(
        db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id, Notification.kind == badges.BADGE_AWARDED
            )
        )
    )


# --- the rules -------------------------------------------------------------------------------


def test_first_answer(site, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    assert holders("first_answer") == set()  # a question is not an answer
    create_post(site["helper"], topic)
    assert holders("first_answer") == {"helper"}
    award = db.session.scalar(select(Award).where(Award.badge == "first_answer"))
    notification = notifications_of(site["helper"])[0]
    assert notification.key == f"badge:{award.id}"
    assert notification.url == "/badges/first_answer"


def test_comments_are_not_answers(site, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    create_post(site["helper"], topic, "Which router is it?", parent=opening)
    assert holders("first_answer") == set()


def test_tenth_accepted_answer_earns_helper_with_a_notification(
    client, site, create_topic, create_post
):
    asker, helper = site["asker"], site["helper"]
    for n in range(10):
        topic = create_topic(asker, site["space"], title=f"Question number {n} about routers")
        answer = create_post(helper, topic, f"Answer number {n}.")
        if n == 0:
            # Accepting one's own answer to one's own question earns nothing.
            own = create_post(asker, topic, "Found it myself.")
            accept_answer(asker, own)
            assert holders("first_accepted") == set()
        accept_answer(asker, answer)
        if n == 0:
            assert holders("first_accepted") == {"helper"}
        if n == 8:
            assert holders("accepted_10") == set()
    assert holders("accepted_10") == {"helper"}
    assert holders("accepted_50") == set()
    award = db.session.scalar(select(Award).where(Award.badge == "accepted_10"))
    assert award.object_id == answer.id  # the tenth

    notification = next(n for n in notifications_of(helper) if n.data.get("badge") == "accepted_10")
    assert notification.key == f"badge:{award.id}"
    assert notification.read_at is None
    client.login("helper")
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "You earned the badge “Helper”" in inbox


def test_accepted_thresholds(site, create_topic, create_post):
    rule = badges.RULES["accepted_50"]
    assert rule.tier == "gold"
    assert badges.RULES["accepted_100"].tier == "gold"
    asker, helper = site["asker"], site["helper"]
    for n in range(3):
        topic = create_topic(asker, site["space"], title=f"Question number {n} about modems")
        accept_answer(asker, create_post(helper, topic))
    assert badges._accepted(3)({helper.id}) != {}
    assert badges._accepted(4)({helper.id}) == {}


def test_idea_shipped(site, create_topic):
    idea = create_topic(site["asker"], site["space"], kind="idea", title="A dark theme, please")
    set_idea_status(site["root"], idea, "planned")
    assert holders("idea_shipped") == set()
    set_idea_status(site["root"], idea, "shipped")
    assert holders("idea_shipped") == {"asker"}
    assert db.session.scalar(select(Award.object_id).where(Award.badge == "idea_shipped")) == (
        idea.id
    )


def test_idea_shipped_follows_the_setting(site, create_topic):
    from community.plugins.settings import plugin_settings, save_plugin_settings

    save_plugin_settings(
        "gamification", {**plugin_settings("gamification"), "shipped_status": "done"}
    )
    idea = create_topic(site["asker"], site["space"], kind="idea", title="A dark theme, please")
    set_idea_status(site["root"], idea, "shipped")
    assert holders("idea_shipped") == set()
    set_idea_status(site["root"], idea, "done")
    assert holders("idea_shipped") == {"asker"}


def test_upvotes_100(site, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    answer = create_post(site["helper"], topic)
    db.session.execute(update(Post).where(Post.id == answer.id).values(upvotes=98))
    db.session.commit()
    cast_vote(site["asker"], answer, 1)  # 99
    assert holders("upvotes_100") == set()
    cast_vote(site["other"], answer, 1)  # 100
    assert holders("upvotes_100") == {"helper"}


def test_a_hundred_upvotes_on_a_question_are_not_an_answer(site, create_topic):
    topic = create_topic(site["asker"], site["space"])
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id))
    db.session.execute(update(Post).where(Post.id == opening.id).values(upvotes=99))
    db.session.commit()
    cast_vote(site["helper"], opening, 1)
    assert holders("upvotes_100") == set()


def _spread_over_days(user, days, start):
    """Move the user's posts to one per day from ``start``, skipping the days in ``gaps``."""
    posts = list(
        db.session.scalars(select(Post).where(Post.author_id == user.id).order_by(Post.id))
    )
    assert len(posts) >= len(days)
    for post, day in zip(posts, days, strict=False):
        moment = datetime.combine(start + timedelta(days=day), datetime.min.time(), UTC)
        db.session.execute(
            update(Post).where(Post.id == post.id).values(created_at=moment + timedelta(hours=23))
        )
    db.session.commit()


def test_streak_30(site, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    helper = site["helper"]
    for n in range(31):
        create_post(helper, topic, f"Reply number {n}.")
    start = datetime(2025, 1, 1, tzinfo=UTC).date()
    # 29 days, a gap, then 2 more days: no streak of 30.
    _spread_over_days(helper, [*range(29), 30, 31], start)
    assert badges.evaluate([helper.id], ["streak_30"]) == []
    # 30 consecutive days (two posts on the last one).
    _spread_over_days(helper, [*range(30), 29], start)
    assert [a.badge for a in badges.evaluate([helper.id], ["streak_30"])] == ["streak_30"]


def test_longest_streak():
    day = datetime(2025, 2, 27).date()
    days = [day + timedelta(days=n) for n in (0, 1, 2, 3, 5, 6)]  # across the end of February
    assert badges.longest_streak(days) == 4
    assert badges.longest_streak([]) == 0


def test_welcomer(site, create_user, create_topic, create_post):
    newcomer = create_user("newcomer")
    question = create_topic(newcomer, site["space"], title="My very first question here")
    create_post(newcomer, question, "Some more details from me.")  # the asker's own reply
    create_post(site["helper"], question, "Welcome! Try this.")
    create_post(site["other"], question, "Or that.")
    assert holders("welcomer") == {"helper"}

    # The second question of the same member earns nobody the badge.
    second = create_topic(newcomer, site["space"], title="My second question here")
    create_post(site["other"], second, "Here you go.")
    assert holders("welcomer") == {"helper"}


def test_no_welcomer_for_members_who_posted_before(site, create_topic, create_post):
    earlier = create_topic(site["other"], site["space"], title="Someone else's question")
    create_post(site["asker"], earlier, "An answer by the asker, before their question.")
    question = create_topic(site["asker"], site["space"], title="The asker's first question")
    create_post(site["helper"], question, "Here you go.")
    assert holders("welcomer") == {"asker"}  # who welcomed "other", not "helper"


# --- awarding --------------------------------------------------------------------------------


def test_no_duplicate_awards(site, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    create_post(site["helper"], topic)
    create_post(site["helper"], topic, "And another thing.")
    assert badges.evaluate([site["helper"].id]) == []
    assert badges._award(site["helper"].id, "first_answer", None) is None  # the constraint
    db.session.rollback()
    assert badges.evaluate_all()["first_answer"] == 0
    assert awards_count() == 2  # first_answer and welcomer
    assert len(notifications_of(site["helper"])) == 2


def test_badges_are_kept(site, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    answer = create_post(site["helper"], topic)
    delete_post(site["helper"], answer)
    assert holders("first_answer") == {"helper"}
    assert badges.evaluate_all()["first_answer"] == 0


def test_evaluate_all(site, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    answer = create_post(site["helper"], topic)
    accept_answer(site["asker"], answer)
    db.session.execute(Award.__table__.delete())
    db.session.commit()
    lines = []
    counts = badges.evaluate_all(lines.append)
    assert counts["first_answer"] == 1
    assert counts["first_accepted"] == 1
    assert counts["welcomer"] == 1
    assert counts["accepted_10"] == 0
    assert "first_answer: 1 new, 1 in all" in lines
    assert holders("first_accepted") == {"helper"}
    assert badges.evaluate_all() == dict.fromkeys(badges.RULES, 0)


def test_held_and_private_posts(site, create_user, create_space, create_topic, create_post):
    boss = create_user("boss", staff=True)
    secret = create_topic(
        boss, create_space("staff-room", visibility="staff"), title="Secret plans"
    )
    create_post(create_user("colleague", staff=True), secret, "Count me in.")
    # Earned in a private space: the badge is the member's, and the page says nothing of it.
    assert holders("first_answer") == {"colleague"}


def test_awards_of(site, create_topic, create_post, count_queries):
    topic = create_topic(site["asker"], site["space"])
    create_post(site["helper"], topic)
    definition = BadgeDefinition(slug="speaker", name="Speaker", description="Gave a talk.")
    db.session.add(definition)
    db.session.commit()
    badges.grant(site["root"], site["helper"], definition, "Talk at the meetup")
    ids = [site["helper"].id, site["asker"].id]
    badges.clear_cache()
    with count_queries() as queries:
        found = badges.awards_of(ids)
    assert len(queries) == 1
    assert found[site["asker"].id] == []
    infos = found[site["helper"].id]
    assert [(i.slug, i.name, i.tier, i.manual) for i in infos] == [
        ("speaker", "Speaker", "special", True),
        ("welcomer", "Welcomer", "bronze", False),
        ("first_answer", "First answer", "bronze", False),
    ]
    assert all(i.awarded_at.tzinfo is not None for i in infos)


def test_badge_catalog(site):
    db.session.add(BadgeDefinition(slug="speaker", name="Speaker"))
    db.session.commit()
    catalog = badges.badge_catalog()
    assert [b.slug for b in catalog][: len(badges.BUILT_IN)] == list(badges.RULES)
    assert catalog[-1].slug == "speaker" and catalog[-1].manual
    assert catalog[-1].key == "manual:speaker"
    assert {b.tier for b in catalog} == {"bronze", "silver", "gold", "special"}


# --- manual badges: admin pages --------------------------------------------------------------

ADMIN = "/admin/plugins/gamification/pages/badges"


@pytest.fixture
def speaker(site):
    definition = BadgeDefinition(slug="speaker", name="Speaker", description="Gave a talk.")
    db.session.add(definition)
    db.session.commit()
    return definition


@pytest.fixture
def audited(monkeypatch):
    calls = []

    def record(actor, action, target=None, *, reason=None, before=None, after=None):
        calls.append((actor.username, action, target.username, reason, before, after))

    monkeypatch.setattr("community.plugins.audit", record)
    return calls


def test_admin_creates_and_edits_a_badge(client, site):
    client.login("root")
    assert client.get(ADMIN).status_code == 200
    assert client.get(f"{ADMIN}/new").status_code == 200
    response = client.submit(
        f"{ADMIN}/new", {"slug": "speaker", "name": "Speaker", "description": "Gave a talk."}
    )
    assert response.status_code == 302
    definition = db.session.scalar(select(BadgeDefinition))
    assert (definition.slug, definition.name) == ("speaker", "Speaker")
    response = client.submit(
        f"{ADMIN}/{definition.id}", {"name": "Conference speaker", "description": "Talked."}
    )
    assert response.status_code == 302
    db.session.refresh(definition)
    assert (definition.slug, definition.name) == ("speaker", "Conference speaker")
    assert "Conference speaker" in client.get("/badges/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("Speaker!", "lowercase letters"),
        ("-speaker", "lowercase letters"),
        ("x" * 41, "40"),
        ("first_answer", "A built-in badge already has this address."),
        ("speaker", "Another badge already has this address."),
    ],
)
def test_bad_badge_definitions_are_refused(client, speaker, slug, message):
    client.login("root")
    response = client.submit(f"{ADMIN}/new", {"slug": slug, "name": "A name"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(BadgeDefinition)) == 1


def test_an_empty_name_is_refused(client, speaker):
    client.login("root")
    assert client.submit(f"{ADMIN}/new", {"slug": "x", "name": " "}).status_code == 400
    assert client.submit(f"{ADMIN}/{speaker.id}", {"name": ""}).status_code == 400


def test_grant_and_revoke(client, site, speaker, audited):
    client.login("root")
    response = client.submit(
        f"{ADMIN}/{speaker.id}/grant", {"username": "HELPER", "reason": "Talk at the meetup"}
    )
    assert response.status_code == 302
    award = db.session.scalar(select(Award).where(Award.badge == "manual:speaker"))
    assert (award.user_id, award.granted_by_id, award.reason) == (
        site["helper"].id,
        site["root"].id,
        "Talk at the meetup",
    )
    assert audited == [
        (
            "root",
            "badge.grant",
            "helper",
            "Talk at the meetup",
            {"badge": None},
            {"badge": "manual:speaker"},
        )
    ]
    notification = notifications_of(site["helper"])[0]
    assert notification.data["name"] == "Speaker"
    assert notification.url == "/badges/speaker"
    page = client.get(f"{ADMIN}/{speaker.id}").get_data(as_text=True)
    assert "Talk at the meetup" in page

    # Granting again changes nothing.
    client.submit(f"{ADMIN}/{speaker.id}/grant", {"username": "helper", "reason": "Again"})
    assert awards_count() == 1 and len(audited) == 1

    response = client.submit(
        f"{ADMIN}/{speaker.id}/revoke/{award.id}", {"reason": "Granted by mistake"}
    )
    assert response.status_code == 302
    assert awards_count() == 0
    actor, action, target, reason, before, after = audited[1]
    assert (actor, action, target, reason) == (
        "root",
        "badge.revoke",
        "helper",
        "Granted by mistake",
    )
    assert before["badge"] == "manual:speaker" and after == {"badge": None}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "reason": "Why not"}, "Give the username of the member."),
        ({"username": "nobody", "reason": "Why not"}, "There is no member with this username."),
        ({"username": "x" * 500, "reason": "Why not"}, "There is no member with this username."),
        ({"username": "helper", "reason": ""}, "Say why the member gets the badge."),
        ({"username": "helper", "reason": "x" * 301}, "At most 300 characters."),
    ],
)
def test_bad_grants_are_refused(client, speaker, audited, data, message):
    client.login("root")
    response = client.submit(f"{ADMIN}/{speaker.id}/grant", data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert awards_count() == 0 and audited == []


def test_no_grants_to_suspended_members(client, site, speaker):
    from community.accounts.services import suspend_user

    suspend_user(site["helper"], site["root"], "spam")
    client.login("root")
    response = client.submit(f"{ADMIN}/{speaker.id}/grant", {"username": "helper", "reason": "x"})
    assert response.status_code == 400
    assert "This account is suspended." in response.get_data(as_text=True)


def test_built_in_badges_cannot_be_revoked_through_another_badge(
    client, site, speaker, create_topic, create_post
):
    topic = create_topic(site["asker"], site["space"])
    create_post(site["helper"], topic)
    award = db.session.scalar(select(Award).where(Award.badge == "first_answer"))
    client.login("root")
    assert client.submit(f"{ADMIN}/{speaker.id}/revoke/{award.id}").status_code == 404
    assert client.submit(f"{ADMIN}/{speaker.id}/revoke/99999999").status_code == 404
    assert client.submit(f"{ADMIN}/12345/grant", {"username": "helper"}).status_code == 404
    assert client.get(f"{ADMIN}/12345").status_code == 404
    assert client.get(f"{ADMIN}/99999999999999999999").status_code == 404
    assert holders("first_answer") == {"helper"}


def test_admin_pages_need_csrf(client, site, speaker):
    client.login("root")
    response = client.post(
        f"{ADMIN}/{speaker.id}/grant", data={"username": "helper", "reason": "A talk"}
    )
    assert response.status_code == 400
    response = client.post(f"{ADMIN}/new", data={"slug": "another", "name": "Another"})
    assert response.status_code == 400
    assert awards_count() == 0
    assert db.session.scalar(select(func.count()).select_from(BadgeDefinition)) == 1


@pytest.mark.parametrize("username", ["helper", "mod"])
def test_admin_pages_are_for_admins(client, site, speaker, audited, username):
    client.login(username)
    assert client.get(ADMIN).status_code == 403
    assert client.get(f"{ADMIN}/{speaker.id}").status_code == 403
    assert client.submit(f"{ADMIN}/new", {"slug": "mine", "name": "Mine"}).status_code == 403
    response = client.submit(
        f"{ADMIN}/{speaker.id}/grant", {"username": username, "reason": "Because"}
    )
    assert response.status_code == 403
    assert awards_count() == 0 and audited == []


def test_visitors_are_sent_to_sign_in(client, speaker):
    response = client.get(ADMIN)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_admin_menu_links_to_the_badges(client, site):
    client.login("root")
    page = client.get("/admin/").get_data(as_text=True)
    assert f'<li><a href="{ADMIN}">Badges</a></li>' in page
    page = client.get(ADMIN).get_data(as_text=True)
    assert f'<li><a href="{ADMIN}" aria-current="page">Badges</a></li>' in page
    assert badges.slot("nav", {}) is None


# --- public pages ----------------------------------------------------------------------------


def test_badges_index(client, site, speaker, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    create_post(site["helper"], topic)
    page = client.get("/badges/").get_data(as_text=True)
    assert "First answer" in page and "Speaker" in page and "Gave a talk." in page
    assert "1 member holds it" in page
    assert "0 members hold it" in page
    assert "Gold" in page and "Special" in page


def test_badge_page(client, site, speaker, create_topic, create_post):
    topic = create_topic(site["asker"], site["space"])
    create_post(site["helper"], topic)
    create_post(site["other"], create_topic(site["asker"], site["space"]))
    page = client.get("/badges/first_answer").get_data(as_text=True)
    assert "2 members hold it" in page
    assert page.index("/u/other") < page.index("/u/helper")  # newest first
    assert client.get("/badges/speaker").status_code == 200
    assert client.get("/badges/nothing-like-this").status_code == 404
    assert client.get("/badges/" + "x" * 300).status_code == 404
    assert client.get("/badges/first_answer?page=9").status_code == 404
    assert client.get("/badges/first_answer?page=abc").status_code in (200, 404)


def test_badge_pages_hide_suspended_members(client, site, create_user, create_topic, create_post):
    from community.accounts.services import suspend_user

    topic = create_topic(site["asker"], site["space"])
    create_post(site["helper"], topic)
    suspend_user(site["helper"], site["root"], "spam")
    for who in (None, "other"):
        if who:
            client.login(who)
        assert "helper" not in client.get("/badges/first_answer").get_data(as_text=True)
        assert "0 members hold it" in client.get("/badges/").get_data(as_text=True)
    client.logout()
    client.login("mod")
    page = client.get("/badges/first_answer").get_data(as_text=True)
    assert "helper" in page and "suspended" in page


def test_badge_pages_do_not_leak_private_spaces(
    client, site, create_user, create_space, create_topic, create_post
):
    boss = create_user("boss", staff=True)
    secret = create_topic(
        boss, create_space("staff-room", visibility="staff"), title="Secret plans for next year"
    )
    create_post(create_user("colleague", staff=True), secret, "Count me in, secretly.")
    for url in ("/badges/", "/badges/first_answer", "/badges/welcomer"):
        page = client.get(url).get_data(as_text=True)
        assert "Secret plans" not in page and "secretly" not in page
    client.login("boss")
    assert "Secret plans" not in client.get("/badges/first_answer").get_data(as_text=True)


def test_badge_pages_queries_do_not_grow(client, site, create_user, create_topic, count_queries):
    from community_gamification.models import Award as AwardModel

    topic = create_topic(site["asker"], site["space"])
    db.session.add(AwardModel(user_id=site["helper"].id, badge="first_answer"))
    db.session.commit()
    with count_queries() as one:
        client.get("/badges/first_answer")
    for _ in range(5):
        db.session.add(AwardModel(user_id=create_user().id, badge="first_answer"))
    db.session.commit()
    with count_queries() as six:
        client.get("/badges/first_answer")
    assert len(six) == len(one)
    assert topic


def test_disabled_plugin_hides_the_pages(client, runner, site, speaker):
    assert runner.invoke(args=["plugins", "disable", "gamification"]).exit_code == 0
    assert client.get("/badges/").status_code == 404
    client.login("root")
    assert client.get(ADMIN).status_code == 404
