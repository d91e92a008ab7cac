"""The issue's "done when": a member whose answer is accepted gets the points and a
notification, and on the tenth accepted answer the "Helper" badge, with its own
notification, on their profile."""

from community_gamification import points
from community_gamification.models import Award
from sqlalchemy import select

from community.extensions import db
from community.notifications.models import Notification
from community.topics import services


def kinds_of(user):
    db.session.expire_all()
    rows = db.session.scalars(select(Notification).where(Notification.user_id == user.id))
    return sorted(n.kind for n in rows)


def test_ten_accepted_answers_make_a_helper(
    client, enable_plugin, create_user, create_space, create_topic, create_post, run_tasks
):
    enable_plugin("gamification")
    helper, asker = create_user("helper"), create_user("asker")
    space = create_space("routers")
    for n in range(1, 11):
        topic = create_topic(asker, space, title=f"Router question number {n}", body=f"Q{n}?")
        answer = create_post(helper, topic, f"Answer number {n}: restart the router.")
        services.accept_answer(asker, answer)
        run_tasks()
        # 15 for the acceptance, and 5 once for the first answer in the space.
        assert points.points_of([helper.id])[helper.id] == 15 * n + 5
        assert kinds_of(helper).count("accepted") == n
        badges = set(db.session.scalars(select(Award.badge).where(Award.user_id == helper.id)))
        assert ("accepted_10" in badges) == (n == 10)
    assert kinds_of(helper).count("gamification_badge_awarded") == len(badges)
    client.login("helper")
    inbox = client.get("/notifications").get_data(as_text=True)
    assert "You earned the badge “Helper”" in inbox
    profile = client.get("/u/helper").get_data(as_text=True)
    assert "Helper" in profile and "/badges/accepted_10" in profile
