"""The public roadmap of a space: its ideas Planned, In progress and Shipped (with the spaces
inside it that the viewer may see), and the staff notes only staff, the space's moderators and
its product team read."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db
from community.permissions import all_spaces, ancestor_ids, can, visible_space_ids
from community.topics.models import Topic
from community.web.helpers import Page
from community_ideation.changes import current_workflow
from community_ideation.models import StaffNote
from community_ideation.team import team_space_ids

COLUMNS = ("planned", "in_progress", "shipped")
SORTS = ("votes", "newest")
PER_COLUMN = 20


def space_by_slug(slug: str) -> Any | None:
    return next((s for s in all_spaces().values() if s.slug == slug), None)


def space_ids_within(space: Any, user: Any = None) -> list[int]:
    """The space and the spaces inside it (at any depth) that ``user`` may see."""
    spaces = all_spaces()
    return [sid for sid in visible_space_ids(user) if space.id in ancestor_ids(sid, spaces)]


def in_product_team(user: Any, space: Any) -> bool:
    """Whether ``user`` is in the product team of ``space`` or of a space it is inside."""
    return space.id in team_space_ids(user)


def may_read_staff_notes(user: Any, space: Any) -> bool:
    """Staff, admins, the space's moderators and its product team; members never."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_staff or user.is_admin or can("space.moderate", space, user):
        return True
    return in_product_team(user, space)


def visible_ideas(space_ids: list[int]) -> Any:
    """Ideas of these spaces anyone who may see the spaces may see (not deleted, held or
    merged)."""
    return select(Topic).where(
        Topic.kind == "idea",
        Topic.space_id.in_(space_ids),
        Topic.deleted_at.is_(None),
        Topic.held_at.is_(None),
        Topic.merged_into_id.is_(None),
    )


def column_statement(space_ids: list[int], status: str, sort: str = "votes") -> Any:
    stmt = visible_ideas(space_ids).where(Topic.status == status)
    if sort == "newest":
        return stmt.order_by(Topic.created_at.desc(), Topic.id.desc())
    return stmt.order_by(Topic.score.desc(), Topic.created_at.desc(), Topic.id.desc())


def column_page(
    space_ids: list[int],
    status: str,
    sort: str = "votes",
    number: int = 1,
    per_page: int = PER_COLUMN,
) -> Page:
    """One page of a column, in one query (one row more tells whether more follow)."""
    if not space_ids:
        return Page([], number, per_page, False)
    stmt = column_statement(space_ids, status, sort).limit(per_page + 1)
    stmt = stmt.offset((number - 1) * per_page)
    rows = list(db.session.scalars(stmt).unique())
    return Page(rows[:per_page], number, per_page, len(rows) > per_page)


def notes_for(topic_ids: list[int]) -> dict[int, list[tuple[StaffNote, Any]]]:
    """Staff notes of these ideas with their authors (or None), oldest first, in one query.
    Callers check :func:`may_read_staff_notes` first."""
    result: dict[int, list[tuple[StaffNote, Any]]] = {}
    if not topic_ids:
        return result
    rows = db.session.execute(
        select(StaffNote, User)
        .outerjoin(User, User.id == StaffNote.author_id)
        .where(StaffNote.topic_id.in_(topic_ids))
        .order_by(StaffNote.created_at, StaffNote.id)
    )
    for note, author in rows:
        result.setdefault(note.topic_id, []).append((note, author))
    return result


def roadmap(
    space: Any, user: Any, sort: str = "votes", column: str | None = None, number: int = 1
) -> dict[str, Any]:
    """Everything the roadmap page shows: ``columns`` (status, page) in workflow order of
    :data:`COLUMNS` (a key the workflow lacks has no column) and ``notes`` (empty unless the
    user may read staff notes). ``number`` is the page of ``column`` (the others show page
    1)."""
    flow = current_workflow()
    space_ids = space_ids_within(space, user)
    columns = []
    for key in COLUMNS:
        status = flow.status(key)
        if status is None:
            continue
        page = number if key == column else 1
        columns.append((status, column_page(space_ids, key, sort, page)))
    staff = may_read_staff_notes(user, space)
    notes: dict[int, list[tuple[StaffNote, Any]]] = {}
    if staff:
        notes = notes_for([t.id for _s, page in columns for t in page.items])
    return {"columns": columns, "notes": notes, "staff": staff, "workflow": flow}


def index(user: Any) -> list[tuple[Any, dict[str, int]]]:
    """The idea spaces ``user`` may see, each with how many of its own ideas are in each
    column, by title: one query after the viewer's visible spaces."""
    from sqlalchemy import func

    spaces = all_spaces()
    ids = [sid for sid in visible_space_ids(user) if spaces[sid].default_kind == "idea"]
    if not ids:
        return []
    counts: dict[int, dict[str, int]] = {sid: {} for sid in ids}
    rows = db.session.execute(
        visible_ideas(ids)
        .where(Topic.status.in_(COLUMNS))
        .with_only_columns(Topic.space_id, Topic.status, func.count())
        .group_by(Topic.space_id, Topic.status)
    )
    for space_id, status, number in rows:
        counts[space_id][status] = number
    return sorted(
        ((spaces[sid], counts[sid]) for sid in ids), key=lambda pair: pair[0].title.lower()
    )
