"""``community plugins ...`` and ``community db upgrade`` (core and every installed plugin)."""

from __future__ import annotations

import json
import subprocess
import sys

import click
from flask.cli import with_appcontext
from flask_migrate.cli import db as flask_migrate_db

from community.maintenance import analyze_command
from community.plugins.host import ENTRY_POINT_GROUP, current_host


def _plugin_names(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if value not in current_host().plugins:
        known = ", ".join(sorted(current_host().plugins)) or "none"
        raise click.BadParameter(f"no plugin is called {value!r} (installed: {known})")
    return value


def _community(*args: str) -> None:
    """Run ``community ARGS`` in a new process, which sees packages installed since this one
    started."""
    # -P: not the current folder first on the path (a plugin's source folder, say).
    command = [sys.executable, "-P", "-m", "community", *args]
    result = subprocess.run(command, check=False)  # noqa: S603
    if result.returncode:
        raise click.ClickException(f"`community {' '.join(args)}` failed")


def _installed_entry_point_names() -> set[str]:
    code = (
        "import json, importlib.metadata as m; "
        f"names = {{e.name for e in m.entry_points(group={ENTRY_POINT_GROUP!r})}}; "
        "print(json.dumps(sorted(names)))"
    )
    output = subprocess.run(  # noqa: S603
        [sys.executable, "-P", "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(output))


@click.group("plugins")
def plugins_group() -> None:
    """List, enable, disable, install and remove plugins."""


@plugins_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
@with_appcontext
def list_command(as_json: bool) -> None:
    """List installed plugins with their version and state."""
    from community.plugins.services import last_failure, plugin_state

    host = current_host()
    rows = []
    for info in host.listed():
        rows.append(
            {
                "name": info.name,
                "version": info.version,
                "state": plugin_state(info, last_failure(info.name)),
                "enabled": host.is_enabled(info.name),
                "description": info.description,
                "distribution": info.distribution,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No plugins are installed.")
    for row in rows:
        click.echo(
            f"{row['name']:<20} {row['version'] or '-':<10} {row['state']:<9} {row['description']}"
        )


@plugins_group.command("enable")
@click.argument("name", callback=_plugin_names)
@with_appcontext
def enable_command(name: str) -> None:
    """Upgrade a plugin's tables and enable it on every process of the site."""
    from community.plugins.services import enable_plugin

    try:
        enable_plugin(name)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Enabled {name}.")


@plugins_group.command("disable")
@click.argument("name", callback=_plugin_names)
@with_appcontext
def disable_command(name: str) -> None:
    """Disable a plugin (its data stays); takes effect on every process's next request."""
    from community.plugins.services import disable_plugin

    disable_plugin(name)
    click.echo(f"Disabled {name}.")


@plugins_group.command("install")
@click.argument("requirement")
@click.option("--enable/--no-enable", default=True, show_default=True, help="Enable it too.")
@with_appcontext
def install_command(requirement: str, enable: bool) -> None:
    """Install a plugin with pip (a package name, a path or a URL pip understands), upgrade
    the database and reload a running `community serve`."""
    from community.plugins.services import signal_reload

    before = _installed_entry_point_names()
    click.echo(f"Installing {requirement} ...")
    pip = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", requirement]
    if subprocess.run(pip, check=False).returncode:  # noqa: S603
        raise click.ClickException(f"pip could not install {requirement}")
    new = sorted(_installed_entry_point_names() - before)
    if not new:
        click.echo("No new plugin was found in it (an upgrade of an installed one?).")
    click.echo("Upgrading the database ...")
    _community("db", "upgrade")
    for name in new:
        if enable:
            _community("plugins", "enable", name)
        else:
            click.echo(f"Installed {name} (disabled).")
    if signal_reload():
        click.echo("The running server is reloading its workers.")
    else:
        click.echo("No `community serve` is running here; restart your server to load it.")


@plugins_group.command("uninstall")
@click.argument("name", callback=_plugin_names)
@click.option(
    "--drop-data/--keep-data",
    default=False,
    show_default=True,
    help="Drop the plugin's tables and settings, or keep them for a later reinstall.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def uninstall_command(name: str, drop_data: bool, yes: bool) -> None:
    """Disable a plugin, optionally drop its data, pip-uninstall it, reload the server."""
    from community.plugins.services import disable_plugin, drop_plugin_data, signal_reload

    info = current_host().plugins[name]
    if not info.distribution:
        raise click.ClickException(f"{name} is not an installed package (is it in PLUGINS?)")
    if drop_data and not yes:
        click.confirm(f"Drop every table and setting of {name}?", abort=True)
    disable_plugin(name)
    if drop_data:
        drop_plugin_data(name)
        click.echo(f"Dropped the data of {name}.")
    pip = [sys.executable, "-m", "pip", "uninstall", "--yes", info.distribution]
    if subprocess.run(pip, check=False).returncode:  # noqa: S603
        raise click.ClickException(f"pip could not uninstall {info.distribution}")
    if signal_reload():
        click.echo("The running server is reloading its workers.")
    click.echo(f"Uninstalled {name}.")


@plugins_group.command("revision")
@click.argument("name", callback=_plugin_names)
@click.option("-m", "--message", required=True, help="What the migration does.")
@click.option("--empty", is_flag=True, help="Write an empty migration (no autogenerate).")
@with_appcontext
def revision_command(name: str, message: str, empty: bool) -> None:
    """Write a new migration for a plugin's models into its migrations/ folder (for plugin
    authors; compares the plugin's models with the database)."""
    from community.plugins.migrations import new_revision

    info = current_host().plugins[name]
    if info.path is None:
        raise click.ClickException(f"{name} has no folder")
    (info.path / "migrations").mkdir(exist_ok=True)
    new_revision(info, message, autogenerate=not empty)


@click.command("upgrade")
@with_appcontext
def upgrade_command() -> None:
    """Upgrade the database: core's tables, then every installed plugin's, then refresh
    the statistics the query planner chooses indexes by."""
    from flask_migrate import upgrade

    from community.maintenance import analyze_database
    from community.plugins.migrations import migrated_plugins, upgrade_plugin

    upgrade()
    plugins = migrated_plugins()
    with click.progressbar(
        plugins, label="Plugins", item_show_func=lambda info: info.name if info else None
    ) as bar:
        for info in bar:
            upgrade_plugin(info)
    analyze_database()


# Flask-Migrate's `db` commands, with `upgrade` replaced by one that also upgrades plugins,
# and `analyze`.
db_group = click.Group(
    "db",
    help="Database migrations (Alembic): upgrade, history, current, and more.",
    # Flask-Migrate's own group options and callback (--directory, -x), which its commands
    # read from `g`: without them `db current`, `db history` and the rest failed.
    params=flask_migrate_db.params,
    callback=flask_migrate_db.callback,
    commands={
        **flask_migrate_db.commands,
        "upgrade": upgrade_command,
        "analyze": analyze_command,
    },
)
