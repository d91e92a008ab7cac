"""Community's plugin platform, and the public API plugins use.

Plugin authors import from here (and from :mod:`community.hookspecs` for ``hookimpl``)::

    from community.plugins import hookimpl, Setting, plugin_settings, admin_blueprint, Badge

Everything else in core is internal. See ``docs/plugins.md``.
"""

from __future__ import annotations

import logging
from typing import Any

import pluggy
from flask import Blueprint, Flask, current_app, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from community.hookspecs import hookimpl
from community.plugins.host import (
    ENTRY_POINT_GROUP,
    EXTENSION_KEY,
    PluginHost,
    PluginInfo,
    current_host,
    state_key,
)
from community.plugins.settings import Setting, plugin_settings

__all__ = [
    "ENTRY_POINT_GROUP",
    "SLOTS",
    "Badge",
    "Hold",
    "PluginHost",
    "PluginInfo",
    "Setting",
    "admin_blueprint",
    "audit",
    "create_plugin_host",
    "fire",
    "hit_rate_limit",
    "hookimpl",
    "idea_status_label",
    "is_enabled",
    "plugin_manager",
    "plugin_settings",
    "plugin_static_url",
    "prefetch_badges",
    "render_slot",
    "state_key",
    "trust_levels",
    "user_badges",
]

log = logging.getLogger(__name__)

# Named places in the default theme where plugins may add HTML. A theme that names a slot not
# listed here fails (see render_slot); a theme may leave slots out.
SLOTS = frozenset(
    {
        "head",  # <head> of every page: stylesheets, meta tags
        "nav",  # the main navigation, after core's links
        "footer",  # the page footer
        "banner",  # top of every page's main column; context: space (None outside a space)
        "home.sidebar",  # beside the home page's topic list
        "space.header",  # under a space's title; context: space
        "space.sidebar",  # beside a space's topic list; context: space
        "topic.header",  # under a topic's title; context: topic
        "topic.sidebar",  # beside a topic; context: topic
        "post.footer",  # under each post; context: post, topic
        "user.card",  # beside a user's name on their profile; context: user
        "user.profile",  # the body of a user's profile; context: user
        "admin.nav",  # the admin menu: links to a plugin's admin pages (<li> elements)
    }
)


def create_plugin_host(app: Flask) -> PluginHost:
    """Discover and register every plugin; called once by :func:`community.create_app`."""
    host = PluginHost(app)
    app.extensions[EXTENSION_KEY] = host
    # Before any plugin adds request callbacks of its own in community_app_created.
    app.before_request(host.refuse_disabled_routes)
    host.load()
    app.teardown_request(host.write_request_failures)
    # Plugins' own catalogs (translations/<lang>/LC_MESSAGES/messages.mo beside their code),
    # before core's so that core's wording wins where both translate the same text.
    babel = app.extensions["babel"]
    plugin_catalogs = [
        str(info.path / "translations")
        for info in host.listed()
        if info.path is not None and (info.path / "translations").is_dir()
    ]
    babel.translation_directories = plugin_catalogs + list(babel.translation_directories)
    return host


def plugin_manager() -> pluggy.PluginManager:
    """The app's pluggy manager (every plugin registered, enabled or not)."""
    return current_host().pm


def is_enabled(name: str) -> bool:
    """Whether the plugin ``name`` is enabled right now (e.g. in a periodic task, which the
    worker runs whether its plugin is enabled or not)."""
    return current_host().is_enabled(name)


def fire(event: str, **kwargs: Any) -> None:
    """Call an event hook on every enabled plugin, one at a time: a plugin that raises is
    logged and recorded as failing, and neither stops the others nor the request."""
    current_host().fire(event, **kwargs)


def audit(
    actor: Any,
    action: str,
    target: Any = None,
    *,
    reason: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Announce a moderator's or admin's action (``community_audited``), after it was
    committed: core calls this for its own tools, plugins for theirs, and an audit-log plugin
    records them all.

    :param actor: the user who acted, or ``None`` for an automatic rule.
    :param action: a dotted name, e.g. ``"post.hide"``, ``"user.suspend"``.
    :param target: the post, topic, user or space acted on, or ``None`` (site settings).
    :param reason: what the actor gave as the reason, if anything.
    :param before: the relevant values before the action (JSON-serializable).
    :param after: the values after it.
    """
    fire(
        "community_audited",
        actor=actor,
        action=action,
        target=target,
        reason=reason,
        before=before or {},
        after=after or {},
    )


def hit_rate_limit(name: str, limits: str, key: str) -> int | None:
    """Count one hit against ``limits`` (Flask-Limiter syntax, e.g. ``"3/minute;20/hour"``)
    for ``key`` under ``name``, in the site's rate-limit storage (``RATELIMIT_STORAGE_URI``:
    memory, or Redis shared by every worker). Returns ``None`` when the hit is allowed, else
    the number of seconds until it would be.

    :param name: what is limited, e.g. ``"moderation.flag"``.
    :param limits: one or more limits separated by ``;``.
    :param key: who is limited, e.g. ``"user:42"`` or ``"ip:203.0.113.9"``.
    """
    import math
    import time

    from limits import parse_many

    from community.extensions import limiter

    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return None
    strategy = limiter.limiter
    for item in parse_many(limits):
        # One atomic increment per limit (INCR on Redis): two workers never both get the
        # last hit of a window.
        if not strategy.hit(item, name, key):
            reset, _remaining = strategy.get_window_stats(item, name, key)
            return max(1, math.ceil(reset - time.time()))
    return None


def trust_levels(users: Any) -> dict[int, int]:
    """How far the site trusts each of these users, from 0 (new) up, as plugins say through
    ``community_user_trust`` (e.g. gamification's levels); the highest answer wins, and
    users no plugin answers for are at 0."""
    todo = [user for user in users if user is not None and getattr(user, "id", None)]
    levels = {user.id: 0 for user in todo}
    if not todo:
        return levels
    host = current_host()
    for name, result in host.answers("community_user_trust", {"users": todo}):
        try:
            for user_id, level in dict(result).items():
                if user_id in levels:
                    levels[user_id] = max(levels[user_id], int(level))
        except Exception as exc:
            host.record_failure(name, "community_user_trust", exc)
    return levels


def idea_status_label(status: str | None) -> str | None:
    """What a plugin calls the idea status ``status`` (``community_idea_status_label``), or
    ``None`` when no plugin names it (a template global)."""
    if not status:
        return None
    answer = current_host().first("community_idea_status_label", status=status)
    return str(answer) if answer else None


def render_slot(slot: str, **context: Any) -> Markup:
    """The HTML fragments enabled plugins give for ``slot``, in plugin order. A fragment that
    raises is left out (and recorded); an unknown slot name raises :class:`LookupError`."""
    if slot not in SLOTS:
        raise LookupError(f"unknown template slot {slot!r}")
    host = current_host()
    pieces = []
    for name, html in host.collect("community_template_slot", slot=slot, context=context):
        if html:
            pieces.append(Markup(html))  # noqa: S704 - plugins return trusted HTML by contract
            host.slots_filled.setdefault(name, set()).add(slot)
    return Markup("\n").join(pieces)


class Hold:
    """What a ``community_post_gate`` implementation returns to let a post be saved but hold
    it for a moderator's review instead of publishing it (e.g. a newcomer's first post).

    :param reason: why, shown to the author and to moderators (translate it).
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = str(reason)

    def __repr__(self) -> str:
        return f"Hold({self.reason!r})"


def ask_gates(gate: str, **kwargs: Any) -> str | Hold | None:
    """Ask every enabled implementation of a gate hook. A refusal (a non-empty string) wins
    at once; otherwise the first :class:`Hold`, if any; otherwise None (allowed).

    A gate that raises refuses (fail closed): a broken filter must not let writes through.
    """
    host = current_host()
    hold = None
    for impl in host.implementations(gate):
        try:
            answer = host.call(impl, kwargs)
        except Exception as exc:
            host.record_failure(impl.plugin_name, gate, exc)
            return _("This cannot be saved right now. Please try again later.")
        if isinstance(answer, Hold):
            hold = hold or answer
        elif answer:
            return str(answer)
    return hold


def apply_filter(name: str, value: Any, **kwargs: Any) -> Any:
    """Pass ``value`` through every enabled implementation of a filter hook in turn. An
    implementation that raises is recorded and skipped."""
    from community.extensions import db

    host = current_host()
    caller = getattr(host.pm.hook, name)
    # The value travels under the name of the hook's first parameter (e.g. ``html``).
    value_name = caller.spec.argnames[0]
    for impl in host.implementations(name):
        arguments = {**kwargs, value_name: value}
        try:
            # Filters run in the middle of a write: a savepoint keeps a plugin's failed
            # query from undoing the write's work so far.
            with db.session.begin_nested():
                result = host.call(impl, arguments)
        except Exception as exc:
            host.record_failure(impl.plugin_name, name, exc, recover=False)
            continue
        if result is not None:
            value = result
    return value


# --- badges ----------------------------------------------------------------------------------


class Badge:
    """A label shown next to a user's name (e.g. "Staff", "Expert", "Level 3").

    :param label: the text shown (translate it).
    :param kind: a short name used in the CSS class ``badge-<kind>``, e.g. ``"expert"``.
    :param title: a longer explanation shown on hover and read by screen readers.
    """

    __slots__ = ("label", "kind", "title")

    def __init__(self, label: str, kind: str = "plugin", title: str = "") -> None:
        self.label = label
        self.kind = kind
        self.title = title

    def __repr__(self) -> str:
        return f"Badge({self.label!r}, kind={self.kind!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Badge) and (self.label, self.kind) == (other.label, other.kind)

    def __hash__(self) -> int:
        return hash((self.label, self.kind))


def prefetch_badges(users: Any, space: Any = None) -> None:
    """Work out the badges of every user a page will show, in one call of the hook (so a plugin
    can answer for all of them with one query). Views call this before rendering lists.

    :param space: the space the page is about (a topic's space on its page, a space's own
        page), so that plugins may give badges that belong to it ("Expert · Routers"). The
        first call of a request that names a space sets it for the whole page."""
    from flask import g

    if space is not None and "badge_space" not in g:
        g.badge_space = space
    cache = g.setdefault("user_badges", {})
    todo = {user.id: user for user in users if user is not None and user.id not in cache}
    if not todo:
        return
    badges: dict[int, list[Badge]] = {user_id: [] for user_id in todo}
    host = current_host()
    arguments = {"users": list(todo.values()), "space": g.get("badge_space")}
    for name, result in host.answers("community_user_badges", arguments):
        core = name in host.core_names
        try:
            answer = {user_id: list(extra) for user_id, extra in result.items()}
            if not all(isinstance(badge, Badge) for extra in answer.values() for badge in extra):
                raise TypeError("community_user_badges must map user ids to lists of Badge")
        except Exception as exc:
            host.record_failure(name, "community_user_badges", exc)
            continue
        for user_id, extra in answer.items():
            if user_id in badges:
                fresh = [b for b in extra if b not in badges[user_id]]
                # Core's badges (staff, moderator) come first, whatever the call order.
                badges[user_id] = fresh + badges[user_id] if core else badges[user_id] + fresh
    cache.update(badges)


def user_badges(user: Any) -> list[Badge]:
    """The badges shown next to ``user``'s name (a template global)."""
    from flask import g

    if user is None or not getattr(user, "id", None):
        return []
    if user.id not in g.get("user_badges", {}):
        prefetch_badges([user])
    return g.user_badges[user.id]


# --- helpers for plugin code -----------------------------------------------------------------


def admin_blueprint(name: str, import_name: str, **options: Any) -> Blueprint:
    """A blueprint for a plugin's admin pages: mounted under ``/admin/plugins/<name>/pages``
    (beside the plugin's page of core, ``/admin/plugins/<name>``) and open to administrators
    only (others get 403, visitors are sent to sign in).

    Register it in ``community_app_created`` with ``app.register_blueprint(bp)``; link to it
    from the ``admin.nav`` slot.
    """
    from flask_login import login_required

    from community.permissions import require

    options.setdefault("url_prefix", f"/admin/plugins/{name}/pages")
    bp = Blueprint(f"{name}_admin", import_name, **options)

    @bp.before_request
    @login_required
    def _admins_only() -> None:
        require("admin.access")

    return bp


def plugin_static_url(plugin: str, filename: str) -> str:
    """The URL of a file in a plugin's ``static/`` folder (a template global too)."""
    return url_for("plugins.static", name=plugin, filename=filename)
