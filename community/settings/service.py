"""Typed site settings: declared with defaults and validators, stored as JSON rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from community.extensions import db
from community.settings.models import Setting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: Any
    default: Any
    validate: Callable[[Any], str | None]


def _text(max_len: int, required: bool = True) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return str(_l("Must be text."))
        if required and not value.strip():
            return str(_l("This field is required."))
        if len(value) > max_len:
            return str(_l("At most %(n)d characters.", n=max_len))
        return None

    return check


def _language(value: Any) -> str | None:
    if value not in current_app.config["LANGUAGES"]:
        return str(_l("Unknown language."))
    return None


def _theme(value: Any) -> str | None:
    from community.themes import available_themes

    if value not in available_themes(current_app):
        return str(_l("Unknown theme."))
    return None


SITE_SETTINGS: dict[str, SettingSpec] = {
    spec.key: spec
    for spec in [
        # Shown in the header, page titles and emails.
        SettingSpec("site_name", _l("Site name"), "Community", _text(80)),
        # Short text in the header logo; empty means the site name.
        SettingSpec("logo_text", _l("Logo text"), "", _text(40, required=False)),
        # One line under the site name on the home page.
        SettingSpec(
            "tagline",
            _l("Tagline"),
            "Ask, answer and shape the product together.",
            _text(200, required=False),
        ),
        # Folder name under THEMES_PATH.
        SettingSpec("theme", _l("Theme"), "default", _theme),
        # Language for visitors whose browser asks for none we have.
        SettingSpec("default_locale", _l("Default language"), "en", _language),
    ]
}


def stored_settings() -> dict[str, Any]:
    """Every row of the settings table, read once per request: site settings, plugin states
    and plugin settings all come from this one query."""
    if "stored_settings" not in g:
        g.stored_settings = {row.key: row.value for row in db.session.scalars(select(Setting))}
    return g.stored_settings


def site_settings() -> dict[str, Any]:
    """All site settings, with defaults for those never saved."""
    if "site_settings" not in g:
        stored = stored_settings()
        g.site_settings = {k: stored.get(k, spec.default) for k, spec in SITE_SETTINGS.items()}
    return g.site_settings


def forget_settings() -> None:
    """Drop this request's copy of the settings, so the next read sees the database."""
    g.pop("stored_settings", None)
    g.pop("site_settings", None)


def store_settings(values: dict[str, Any]) -> None:
    """Write settings rows, each an insert-or-update in one statement, so that two requests
    saving the same key at once cannot fail on the primary key; commits."""
    if values:
        rows = [{"key": key, "value": value} for key, value in values.items()]
        insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        stmt = insert(Setting).values(rows)
        db.session.execute(
            stmt.on_conflict_do_update(index_elements=["key"], set_={"value": stmt.excluded.value})
        )
    db.session.commit()
    forget_settings()


def delete_settings(keys: list[str]) -> None:
    db.session.execute(delete(Setting).where(Setting.key.in_(keys)))
    db.session.commit()
    forget_settings()


def validate_settings(values: dict[str, Any]) -> dict[str, str]:
    errors = {}
    for key, value in values.items():
        spec = SITE_SETTINGS.get(key)
        if spec is None:
            errors[key] = "Unknown setting."
            continue
        message = spec.validate(value)
        if message:
            errors[key] = message
    return errors


def save_settings(values: dict[str, Any]) -> None:
    errors = validate_settings(values)
    if errors:
        raise ValueError(errors)
    store_settings(values)
