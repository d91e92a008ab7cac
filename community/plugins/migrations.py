"""Plugin migrations: each plugin with models ships Alembic revisions in its ``migrations/``
folder, kept in a version table of its own (``alembic_version_<plugin>``).

``community db upgrade`` upgrades core and then every installed plugin; enabling a plugin
upgrades it first.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from community.extensions import Base, db
from community.plugins.host import PluginInfo, current_host

ENV_FOLDER = Path(__file__).resolve().parent / "alembic"


def version_table(name: str) -> str:
    return f"alembic_version_{name}"


def alembic_config(info: PluginInfo) -> Config:
    if info.migrations_folder is None:
        raise LookupError(f"plugin {info.name} has no migrations/ folder")
    config = Config()
    config.set_main_option("script_location", str(ENV_FOLDER))
    config.set_main_option("version_locations", str(info.migrations_folder))
    config.set_main_option("path_separator", "os")
    config.attributes["plugin"] = info.name
    return config


def migrated_plugins() -> list[PluginInfo]:
    """Installed plugins that ship migrations (whether enabled or not)."""
    return [
        info
        for info in current_host().listed()
        if info.load_error is None and info.migrations_folder is not None
    ]


def upgrade_plugin(info: PluginInfo, revision: str = "heads") -> None:
    if info.migrations_folder is not None:
        command.upgrade(alembic_config(info), revision)


def downgrade_plugin(info: PluginInfo) -> None:
    """Undo all of the plugin's migrations (its tables are dropped) and forget its version."""
    if info.migrations_folder is None:
        return
    command.downgrade(alembic_config(info), "base")
    with db.engine.begin() as conn:
        if inspect(conn).has_table(version_table(info.name)):
            conn.execute(text(f"DROP TABLE {version_table(info.name)}"))


def new_revision(info: PluginInfo, message: str, autogenerate: bool = True) -> None:
    config = alembic_config(info)
    config.attributes["autogenerate"] = autogenerate
    command.revision(config, message=message, autogenerate=autogenerate)


def migration_status(info: PluginInfo) -> tuple[str | None, str | None]:
    """The plugin's (current revision in the database, newest revision it ships)."""
    if info.migrations_folder is None:
        return None, None
    head = ScriptDirectory.from_config(alembic_config(info)).get_current_head()
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": version_table(info.name)})
        current = context.get_current_revision()
    return current, head


def upgrade_all() -> list[str]:
    """Upgrade core, then every installed plugin; returns the plugins upgraded."""
    from flask_migrate import upgrade

    upgrade()
    done = []
    for info in migrated_plugins():
        upgrade_plugin(info)
        done.append(info.name)
    return done


def table_owners() -> dict[str, str]:
    """Which plugin each mapped table belongs to: the plugin whose package defines its model."""
    host = current_host()
    prefixes = [
        (info.module_prefix, name) for name, info in host.plugins.items() if info.module_prefix
    ]
    owners = {}
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__
        for prefix, name in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                for table in mapper.tables:
                    owners[table.name] = name
    return owners


def belongs_to(plugin: str, table: str, owners: dict[str, str]) -> bool:
    """A table is the plugin's when the plugin's models define it; a table no model defines
    any more (to be dropped) is the plugin's when it is named after the plugin."""
    if table in owners:
        return owners[table] == plugin
    return table.startswith(plugin + "_") and table not in db.metadata.tables


def is_plugin_table(name: str) -> bool:
    """Tables core's own migrations leave alone: plugins' tables and version tables."""
    if name.startswith("alembic_version_"):
        return True
    owners = table_owners()
    return any(belongs_to(plugin, name, owners) for plugin in current_host().plugins)
