from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

VISIBILITY_CHOICES = [
    SelectChoice("public", _l("Public — anyone, also visitors")),
    SelectChoice("members", _l("Members — signed-in members only")),
    SelectChoice("staff", _l("Staff — staff and moderators only")),
]
KIND_CHOICES = [
    SelectChoice("question", _l("Question")),
    SelectChoice("idea", _l("Idea")),
    SelectChoice("discussion", _l("Discussion")),
]
ROLE_CHOICES = [
    SelectChoice("member", _l("Member")),
    SelectChoice("moderator", _l("Moderator (all spaces)")),
    SelectChoice("admin", _l("Administrator")),
]


class SpaceForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    slug = StringField(
        _l("Address"),
        validators=[DataRequired(), Length(max=64)],
        description=_l("Lowercase letters, digits and dashes: /s/<address>."),
    )
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    parent_id = SelectField(_l("Inside"), coerce=int)
    visibility = SelectField(_l("Who can see it"), choices=VISIBILITY_CHOICES)
    default_kind = SelectField(_l("Default kind of new topics"), choices=KIND_CHOICES)


class ModeratorForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])


class UserRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    is_staff = BooleanField(_l("Staff (employee): answers carry a staff badge"))
    active = BooleanField(_l("Active (unticked: suspended, cannot sign in)"))


class SiteSettingsForm(FlaskForm):
    site_name = StringField(_l("Site name"), validators=[DataRequired(), Length(max=80)])
    logo_text = StringField(_l("Logo text"), validators=[Optional(), Length(max=40)])
    tagline = StringField(_l("Tagline"), validators=[Optional(), Length(max=200)])
    theme = SelectField(_l("Theme"))
    default_locale = SelectField(
        _l("Default language"),
        choices=[SelectChoice("en", "English"), SelectChoice("it", "Italiano")],
    )
