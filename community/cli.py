"""The ``community`` command line: ``community --help`` lists every command."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from community.app import create_app


def _make_app() -> Flask:
    return create_app()


@click.group(cls=FlaskGroup, create_app=_make_app, add_version_option=True)
def main() -> None:
    """Community: a self-hosted brand community (Q&A, ideas, plugins).

    Configuration comes from instance/config.py and COMMUNITY_* environment variables.
    """


@click.group("users")
def users_group() -> None:
    """Manage user accounts."""


@users_group.command("create")
@click.option("--username", prompt=True, help="The new user's name.")
@click.option("--email", prompt=True, help="The new user's email address.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="The new user's password (prompted when omitted).",
)
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--moderator", is_flag=True, help="Make the user a global moderator.")
@click.option("--staff", is_flag=True, help="Mark the user as staff (employee).")
@with_appcontext
def users_create(
    username: str, email: str, password: str, admin: bool, moderator: bool, staff: bool
) -> None:
    """Create a confirmed account, e.g. the first administrator."""
    from community.accounts.services import register_user
    from community.errors import Refused

    role = "admin" if admin else "moderator" if moderator else "member"
    if len(password) < 10:
        raise click.BadParameter("use at least 10 characters", param_hint="--password")
    try:
        user = register_user(
            username,
            email,
            password,
            role=role,
            is_staff=staff,
            confirmed=True,
            send_confirmation=False,
        )
    except Refused as refusal:
        raise click.ClickException(refusal.message) from None
    click.echo(f"Created {user.role} {user.username} <{user.email}>")


@click.command("demo")
@click.option("--users", "n_users", default=60, show_default=True, help="How many members.")
@click.option("--topics", "n_topics", default=300, show_default=True, help="How many topics.")
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same data).")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
@click.option(
    "--enable-plugin",
    "plugins",
    multiple=True,
    metavar="NAME",
    help="Enable this installed plugin with the demo (repeatable); it may add demo data.",
)
@with_appcontext
def demo_command(
    n_users: int, n_topics: int, seed: int, if_empty: bool, plugins: tuple[str, ...]
) -> None:
    """Fill the database with demo content in English and Italian.

    Creates the demo admin (admin / community-admin), a moderator, staff and members,
    a tree of spaces, questions with answers and accepted answers, ideas with votes.
    Then enables the plugins named with --enable-plugin, and every enabled plugin adds its
    own demo data (community_demo_generated).
    """
    from community.demo import database_has_users, generate_demo
    from community.plugins import fire
    from community.plugins.services import enable_plugin

    if if_empty and database_has_users():
        click.echo("The database already has users; no demo content added.")
        return
    summary = generate_demo(n_users=n_users, n_topics=n_topics, seed=seed, echo=click.echo)
    click.echo(summary)
    for name in plugins:
        try:
            enable_plugin(name)
        except (LookupError, RuntimeError) as exc:
            raise click.ClickException(f"cannot enable plugin {name}: {exc}") from None
        click.echo(f"Enabled plugin {name}")
    fire("community_demo_generated", seed=seed)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, help="Worker processes.")
@click.option("--threads", default=4, show_default=True, help="Threads per worker.")
@with_appcontext
def serve_command(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the site with gunicorn (several workers; for production).

    Its process id is kept in instance/server.pid: `community plugins install` sends it
    SIGHUP, and gunicorn replaces its workers gracefully so that they load the new plugin.
    """
    import os
    import sys

    from flask import current_app

    from community.plugins.services import SERVER_PID_FILE

    pid_file = os.path.join(current_app.instance_path, SERVER_PID_FILE)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--pid",
        pid_file,
        "--access-logfile",
        "-",
        "community.wsgi:app",
    ]
    # The environment (COMMUNITY_* settings) passes on to gunicorn and its workers.
    os.execv(sys.executable, argv)  # noqa: S606


@click.command("worker")
@click.option("--threads", default=2, show_default=True, help="Tasks run at the same time.")
@click.option("--once", is_flag=True, help="Run the tasks waiting now, then stop.")
@with_appcontext
def worker_command(threads: int, once: bool) -> None:
    """Run background tasks: sending mail, search index updates (and, later, webhooks).

    Keep one running next to the web server (`make run` starts one): without it no mail goes
    out and the search index falls behind. The queue is TASKS_URL:
    a SQLite file in the instance folder by default, or Redis for workers on several hosts.
    Stop it with Ctrl-C (or SIGINT): it finishes the tasks it is running first.
    """
    import logging

    from community.tasks import task_queue

    queue = task_queue()
    queue.register_all()
    if once:
        click.echo(f"Ran {queue.run_pending()} tasks.")
        return
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    click.echo(f"Worker: {threads} threads, queue {queue.url}")
    consumer = queue.huey.create_consumer(
        workers=threads,
        worker_type="thread",
        periodic=True,
        # Poll an idle SQLite queue at least every second (Redis blocks instead of polling).
        initial_delay=0.05,
        max_delay=1.0,
    )
    consumer.run()


def register_commands(app: Flask) -> None:
    from community.mail.cli import mail_group
    from community.notifications.cli import notifications_group
    from community.plugins.cli import db_group, plugins_group
    from community.search.cli import search_group

    app.cli.add_command(users_group)
    app.cli.add_command(demo_command)
    app.cli.add_command(serve_command)
    app.cli.add_command(plugins_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(search_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(notifications_group)
    # Replaces Flask-Migrate's group: its `upgrade` also upgrades every plugin.
    app.cli.add_command(db_group)
