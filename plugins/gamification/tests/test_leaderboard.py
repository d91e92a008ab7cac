"""The leaderboards: periods, spaces, who is listed, ranks across pages, the visitor's own
place, bad input, private spaces, and query budgets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from community_gamification.models import LedgerEntry, Total
from community_gamification.web_leaderboard import period_start
from sqlalchemy import select

from community.dbtypes import utcnow
from community.extensions import db
from community.plugins.settings import save_plugin_settings

_keys = count(1)


def give(user, amount, space=None, when=None, object_type="post", object_id=None):
    """A ledger row of ``amount`` points for ``user`` (in ``space``, written at ``when``) and
    the matching change of their total, as the points engine writes them."""
    db.session.add(
        LedgerEntry(
            user_id=user.id,
            amount=amount,
            reason="test",
            key=f"test:{next(_keys)}",
            object_type=object_type,
            object_id=object_id,
            space_id=space.id if space is not None else None,
            occurred_at=when or utcnow(),
            created_at=when or utcnow(),
        )
    )
    total = db.session.get(Total, user.id)
    if total is None:
        db.session.add(Total(user_id=user.id, points=amount))
    else:
        total.points += amount
    db.session.commit()


def board_rows(client, url="/leaderboard/"):
    """``[(rank, username, points)]`` as the page shows them."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    rows = re.findall(
        r'<tr id="rank-\d+".*?leaderboard-rank-number">(\d+)</span>.*?'
        r'<span>([^<]+)</span></a>.*?leaderboard-points" data-label="[^"]+">([\d,.]+)</td>',
        html,
        re.S,
    )
    return [(int(rank), name, int(re.sub(r"\D", "", points))) for rank, name, points in rows]


@pytest.fixture
def on(enable_plugin):
    enable_plugin("gamification")


# --- boards ----------------------------------------------------------------------------------


def test_all_time_board(client, on, create_user):
    ann, bob, cat = create_user("ann"), create_user("bob"), create_user("cat")
    create_user("dan")  # no points: not listed
    give(ann, 60)
    give(bob, 400)
    give(cat, 10)
    eve = create_user("eve")
    give(eve, 5)
    give(eve, -8)  # below zero: not listed

    assert board_rows(client) == [(1, "bob", 400), (2, "ann", 60), (3, "cat", 10)]
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "Regular" in page and "Member" in page and "Newcomer" in page  # level names
    assert 'class="avatar' in page
    assert 'href="/u/bob"' in page
    assert 'aria-current="page">All time' in page


def test_equal_points_share_a_rank(client, on, create_user):
    for name, points in [("ann", 50), ("bob", 30), ("cat", 30), ("dan", 10)]:
        give(create_user(name), points)
    assert board_rows(client) == [(1, "ann", 50), (2, "bob", 30), (2, "cat", 30), (4, "dan", 10)]


def test_periods(client, on, create_user):
    now = utcnow()
    week, month = period_start("week"), period_start("month")
    ann, bob, cat = create_user("ann"), create_user("bob"), create_user("cat")
    give(ann, 30, when=now)
    give(bob, 100, when=week - timedelta(seconds=1))  # before this week
    give(cat, 70, when=month - timedelta(days=1))  # before this month
    give(cat, 5, when=now)

    assert board_rows(client, "/leaderboard/?period=week") == [(1, "ann", 30), (2, "cat", 5)]
    expected_month = [("ann", 30), ("cat", 5)]
    if week - timedelta(seconds=1) >= month:  # last week's end is still in this month
        expected_month.insert(0, ("bob", 100))
    assert [(n, p) for _r, n, p in board_rows(client, "/leaderboard/?period=month")] == (
        expected_month
    )
    assert [n for _r, n, _p in board_rows(client, "/leaderboard/?period=all")] == [
        "bob",
        "cat",
        "ann",
    ]
    page = client.get("/leaderboard/?period=week").get_data(as_text=True)
    assert 'aria-current="page">This week' in page


def test_period_start_in_utc():
    wednesday = datetime(2025, 10, 15, 13, 45, tzinfo=UTC)
    assert period_start("week", wednesday) == datetime(2025, 10, 13, tzinfo=UTC)
    assert period_start("month", wednesday) == datetime(2025, 10, 1, tzinfo=UTC)
    assert period_start("all", wednesday) is None
    monday = datetime(2025, 12, 1, 0, 0, tzinfo=UTC)
    assert period_start("week", monday) == monday == period_start("month", monday)


def test_space_board_counts_only_that_space_and_the_spaces_inside(
    client, on, create_user, create_space
):
    help_space = create_space("help")
    wifi = create_space("wifi", parent=help_space)
    news = create_space("news")
    ann, bob, cat = create_user("ann"), create_user("bob"), create_user("cat")
    give(ann, 20, help_space)
    give(ann, 15, wifi)
    give(bob, 500, news)
    give(cat, 40, wifi)
    give(cat, 1000)  # site-wide (a manual adjustment): on no space's board

    assert board_rows(client, "/leaderboard/?space=help") == [(1, "cat", 40), (2, "ann", 35)]
    assert board_rows(client, "/leaderboard/?space=wifi") == [(1, "cat", 40), (2, "ann", 15)]
    assert board_rows(client, "/leaderboard/?space=news&period=week") == [(1, "bob", 500)]
    page = client.get("/leaderboard/?space=help").get_data(as_text=True)
    assert "Leaderboard of help" in page.replace("Help", "help")
    # The period tabs keep the space.
    assert 'href="/leaderboard/?period=week&amp;space=help"' in page


def test_unknown_space_is_404(client, on):
    assert client.get("/leaderboard/?space=nowhere").status_code == 404
    assert client.get("/leaderboard/?space=%3Cscript%3E").status_code == 404


def test_staff_only_space_never_shows_to_members(client, on, create_user, create_space):
    staff_room = create_space("staff-room", visibility="staff")
    lounge = create_space("lounge", visibility="members")
    public = create_space("help")
    create_user("boss", staff=True)
    ann, bob = create_user("ann"), create_user("bob")
    give(ann, 300, staff_room)  # e.g. a moderator of the staff room
    give(ann, 10, public)
    give(bob, 50, lounge)

    # Visitors: only the public space; members: the lounge too; staff: everything.
    for period in ("week", "month"):
        url = f"/leaderboard/?period={period}"
        assert board_rows(client, url) == [(1, "ann", 10)]
        client.login("bob")
        assert board_rows(client, url) == [(1, "bob", 50), (2, "ann", 10)]
        client.logout()
        client.login("boss")
        assert board_rows(client, url) == [(1, "ann", 310), (2, "bob", 50)]
        client.logout()

    assert client.get("/leaderboard/?space=staff-room").status_code == 404
    assert client.get("/leaderboard/?space=lounge").status_code == 404
    client.login("bob")
    assert client.get("/leaderboard/?space=staff-room").status_code == 404
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "staff-room" not in page  # not among the spaces to choose
    assert 'value="lounge"' in page
    client.logout()
    client.login("boss")
    assert board_rows(client, "/leaderboard/?space=staff-room") == [(1, "ann", 300)]


def test_staff_and_suspended_members_are_left_out(client, on, create_user):
    boss = create_user("boss", staff=True)
    ann, sam = create_user("ann"), create_user("sam")
    give(boss, 900)
    give(ann, 40)
    give(sam, 500)
    sam.active = False  # suspended
    db.session.commit()

    assert board_rows(client) == [(1, "ann", 40)]
    assert board_rows(client, "/leaderboard/?period=week") == [(1, "ann", 40)]

    assert save_plugin_settings("gamification", {"exclude_staff": False}) == {}
    assert board_rows(client) == [(1, "boss", 900), (2, "ann", 40)]

    save_plugin_settings("gamification", {"exclude_staff": True})
    client.login("boss")
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "Staff members are not listed on the leaderboards." in page


def test_pages_and_ranks_across_pages(client, on, create_user):
    users = [create_user(f"user{n:03d}") for n in range(120)]
    for n, user in enumerate(users):
        give(user, 1000 - n)  # user000 first

    first = board_rows(client)
    second = board_rows(client, "/leaderboard/?page=2")
    third = board_rows(client, "/leaderboard/?page=3")
    assert [r for r, _n, _p in first] == list(range(1, 51))
    assert [r for r, _n, _p in second] == list(range(51, 101))
    assert [r for r, _n, _p in third] == list(range(101, 121))
    assert second[0] == (51, "user050", 950)
    page = client.get("/leaderboard/?page=2&period=all").get_data(as_text=True)
    assert 'rel="prev"' in page and 'rel="next"' in page
    assert client.get("/leaderboard/?page=4").status_code == 404
    assert client.get("/leaderboard/?page=x").status_code == 404
    assert client.get("/leaderboard/?page=0").status_code == 404
    assert client.get("/leaderboard/?page=-1").status_code == 404


def test_own_rank(client, on, create_user):
    for n in range(60):
        give(create_user(f"user{n:02d}"), 1000 - n)
    me = create_user("myself")
    give(me, 945)  # between user54 (946) and user55 (945): tied with user55, listed after

    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "You are #" not in page  # visitors have no place
    client.login("myself")
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "You are #56 with 945 points." in page
    assert 'href="/leaderboard/?page=2#rank-' in page  # they are on page 2
    page2 = client.get("/leaderboard/?page=2").get_data(as_text=True)
    assert 'class="leaderboard-me" aria-current="true"' in page2
    assert "Show my place" not in page2

    page = client.get("/leaderboard/?period=week").get_data(as_text=True)
    assert "You are #56 with 945 points." in page
    client.logout()
    client.login("user00")
    assert "You are #1 with 1,000 points." in client.get("/leaderboard/").get_data(as_text=True)
    newbie = create_user("newbie")
    client.logout()
    client.login(newbie.username)
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "You have no points on this leaderboard yet." in page


def test_bad_period(client, on, create_user):
    give(create_user("ann"), 10)
    response = client.get("/leaderboard/?period=foo")
    assert response.status_code == 400
    assert "There is no such period" in response.get_data(as_text=True)
    assert client.get("/leaderboard/?period=").status_code == 200  # empty: all time
    assert client.get("/leaderboard/?period=week&page=1&space=").status_code == 200


def test_empty_boards(client, on):
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert "Nobody has earned points here yet." in page
    page = client.get("/leaderboard/?period=week").get_data(as_text=True)
    assert "Nobody has earned points here in this period yet." in page


def test_disabled_plugin_is_404(client, create_user):
    assert client.get("/leaderboard/").status_code == 404


def test_menu_link(client, on):
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/leaderboard/">Leaderboard</a>' in page
    page = client.get("/leaderboard/").get_data(as_text=True)
    assert '<a href="/leaderboard/" aria-current="page">Leaderboard</a>' in page


# --- query budgets ---------------------------------------------------------------------------

# What a page costs, whatever its rows. The leaderboard: settings, spaces, the unread count,
# and one query of the plugin's (the page, the visitor's place and everyone's all-time points
# for their levels and badges). A profile: core's queries, and the member's points, their
# rank and their badges.
LEADERBOARD_BUDGET = 6
PROFILE_BUDGET = 12
OWN_BUDGET = {"/leaderboard": 1, "/u/": 3}  # the plugin's own queries

BOARDS = [
    "/leaderboard/",
    "/leaderboard/?period=month",
    "/leaderboard/?period=week",
    "/leaderboard/?space=help",
    "/leaderboard/?space=help&period=week",
]


def _queries(client, count_queries, url):
    client.get(url)  # warm caches that last longer than a request
    with count_queries() as queries:
        response = client.get(url)
    assert response.status_code == 200
    own = sum("gamification_" in sql for sql in queries.statements)
    budget = next(n for prefix, n in OWN_BUDGET.items() if url.startswith(prefix))
    assert own <= budget, queries.statements
    return len(queries)


def test_leaderboard_queries_do_not_grow_with_rows(
    client, count_queries, on, create_user, create_space
):
    help_space = create_space("help")
    create_user("viewer")
    users = [create_user(f"user{n:02d}") for n in range(50)]
    for n, user in enumerate(users[:5]):
        give(user, 100 + n, help_space)
    client.login("viewer")
    five = {url: _queries(client, count_queries, url) for url in BOARDS}
    for n, user in enumerate(users[5:]):
        give(user, 10 + n, help_space)
    fifty = {url: _queries(client, count_queries, url) for url in BOARDS}
    assert len(board_rows(client)) == 50
    assert five == fifty
    assert max(fifty.values()) <= LEADERBOARD_BUDGET, fifty


def test_profile_queries_do_not_grow_with_the_board(
    client, count_queries, on, create_user, create_space
):
    help_space = create_space("help")
    ann = create_user("ann")
    give(ann, 300, help_space)
    users = [create_user(f"user{n:02d}") for n in range(50)]
    for n, user in enumerate(users[:5]):
        give(user, 100 + n, help_space)
    client.login("user00")
    five = _queries(client, count_queries, "/u/ann")
    for n, user in enumerate(users[5:]):
        give(user, 10 + n, help_space)
    fifty = _queries(client, count_queries, "/u/ann")
    assert five == fifty <= PROFILE_BUDGET
    assert db.session.scalar(select(Total.points).where(Total.user_id == ann.id)) == 300
