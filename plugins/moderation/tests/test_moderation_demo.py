"""`community demo --enable-plugin moderation` gives the review queue some work."""

from community_moderation.models import Flag
from sqlalchemy import func, select

from community.extensions import db
from community.topics.models import Post


def test_the_demo_fills_the_review_queue(runner, client):
    result = runner.invoke(
        args=["demo", "--users", "30", "--topics", "80", "--enable-plugin", "moderation"]
    )
    assert result.exit_code == 0, result.output
    assert "Enabled plugin moderation" in result.output
    flagged = db.session.scalar(select(func.count(func.distinct(Flag.post_id))))
    assert flagged == 4
    # One reply got enough flags to be hidden until a moderator decides.
    hidden = db.session.scalars(select(Post).where(Post.hidden_at.is_not(None))).all()
    assert len(hidden) == 1
    client.login("moderator", "community-mod")
    page = client.get("/moderation/").get_data(as_text=True)
    assert page.count('class="mod-item ') == 4
