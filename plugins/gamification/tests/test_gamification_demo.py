"""`community demo --enable-plugin gamification` gives the leaderboards, levels and badges
something to show."""

from __future__ import annotations

import re

from community_gamification import demo
from community_gamification.models import Award, BadgeDefinition, LedgerEntry, Total
from sqlalchemy import func, select

from community.accounts.models import User
from community.extensions import db


def test_the_demo_fills_the_leaderboard(runner, client):
    result = runner.invoke(
        args=["demo", "--users", "30", "--topics", "80", "--enable-plugin", "gamification"]
    )
    assert result.exit_code == 0, result.output
    assert "Enabled plugin gamification" in result.output

    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) > 50
    assert db.session.scalar(select(func.count()).select_from(Total).where(Total.points > 0)) > 10
    slugs = set(db.session.scalars(select(BadgeDefinition.slug)))
    assert {"beta-tester", "translator"} <= slugs
    manual = db.session.scalar(
        select(func.count()).select_from(Award).where(Award.badge.like("manual:%"))
    )
    assert manual == 6
    assert db.session.scalar(select(func.count()).select_from(Award)) > manual  # rule badges

    page = client.get("/leaderboard/").get_data(as_text=True)
    rows = re.findall(r'<tr id="rank-\d+"', page)
    assert len(rows) >= 10
    levels = set(re.findall(r'<td data-label="Level">([^<]+)</td>', page))
    assert len(levels) >= 3, levels
    assert "badge-level" in page
    assert "admin" not in re.findall(r"<span>([^<]+)</span></a>", page)  # staff left out

    # The ledger is dated by what earned the points: the week's and month's boards show
    # the demo's recent history, not a copy of all time.
    from community_gamification.web_leaderboard import period_start

    def earned_since(start):
        stmt = select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        if start is not None:
            stmt = stmt.where(LedgerEntry.created_at >= start)
        return db.session.scalar(stmt)

    assert 0 < earned_since(period_start("week")) < earned_since(period_start("month"))
    assert earned_since(period_start("month")) < earned_since(None)

    # The best member's profile shows their rank and their badges.
    best = re.search(r'<tr id="rank-(\d+)"', page).group(1)
    user = db.session.get(User, int(best))
    profile = client.get(f"/u/{user.username}").get_data(as_text=True)
    assert "<dt>All-time rank</dt>" in profile and "#1</a>" in profile
    assert 'href="/badges/' in profile

    # Member badges appear on the leaderboard's pages of a space and a period, too.
    assert client.get("/leaderboard/?period=month").status_code == 200
    beta = select(Award.user_id).where(Award.badge == "manual:beta-tester")
    holder = db.session.scalar(select(User).where(User.id.in_(beta)).limit(1))
    profile = client.get(f"/u/{holder.username}").get_data(as_text=True)
    assert "Beta tester" in profile

    # Running the plugin's demo step again adds nothing.
    assert demo.generate(1)["manual_awards"] == 0
