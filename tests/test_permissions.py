"""Private spaces never leak: pages, listings, counts and profiles."""

import pytest

from community.permissions import ACTIONS, can, visible_space_ids


@pytest.fixture
def world(create_user, create_space, create_topic):
    member, staff = create_user("member"), create_user("employee", staff=True)
    author = create_user("author", staff=True)
    public = create_space("public-space", title="Public space")
    members = create_space("beta", title="Beta program", visibility="members")
    lounge = create_space("lounge", title="Staff lounge", visibility="staff")
    # A public-looking child inside the staff space is still staff-only.
    inner = create_space("inner", title="Inner room", parent=lounge)
    topics = {
        "public": create_topic(author, public, title="Public question about routers"),
        "members": create_topic(author, members, title="Beta firmware question for members"),
        "staff": create_topic(author, lounge, title="Secret staff roadmap discussion"),
        "inner": create_topic(author, inner, title="Inner room secret question"),
    }
    return {
        "member": member,
        "staff": staff,
        "author": author,
        "public": public,
        "members": members,
        "lounge": lounge,
        "inner": inner,
        "topics": topics,
    }


def titles_on(client, url):
    return client.get(url).get_data(as_text=True)


def test_visitor_sees_only_public(client, world):
    page = titles_on(client, "/")
    assert world["topics"]["public"].title in page
    for key in ("members", "staff", "inner"):
        assert world["topics"][key].title not in page
    assert "Beta program" not in page and "Staff lounge" not in page
    for slug in ("beta", "lounge", "inner"):
        assert client.get(f"/s/{slug}").status_code == 404
    for key in ("members", "staff", "inner"):
        topic = world["topics"][key]
        assert client.get(f"/t/{topic.id}/{topic.slug}").status_code == 404


def test_member_sees_members_space_not_staff(client, world):
    client.login("member")
    page = titles_on(client, "/")
    assert world["topics"]["members"].title in page
    assert world["topics"]["staff"].title not in page
    assert world["topics"]["inner"].title not in page
    assert client.get("/s/lounge").status_code == 404
    assert client.get("/s/inner").status_code == 404


def test_staff_sees_everything(client, world):
    client.login("employee")
    page = titles_on(client, "/")
    for key in ("public", "members", "staff", "inner"):
        assert world["topics"][key].title in page
    assert client.get("/s/inner").status_code == 200


def test_profile_hides_private_topics_and_counts(client, world):
    page = titles_on(client, "/u/author?tab=questions")
    assert world["topics"]["public"].title in page
    assert world["topics"]["staff"].title not in page
    assert world["topics"]["members"].title not in page
    from community.topics.queries import user_stats

    client.get("/")  # a request context exists for the caches
    from community.accounts.models import AnonymousUser

    assert user_stats(AnonymousUser(), world["author"])["questions"] == 1
    assert user_stats(world["staff"], world["author"])["questions"] == 4


def test_unanswered_count_on_home_ignores_private(client, world):
    page = titles_on(client, "/")
    assert "1 questions wait" in page or "1 question" in page


def test_posting_in_a_space_one_may_not_see_is_404(client, world):
    client.login("member")
    response = client.submit(
        "/s/lounge/new", {"kind": "question", "title": "Sneaky question here", "body": "hello"}
    )
    assert response.status_code == 404
    topic = world["topics"]["staff"]
    assert client.submit(f"/t/{topic.id}/reply", {"body": "sneaky"}).status_code == 404


def test_space_moderator_of_staff_space_sees_it(client, world, create_user):
    from community.spaces.services import add_moderator

    mod = create_user("roommod")
    add_moderator(world["inner"], mod)
    client.login("roommod")
    assert client.get("/s/inner").status_code == 200


def test_visible_space_ids_goes_through_can(world):
    from community.accounts.models import AnonymousUser

    ids = visible_space_ids(AnonymousUser())
    assert ids == [world["public"].id]
    assert all(
        can("space.view", s, world["staff"])
        for s in (world["public"], world["members"], world["lounge"], world["inner"])
    )


def test_unknown_action_is_a_programming_error(app):
    assert "topic.view" in ACTIONS
    with pytest.raises(ValueError):
        can("topic.fly")


def test_admin_pages_need_admin(client, world, create_user):
    create_user("boss", role="admin")
    assert client.get("/admin/").status_code == 302  # to the login page
    client.login("member")
    for url in ("/admin/", "/admin/spaces", "/admin/users", "/admin/settings", "/admin/spaces/new"):
        assert client.get(url).status_code == 403
    assert client.submit("/admin/settings", {"site_name": "Hacked"}).status_code == 403
    client.logout()
    client.login("boss")
    assert client.get("/admin/").status_code == 200


def test_tag_page_lists_only_visible_topics(client, world, create_topic):
    create_topic(world["author"], world["public"], title="Public mesh question here", tags="mesh")
    create_topic(world["author"], world["lounge"], title="Secret mesh plans of staff", tags="mesh")
    page = client.get("/tags/mesh").get_data(as_text=True)
    assert "Public mesh question here" in page
    assert "Secret mesh plans of staff" not in page
    assert client.get("/tags/no-such-tag").status_code == 404
    client.login("employee")
    assert "Secret mesh plans of staff" in client.get("/tags/mesh").get_data(as_text=True)
