"""bench/generate.py: a small community, consistent with itself, the same for a seed."""

from datetime import UTC, datetime

from sqlalchemy import inspect, text

from bench.generate import Generator, checksum
from community.extensions import db
from community.testing import empty_tables

POSTS = 1500
END = datetime(2026, 6, 1, tzinfo=UTC)


def scalar(sql):
    return db.session.execute(text(sql)).scalar()


def generate(seed=7):
    stats = Generator(POSTS, seed=seed, end=END).run()
    db.session.remove()
    return stats


def test_generator_makes_a_consistent_community(app, client):
    stats = generate()
    assert stats["posts"] == scalar("SELECT count(*) FROM posts") == POSTS
    assert stats["topics"] == scalar("SELECT count(*) FROM topics") > POSTS / 8
    assert scalar("SELECT count(*) FROM users") == 150
    kinds = {row[0] for row in db.session.execute(text("SELECT DISTINCT kind FROM topics"))}
    assert kinds == {"question", "idea", "discussion"}
    assert scalar("SELECT count(*) FROM posts WHERE parent_id IS NOT NULL") > 0  # comments
    assert scalar("SELECT count(*) FROM topics WHERE kind = 'idea' AND status <> 'new'") > 0
    assert scalar("SELECT count(*) FROM spaces WHERE parent_id IS NOT NULL") >= 3

    # Power law: the busiest tenth of the writers wrote at least half of the posts.
    per_author = [
        row[0]
        for row in db.session.execute(
            text("SELECT count(*) FROM posts GROUP BY author_id ORDER BY count(*) DESC")
        )
    ]
    assert sum(per_author[: max(1, len(per_author) // 10)]) >= POSTS / 2

    # About 60% of the answered questions have an accepted answer, an answer of their own.
    answered = scalar("SELECT count(*) FROM topics WHERE kind = 'question' AND reply_count > 0")
    accepted = scalar("SELECT count(*) FROM topics WHERE accepted_answer_id IS NOT NULL")
    assert 0.45 < accepted / answered < 0.75
    assert (
        scalar("""SELECT count(*) FROM topics t WHERE t.accepted_answer_id IS NOT NULL
        AND (t.kind <> 'question' OR NOT EXISTS (SELECT 1 FROM posts p
             WHERE p.id = t.accepted_answer_id AND p.topic_id = t.id AND NOT p.is_opening
             AND p.parent_id IS NULL AND p.created_at <= t.accepted_at))""")
        == 0
    )

    # Every counter agrees with the rows.
    assert (
        scalar("""SELECT count(*) FROM posts p WHERE p.score <>
        (SELECT coalesce(sum(v.value), 0) FROM votes v WHERE v.post_id = p.id)
        OR p.upvotes <> (SELECT count(*) FROM votes v WHERE v.post_id = p.id AND v.value = 1)
        OR p.downvotes <> (SELECT count(*) FROM votes v WHERE v.post_id = p.id AND v.value = -1)
        """)
        == 0
    )
    assert (
        scalar("""SELECT count(*) FROM topics t WHERE t.reply_count <>
        (SELECT count(*) FROM posts p WHERE p.topic_id = t.id AND NOT p.is_opening
         AND p.parent_id IS NULL)
        OR t.score <> (SELECT p.score FROM posts p WHERE p.topic_id = t.id AND p.is_opening)
        OR t.last_activity_at < (SELECT max(p.created_at) FROM posts p WHERE p.topic_id = t.id)
        OR (t.first_answer_at IS NULL) <> (t.reply_count = 0)""")
        == 0
    )
    assert (
        scalar("""SELECT count(*) FROM spaces s WHERE s.topic_count <>
        (SELECT count(*) FROM topics t WHERE t.space_id = s.id)
        OR s.post_count <> (SELECT count(*) FROM posts p JOIN topics t ON t.id = p.topic_id
                            WHERE t.space_id = s.id AND p.parent_id IS NULL)""")
        == 0
    )
    # Votes follow the site's rules: one per member and post, none on one's own post, none
    # on comments, ideas and discussions only up.
    assert (
        scalar("""SELECT count(*) FROM votes v JOIN posts p ON p.id = v.post_id
        JOIN topics t ON t.id = p.topic_id
        WHERE v.user_id = p.author_id OR p.parent_id IS NOT NULL
        OR (t.kind <> 'question' AND v.value < 0)""")
        == 0
    )

    # The Italian spaces are in Italian.
    italian = " ".join(
        row[0]
        for row in db.session.execute(
            text("""SELECT p.body_source FROM posts p JOIN topics t ON t.id = p.topic_id
            JOIN spaces s ON s.id = t.space_id WHERE s.slug = 'assistenza'""")
        )
    )
    assert " il " in italian and " della " in italian and "modalità" in italian

    # The plugins' tables, when they exist, are filled and agree with core's rows.
    tables = set(inspect(db.engine).get_table_names())
    if "moderation_flags" in tables:
        assert stats["flags"] == scalar("SELECT count(*) FROM moderation_flags")
        assert (
            scalar("""SELECT count(*) FROM moderation_flags f JOIN posts p ON p.id = f.post_id
            WHERE f.user_id = p.author_id""")
            == 0
        )
    if "gamification_totals" in tables:
        from community_gamification import points

        assert stats["ledger_rows"] > 0
        report, missing = points.check()
        assert (report.totals, missing) == ({}, [])

    # The site's pages render.
    topic_id, slug = db.session.execute(
        text("""SELECT id, slug FROM topics WHERE accepted_answer_id IS NOT NULL
        AND space_id IN (SELECT id FROM spaces WHERE visibility = 'public') ORDER BY id""")
    ).first()
    writer = scalar("SELECT username FROM users WHERE id = (SELECT author_id FROM posts "
                    "GROUP BY author_id ORDER BY count(*) DESC, author_id LIMIT 1)")  # fmt: skip
    db.session.remove()
    for url in ("/", "/s/routers", "/s/assistenza", f"/t/{topic_id}/{slug}", f"/u/{writer}"):
        assert client.get(url).status_code == 200, url
    client.login("admin", "community-admin")
    assert client.get("/s/staff-lounge").status_code == 200


def test_the_same_seed_gives_the_same_rows(app):
    generate(seed=3)
    first = checksum()
    empty_tables()
    generate(seed=3)
    assert checksum() == first
    empty_tables()
    generate(seed=4)
    assert checksum() != first
