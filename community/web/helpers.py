from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import abort, render_template, request, url_for
from flask_babel import format_timedelta
from flask_babel import gettext as _
from sqlalchemy import Select

from community.dbtypes import utcnow
from community.extensions import db

MAX_PAGE = 10_000


@dataclass
class Page:
    items: list[Any]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_prev(self) -> bool:
        return self.number > 1


def page_number() -> int:
    raw = request.args.get("page", "1")
    # isascii: "²".isdigit() is true, but int("²") fails.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        abort(404)
    return int(raw)


def paginate(stmt: Select, per_page: int, *, scalars: bool = True) -> Page:
    """One query: fetch one row more than the page to know whether another page follows."""
    number = page_number()
    stmt = stmt.limit(per_page + 1).offset((number - 1) * per_page)
    result = db.session.execute(stmt)
    rows = list(result.scalars().unique() if scalars else result.all())
    if number > 1 and not rows:
        abort(404)
    return Page(rows[:per_page], number, per_page, len(rows) > per_page)


def query_args(*reserved: str) -> dict[str, str]:
    """The request's query string as url_for() keywords: without the names of the route's own
    arguments (``reserved``) and url_for's options (``_external``, ``_scheme``, ...), which a
    visitor must not be able to set."""
    return {
        key: value
        for key, value in request.args.to_dict().items()
        if key not in reserved and not key.startswith("_")
    }


def page_url(number: int) -> str:
    args = dict(request.view_args or {})
    args.update(query_args(*args))
    args["page"] = number
    if number == 1:
        args.pop("page")
    return url_for(request.endpoint or "web.home", **args)


def timeago(value: datetime | None) -> str:
    if value is None:
        return ""
    delta = utcnow() - value
    if delta.total_seconds() < 60:
        return _("just now")
    return _("%(delta)s ago", delta=format_timedelta(delta, granularity="minute"))


def refuse(message: str, code: int = 403, back: str | None = None):
    """A refusal page that says why, with a way back."""
    return render_template("error.html", code=code, message=message, back=back), code


def show_refusal(form: Any, refusal: Any, default_field: str) -> None:
    """Put a service's refusal under the form field it concerns, so the form comes back
    with everything the user typed and the reason next to the right field."""
    field = getattr(form, refusal.field or default_field, None) or getattr(form, default_field)
    field.errors = [*field.errors, refusal.message]
