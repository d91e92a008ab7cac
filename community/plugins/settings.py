"""Typed plugin settings: declared by a plugin, edited by the admin in a generated form, read
by the plugin through :func:`plugin_settings`.

Values are stored as one JSON object per plugin in the settings table (key
``plugin.<name>.settings``); values never saved read as their declared defaults.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional

log = logging.getLogger(__name__)

KINDS = ("text", "textarea", "integer", "boolean", "choice")


@dataclass(frozen=True)
class Setting:
    """One setting a plugin declares in ``community_plugin_settings``.

    :param key: the name the plugin reads it by (letters, digits, underscores).
    :param label: shown on the admin's form (translate it with ``lazy_gettext``).
    :param default: the value until an admin saves another; its type must fit ``kind``.
    :param kind: ``"text"``, ``"textarea"``, ``"integer"``, ``"boolean"`` or ``"choice"``.
    :param help: one sentence under the field.
    :param required: text kinds only: an empty value is refused.
    :param max_length: text kinds only.
    :param min, max: integers only, inclusive bounds.
    :param choices: for ``"choice"``: a list of ``(value, label)`` pairs.
    :param validate: an extra check: takes the cleaned value, returns an error message or
        ``None``. A check that declares a second parameter also gets the values of the
        settings declared before this one (cleaned, defaults for those that are invalid), to
        check one setting against another.
    """

    key: str
    label: Any
    default: Any
    kind: str = "text"
    help: Any = ""
    required: bool = False
    max_length: int = 1000
    min: int | None = None
    max: int | None = None
    choices: list[tuple[str, Any]] = field(default_factory=list)
    validate: Callable[..., str | None] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.key!r}: kind must be one of {', '.join(KINDS)}")
        if not self.key.isidentifier():
            raise ValueError(f"setting {self.key!r}: use letters, digits and underscores")

    def clean(self, value: Any, earlier: dict[str, Any] | None = None) -> tuple[Any, str | None]:
        """The value converted to this setting's type, and an error message or ``None``.
        ``earlier``: the values of the settings declared before this one, for a ``validate``
        that takes two parameters."""
        if self.kind == "boolean":
            return bool(value), None
        if self.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                try:
                    value = int(str(value).strip())
                except ValueError:
                    return value, str(_l("Enter a whole number."))
            if self.min is not None and value < self.min:
                return value, str(_l("At least %(n)d.", n=self.min))
            if self.max is not None and value > self.max:
                return value, str(_l("At most %(n)d.", n=self.max))
        elif self.kind == "choice":
            if value not in {choice for choice, _label in self.choices}:
                return value, str(_l("Choose one of the options."))
        else:
            value = "" if value is None else str(value)
            if self.kind == "text":
                value = value.strip()
            if self.required and not value.strip():
                return value, str(_l("This field is required."))
            if len(value) > self.max_length:
                return value, str(_l("At most %(n)d characters.", n=self.max_length))
        if self.validate is not None:
            try:
                if _takes_two(self.validate):
                    message = self.validate(value, dict(earlier or {}))
                else:
                    message = self.validate(value)
            except Exception:
                log.exception("the check of setting %s raised", self.key)
                return value, str(_l("This value could not be checked; please try again."))
            if message:
                return value, str(message)
        return value, None


def _takes_two(check: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(check).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)


def plugin_settings(plugin: str) -> dict[str, Any]:
    """The settings of ``plugin`` as a dict, defaults filled in. Read once per request.

    Values saved for a setting the plugin no longer declares are left out; a saved value
    that no longer validates (the plugin changed its rules) reads as the default.
    """
    from community.plugins.host import current_host, state_key
    from community.settings.service import stored_settings

    info = current_host().plugins.get(plugin)
    if info is None:
        raise LookupError(f"no plugin is called {plugin!r}")
    saved = stored_settings().get(state_key(plugin, "settings")) or {}
    values: dict[str, Any] = {}
    for spec in info.settings:
        value = saved.get(spec.key, spec.default)
        cleaned, error = spec.clean(value, values)
        values[spec.key] = spec.default if error else cleaned
    return values


def save_plugin_settings(plugin: str, raw: dict[str, Any]) -> dict[str, str]:
    """Validate and store ``raw`` values; returns errors by key (nothing is stored then)."""
    from community.plugins.host import current_host, state_key
    from community.settings.service import store_settings

    info = current_host().plugins[plugin]
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    checked: dict[str, Any] = {}
    for spec in info.settings:
        cleaned, error = spec.clean(raw.get(spec.key, spec.default), checked)
        if error:
            errors[spec.key] = error
        values[spec.key] = cleaned
        checked[spec.key] = spec.default if error else cleaned
    if not errors:
        store_settings({state_key(plugin, "settings"): values})
    return errors


def settings_form(specs: list[Setting], values: dict[str, Any]) -> FlaskForm:
    """A form with one field per setting, filled with ``values`` on GET."""

    class PluginSettingsForm(FlaskForm):
        pass

    for spec in specs:
        setattr(PluginSettingsForm, spec.key, _field_for(spec))
    form = PluginSettingsForm(data=values)
    return form


def _field_for(spec: Setting) -> Field:
    description = spec.help or ""
    if spec.kind == "boolean":
        return BooleanField(spec.label, description=description)
    if spec.kind == "integer":
        bounds = NumberRange(min=spec.min, max=spec.max)
        return IntegerField(
            spec.label, validators=[InputRequired(), bounds], description=description
        )
    if spec.kind == "choice":
        choices = [SelectChoice(value, label) for value, label in spec.choices]
        return SelectField(spec.label, choices=choices, description=description)
    validators = [InputRequired() if spec.required else Optional(), Length(max=spec.max_length)]
    cls = TextAreaField if spec.kind == "textarea" else StringField
    return cls(spec.label, validators=validators, description=description)
