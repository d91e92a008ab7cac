from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

BODY_LENGTH = _l("The text has 2 to 50,000 characters.")
KIND_CHOICES = [
    SelectChoice("question", _l("Question — ask for help; the best answer can be accepted")),
    SelectChoice("idea", _l("Idea — suggest an improvement others can vote on")),
    SelectChoice("discussion", _l("Discussion — share news or start a conversation")),
]


class TopicForm(FlaskForm):
    kind = RadioField(_l("Kind"), choices=KIND_CHOICES, validators=[DataRequired()])
    title = StringField(
        _l("Title"),
        validators=[
            DataRequired(),
            Length(min=8, max=200, message=_l("A title has 8 to 200 characters.")),
        ],
        description=_l("Say it in one sentence, as you would ask a colleague."),
    )
    body = TextAreaField(
        _l("Details"),
        validators=[DataRequired(), Length(min=2, max=50_000, message=BODY_LENGTH)],
        description=_l("Markdown: **bold**, *italic*, `code`, lists, links and tables."),
    )
    tags = StringField(
        _l("Tags"),
        validators=[Optional(), Length(max=200)],
        description=_l("Up to 5, separated by commas or spaces."),
    )


class EditPostForm(FlaskForm):
    title = StringField(
        _l("Title"),
        validators=[
            Optional(),
            Length(min=8, max=200, message=_l("A title has 8 to 200 characters.")),
        ],
    )
    body = TextAreaField(
        _l("Text"), validators=[DataRequired(), Length(min=2, max=50_000, message=BODY_LENGTH)]
    )
    tags = StringField(_l("Tags"), validators=[Optional(), Length(max=200)])


class ReplyForm(FlaskForm):
    body = TextAreaField(
        _l("Your answer"),
        validators=[DataRequired(), Length(min=2, max=50_000, message=BODY_LENGTH)],
    )


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(min=2, max=2_000)])


class ActionForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state."""


class MoveTopicForm(FlaskForm):
    """Choices are the spaces the moderator may move the topic to, set by the view."""

    space_id = SelectField(_l("Move to space"), coerce=int, choices=[])


class HidePostForm(FlaskForm):
    reason = StringField(
        _l("Reason"),
        validators=[Optional(), Length(max=300)],
        description=_l("Shown to the author."),
    )


class SplitTopicForm(FlaskForm):
    title = StringField(_l("Title of the new topic"), validators=[DataRequired(), Length(max=200)])
    posts = SelectMultipleField(_l("Replies to move"), coerce=int, validate_choice=False)


class MergeTopicForm(FlaskForm):
    target = StringField(
        _l("Merge into topic"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("The number or address of the topic to keep."),
    )
