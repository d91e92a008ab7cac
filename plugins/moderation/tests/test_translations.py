"""Italian moderators read the plugin's pages in Italian (the catalog's coverage is checked
for every bundled plugin by tests/test_plugin_translations.py)."""


def test_the_queue_speaks_italian(client, create_user, create_space, enable_plugin):
    enable_plugin("moderation")
    create_space("routers")
    create_user("mod", role="moderator", locale="it")
    client.login("mod")
    page = client.get("/moderation/").get_data(as_text=True)
    assert "Coda di revisione" in page and "Segnalati" in page
