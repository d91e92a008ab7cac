"""The audit log: one row per moderator's or admin's action, core's and plugins' alike.

Core announces its actions through ``community_audited`` after their commit; so do this
plugin's tools (through ``community.plugins.audit``). Rows are only ever added: no page or
route changes or deletes them.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from community.extensions import db
from community_moderation.models import AuditEntry

LABEL_LENGTH = 200


def _plain(value: Any) -> Any:
    """A JSON-safe copy (dates as ISO text, anything else unknown as its text)."""
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def describe_target(target: Any) -> tuple[str, int | None, str, int | None]:
    """(type, id, label, space id) of what an action was done to."""
    from community.accounts.models import User
    from community.spaces.models import Space
    from community.topics.models import Post, Topic

    if isinstance(target, Post):
        topic = target.topic
        label = (
            f"Post #{target.id} in “{topic.title}”" if topic is not None else f"Post #{target.id}"
        )
        return "post", target.id, label, topic.space_id if topic is not None else None
    if isinstance(target, Topic):
        return "topic", target.id, target.title, target.space_id
    if isinstance(target, User):
        return "user", target.id, target.username, None
    if isinstance(target, Space):
        return "space", target.id, target.title, target.id
    if isinstance(target, str):
        return "plugin", None, target, None
    if target is None:
        return "site", None, "", None
    return type(target).__name__.lower()[:16], getattr(target, "id", None), str(target), None


def record(actor, action, target, reason=None, before=None, after=None) -> AuditEntry:
    """Write one entry, in its own transaction (events come after the action's commit)."""
    from community_moderation.sanctions import audit_details

    after = dict(after or {})
    extra = audit_details()
    if extra and action == "user.suspend":
        # The plugin suspended through core's service: its details join core's entry.
        after.update(extra)
    target_type, target_id, label, space_id = describe_target(target)
    before_plain, after_plain = _plain(dict(before or {})), _plain(after)
    # Stored as JSON: make sure it is (a value JSON cannot hold becomes its text).
    json.dumps([before_plain, after_plain])
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=(getattr(actor, "username", "") or "")[:64],
        action=str(action)[:40],
        target_type=target_type,
        target_id=target_id,
        target_label=label[:LABEL_LENGTH],
        space_id=space_id,
        reason=reason or "",
        before=before_plain,
        after=after_plain,
    )
    db.session.add(entry)
    db.session.commit()
    return entry


# --- reading, for the log page ----------------------------------------------------------------


def changes(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """(key, before, after) for every key either side names, in a stable order."""
    before, after = entry.before or {}, entry.after or {}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return [(key, before.get(key), after.get(key)) for key in keys]


def show_value(value: Any, limit: int = 300) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        from flask_babel import gettext as _

        return _("yes") if value else _("no")
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
