"""The application factory."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from community import config as config_module
from community.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a Community app. ``config`` overrides every other configuration source."""
    instance_path = (config or {}).get("INSTANCE_PATH") or os.environ.get("COMMUNITY_INSTANCE_PATH")
    app = Flask(
        "community",
        instance_path=os.path.abspath(instance_path) if instance_path else None,
        instance_relative_config=True,
        static_folder=None,
    )
    if config and config.get("TESTING"):
        app.testing = True
    config_module.load_config(app, config)
    os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)

    from community.mail import init_mail
    from community.notifications import init_notifications
    from community.search import init_search
    from community.tasks import init_tasks

    init_tasks(app)
    import community.maintenance  # noqa: F401 - its nightly task

    init_mail(app)
    init_search(app)
    init_notifications(app)

    from community import themes

    themes.init_themes(app)
    _register_blueprints(app)
    _register_template_helpers(app)
    _register_error_handlers(app)

    from community.cli import register_commands

    register_commands(app)

    from community.plugins import create_plugin_host

    # Discovers and registers plugins; each gets community_app_created as it registers.
    create_plugin_host(app)
    return app


def _init_extensions(app: Flask) -> None:
    from community.accounts.models import AnonymousUser, User

    # Registered first so that it runs before any extension looks at the user.
    app.before_request(_refuse_nul_bytes)
    app.before_request(_reset_request_state)
    app.teardown_request(_reset_request_state)
    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(config_module.PROJECT_ROOT / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.anonymous_user = AnonymousUser
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        user = db.session.get(User, int(user_id))
        # A suspended account's session ends at its next request.
        return user if user is not None and user.active else None

    translations = str(config_module.PROJECT_ROOT / "community" / "translations")
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=translations,
    )

    @app.before_request
    def _apply_site_settings() -> None:
        from community.settings.service import site_settings
        from community.themes import activate_theme

        activate_theme(site_settings()["theme"])


def _refuse_nul_bytes() -> None:
    """NUL bytes never come from a person typing; PostgreSQL refuses them in text, so a
    request carrying one is refused here with 400 instead of failing in the database."""
    values = [request.path, *request.args.values()]
    if request.method in ("POST", "PUT", "PATCH"):
        values.extend(request.form.values())
    if any("\x00" in value for value in values):
        abort(400)


def _reset_request_state(exc: BaseException | None = None) -> None:
    """Drop everything kept on g (the signed-in user, permission and settings caches, and any
    plugin's per-request cache).

    An app context normally lives for one request; in tests and CLI code one app context can
    span several requests, and nothing of one may be seen by the next.
    """
    for name in list(g):
        g.pop(name, None)


def _select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    user = current_user
    if user and user.is_authenticated and user.locale in languages:
        return user.locale
    best = request.accept_languages.best_match(languages) if request else None
    if best:
        return best
    from community.settings.service import site_settings

    return site_settings()["default_locale"]


class IdConverter(IntegerConverter):
    """Row ids in URLs: positive and within the database's integer range, so an absurd number
    is a 404 rather than a database error."""

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=2**31 - 1)


def _register_blueprints(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter
    from community.accounts.views import bp as accounts_bp
    from community.admin.views import bp as admin_bp
    from community.notifications.views import bp as notifications_bp
    from community.plugins.views import admin_bp as plugins_admin_bp
    from community.plugins.views import bp as plugins_bp
    from community.search.views import bp as search_bp
    from community.spaces.views import bp as spaces_bp
    from community.topics.views import bp as topics_bp
    from community.web.views import bp as web_bp

    blueprints = (
        web_bp,
        accounts_bp,
        spaces_bp,
        topics_bp,
        search_bp,
        notifications_bp,
        admin_bp,
        plugins_admin_bp,
        plugins_bp,
    )
    for bp in blueprints:
        app.register_blueprint(bp)


def _register_template_helpers(app: Flask) -> None:
    from flask_babel import format_datetime, get_locale

    from community.markdown import plain_excerpt
    from community.permissions import can
    from community.plugins import idea_status_label, plugin_static_url, render_slot, user_badges
    from community.settings.service import site_settings
    from community.web.helpers import page_url, timeago

    app.jinja_env.globals.update(
        can=can,
        slot=render_slot,
        user_badges=user_badges,
        idea_status_label=idea_status_label,
        plugin_static_url=plugin_static_url,
        site=site_settings,
        get_locale=get_locale,
        page_url=page_url,
    )
    app.jinja_env.filters.update(timeago=timeago, excerpt=plain_excerpt, datetime=format_datetime)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _inject() -> dict[str, Any]:
        return {"current_user": current_user, "request_path": request.path}

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
            "script-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'self'",
        )
        return response

    # Per-request caches live on g; in tests and CLI code one app context can span several
    # requests, so they are dropped at both ends of every request.


def _register_error_handlers(app: Flask) -> None:
    from community.web.errors import register_error_handlers

    register_error_handlers(app)
