"""The Alembic migrations build exactly the schema the models describe."""

import os
import uuid
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from community import create_app
from community.extensions import db
from community.plugins.migrations import upgrade_all
from community.testing import community_cli


@contextmanager
def empty_database(tmp_path):
    """A database of its own: a new SQLite file, or a new PostgreSQL database next to the
    test database when the suite runs on PostgreSQL."""
    base = os.environ.get("COMMUNITY_TEST_DATABASE_URL")
    if not base:
        yield "sqlite:///" + str(tmp_path / "migrations.db")
        return
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"community_migrations_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def migrated_app(tmp_path):
    with empty_database(tmp_path) as url:
        app = create_app(
            {"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance")}
        )
        with app.app_context():
            # Core and every installed plugin, as `community db upgrade` does.
            upgrade_all()
            yield app
            db.session.remove()
            db.engine.dispose()


def test_models_and_migrations_agree(migrated_app):
    """Core's and every installed plugin's models match their migrations (each plugin keeps
    its version in a table of its own, which no model describes)."""
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": False,
                "include_name": lambda name, type_, parents: (
                    not (type_ == "table" and name.startswith("alembic_version_"))
                ),
            },
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_downgrade_to_base_and_back(migrated_app):
    from community.plugins.migrations import downgrade_plugin, migrated_plugins

    for info in migrated_plugins():
        downgrade_plugin(info)
    downgrade(revision="base")
    with db.engine.connect() as conn:
        tables = set(db.inspect(conn).get_table_names())
    assert tables <= {"alembic_version"}
    upgrade_all()
    with db.engine.connect() as conn:
        assert "topics" in db.inspect(conn).get_table_names()


def test_db_upgrade_command(tmp_path):
    with empty_database(tmp_path) as url:
        app = create_app(
            {"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance")}
        )
        result = app.test_cli_runner().invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
        # Flask-Migrate's other commands work under core's `db` group too (Alembic prints
        # to the process's own stdout: a process of its own).
        cli = community_cli(url, str(tmp_path / "instance"))
        assert "(head)" in cli("db", "current")
        assert "(head)" in cli("db", "heads")
        with app.app_context():
            with db.engine.connect() as conn:
                assert "votes" in db.inspect(conn).get_table_names()
            db.engine.dispose()
