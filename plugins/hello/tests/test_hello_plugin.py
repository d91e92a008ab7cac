"""The hello plugin, installed through its entry point like any third-party plugin, and tested
with the fixtures Community exports for plugin authors."""

from community_hello.models import Newcomer
from sqlalchemy import select

from community.extensions import db
from community.plugins import plugin_settings
from community.plugins.settings import save_plugin_settings


def test_discovered_through_its_entry_point_and_off_until_enabled(app, client, create_space):
    from community.plugins.host import current_host

    info = current_host().plugins["hello"]
    assert info.distribution == "community-hello"
    assert info.version == "1.0.0"
    create_space()
    assert client.get("/hello/newcomers").status_code == 404
    assert "hello-banner" not in client.get("/").get_data(as_text=True)


def test_banner_in_the_home_sidebar_follows_the_settings(app, client, create_space, enable_plugin):
    enable_plugin("hello")
    create_space()
    page = client.get("/").get_data(as_text=True)
    assert "hello-banner" in page
    assert "Ask your first question" in page
    assert "/plugins/hello/static/hello.css" in page
    css = client.get("/plugins/hello/static/hello.css")
    assert css.status_code == 200 and b".hello-banner" in css.data
    css.close()

    assert (
        save_plugin_settings("hello", {"message": "Ciao <b>a tutti</b>", "show_banner": True}) == {}
    )
    page = client.get("/").get_data(as_text=True)
    assert "Ciao &lt;b&gt;a tutti&lt;/b&gt;" in page  # escaped: a setting is text, not HTML

    save_plugin_settings("hello", {"message": "Hi", "show_banner": False})
    assert "hello-banner" not in client.get("/").get_data(as_text=True)


def test_settings_are_validated(app, enable_plugin):
    enable_plugin("hello")
    errors = save_plugin_settings("hello", {"message": "  ", "badge_days": 999})
    assert set(errors) == {"message", "badge_days"}
    assert plugin_settings("hello")["badge_days"] == 30  # nothing was stored


def test_first_topics_are_recorded_once_and_listed(
    app, client, create_user, create_space, create_topic, enable_plugin
):
    enable_plugin("hello")
    ann = create_user("ann")
    space = create_space()
    first = create_topic(ann, space, title="My very first question here")
    create_topic(ann, space, title="My second question on this site")
    rows = db.session.scalars(select(Newcomer)).all()
    assert [(row.user_id, row.topic_id) for row in rows] == [(ann.id, first.id)]
    page = client.get("/hello/newcomers").get_data(as_text=True)
    assert "My very first question here" in page
    assert "My second question" not in page


def test_private_first_topics_stay_private(
    app, client, create_user, create_space, create_topic, enable_plugin
):
    enable_plugin("hello")
    boss = create_user("boss", staff=True)
    create_topic(boss, create_space("secret", visibility="staff"), title="Secret plan")
    create_user("eve")
    client.login("eve")
    assert "Secret plan" not in client.get("/hello/newcomers").get_data(as_text=True)
    client.logout()
    client.login("boss")
    assert "Secret plan" in client.get("/hello/newcomers").get_data(as_text=True)


def test_newcomer_badge_next_to_the_name(
    app, client, create_user, create_space, create_topic, enable_plugin
):
    enable_plugin("hello")
    topic = create_topic(create_user("cleo"), create_space())
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "badge-newcomer" in page and "New here" in page
    save_plugin_settings("hello", {"badge_days": 0})
    assert "badge-newcomer" not in client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)


def test_italian_interface(app, client, create_space, enable_plugin):
    enable_plugin("hello")
    create_space()
    page = client.get("/", headers={"Accept-Language": "it"}).get_data(as_text=True)
    assert "Conosci i nuovi membri" in page
