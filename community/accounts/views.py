from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, login_user, logout_user

from community.accounts import services
from community.accounts.forms import (
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResendConfirmationForm,
    ResetPasswordForm,
    ResetRequestForm,
)
from community.errors import Refused
from community.extensions import db, limiter
from community.mentions import suggest_users
from community.permissions import can
from community.security import safe_next_url
from community.topics import queries
from community.topics.forms import ActionForm
from community.web.helpers import paginate, show_refusal
from community.web.limits import auth_limit, write_limit

bp = Blueprint("accounts", __name__)
# The @mention autocomplete asks on each pause in typing.
suggest_limit = limiter.limit(lambda: current_app.config["RATELIMIT_SUGGEST"])


@bp.route("/register", methods=["GET", "POST"])
@auth_limit
def register():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_user(
                form.username.data,
                form.email.data,
                form.password.data,
                address=get_remote_address(),
            )
        except Refused as refusal:
            show_refusal(form, refusal, "username")
        else:
            login_user(user)
            flash(
                _(
                    "Welcome! We sent a confirmation link to %(email)s: open it to start posting.",
                    email=user.email,
                ),
                "success",
            )
            return redirect(safe_next_url(request.args.get("next"), url_for("web.home")))
    return render_template("accounts/register.html", form=form), 400 if form.errors else 200


@bp.route("/confirm/<token>")
def confirm(token: str):
    user = services.confirm_email(token)
    if user is None:
        flash(_("This confirmation link is invalid, expired or was already used."), "error")
        return redirect(url_for("web.home"))
    flash(_("Thank you, your email address is confirmed."), "success")
    return redirect(url_for("web.home"))


@bp.route("/confirm", methods=["POST"])
@login_required
@auth_limit
def resend_confirmation():
    if ResendConfirmationForm().validate_on_submit() and not current_user.is_confirmed:
        services.send_confirmation_email(current_user)
        flash(_("We sent a new confirmation link to %(email)s.", email=current_user.email), "info")
    return redirect(url_for("accounts.settings"))


@bp.route("/login", methods=["GET", "POST"])
@auth_limit
def login():
    next_url = safe_next_url(request.args.get("next"), url_for("web.home"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    if form.validate_on_submit():
        user = services.find_user_by_login(form.login.data)
        if user is None or not user.check_password(form.password.data):
            form.password.errors.append(_("Wrong username/email or password."))
        elif not user.active:
            form.login.errors.append(services.suspended_message(user))
        else:
            login_user(user, remember=form.remember.data)
            services.record_login(user)
            return redirect(next_url)
    return render_template("accounts/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
def logout():
    if ActionForm().validate_on_submit():
        logout_user()
    return redirect(url_for("web.home"))


@bp.route("/reset", methods=["GET", "POST"])
@auth_limit
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        services.send_password_reset(form.login.data)
        flash(_("If an account matches, we sent it a link to choose a new password."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
@auth_limit
def reset_password(token: str):
    if services.user_for_reset_token(token) is None:
        flash(_("This reset link is invalid, expired or was already used."), "error")
        return redirect(url_for("accounts.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        user = services.reset_password(token, form.password.data)
        if user is not None:
            login_user(user)
            flash(_("Your password was changed."), "success")
            return redirect(url_for("web.home"))
    return render_template("accounts/reset_password.html", form=form)


@bp.route("/u/<username>")
def profile(username: str):
    user = services.find_user_by_username(username)
    if user is None or not can("user.view", user):
        abort(404)
    tab = request.args.get("tab", "questions")
    if tab not in ("questions", "answers", "ideas", "discussions"):
        abort(404)
    if tab == "answers":
        page = paginate(queries.user_answers(current_user, user), 20)
    else:
        kind = {"questions": "question", "ideas": "idea", "discussions": "discussion"}[tab]
        stmt = queries.visible_topics(current_user).where(
            queries.Topic.author_id == user.id, queries.Topic.kind == kind
        )
        page = paginate(stmt.order_by(queries.Topic.created_at.desc()), 20)
    stats = queries.user_stats(current_user, user)
    return render_template("accounts/profile.html", user=user, tab=tab, page=page, stats=stats)


@bp.route("/users/suggest")
@login_required
@suggest_limit
def suggest():
    """Usernames starting with ``q``, for the @mention autocomplete of the post forms (JSON)."""
    return jsonify(
        [
            {
                "username": user.username,
                "initials": user.initials,
                "avatar_color": user.avatar_color,
            }
            for user in suggest_users(request.args.get("q", ""))
        ]
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@write_limit
def settings():
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
    if form.validate_on_submit():
        current_user.bio = form.bio.data or ""
        current_user.locale = form.locale.data or None
        db.session.commit()
        flash(_("Your settings were saved."), "success")
        return redirect(url_for("accounts.settings"))
    return render_template(
        "accounts/settings.html", form=form, resend=ResendConfirmationForm()
    ), 400 if form.errors else 200
