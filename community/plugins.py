"""The plugin manager: one per app, kept in ``app.extensions["community.plugins"]``."""

from __future__ import annotations

import importlib
import logging
from importlib.metadata import entry_points
from typing import Any

import pluggy
from flask import Flask, current_app
from markupsafe import Markup

from community import hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "community.plugins"
EXTENSION_KEY = "community.plugins"

# Core modules that implement hooks themselves; registered before any plugin so that plugins'
# tryfirst/normal implementations get the first word over core's trylast defaults.
CORE_PLUGINS = ["community.permissions"]

# Named places in the default theme where plugins may add HTML.
SLOTS = frozenset(
    {
        "head",
        "nav",
        "footer",
        "home.sidebar",
        "space.header",
        "space.sidebar",
        "topic.header",
        "topic.sidebar",
        "post.footer",
        "user.card",
        "user.profile",
        "admin.nav",
    }
)


def create_plugin_manager(app: Flask) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("community")
    pm.add_hookspecs(hookspecs)
    for name in CORE_PLUGINS:
        pm.register(importlib.import_module(name), name=name)
    for dotted in app.config["PLUGINS"]:
        pm.register(importlib.import_module(dotted), name=dotted)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.has_plugin(ep.name):
            continue
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception:
            log.exception("plugin %s could not be loaded", ep.name)
    # An implementation of a hook that has no spec is a bug in a plugin: fail loudly.
    pm.check_pending()
    app.extensions[EXTENSION_KEY] = pm
    return pm


def plugin_manager() -> pluggy.PluginManager:
    return current_app.extensions[EXTENSION_KEY]


def hook() -> Any:
    return plugin_manager().hook


def fire(event: str, **kwargs: Any) -> None:
    """Call an event hook implementation by implementation, so that one plugin that raises
    neither stops the others nor the request."""
    caller = getattr(hook(), event)
    for impl in reversed(caller.get_hookimpls()):
        try:
            impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception:
            log.exception("plugin %s failed in %s", impl.plugin_name, event)


def render_slot(slot: str, **context: Any) -> Markup:
    if slot not in SLOTS:
        raise LookupError(f"unknown template slot {slot!r}")
    pieces = []
    caller = hook().community_template_slot
    for impl in reversed(caller.get_hookimpls()):
        try:
            html = impl.function(slot=slot, context=context)
        except Exception:
            log.exception("plugin %s failed in slot %s", impl.plugin_name, slot)
            continue
        if html:
            pieces.append(Markup(html))  # noqa: S704 - plugins return trusted HTML by contract
    return Markup("\n").join(pieces)


def ask_gates(gate: str, **kwargs: Any) -> str | None:
    """Ask every implementation of a gate hook; return the first refusal, or None.

    A gate that raises refuses (fail closed): a broken filter must not let writes through.
    """
    from flask_babel import gettext as _

    caller = getattr(hook(), gate)
    for impl in reversed(caller.get_hookimpls()):
        try:
            reason = impl.function(**{name: kwargs[name] for name in impl.argnames})
        except Exception:
            log.exception("plugin %s failed in %s; refusing the write", impl.plugin_name, gate)
            return _("This cannot be saved right now. Please try again later.")
        if reason:
            return str(reason)
    return None


def apply_filter(name: str, value: Any, **kwargs: Any) -> Any:
    """Pass ``value`` through every implementation of a filter hook in turn. An
    implementation that raises is logged and skipped."""
    caller = getattr(hook(), name)
    for impl in reversed(caller.get_hookimpls()):
        first, *rest = impl.argnames
        try:
            result = impl.function(**{first: value}, **{arg: kwargs[arg] for arg in rest})
        except Exception:
            log.exception("plugin %s failed in %s", impl.plugin_name, name)
            continue
        if result is not None:
            value = result
    return value
