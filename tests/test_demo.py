"""`community demo`: realistic, consistent, deterministic demo content."""

import hashlib

import pytest
from sqlalchemy import func, select, text

from community.demo import generate_demo
from community.extensions import db
from community.spaces.models import Space
from community.topics import services
from community.topics.models import Post, Topic, Vote


def run_demo(runner, *extra):
    result = runner.invoke(args=["demo", "--users", "30", "--topics", "80", *extra])
    assert result.exit_code == 0, result.output
    return result.output


def scalar(sql):
    return db.session.execute(text(sql)).scalar()


def test_demo_fills_a_consistent_community(runner):
    output = run_demo(runner)
    assert "admin / community-admin" in output
    assert db.session.scalar(select(func.count()).select_from(Topic)) == 82
    kinds = dict(db.session.execute(select(Topic.kind, func.count()).group_by(Topic.kind)).all())
    assert set(kinds) == {"question", "idea", "discussion"}
    assert scalar("SELECT count(*) FROM topics WHERE accepted_answer_id IS NOT NULL") > 0
    assert scalar("SELECT count(*) FROM users WHERE locale = 'it'") > 0
    assert scalar("SELECT count(*) FROM spaces WHERE visibility <> 'public'") == 2
    # Every counter matches the rows.
    assert (
        scalar("""SELECT count(*) FROM posts p WHERE p.score <>
        (SELECT coalesce(sum(v.value), 0) FROM votes v WHERE v.post_id = p.id)""")
        == 0
    )
    assert (
        scalar("""SELECT count(*) FROM topics t WHERE t.reply_count <>
        (SELECT count(*) FROM posts p WHERE p.topic_id = t.id AND NOT p.is_opening
         AND p.parent_id IS NULL AND p.deleted_at IS NULL)""")
        == 0
    )
    assert (
        scalar("""SELECT count(*) FROM topics t WHERE t.score <>
        (SELECT p.score FROM posts p WHERE p.topic_id = t.id AND p.is_opening)""")
        == 0
    )
    for space in db.session.scalars(select(Space)):
        topics = db.session.scalar(
            select(func.count())
            .select_from(Topic)
            .where(Topic.space_id == space.id, Topic.deleted_at.is_(None))
        )
        posts = db.session.scalar(
            select(func.count())
            .select_from(Post)
            .join(Topic, Topic.id == Post.topic_id)
            .where(
                Topic.space_id == space.id,
                Topic.deleted_at.is_(None),
                Post.parent_id.is_(None),
                Post.deleted_at.is_(None),
            )
        )
        assert (space.topic_count, space.post_count) == (topics, posts)
    # Votes follow the rules: no self-votes, ideas and discussions only up.
    assert (
        scalar("""SELECT count(*) FROM votes v JOIN posts p ON p.id = v.post_id
        WHERE v.user_id = p.author_id""")
        == 0
    )
    assert (
        scalar("""SELECT count(*) FROM votes v JOIN posts p ON p.id = v.post_id
        JOIN topics t ON t.id = p.topic_id WHERE t.kind <> 'question' AND v.value < 0""")
        == 0
    )
    # Accepted answers are answers of the same question.
    assert (
        scalar("""SELECT count(*) FROM topics t JOIN posts p ON p.id = t.accepted_answer_id
        WHERE p.topic_id <> t.id OR p.is_opening OR p.parent_id IS NOT NULL
        OR t.kind <> 'question'""")
        == 0
    )
    assert db.session.scalar(select(func.count()).select_from(Vote)) > 0


def test_demo_admin_signs_in_and_pages_render(runner, client):
    run_demo(runner)
    client.login("admin", "community-admin")
    assert client.get("/admin/").status_code == 200
    topic = db.session.scalar(select(Topic).where(Topic.accepted_answer_id.is_not(None)))
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "Accepted answer" in page
    client.logout()
    client.login("moderator", "community-mod")


def test_the_demo_admin_finds_replies_in_the_inbox_and_members_follow_their_topics(runner, client):
    from community.notifications.models import Follow

    run_demo(runner)
    client.login("admin", "community-admin")
    home = client.get("/").get_data(as_text=True)
    assert 'aria-label="Notifications, 3 unread"' in home
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "3 new replies in “" in inbox
    # Every topic is followed by its author.
    topics = db.session.scalar(select(func.count()).select_from(Topic))
    followed = db.session.scalar(
        select(func.count(func.distinct(Follow.target_id))).where(Follow.target_type == "topic")
    )
    assert followed == topics


def test_visitors_do_not_see_private_demo_spaces(runner, client):
    run_demo(runner)
    page = client.get("/").get_data(as_text=True)
    assert "Staff lounge" not in page and "Beta program" not in page
    private = db.session.scalars(
        select(Topic).join(Space).where(Space.visibility != "public")
    ).all()
    assert private
    for topic in private[:5]:
        assert client.get(f"/t/{topic.id}/{topic.slug}").status_code == 404


def test_if_empty_adds_nothing_the_second_time(runner):
    run_demo(runner)
    before = db.session.scalar(select(func.count()).select_from(Topic))
    output = run_demo(runner, "--if-empty")
    assert "already has users" in output
    assert db.session.scalar(select(func.count()).select_from(Topic)) == before


def test_same_seed_same_content(app):
    def digest():
        titles = db.session.scalars(select(Topic.title).order_by(Topic.id)).all()
        return hashlib.sha256("\n".join(titles).encode()).hexdigest()

    generate_demo(n_users=10, n_topics=30, seed=7, echo=lambda _: None)
    first = digest()
    from community.testing import empty_tables

    empty_tables()
    generate_demo(n_users=10, n_topics=30, seed=7, echo=lambda _: None)
    assert digest() == first


def test_the_demo_answers_the_router_password_question_before_it_is_asked(
    runner, run_tasks, create_user
):
    from community.search.service import similar_topics

    run_demo(runner)
    assert run_tasks() >= 1  # the demo queued every topic for the search index
    member = create_user("newcomer")
    suggestions = similar_topics(member, "how do I reset my router password")
    first = suggestions[0]
    assert first.topic.title == "How to reset the admin password of my router"
    assert first.topic.is_solved and "reset** button" not in first.answer
    assert "hold the reset button" in first.answer.lower()


def test_the_site_goes_on_creating_rows_after_the_demo(runner, create_user, create_space):
    """The demo inserts rows with their ids; new rows must not collide with them (on
    PostgreSQL the id sequences are moved past the demo's rows)."""
    run_demo(runner)
    user = create_user("after-demo")
    space = create_space("after-demo-space")
    assert user.id > 1 and space.id > 1
    topic = services.create_topic(user, space, "question", "A question after the demo", "Body")
    assert topic.id == db.session.scalar(select(func.max(Topic.id)))


class TestPluginsAddTheirDemoData:
    """`--enable-plugin NAME` enables an installed plugin with the demo, and every enabled
    plugin hears `community_demo_generated` once the demo's rows are committed."""

    @pytest.fixture
    def app_config(self):
        return {"PLUGINS": ["tests.plugins.recorder"]}

    def test_plugins_hear_of_the_demo_after_it_is_committed(self, runner):
        from tests.plugins import recorder

        recorder.calls.clear()
        run_demo(runner, "--seed", "3")
        users = scalar("SELECT count(*) FROM users")
        assert users > 30  # the members and the demo's staff accounts
        assert [c for n, c in recorder.calls if n == "demo_generated"] == [
            {"seed": 3, "users_committed": users}
        ]

    def test_an_unknown_plugin_is_a_clear_error(self, runner):
        result = runner.invoke(
            args=["demo", "--users", "5", "--topics", "5", "--enable-plugin", "nosuchplugin"]
        )
        assert result.exit_code != 0
        assert "cannot enable plugin nosuchplugin" in result.output
