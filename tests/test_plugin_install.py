"""`community plugins install` and `uninstall` against a running `community serve`.

A small plugin package is written to a temporary folder and pip-installed into this
environment by the command under test; gunicorn runs several workers, which start at once
with the new plugin after the reload. The package is uninstalled again whatever happens.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from community.testing import community_cli
from tests.test_migrations import empty_database

DISTRIBUTION = "community-probe-plugin"
DEADLINE = 60.0

PYPROJECT = f"""
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "0.3.0"
description = "A probe plugin for the install test."

[project.entry-points."community.plugins"]
probe = "community_probe"

[tool.setuptools]
packages = ["community_probe"]

[tool.setuptools.package-data]
community_probe = ["migrations/*.py"]
"""

PLUGIN = '''
"""The probe: one page, one table."""
from flask import Blueprint
from sqlalchemy import func, select
from sqlalchemy.orm import Mapped, mapped_column

from community.extensions import Base, db
from community.plugins import hookimpl

bp = Blueprint("probe", __name__)


class ProbeItem(Base):
    __tablename__ = "probe_items"
    id: Mapped[int] = mapped_column(primary_key=True)


@bp.route("/probe")
def page():
    count = db.session.scalar(select(func.count()).select_from(ProbeItem))
    return f"probe ok, {count} items"


@hookimpl
def community_app_created(app):
    app.register_blueprint(bp)
'''

MIGRATION = '''
"""probe_items"""
import sqlalchemy as sa
from alembic import op

revision = "probe0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("probe_items", sa.Column("id", sa.Integer(), primary_key=True))


def downgrade():
    op.drop_table("probe_items")
'''


def _write_package(folder: Path) -> Path:
    package = folder / "community_probe"
    (package / "migrations").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (package / "__init__.py").write_text(textwrap.dedent(PLUGIN))
    (package / "migrations" / "0001_probe_items.py").write_text(textwrap.dedent(MIGRATION))
    return folder


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(url: str) -> int | None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def _wait_for(url: str, status: int, server: subprocess.Popen, log: Path) -> None:
    """Poll until ``url`` answers ``status`` (workers are being replaced meanwhile)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if _status(url) == status:
            return
        if server.poll() is not None:
            pytest.fail(f"the server exited:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)  # polling interval, not a timing assumption
    pytest.fail(f"{url} did not answer {status} in {DEADLINE}s:\n{log.read_text()[-3000:]}")


def _pip_uninstall() -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "uninstall", "--yes", DISTRIBUTION],
        capture_output=True,
        check=False,
    )


def test_install_migrate_reload_and_uninstall(tmp_path):
    package = _write_package(tmp_path / "probe")
    with empty_database(tmp_path) as url:
        community = community_cli(url, str(tmp_path / "instance"), SECRET_KEY="install-test")
        env = community.env

        community("db", "upgrade")
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log = tmp_path / "server.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "community", "serve", "--port", str(port), "--workers", "3"],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        engine = create_engine(url)
        try:
            _wait_for(base + "/healthz", 200, server, log)
            assert _status(base + "/probe") == 404

            output = community("plugins", "install", str(package))
            assert "The running server is reloading its workers." in output
            # Three new workers start at once with the new plugin; each answers.
            _wait_for(base + "/probe", 200, server, log)
            for _ in range(6):
                assert _status(base + "/probe") == 200
            assert "probe_items" in inspect(engine).get_table_names()
            listing = community("plugins", "list")
            assert "probe" in listing and "0.3.0" in listing and "enabled" in listing

            output = community("plugins", "uninstall", "probe", "--drop-data", "--yes")
            assert "Uninstalled probe" in output
            _wait_for(base + "/probe", 404, server, log)
            engine.dispose()
            assert "probe_items" not in inspect(engine).get_table_names()
            assert "probe" not in community("plugins", "list")
            assert "Traceback" not in log.read_text()
        finally:
            _pip_uninstall()
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            engine.dispose()
