"""Every page of core has a fixed SQL query budget.

The pages are found the way a visitor finds them: by following the links of the site, from
the home page, as an anonymous visitor, a member and an admin. Each page reached is counted
once, then again after far more content was added (more pages of topics, answers with
comments and votes, members, notifications); its count must not change, and it must stay
within the budget. A GET page of core that no link reaches fails the test, unless it is
listed below with the reason: a new page cannot slip in without a budget.
"""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from community.accounts.models import User
from community.extensions import db
from community.spaces.models import Space
from community.topics import queries, services
from community.topics.models import Post

BUDGET = 15
CORE_BLUEPRINTS = {
    "accounts",
    "admin",
    "notifications",
    "plugins_admin",
    "search",
    "spaces",
    "topics",
    "web",
}
#: GET endpoints of core no link leads to, and why.
NOT_LINKED = {
    "accounts.confirm": "its token arrives by email",
    "accounts.reset_password": "its token arrives by email",
    "notifications.unsubscribe": "its token arrives by email",
    "search.deflect": "a signed redirect the search page's script uses",
    "accounts.suggest": "JSON for the @mention autocomplete script",
    "search.similar": "a fragment for the ask form's script",
    "web.healthz": "for load balancers",
    "theme.static": "static files",
    "plugins.static": "static files",
}
HREF_RE = re.compile(r'href="([^"#]*)')
#: Links a crawl should not follow: they act (with a token) or are other hosts' pages.
SKIP = ("/theme/", "/plugins/", "/static/")


@pytest.fixture
def app_config():
    # Small pages: a few rows are enough to make second pages.
    return {"TOPICS_PER_PAGE": 3, "POSTS_PER_PAGE": 4, "USERS_PER_PAGE": 3}


def endpoint_of(app, url: str) -> str | None:
    adapter = app.url_map.bind("community.test")
    try:
        endpoint, _ = adapter.match(urlsplit(url).path, method="GET")
    except (NotFound, MethodNotAllowed):
        return None
    return endpoint


def shape(url: str) -> tuple[str, tuple[str, ...]]:
    """What makes two links the same page: the path with numbers as "N", and the query's
    parameter names (so ``?page=2`` and ``?sort=votes`` are pages of their own)."""
    parts = urlsplit(url)
    path = re.sub(r"\d+", "N", parts.path)
    names = tuple(sorted({p.split("=", 1)[0] for p in parts.query.split("&") if p}))
    return path, names


def crawl(app, client, seeds: list[str], limit: int = 400) -> dict[tuple, str]:
    """One URL per page shape, breadth first from ``seeds``, for the signed-in client.
    Redirects count as pages too (a notification's link, a post's permalink)."""
    seen: dict[tuple, str] = {}
    queue = list(seeds)
    visited: set[str] = set()
    while queue and len(visited) < limit:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        response = client.get(url)
        if response.status_code not in (200, 302):
            continue
        endpoint = endpoint_of(app, url)
        if endpoint and endpoint.split(".")[0] in CORE_BLUEPRINTS:
            seen.setdefault((endpoint, *shape(url)), url)
        if response.status_code == 302:
            links = [response.headers["Location"]]
        elif response.mimetype == "text/html":
            links = [unescape(h) for h in HREF_RE.findall(response.get_data(as_text=True))]
        else:
            continue
        shapes = {shape(u) for u in seen.values()}
        for href in links:
            parts = urlsplit(href)
            if parts.netloc not in ("", "community.test") or not parts.path.startswith("/"):
                continue
            if parts.path.startswith(SKIP):
                continue
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link not in visited and shape(link) not in shapes:
                queue.append(link)
    return seen


def count(client, count_queries, url: str) -> int:
    client.get(url)  # warm: what a long-running worker has cached already
    # A real request starts with an empty session; the test's is shared with the requests.
    db.session.expunge_all()
    with count_queries() as counter:
        response = client.get(url)
    assert response.status_code in (200, 302), url
    return len(counter)


def add_content(people, spaces, rounds: int) -> None:
    """Topics of every kind, answers with comments and votes, mentions and replies that
    notify the member, in each space."""
    member, helper, staff = (db.session.get(User, people[k]) for k in ("member", "helper", "admin"))
    for space_id in spaces.values():
        space = db.session.get(Space, space_id)
        for i in range(rounds):
            question = services.create_topic(
                helper, space, "question", f"Router question number {i} in {space.slug}",
                f"Hello @{member.username}, does this work?", "wifi mesh",
            )  # fmt: skip
            idea = services.create_topic(
                member, space, "idea", f"Idea number {i} for {space.slug}", "Please", "wifi"
            )
            services.create_topic(
                staff, space, "discussion", f"Discussion number {i} of {space.slug}", "Talk"
            )
            for j in range(3):
                answer = services.create_post(staff, question, f"Answer {j} to question {i}")
                services.cast_vote(member, answer, 1)
                services.create_post(helper, question, f"Comment {j}", parent=answer)
                services.create_post(helper, idea, f"Reply {j} to the idea")
            services.cast_vote(helper, queries.opening_post(idea), 1)


@pytest.fixture
def site(create_user, create_space):
    people = {
        "member": create_user("member").id,
        "helper": create_user("helper").id,
        "admin": create_user("admin", role="admin", staff=True).id,
    }
    public = create_space("routers")
    spaces = {
        "public": public.id,
        "child": create_space("mesh", parent=public).id,
        "members": create_space("lounge", visibility="members", default_kind="discussion").id,
    }
    for n in range(4):
        create_user(f"newcomer{n}")
    return people, spaces


VIEWERS = (None, "member", "admin")


def signed_in(client, who):
    client.logout()
    if who:
        client.login(who)
    return client


def test_every_page_has_a_fixed_query_budget(
    app, client, count_queries, run_tasks, site, create_user
):
    people, spaces = site
    add_content(people, spaces, rounds=3)
    # An edited answer: its revisions page is linked.
    answer = db.session.scalars(
        select(Post).where(Post.is_opening.is_(False), Post.parent_id.is_(None)).limit(1)
    ).one()
    services.edit_post(db.session.get(User, people["admin"]), answer, "An edited answer")
    run_tasks()
    # The search form and a comment's own page (where a refused comment is shown again) are
    # reached by forms, not links.
    seeds = ["/", "/search?q=router", "/search?q=router&sort=newest", f"/p/{answer.id}/comment"]
    pages = {}
    for who in VIEWERS:
        found = crawl(app, signed_in(client, who), seeds)
        pages.update({(who, *key): url for key, url in found.items()})
    # The crawl read the viewers' notifications: new ones make both counts alike (a topic
    # page marks its own read when the viewer has unread ones).
    add_content(people, spaces, rounds=1)
    run_tasks()

    def measure_all():
        counts = {}
        for who in VIEWERS:
            signed_in(client, who)
            for key, url in pages.items():
                if key[0] == who:
                    counts[key] = count(client, count_queries, url)
        return counts

    small = measure_all()
    add_content(people, spaces, rounds=12)
    for n in range(10):
        create_user(f"latecomer{n}")
    run_tasks()
    large = measure_all()

    grew = {(k[0], pages[k]): (small[k], large[k]) for k in pages if large[k] != small[k]}
    assert not grew, f"pages whose queries changed with the content: {grew}"
    over = {(k[0], pages[k]): large[k] for k in pages if large[k] > BUDGET}
    assert not over, f"pages over the budget of {BUDGET} queries: {over}"
    # Deep pages are part of the crawl: the lists' second pages were counted too.
    assert any("page" in key[3] for key in pages), pages
    every = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.endpoint.split(".")[0] in CORE_BLUEPRINTS
    }
    missing = every - {key[1] for key in pages} - set(NOT_LINKED)
    assert not missing, f"core pages no link reaches (give them a budget): {missing}"
