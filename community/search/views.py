"""The search page, the similar-topics panel of the ask form, and deflection links."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select

from community.accounts.models import User
from community.extensions import db, limiter
from community.permissions import all_spaces, can, visible_space_ids
from community.search import service
from community.search.backend import SORTS
from community.spaces.services import space_tree
from community.topics.models import Topic

bp = Blueprint("search", __name__)

SOLVED_CHOICES = {"yes": True, "no": False}
# A page number as typed in a URL: ASCII digits only ("²".isdigit() is true, int() refuses it),
# and few of them (int() refuses more than 4,300).
PAGE_RE = re.compile(r"[0-9]{1,5}")
search_limit = limiter.limit(lambda: current_app.config["RATELIMIT_SEARCH"])
# One budget for suggestions, whether live (/search/similar) or on step 2 of the ask form
# without JavaScript (its GETs, see community.spaces.views.new_topic).
similar_limit = limiter.shared_limit(
    "120/minute;2000/hour", scope="search-similar", methods=["GET"]
)


def _arg(name: str, limit: int = 100) -> str:
    return " ".join(request.args.get(name, "").split())[:limit]


def _date_arg(name: str, errors: list[str]) -> datetime | None:
    raw = _arg(name, 10)
    if not raw:
        return None
    try:
        return datetime.strptime(raw, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        errors.append(_("Dates look like 2026-03-31."))
        return None


def _day_after(day: datetime | None) -> datetime | None:
    """The end of a "to" date; none after the last day a datetime can hold."""
    if day is None or day.date() == date.max:
        return None
    return day + timedelta(days=1)


@bp.route("/search")
@search_limit
def search():
    """The search page. Filters that do not apply (an unknown space or author) are said so
    and ignored; everything typed stays in the form."""
    errors: list[str] = []
    text = request.args.get("q", "")[:1000]
    visible = visible_space_ids(current_user)
    spaces = all_spaces()

    space_slug = _arg("space", 80)
    space = None
    if space_slug:
        space = next((s for s in spaces.values() if s.slug == space_slug), None)
        if space is None or space.id not in visible:
            errors.append(_("There is no space %(name)s.", name=space_slug))
            space = None

    author_name = _arg("author", 40)
    author = None
    if author_name:
        author = db.session.scalar(
            select(User).where(func.lower(User.username) == author_name.lower())
        )
        if author is None:
            errors.append(_("There is nobody called %(name)s.", name=author_name))

    kind = _arg("kind", 20)
    kind = kind if kind in service.KINDS else ""
    solved_arg = _arg("solved", 5)
    solved = SOLVED_CHOICES.get(solved_arg)
    tag = _arg("tag", 32).lower()
    date_range = _arg("date", 10)
    date_range = date_range if date_range in service.DATE_RANGES else ""
    since = _date_arg("from", errors) or service.since_for(date_range)
    until = _date_arg("to", errors)
    sort = _arg("sort", 20)
    sort = sort if sort in SORTS else "relevance"
    raw_page = request.args.get("page", "1")
    if not PAGE_RE.fullmatch(raw_page) or not 1 <= int(raw_page) <= 10_000:
        abort(404)
    page = int(raw_page)

    outcome = None
    if text.strip() or request.args.get("q") is not None:
        filters = service.make_filters(
            current_user,
            space_id=space.id if space else None,
            kind=kind or None,
            solved=solved,
            tag=tag or None,
            author_id=author.id if author else None,
            since=since,
            until=_day_after(until),
        )
        if author_name and author is None:
            filters = service.SearchFilters(space_ids=())  # an unknown author has written nothing
        outcome = service.search_topics(current_user, text, filters, sort, page)
    return render_template(
        "search/search.html",
        q=text,
        outcome=outcome,
        errors=errors,
        spaces=space_tree(visible),
        space_slug=space_slug,
        kind=kind,
        solved=solved_arg if solved is not None else "",
        tag=tag,
        author=author_name,
        date_range=date_range,
        date_from=_arg("from", 10),
        date_to=_arg("to", 10),
        sort=sort,
        sorts=SORTS,
        kinds=service.KINDS,
        date_ranges=list(service.DATE_RANGES),
    )


def similar_for(title: str, kind: str | None, space_id: int | None) -> list[tuple]:
    """Suggestions for the ask form: (hit, deflection link) pairs."""
    hits = service.similar_topics(current_user, title, kind)
    return [
        (
            hit,
            url_for(
                "search.deflect",
                token=service.deflection_token(current_user, hit.topic, title, space_id),
            ),
        )
        for hit in hits
    ]


@bp.route("/search/similar")
@login_required
@similar_limit
def similar():
    """The suggestions panel as an HTML fragment, for the ask form's live update."""
    title = request.args.get("title", "")[:200]
    kind = request.args.get("kind") or None
    space = None
    slug = request.args.get("space", "")
    if slug:
        space = next((s for s in all_spaces().values() if s.slug == slug), None)
        if space is not None and not can("space.view", space):
            space = None
    return render_template(
        "search/_similar.html",
        similar=similar_for(title, kind, space.id if space else None),
        title=title,
        kind=kind,
    )


@bp.route("/search/go/<token>")
@login_required
def deflect(token: str):
    """A suggestion followed from the ask form: counted once, then on to the topic."""
    data = service.read_deflection(token)
    if data is None or data.get("u") != current_user.id:
        abort(404)
    topic = db.session.get(Topic, data["t"])
    if topic is None or not can("topic.view", topic):
        abort(404)
    service.record_deflection(current_user, topic, data)
    return redirect(url_for("topics.topic", topic_id=topic.id, slug=topic.slug))
