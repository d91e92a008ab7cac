"""The plugin platform: state in the database, admin pages, settings, fault isolation,
templates and migrations."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

from community import create_app
from community.extensions import db
from community.plugins import SLOTS
from community.plugins.host import current_host, state_key
from community.settings.service import stored_settings
from community.testing import community_cli
from tests.plugins import recorder

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def app_config():
    return {"PLUGINS": ["tests.plugins.recorder", "tests.plugins.broken"]}


@pytest.fixture(autouse=True)
def _clear_calls():
    recorder.calls.clear()


@pytest.fixture
def admin(create_user, client):
    user = create_user("root", role="admin")
    client.login("root")
    return user


def _names():
    return [name for name, _ in recorder.calls]


# --- state -----------------------------------------------------------------------------------


def test_disabling_makes_hooks_slots_routes_and_templates_inert(
    client, admin, create_user, create_space, create_topic
):
    space = create_space()
    topic = create_topic(create_user("asker"), space)
    assert "topic_created" in _names()
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "Recorded topic" in page
    assert client.get("/admin/plugins/recorder/pages/").status_code == 200

    response = client.submit("/admin/plugins/recorder/disable")
    assert response.status_code == 302
    assert stored_settings()[state_key("recorder", "enabled")] is False
    recorder.calls.clear()
    create_topic(create_user("other"), space)
    assert _names() == []  # no listener ran
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "Recorded topic" not in page  # no slot fragment
    assert client.get("/admin/plugins/recorder/pages/").status_code == 404  # no route

    client.submit("/admin/plugins/recorder/enable")
    assert "Recorded topic" in client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)


def test_disabled_plugin_templates_and_static_files_are_not_found(app, client, enable_plugin):
    from flask import render_template_string
    from jinja2 import TemplateNotFound

    with app.test_request_context("/"), pytest.raises(TemplateNotFound):
        render_template_string('{% include "hello/banner.html" %}')
    assert client.get("/plugins/hello/static/hello.css").status_code == 404
    enable_plugin("hello")
    with app.test_request_context("/"):
        html = render_template_string('{% include "hello/banner.html" %}', message="Hi there")
    assert "Hi there" in html
    response = client.get("/plugins/hello/static/hello.css")
    assert response.status_code == 200
    response.close()
    assert client.get("/plugins/hello/static/../__init__.py").status_code == 404
    assert client.get("/plugins/nope/static/x.css").status_code == 404


def test_a_theme_overrides_a_plugin_template(app, tmp_path, client, enable_plugin, create_space):
    from community.settings.service import save_settings

    theme = tmp_path / "themes" / "brand" / "templates" / "hello"
    theme.mkdir(parents=True)
    (theme / "banner.html").write_text("<p class='brand-banner'>{{ message }} (brand)</p>")
    (tmp_path / "themes" / "default").symlink_to(Path(app.config["THEMES_PATH"]) / "default")
    app.config["THEMES_PATH"] = str(tmp_path / "themes")
    enable_plugin("hello")
    create_space()
    save_settings({"theme": "brand"})
    page = client.get("/").get_data(as_text=True)
    assert "brand-banner" in page and "hello-banner" not in page


def test_another_process_sees_a_change_on_its_next_request(
    app, client, database_url, tmp_path, enable_plugin, create_space
):
    """The state lives in the database: a `community plugins disable` run in a separate
    process is seen here without a restart, and so is enabling it again."""
    create_space()
    enable_plugin("hello")
    assert client.get("/hello/newcomers").status_code == 200
    community = community_cli(database_url, str(tmp_path / "other"))
    db.session.remove()  # SQLite: leave no transaction open while the other process writes

    assert "Disabled hello" in community("plugins", "disable", "hello")
    assert client.get("/hello/newcomers").status_code == 404
    assert "hello-banner" not in client.get("/").get_data(as_text=True)
    community("plugins", "enable", "hello")
    assert client.get("/hello/newcomers").status_code == 200
    listing = community("plugins", "list")
    assert "hello" in listing and "enabled" in listing


def test_entry_point_plugins_start_disabled_and_config_plugins_enabled(app):
    host = current_host()
    assert host.plugins["hello"].distribution == "community-hello"
    assert not host.is_enabled("hello")
    assert host.is_enabled("recorder")


def test_a_misspelt_hook_or_a_failing_start_leaves_the_plugin_out_loudly(
    database_url, tmp_path, caplog
):
    """One broken plugin must not take the site down: it is left out, logged with its name,
    shown as "cannot be loaded", and refuses to be enabled."""
    from community.plugins.services import enable_plugin

    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "INSTANCE_PATH": str(tmp_path),
            "PLUGINS": ["tests.plugins.typo", "tests.plugins.badstart", "tests.plugins.recorder"],
        }
    )
    with app.app_context():
        host = current_host()
        assert "community_topic_craeted: no such Community hook" in host.plugins["typo"].load_error
        assert "no licence key" in host.plugins["badstart"].load_error
        assert not host.pm.is_registered(host.plugins["typo"].module or object())
        assert host.pm.get_plugin("typo") is None and host.pm.get_plugin("badstart") is None
        assert host.is_enabled("recorder")  # the others load as usual
        with pytest.raises(RuntimeError, match="cannot be loaded"):
            enable_plugin("typo")
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        assert client.get("/badstart").status_code == 404  # added before it failed: inert
        db.session.remove()
        db.engine.dispose()
    assert "plugin typo could not be loaded" in caplog.text


def test_every_slot_a_template_names_exists():
    import re

    named = set()
    for path in (ROOT / "themes").rglob("*.html"):
        named.update(re.findall(r"slot\('([^']+)'", path.read_text()))
    assert named and named <= SLOTS


# --- the admin page --------------------------------------------------------------------------


def test_admin_page_lists_plugins_with_what_they_add(client, admin):
    page = client.get("/admin/plugins/").get_data(as_text=True)
    assert "hello" in page and "1.0.0" in page
    assert "Welcomes newcomers" in page
    assert "The Community developers" in page
    assert "recorder" in page
    detail = client.get("/admin/plugins/hello").get_data(as_text=True)
    assert "community_template_slot" in detail and "community_topic_created" in detail
    assert "/hello/newcomers" in detail
    assert "Banner message" in detail  # the generated settings form
    assert client.get("/admin/plugins/nope").status_code == 404


def test_enable_from_the_admin_page(client, admin, create_space):
    create_space()
    assert client.get("/hello/newcomers").status_code == 404
    assert client.submit("/admin/plugins/hello/enable").status_code == 302
    assert client.get("/hello/newcomers").status_code == 200
    assert "hello-banner" in client.get("/").get_data(as_text=True)


def test_settings_form_validates_and_keeps_what_was_typed(client, admin):
    response = client.submit(
        "/admin/plugins/recorder",
        {"greeting": "A greeting far too long for it", "limit": "12", "color": "red"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A greeting far too long for it" in page
    assert 'value="12"' in page
    assert state_key("recorder", "settings") not in stored_settings()

    response = client.submit(
        "/admin/plugins/recorder",
        {"greeting": "Ciao", "limit": "7", "loud": "y", "color": "red"},
    )
    assert response.status_code == 302
    from community.plugins import plugin_settings

    assert plugin_settings("recorder") == {
        "greeting": "Ciao",
        "limit": 7,
        "loud": True,
        "color": "red",
    }

    response = client.submit(
        "/admin/plugins/recorder", {"greeting": "Hi", "limit": "3", "color": "green"}
    )
    assert response.status_code == 400
    assert plugin_settings("recorder")["color"] == "red"


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/admin/plugins/"),
        ("get", "/admin/plugins/hello"),
        ("post", "/admin/plugins/hello"),
        ("post", "/admin/plugins/hello/enable"),
        ("post", "/admin/plugins/recorder/disable"),
        ("post", "/admin/plugins/recorder/clear"),
        ("get", "/admin/plugins/recorder/pages/"),  # a plugin's own admin page (admin_blueprint)
    ],
)
def test_non_admins_are_refused_and_nothing_changes(client, create_user, method, url):
    create_user("member")
    create_user("mod", role="moderator")

    def state():
        # The broken plugin's slot errors are recorded as pages render: not a change.
        return {k: v for k, v in stored_settings().items() if not k.endswith(".error")}

    before = state()
    for who in ("member", "mod"):
        client.login(who)
        if method == "get":
            response = client.get(url)
        else:
            response = client.submit(url, {"greeting": "Hacked"})
        assert response.status_code == 403, who
        client.logout()
    visitor = client.get(url) if method == "get" else client.submit(url, {"greeting": "Hacked"})
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
    db.session.remove()
    assert state() == before
    assert not current_host().is_enabled("hello")


def test_plugin_admin_actions_need_the_csrf_token(client, admin):
    response = client.post("/admin/plugins/hello/enable")
    assert response.status_code == 400
    assert not current_host().is_enabled("hello")


# --- fault isolation -------------------------------------------------------------------------


def test_a_failing_listener_and_slot_show_on_the_admin_page(
    client, admin, create_user, create_space, create_topic
):
    space = create_space()
    create_topic(create_user("asker"), space)  # the broken plugin raises in this listener
    assert client.get("/").status_code == 200  # ... and in every slot: the page renders
    page = client.get("/admin/plugins/").get_data(as_text=True)
    row = page[page.index('id="plugin-broken"') :][:2000]
    assert "Failing" in row and "exploded" in row
    detail = client.get("/admin/plugins/broken").get_data(as_text=True)
    assert "slot exploded" in detail or "listener exploded" in detail
    # The failure is recorded in the database, where every process's admin page reads it.
    assert stored_settings()[state_key("broken", "error")]["message"].startswith("RuntimeError")
    client.submit("/admin/plugins/broken/clear")
    assert state_key("broken", "error") not in stored_settings()


class TestGates:
    @pytest.fixture
    def app_config(self):
        return {"PLUGINS": ["tests.plugins.brokengate"]}

    def test_a_raising_gate_blocks_the_write_and_shows_as_failing(
        self, client, create_user, create_space
    ):
        create_user("root", role="admin")
        create_user("writer")
        create_space("routers")
        client.login("writer")
        response = client.submit(
            "/s/routers/new",
            {"kind": "question", "title": "This will explode, right?", "body": "explode"},
        )
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "cannot be saved right now" in page
        assert "This will explode, right?" in page  # what was typed is kept
        client.logout()
        client.login("root")
        row = client.get("/admin/plugins/").get_data(as_text=True)
        row = row[row.index('id="plugin-brokengate"') :][:2000]
        assert "Failing" in row and "gate exploded" in row


# --- migrations ------------------------------------------------------------------------------


def test_enabling_runs_the_plugin_migrations_and_dropping_removes_them(tmp_path):
    from community.plugins.migrations import migration_status, upgrade_all
    from community.plugins.services import drop_plugin_data, enable_plugin, get_plugin
    from tests.test_migrations import empty_database

    with empty_database(tmp_path) as url:
        app = create_app(
            {"TESTING": True, "DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "instance")}
        )
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()  # core only
            assert "hello_newcomers" not in inspect(db.engine).get_table_names()
            enable_plugin("hello")
            assert "hello_newcomers" in inspect(db.engine).get_table_names()
            current, head = migration_status(get_plugin("hello"))
            assert current == head is not None
            drop_plugin_data("hello")
            tables = inspect(db.engine).get_table_names()
            assert "hello_newcomers" not in tables and "alembic_version_hello" not in tables
            assert state_key("hello", "enabled") not in stored_settings()
            assert "hello" in upgrade_all()  # `community db upgrade` brings it back
            assert "hello_newcomers" in inspect(db.engine).get_table_names()
            db.session.remove()
            db.engine.dispose()


class TestUnloadable:
    @pytest.fixture
    def app_config(self):
        return {"PLUGINS": ["tests.plugins.unloadable", "tests.plugins.wrapper"]}

    def test_the_site_starts_and_the_admin_page_says_why(self, client, admin, create_space):
        create_space()
        assert client.get("/").status_code == 200
        host = current_host()
        assert "some_missing_dependency" in host.plugins["unloadable"].load_error
        assert "wrapper" in host.plugins["wrapper"].load_error
        page = client.get("/admin/plugins/").get_data(as_text=True)
        row = page[page.index('id="plugin-unloadable"') :][:1500]
        assert "Cannot be loaded" in row
        detail = client.get("/admin/plugins/unloadable").get_data(as_text=True)
        assert "some_missing_dependency" in detail
        response = client.submit("/admin/plugins/unloadable/enable")
        assert response.status_code == 302
        assert not host.is_enabled("unloadable")


class TestSessionBreaker:
    """A plugin whose query fails in the database: the session is rolled back and the request
    goes on (on PostgreSQL a failed statement aborts the whole transaction)."""

    @pytest.fixture
    def app_config(self):
        return {"PLUGINS": ["tests.plugins.sessionbreaker"]}

    def test_listener_slot_and_filter_failures_leave_a_usable_session(
        self, client, create_user, create_space, create_topic, create_post
    ):
        asker = create_user("asker")
        topic = create_topic(asker, create_space())
        answer = create_post(create_user("helper"), topic, "breakfilter: try this")
        assert answer.body_html.startswith("<p>breakfilter")  # the filter was skipped
        client.login("asker")
        response = client.submit(f"/p/{answer.id}/accept")
        assert response.status_code == 302
        page = client.get(response.headers["Location"], follow_redirects=True)
        assert page.status_code == 200
        assert "Answer accepted" in page.get_data(as_text=True)
        db.session.remove()
        from community.topics.models import Topic

        assert db.session.get(Topic, topic.id).accepted_answer_id == answer.id


def test_badges_of_every_name_on_a_page_come_from_one_call(
    client, create_user, create_space, create_topic, create_post
):
    asker = create_user("asker", staff=True)
    topic = create_topic(asker, create_space("routers"))
    for name in ("ann", "bob", "cid"):
        create_post(create_user(name), topic)
    recorder.calls.clear()
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    badge_calls = [call for name, call in recorder.calls if name == "user_badges"]
    # With the space the page is about, for badges that belong to it ("Expert · Routers").
    assert badge_calls == [{"users": ["ann", "asker", "bob", "cid"], "space": "routers"}]
    # Core's staff badge first, then the plugin's.
    assert page.index("badge-staff") < page.index("badge-recorded")
    assert page.count("badge-recorded") == 1
    # A page about no one space says so.
    recorder.calls.clear()
    client.get("/u/asker")
    badge_calls = [call for name, call in recorder.calls if name == "user_badges"]
    assert badge_calls == [{"users": ["asker"], "space": None}]


def test_a_failure_cleared_elsewhere_is_recorded_again_at_once(client, create_space):
    from community.settings.service import delete_settings

    create_space()
    client.get("/")  # the broken plugin's slots raise: recorded
    assert state_key("broken", "error") in stored_settings()
    delete_settings([state_key("broken", "error")])  # as another process's "Clear" does
    client.get("/")  # the same failure again, well within the throttle's minute
    db.session.remove()
    assert state_key("broken", "error") in stored_settings()


def test_a_plugins_home_page_is_a_link_only_when_it_is_a_web_address(client, admin):
    info = current_host().plugins["recorder"]
    info.homepage = "javascript:alert(1)"
    page = client.get("/admin/plugins/recorder").get_data(as_text=True)
    assert "javascript:alert(1)" in page and 'href="javascript:' not in page
    info.homepage = "https://example.com/recorder"
    page = client.get("/admin/plugins/recorder").get_data(as_text=True)
    assert 'href="https://example.com/recorder"' in page


def test_badges_of_the_wrong_shape_are_left_out_and_recorded(
    client, create_user, create_space, create_topic, caplog
):
    topic = create_topic(create_user("asker"), create_space())
    response = client.get(f"/t/{topic.id}/{topic.slug}")
    assert response.status_code == 200
    assert "Wrong shape" not in response.get_data(as_text=True)
    assert "badge-recorded" in response.get_data(as_text=True)  # the other plugin's badges stay
    assert "plugin broken failed in community_user_badges" in caplog.text


def test_a_check_with_two_parameters_sees_the_settings_before_it(app):
    from community.plugins import Setting

    def at_least_low(value, earlier):
        return None if value >= earlier["low"] else f"below {earlier['low']}"

    def alone(value):
        return None if value else "empty"

    high = Setting("high", "High", 5, kind="integer", validate=at_least_low)
    with app.test_request_context():
        assert high.clean("3", {"low": 4}) == (3, "below 4")
        assert high.clean("4", {"low": 4}) == (4, None)
        assert Setting("name", "Name", "x", validate=alone).clean("", {"low": 4}) == ("", "empty")
