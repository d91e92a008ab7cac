"""App factory, configuration sources, themes, languages, rate limits, error pages."""

import pytest

from community import create_app
from community.extensions import db
from community.settings.service import save_settings


def test_config_precedence(tmp_path, monkeypatch, database_url):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("SITE_FLAVOUR = 'file'\nTOPICS_PER_PAGE = 7\n")
    monkeypatch.setenv("COMMUNITY_TOPICS_PER_PAGE", "9")
    monkeypatch.setenv("COMMUNITY_SITE_FLAVOUR", "env")
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "DATABASE_URL": database_url,
            "SITE_FLAVOUR": "arg",
        }
    )
    assert app.config["TOPICS_PER_PAGE"] == 9
    assert app.config["SITE_FLAVOUR"] == "arg"
    assert app.config["SECRET_KEY"]
    assert (instance / "secret_key").exists()
    # The same instance gives the same key to every process.
    again = create_app(
        {"TESTING": True, "INSTANCE_PATH": str(instance), "DATABASE_URL": database_url}
    )
    assert again.config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("COMMUNITY_DATABASE_URL", raising=False)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path)})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/community.db"
    with app.app_context():
        db.engine.dispose()


def test_postgres_urls_use_psycopg3(tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "DATABASE_URL": "postgresql://u@127.0.0.1/x",
        }
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg://")


def test_italian_from_browser_and_english_default(client, create_space):
    create_space("routers")
    page = client.get("/", headers={"Accept-Language": "it-IT,it;q=0.9"}).get_data(as_text=True)
    assert 'lang="it"' in page
    assert "Accedi" in page  # "Sign in"
    page = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert 'lang="en"' in page and "Sign in" in page


def test_theme_overrides_templates_by_path(app, client, tmp_path):
    themes = tmp_path / "themes"
    custom = themes / "midnight" / "templates"
    custom.mkdir(parents=True)
    (themes / "midnight" / "static").mkdir()
    (themes / "midnight" / "static" / "style.css").write_text("body{background:#000}")
    (custom / "error.html").write_text("MIDNIGHT {{ code }} {{ message }}")
    import shutil

    from community.config import PROJECT_ROOT

    shutil.copytree(PROJECT_ROOT / "themes" / "default", themes / "default")
    app.config["THEMES_PATH"] = str(themes)
    assert client.get("/nope").get_data(as_text=True).startswith("<!doctype html>")
    save_settings({"theme": "midnight"})
    assert client.get("/nope").get_data(as_text=True).startswith("MIDNIGHT 404")
    with client.get("/theme/style.css") as response:
        assert response.get_data(as_text=True) == "body{background:#000}"
    # Files the theme lacks come from the default theme.
    assert client.get("/").status_code == 200
    with client.get("/theme/app.js") as response:
        assert response.status_code == 200
    assert client.get("/theme/../setup.cfg").status_code == 404


def test_security_headers(client):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_json_errors_for_json_clients(client):
    response = client.get("/t/12345/x", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "error" in response.json


class TestRateLimits:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_WRITE": "2/minute"}

    def test_too_many_replies_get_429_and_change_nothing(
        self, client, create_user, create_space, create_topic
    ):
        asker = create_user("asker")
        create_user("helper")
        topic = create_topic(asker, create_space("routers"))
        client.login("helper")
        for i in range(2):
            response = client.submit(f"/t/{topic.id}/reply", {"body": f"Answer {i}"})
            assert response.status_code == 302
        response = client.submit(f"/t/{topic.id}/reply", {"body": "One too many"})
        assert response.status_code == 429
        assert "too often" in response.get_data(as_text=True)
        db.session.refresh(topic)
        assert topic.reply_count == 2


def test_healthz(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_cli_help_for_every_command(monkeypatch, tmp_path, database_url):
    from click.testing import CliRunner

    from community.cli import main

    monkeypatch.setenv("COMMUNITY_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("COMMUNITY_DATABASE_URL", database_url)
    commands = [
        ["--help"],
        ["users", "--help"],
        ["users", "create", "--help"],
        ["demo", "--help"],
        ["db", "--help"],
        ["db", "upgrade", "--help"],
        ["run", "--help"],
    ]
    for args in commands:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, (args, result.output)
        assert "Usage" in result.output


def test_cli_users_create(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "root",
            "--email",
            "root@example.com",
            "--password",
            "long enough pw",
            "--admin",
        ]
    )
    assert result.exit_code == 0, result.output
    from community.accounts.services import find_user_by_username

    user = find_user_by_username("root")
    assert user.is_admin and user.is_confirmed
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "ROOT",
            "--email",
            "x@example.com",
            "--password",
            "long enough pw",
        ]
    )
    assert result.exit_code != 0 and "taken" in result.output


def test_italian_pages_and_messages(client, create_user, create_space, create_topic, create_post):
    from community.topics.services import accept_answer

    asker = create_user("asker", locale="it")
    helper = create_user("helper")
    topic = create_topic(asker, create_space("routers"), title="Il router si riavvia di notte")
    accept_answer(asker, create_post(helper, topic))
    client.login("asker")
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "Risposta accettata" in page and "Esci" in page
    page = client.get("/s/routers").get_data(as_text=True)
    assert "Fai una domanda" in page
    response = client.submit("/s/routers/new", {"kind": "question", "title": "breve", "body": "x"})
    assert "Il titolo deve avere da 8 a 200 caratteri." in response.get_data(as_text=True)
