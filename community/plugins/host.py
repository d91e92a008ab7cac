"""The plugin host: discovery, per-plugin state, and the calls core makes into plugins.

One :class:`PluginHost` per app, kept in ``app.extensions["community.plugins"]``. Every
discovered plugin is registered with the pluggy manager at start-up; whether it is *enabled*
lives in the database (a settings row per plugin) and is read with the site settings, once
per request, so every worker process sees an admin's change on its next request without a
restart. A disabled plugin stays registered but is skipped by every call core makes, its routes
answer 404 and its templates and static files are not found.

Core calls hooks one implementation at a time (never all at once through pluggy), so that one
plugin that raises is logged with its name and recorded as failing while the others, and the
page, go on.
"""

from __future__ import annotations

import importlib
import inspect
import logging
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import Distribution, entry_points
from pathlib import Path
from typing import Any, cast

import pluggy
from flask import Flask, current_app, has_app_context, has_request_context, request
from sqlalchemy.exc import SQLAlchemyError

from community import hookspecs

log = logging.getLogger("community.plugins")

ENTRY_POINT_GROUP = "community.plugins"
EXTENSION_KEY = "community.plugins"

# Core modules that implement hooks themselves (with ``trylast`` so that plugins get the first
# word). They are always enabled and not listed on the admin's plugin page.
CORE_PLUGINS = [
    "community.permissions",
    "community.accounts.badges",
    "community.search.hooks",
    "community.notifications.hooks",
]

# Settings rows of a plugin: "plugin.<name>.enabled" (bool), ".settings" (dict), ".error".
STATE_PREFIX = "plugin."

# A failure is written to the database at most this often per plugin and process (seconds),
# so a plugin that fails on every request does not write on every request.
FAILURE_WRITE_INTERVAL = 60.0


def state_key(name: str, what: str) -> str:
    return f"{STATE_PREFIX}{name}.{what}"


@dataclass
class PluginInfo:
    """What core knows about one plugin."""

    name: str
    module: Any = None
    version: str = ""
    description: str = ""
    author: str = ""
    homepage: str = ""
    distribution: str | None = None
    # The plugin's package folder: templates/, static/ and migrations/ are looked up in it.
    path: Path | None = None
    # Plugins named in the PLUGINS config key are enabled unless an admin disabled them;
    # plugins found through entry points start disabled until an admin enables them.
    enabled_by_default: bool = False
    load_error: str | None = None
    # The module prefix of the plugin's code, to tell which routes belong to it.
    module_prefix: str = ""
    settings: list[Any] = field(default_factory=list)

    @property
    def template_folder(self) -> Path | None:
        return _folder(self.path, "templates")

    @property
    def static_folder(self) -> Path | None:
        return _folder(self.path, "static")

    @property
    def migrations_folder(self) -> Path | None:
        return _folder(self.path, "migrations")


def _folder(path: Path | None, name: str) -> Path | None:
    if path is None:
        return None
    folder = path / name
    return folder if folder.is_dir() else None


@dataclass
class Failure:
    where: str
    message: str
    at: float


class PluginHost:
    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pm = pluggy.PluginManager("community")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.core_names: set[str] = set()
        # This process's failures, by plugin name; the admin page also reads the database.
        self.failures: dict[str, Failure] = {}
        self._failure_written: dict[str, tuple[str, float]] = {}
        self.unwritten_failures: set[str] = set()
        self._enabled: frozenset[str] | None = None
        self._endpoint_owner: dict[str, str] | None = None
        # Slots each plugin has filled in this process (shown on the admin's plugin page).
        self.slots_filled: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    # --- discovery ---------------------------------------------------------------------------

    def load(self) -> None:
        # Recorded before any plugin registers, so that pluggy calls it for each plugin as it
        # registers: a plugin that raises in it is caught by _load, like any loading error.
        self.pm.hook.community_app_created.call_historic(kwargs={"app": self.app})
        for name in CORE_PLUGINS:
            self.pm.register(importlib.import_module(name), name=name)
            self.core_names.add(name)
        for dotted in self.app.config["PLUGINS"]:
            info = PluginInfo(name=dotted.rsplit(".", 1)[-1], enabled_by_default=True)
            self._load(info, lambda dotted=dotted: importlib.import_module(dotted))
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self.plugins:
                continue
            info = PluginInfo(name=ep.name)
            if ep.dist is not None:
                _describe_from_distribution(info, ep.dist)
            # A distributed plugin owns its whole top-level package (views, models), even
            # when its entry point names a module inside it.
            self._load(info, ep.load, package=ep.module.split(".", 1)[0])
        # Every implementation has a spec by now (_load refuses a plugin with one that has
        # none); this guards core's own modules.
        self.pm.check_pending()
        for info in self.plugins.values():
            if info.load_error is None:
                info.settings = self._declared_settings(info.name)

    def _load(self, info: PluginInfo, loader: Any, package: str | None = None) -> None:
        self.plugins[info.name] = info
        plugin = None
        try:
            plugin = loader()
            self._describe_module(info, plugin, package)
            _check_no_wrappers(plugin)
            self.pm.register(plugin, name=info.name)
            _check_specs(self.pm, plugin)
        except Exception as exc:
            # A broken plugin must not take the site down: it is left out, logged loudly and
            # shown as "cannot be loaded" on the admin page and by `community plugins list`.
            # Routes it added before failing stay owned by it, so they answer 404.
            log.exception("plugin %s could not be loaded", info.name)
            info.load_error = "".join(traceback.format_exception_only(exc)).strip()
            if plugin is not None and self.pm.is_registered(plugin):
                self.pm.unregister(plugin)
            return
        info.module = plugin

    @staticmethod
    def _describe_module(info: PluginInfo, plugin: Any, package: str | None) -> None:
        module = inspect.getmodule(plugin) or plugin
        info.module_prefix = package or str(getattr(module, "__name__", ""))
        top = importlib.import_module(package) if package else module
        file = getattr(top, "__file__", None)
        # Only a package has a folder of its own for templates/, static/ and migrations/; a
        # single module's folder is shared with its neighbours.
        if file and hasattr(top, "__path__"):
            info.path = Path(file).resolve().parent
        if not info.description:
            doc = inspect.getdoc(module) or ""
            info.description = doc.strip().split("\n\n", 1)[0].replace("\n", " ")

    def _declared_settings(self, name: str) -> list[Any]:
        plugin = self.pm.get_plugin(name)
        declared: list[Any] = []
        for impl in self.pm.hook.community_plugin_settings.get_hookimpls():
            if impl.plugin is plugin:
                try:
                    declared.extend(cast("list[Any]", impl.function()) or [])
                except Exception as exc:
                    self.record_failure(name, "community_plugin_settings", exc)
        return declared

    # --- state -------------------------------------------------------------------------------

    def listed(self) -> list[PluginInfo]:
        return sorted(self.plugins.values(), key=lambda info: info.name)

    def enabled_names(self) -> frozenset[str]:
        """Plugins enabled right now, as the database says (read once per request)."""
        if not has_app_context():
            return self._enabled or frozenset()
        from flask import g

        from community.settings.service import stored_settings

        try:
            stored = stored_settings()
        except Exception:
            # No settings table yet (before `community db upgrade`): nothing is enabled.
            log.debug("plugin states unreadable", exc_info=True)
            from community.extensions import db

            db.session.rollback()
            stored = {}
        cached = g.get("plugins_enabled")
        if cached is not None and cached[0] is stored:
            return cached[1]
        enabled = frozenset(
            name
            for name, info in self.plugins.items()
            if info.load_error is None
            and stored.get(state_key(name, "enabled"), info.enabled_by_default)
        )
        if enabled != self._enabled:
            with self._lock:
                if enabled != self._enabled:
                    if self._enabled is not None:
                        log.info("enabled plugins are now %s", ", ".join(sorted(enabled)))
                    self._enabled = enabled
                    # Compiled templates may come from a plugin that is now off, or hide one
                    # that is now on.
                    if self.app.jinja_env.cache is not None:
                        self.app.jinja_env.cache.clear()
        g.plugins_enabled = (stored, enabled)
        return enabled

    def is_enabled(self, name: str) -> bool:
        return name in self.enabled_names()

    def _active(self) -> frozenset[str]:
        return self.enabled_names() | self.core_names

    # --- calls -------------------------------------------------------------------------------

    def implementations(self, hook_name: str) -> Iterator[pluggy.HookImpl]:
        """The enabled implementations of a hook, in call order (tryfirst first, trylast
        last, otherwise the plugin registered last first)."""
        active = self._active()
        caller = getattr(self.pm.hook, hook_name)
        for impl in reversed(caller.get_hookimpls()):
            if impl.plugin_name in active:
                yield impl

    def call(self, impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> Any:
        return impl.function(**{name: kwargs[name] for name in impl.argnames})

    def answers(self, hook_name: str, kwargs: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """Call the enabled implementations in turn, lazily, yielding each non-``None``
        answer with its plugin's name; one that raises is recorded and skipped."""
        for impl in self.implementations(hook_name):
            try:
                result = self.call(impl, kwargs)
            except Exception as exc:
                self.record_failure(impl.plugin_name, hook_name, exc)
                continue
            if result is not None:
                yield impl.plugin_name, result

    def fire(self, event: str, **kwargs: Any) -> None:
        for _answer in self.answers(event, kwargs):
            pass

    def first(self, hook_name: str, **kwargs: Any) -> Any:
        """The first non-``None`` answer (the rest are not asked)."""
        return next((result for _name, result in self.answers(hook_name, kwargs)), None)

    def collect(self, hook_name: str, **kwargs: Any) -> list[tuple[str, Any]]:
        """Every non-``None`` answer with the name of the plugin that gave it."""
        return list(self.answers(hook_name, kwargs))

    # --- failures ----------------------------------------------------------------------------

    def record_failure(
        self, name: str, where: str, exc: BaseException, *, recover: bool = True
    ) -> None:
        """Log and record a plugin's failure. When the plugin broke the database session,
        roll it back (``recover``) so that the rest of the request can still use it."""
        log.error("plugin %s failed in %s", name, where, exc_info=exc)
        if recover and has_app_context() and isinstance(exc, SQLAlchemyError):
            from community.extensions import db

            db.session.rollback()
        if name in self.core_names:
            return
        message = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        now = time.time()
        self.failures[name] = Failure(where, message, now)
        last = self._failure_written.get(name)
        if (
            last
            and last[0] == f"{where}:{message}"
            and now - last[1] < FAILURE_WRITE_INTERVAL
            and self._failure_still_stored(name)
        ):
            return
        self._failure_written[name] = (f"{where}:{message}", now)
        value = {"where": where, "message": message, "at": now}
        if has_request_context():
            # Written when the request ends: the request's own transaction may hold SQLite's
            # write lock right now (a filter failing in the middle of a write).
            from flask import g

            g.setdefault("plugin_failures", {})[name] = value
        elif has_app_context():
            _write_failure(name, value)
        else:
            # Start-up, before any database is at hand: only this process knows.
            self.unwritten_failures.add(name)

    @staticmethod
    def _failure_still_stored(name: str) -> bool:
        """False once an admin cleared it (in any process): then it is written again."""
        if not has_app_context():
            return True
        from community.settings.service import stored_settings

        try:
            return state_key(name, "error") in stored_settings()
        except SQLAlchemyError:
            return True

    def forget_written_failure(self, name: str) -> None:
        """After an admin cleared it, the next failure is written at once."""
        self._failure_written.pop(name, None)

    def write_request_failures(self, exc: BaseException | None = None) -> None:
        """teardown_request: record the failures of this request in the database."""
        from flask import g

        for name, value in g.pop("plugin_failures", {}).items():
            _write_failure(name, value)

    # --- routes ------------------------------------------------------------------------------

    def endpoint_owner(self, endpoint: str | None) -> str | None:
        """The plugin whose code serves ``endpoint``, if any."""
        if endpoint is None:
            return None
        if self._endpoint_owner is None:
            owners = {}
            prefixes = [
                (info.module_prefix, name)
                for name, info in self.plugins.items()
                if info.module_prefix
            ]
            for rule_endpoint, view in self.app.view_functions.items():
                module = getattr(view, "__module__", "") or ""
                for prefix, name in prefixes:
                    if module == prefix or module.startswith(prefix + "."):
                        owners[rule_endpoint] = name
            self._endpoint_owner = owners
        return self._endpoint_owner.get(endpoint)

    def refuse_disabled_routes(self) -> None:
        """before_request: a disabled plugin's routes answer 404."""
        owner = self.endpoint_owner(request.endpoint)
        if owner is not None and not self.is_enabled(owner):
            from flask import abort

            abort(404)


def _describe_from_distribution(info: PluginInfo, dist: Distribution) -> None:
    meta = dist.metadata
    info.distribution = meta["Name"]
    info.version = dist.version or ""
    info.description = meta["Summary"] or ""
    info.author = meta["Author"] or meta["Author-email"] or meta["Maintainer"] or ""
    info.homepage = meta["Home-page"] or ""
    if not info.homepage:
        for url in meta.get_all("Project-URL") or []:
            info.homepage = url.split(",", 1)[-1].strip()
            break


def _check_specs(pm: pluggy.PluginManager, plugin: Any) -> None:
    """Refuse a plugin that implements a hook Community does not have (a misspelt name)."""
    unknown = sorted(
        caller.name for caller in pm.get_hookcallers(plugin) or [] if caller.spec is None
    )
    if unknown:
        raise pluggy.PluginValidationError(
            plugin,
            f"{', '.join(unknown)}: no such Community hook (misspelt?); see community/hookspecs.py",
        )


def _check_no_wrappers(plugin: Any) -> None:
    for name in dir(plugin):
        if not name.startswith("community_"):
            continue
        options = getattr(getattr(plugin, name), "community_impl", None) or {}
        if options.get("wrapper") or options.get("hookwrapper"):
            raise TypeError(
                f"{name}: Community calls hooks one implementation at a time; "
                "wrapper implementations are not supported"
            )


def _write_failure(name: str, value: dict[str, Any]) -> None:
    """Record the failure in a transaction of its own, so that it neither joins nor ends the
    request's transaction."""
    from sqlalchemy.orm import Session

    from community.extensions import db
    from community.settings.models import Setting

    try:
        with Session(db.engine) as session:
            session.merge(Setting(key=state_key(name, "error"), value=value))
            session.commit()
    except Exception:
        log.warning("could not record the failure of plugin %s", name, exc_info=True)


def current_host() -> PluginHost:
    return current_app.extensions[EXTENSION_KEY]
