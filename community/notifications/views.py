"""The inbox, notification settings, follow buttons, and unsubscribe links."""

from __future__ import annotations

from contextlib import nullcontext

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from community.extensions import csrf, db
from community.notifications import delivery, service
from community.notifications.kinds import all_kinds
from community.notifications.models import DELIVERIES, FOLLOW_TARGETS
from community.permissions import can
from community.security import safe_next_url
from community.spaces.models import Space
from community.topics.forms import ActionForm
from community.topics.models import Tag, Topic
from community.web.helpers import Page, page_number
from community.web.limits import write_limit

bp = Blueprint("notifications", __name__)

DELIVERY_LABELS = {
    "off": _l("Off"),
    "app": _l("In the inbox only"),
    "email": _l("Inbox and email at once"),
    "daily": _l("Inbox and a daily email summary"),
    "weekly": _l("Inbox and a weekly email summary"),
}


def _check_form() -> None:
    if not ActionForm().validate_on_submit():
        abort(400)


# --- the inbox -------------------------------------------------------------------------------


@bp.route("/notifications")
@login_required
def inbox():
    number = page_number()
    per_page = current_app.config["NOTIFICATIONS_PER_PAGE"]
    groups, has_next = service.inbox(current_user, number, per_page)
    if number > 1 and not groups and not has_next:
        abort(404)
    return render_template(
        "notifications/inbox.html",
        page=Page(groups, number, per_page, has_next),
        unread=service.unread_count(current_user),
    )


@bp.route("/notifications/<id:notification_id>")
@login_required
def open_notification(notification_id: int):
    """Open a notification: its group is marked read and the reader lands on its subject."""
    notification = service.open_notification(current_user, notification_id)
    if notification is None:
        abort(404)
    return redirect(service.target_path(notification))


@bp.route("/notifications/<id:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    _check_form()
    notification = db.session.get(service.Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    service.mark_group_read(current_user, notification)
    return redirect(safe_next_url(request.form.get("next"), url_for("notifications.inbox")))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read():
    _check_form()
    count = service.mark_all_read(current_user)
    if count:
        flash(_("All notifications are marked as read."), "success")
    return redirect(safe_next_url(request.form.get("next"), url_for("notifications.inbox")))


# --- settings --------------------------------------------------------------------------------


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
@write_limit
def settings():
    kinds = all_kinds()
    current = service.preferences(current_user)
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        _check_form()
        chosen = {}
        for name in kinds:
            value = request.form.get(f"kind-{name}", current[name])
            if value not in DELIVERIES:
                errors[name] = _("Choose one of the options.")
            chosen[name] = value
        if errors:
            current = chosen
            status = 400
        else:
            service.set_preferences(current_user, chosen)
            flash(_("Your notification settings were saved."), "success")
            return redirect(url_for("notifications.settings"))
    number = page_number()
    followed, has_next = service.follows_of(current_user, number, 50)
    return render_template(
        "notifications/settings.html",
        kinds=kinds,
        current=current,
        errors=errors,
        labels=DELIVERY_LABELS,
        deliveries=DELIVERIES,
        followed=followed,
        page=Page(followed, number, 50, has_next),
    ), status


# --- following -------------------------------------------------------------------------------


def _target(target_type: str, target_id: int) -> tuple[str, str]:
    """The target's title and address, or 404 when it does not exist for this user."""
    if target_type == "topic":
        topic = db.session.get(Topic, target_id)
        if topic is None or not can("topic.view", topic):
            abort(404)
        return topic.title, url_for("topics.topic", topic_id=topic.id, slug=topic.slug)
    if target_type == "space":
        space = db.session.get(Space, target_id)
        if space is None or not can("space.view", space):
            abort(404)
        return space.title, url_for("spaces.space", slug=space.slug)
    tag = db.session.get(Tag, target_id)
    if tag is None or not service.visible_tag_ids(current_user, [tag.id]):
        abort(404)
    return "#" + tag.name, url_for("web.tag", name=tag.name)


@bp.route("/<any(follow, unfollow):action>/<target_type>/<id:target_id>", methods=["POST"])
@login_required
@write_limit
def follow(action: str, target_type: str, target_id: int):
    if target_type not in FOLLOW_TARGETS:
        abort(404)
    _check_form()
    title, address = _target(target_type, target_id)
    if action == "follow":
        service.follow(current_user, target_type, target_id)
        flash(_("You follow %(title)s.", title=title), "success")
    else:
        service.unfollow(current_user, target_type, target_id)
        flash(_("You no longer follow %(title)s.", title=title), "info")
    return redirect(safe_next_url(request.form.get("next"), address))


# --- unsubscribe -----------------------------------------------------------------------------


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof (RFC 8058 one-click POSTs carry no form token)
@write_limit
def unsubscribe(token: str):
    """GET shows what the link stops, with one button; POST (the button, or a mail client's
    RFC 8058 one-click request) stops it. Opening the link changes nothing: mail scanners open
    links too."""
    found = delivery.read_unsubscribe_token(token)
    if found is None:
        return render_template("notifications/unsubscribed.html", state="invalid"), 404
    user, kind = found
    kinds = all_kinds()
    context = {"token": token, "kind": kinds.get(kind), "every": kind == "*"}
    # In the language of the email (the visitor may not be signed in).
    with force_locale(user.locale) if user.locale else nullcontext():
        if request.method == "GET":
            return render_template("notifications/unsubscribed.html", state="confirm", **context)
        before = service.preferences(user)
        changed = delivery.unsubscribe(user, kind)
        return render_template(
            "notifications/unsubscribed.html",
            state="done",
            changed=[(name, before[name]) for name in changed],
            **context,
        )


@bp.route("/unsubscribe/<token>/undo", methods=["POST"])
@write_limit
def undo_unsubscribe(token: str):
    """Put back what the link stopped: only the kinds the link is for, only to an email
    choice."""
    found = delivery.read_unsubscribe_token(token)
    if found is None:
        abort(404)
    user, kind = found
    kinds = all_kinds()
    restore = {}
    for name in request.form.getlist("kind"):
        value = request.form.get(f"was-{name}", "")
        if name in kinds and (kind in ("*", name)) and value in service.EMAIL_DELIVERIES:
            restore[name] = value
    service.set_preferences(user, restore)
    with force_locale(user.locale) if user.locale else nullcontext():
        return render_template("notifications/unsubscribed.html", state="restored")
