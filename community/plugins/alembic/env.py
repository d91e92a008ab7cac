"""Alembic environment for a plugin's migrations (run by :mod:`community.plugins.migrations`).

Each plugin keeps its revisions in its own ``migrations/`` folder and its version in its own
table, ``alembic_version_<plugin>``, so plugins are upgraded, downgraded and removed without
touching core's history or each other's. Autogenerate looks only at the plugin's own tables:
those its models define (and, to drop them, tables named ``<plugin>_...`` no model defines).
"""

from __future__ import annotations

from alembic import context
from flask import current_app

from community.plugins.migrations import belongs_to, table_owners

config = context.config
plugin = config.attributes["plugin"]
owners = table_owners()
engine = current_app.extensions["migrate"].db.engine
target_metadata = current_app.extensions["migrate"].db.metadata


def include_name(name, type_, parent_names):
    """Tables found in the database: only the plugin's own."""
    if type_ == "table":
        return bool(name) and belongs_to(plugin, name, owners)
    return True


def include_object(obj, name, type_, reflected, compare_to):
    """Objects of the models: only those of the plugin's own tables."""
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    return bool(table) and belongs_to(plugin, table, owners)


def skip_empty_autogenerate(context, revision, directives):
    """`community plugins revision` writes nothing when the models match the database."""
    if config.attributes.get("autogenerate") and directives[0].upgrade_ops.is_empty():
        directives[:] = []
        print("No changes in the plugin's tables: no migration written.")


with engine.connect() as connection:
    if connection.dialect.name == "sqlite":
        # Batch migrations copy tables; SQLite must not check keys while they are copied.
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=f"alembic_version_{plugin}",
        include_name=include_name,
        include_object=include_object,
        render_as_batch=True,
        compare_type=True,
        process_revision_directives=skip_empty_autogenerate,
    )
    with context.begin_transaction():
        context.run_migrations()
