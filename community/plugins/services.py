"""Enabling, disabling and removing plugins: what the admin page and the CLI both call."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from flask import current_app

from community.plugins.host import PluginInfo, current_host, state_key
from community.plugins.migrations import downgrade_plugin, upgrade_plugin
from community.settings.service import delete_settings, store_settings, stored_settings

# Written by `community serve` (gunicorn); `install` and `uninstall` send it SIGHUP, which
# makes gunicorn replace its workers gracefully so they import the new code.
SERVER_PID_FILE = "server.pid"


def get_plugin(name: str) -> PluginInfo:
    info = current_host().plugins.get(name)
    if info is None:
        raise LookupError(name)
    return info


def enable_plugin(name: str) -> None:
    """Upgrade the plugin's tables, then switch it on for every process of the site."""
    info = get_plugin(name)
    if info.load_error is not None:
        raise RuntimeError(f"plugin {name} cannot be loaded: {info.load_error}")
    upgrade_plugin(info)
    store_settings({state_key(name, "enabled"): True})
    clear_failure(name)


def disable_plugin(name: str) -> None:
    get_plugin(name)
    store_settings({state_key(name, "enabled"): False})


def clear_failure(name: str) -> None:
    host = current_host()
    host.failures.pop(name, None)
    host.unwritten_failures.discard(name)
    host.forget_written_failure(name)
    delete_settings([state_key(name, "error")])


def last_failure(name: str) -> dict[str, Any] | None:
    """The plugin's last failure as recorded in the database (by any process), or one this
    process met at start-up, before it could write it."""
    stored = stored_settings().get(state_key(name, "error"))
    if stored:
        return stored
    host = current_host()
    local = host.failures.get(name)
    if local and name in host.unwritten_failures:
        return {"where": local.where, "message": local.message, "at": local.at}
    return None


def plugin_state(info: PluginInfo, failure: dict[str, Any] | None) -> str:
    """ "broken" (cannot be loaded), "failing" (its last failure is not cleared), "enabled"
    or "disabled": what the admin page and `community plugins list` show."""
    if info.load_error:
        return "broken"
    if failure:
        return "failing"
    return "enabled" if current_host().is_enabled(info.name) else "disabled"


def drop_plugin_data(name: str) -> None:
    """Remove the plugin's tables (through its migrations) and its stored state."""
    info = get_plugin(name)
    downgrade_plugin(info)
    delete_settings([state_key(name, what) for what in ("enabled", "settings", "error")])


def signal_reload() -> bool:
    """Ask a running `community serve` to replace its workers; False when none runs."""
    path = Path(current_app.instance_path) / SERVER_PID_FILE
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True
