"""Account rules: registration, confirmation, password reset, roles."""

from __future__ import annotations

import unicodedata
from typing import Any, cast

from flask import current_app, has_request_context, render_template, url_for
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError

from community.accounts.models import Role, User
from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.mail import send_mail
from community.plugins import apply_filter, ask_gates, audit, fire
from community.security import make_token, normalize_username, read_token, username_problem


def find_user_by_login(login: str) -> User | None:
    login = login.strip()
    if "@" in login:
        return db.session.scalar(select(User).where(func.lower(User.email) == login.lower()))
    return db.session.scalar(select(User).where(User.username_key == normalize_username(login)))


def find_user_by_username(name: str) -> User | None:
    return db.session.scalar(select(User).where(User.username_key == normalize_username(name)))


def register_user(
    username: str,
    email: str,
    password: str,
    *,
    role: str = Role.MEMBER,
    is_staff: bool = False,
    confirmed: bool = False,
    locale: str | None = None,
    send_confirmation: bool = True,
    address: str | None = None,
) -> User:
    """Create an account. ``address``: the visitor's IP address when the registration form
    creates it; plugins' registration gates are then asked, once core's own checks passed
    (so that a typo does not count against a sign-up limit)."""
    problem = username_problem(username)
    if problem:
        raise Refused(_(problem), field="username")
    key = normalize_username(username)
    email = email.strip().lower()
    if find_user_by_username(username) is not None:
        raise Refused(_("That username is taken."), field="username")
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Refused(_("An account with that email already exists."), field="email")
    if address is not None:
        refusal = registration_refusal(username, email, address)
        if refusal:
            raise Refused(refusal)
    user = User(
        username=unicodedata.normalize("NFC", username),
        username_key=key,
        email=email,
        role=role,
        is_staff=is_staff,
        locale=locale,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        # Two registrations raced past the checks above; the constraint decides.
        db.session.rollback()
        raise Refused(_("That username or email is taken."), field="username") from None
    fire("community_user_registered", user=user)
    if send_confirmation and not confirmed:
        send_confirmation_email(user)
    return user


def _send_templated(user: User, subject: LazyString, template: str, **context) -> None:
    # The user's choice, else the language of the page they are on (registration), else the
    # site's default.
    locale = user.locale or (str(get_locale()) if has_request_context() else None)
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        text = render_template(f"email/{template}.txt", user=user, **context)
        html = render_template(f"email/{template}.html", user=user, **context)
        # The lazy subject is translated here, inside the recipient's locale.
        send_mail(user.email, str(subject), text, html)


def send_confirmation_email(user: User) -> None:
    link = url_for("accounts.confirm", token=make_token(user, "confirm"), _external=True)
    _send_templated(user, _l("Confirm your email address"), "confirm", link=link)


def confirm_email(token: str) -> User | None:
    user = read_token(token, "confirm", current_app.config["CONFIRM_TOKEN_MAX_AGE"])
    if user is None or user.is_confirmed:
        return None
    user.email_confirmed_at = utcnow()
    db.session.commit()
    return user


def send_password_reset(login: str) -> None:
    """Sends the reset link when the account exists; says nothing either way (no account
    enumeration)."""
    user = find_user_by_login(login)
    if user is None or not user.active:
        return
    link = url_for("accounts.reset_password", token=make_token(user, "reset"), _external=True)
    hours = max(1, current_app.config["RESET_TOKEN_MAX_AGE"] // 3600)
    _send_templated(user, _l("Reset your password"), "reset", link=link, hours=hours)


def user_for_reset_token(token: str) -> User | None:
    return read_token(token, "reset", current_app.config["RESET_TOKEN_MAX_AGE"])


def reset_password(token: str, password: str) -> User | None:
    user = user_for_reset_token(token)
    if user is None:
        return None
    user.set_password(password)
    # Whoever could read the reset email owns the address.
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()
    db.session.commit()
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    db.session.commit()


def set_role(user: User, role: str, is_staff: bool, actor: User | None = None) -> None:
    if role not in {r.value for r in Role}:
        raise Refused(_("Unknown role."))
    previous_role, previous_staff = user.role, user.is_staff
    user.role = role
    user.is_staff = is_staff
    db.session.commit()
    if (previous_role, previous_staff) != (role, is_staff):
        fire(
            "community_user_role_changed",
            user=user,
            actor=actor,
            previous_role=previous_role,
            previous_staff=previous_staff,
        )
        audit(
            actor,
            "user.role",
            user,
            before={"role": previous_role, "staff": previous_staff},
            after={"role": role, "staff": is_staff},
        )


def suspend_user(user: User, actor: User | None = None, reason: str = "") -> bool:
    """Suspend an account: it cannot sign in and its session ends at its next request.
    Returns False when it already was suspended. Admins cannot be suspended this way by
    anyone but an admin (check permissions in the caller)."""
    reason = " ".join((reason or "").split())[:500]
    changed = _rowcount(
        update(User).where(User.id == user.id, User.active.is_(True)).values(active=False)
    )
    db.session.commit()
    db.session.refresh(user)
    if not changed:
        return False
    fire("community_user_suspended", user=user, actor=actor, reason=reason)
    audit(
        actor, "user.suspend", user, reason=reason, before={"active": True}, after={"active": False}
    )
    return True


def reinstate_user(user: User, actor: User | None = None) -> bool:
    """Make a suspended account active again. Returns False when it was not suspended."""
    changed = _rowcount(
        update(User).where(User.id == user.id, User.active.is_(False)).values(active=True)
    )
    db.session.commit()
    db.session.refresh(user)
    if not changed:
        return False
    fire("community_user_reinstated", user=user, actor=actor)
    audit(actor, "user.reinstate", user, before={"active": False}, after={"active": True})
    return True


def _rowcount(stmt: Any) -> int:
    result = cast("CursorResult[Any]", db.session.execute(stmt))
    return result.rowcount


def suspended_message(user: User) -> str:
    """What a suspended member reads when signing in (plugins may add the reason)."""
    return str(
        apply_filter("community_suspended_message", _("This account is suspended."), user=user)
    )


def registration_refusal(username: str, email: str, address: str) -> str | None:
    """A plugin's reason to refuse this registration, or None."""
    answer = ask_gates(
        "community_registration_gate", username=username, email=email, address=address
    )
    return str(answer.reason if hasattr(answer, "reason") else answer) if answer else None
