import pytest
from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db
from community.settings.service import site_settings
from community.spaces.models import Space, SpaceModerator


@pytest.fixture
def admin_client(client, create_user):
    create_user("boss", role="admin", staff=True)
    client.login("boss")
    return client


def space_form(**overrides):
    data = {
        "title": "Routers",
        "slug": "routers",
        "description": "All about routers",
        "parent_id": "0",
        "visibility": "public",
        "default_kind": "question",
    }
    data.update(overrides)
    return data


def test_create_edit_and_nest_spaces(admin_client):
    response = admin_client.submit("/admin/spaces/new", space_form())
    assert response.status_code == 302
    routers = db.session.scalar(select(Space).where(Space.slug == "routers"))
    response = admin_client.submit(
        "/admin/spaces/new",
        space_form(
            title="Mesh Wi-Fi", slug="mesh", parent_id=str(routers.id), visibility="members"
        ),
    )
    assert response.status_code == 302
    mesh = db.session.scalar(select(Space).where(Space.slug == "mesh"))
    assert mesh.parent_id == routers.id and mesh.visibility == "members"
    page = admin_client.get("/admin/spaces").get_data(as_text=True)
    assert "Routers" in page and "Mesh Wi-Fi" in page
    # A space cannot be moved inside its own child.
    response = admin_client.submit(
        f"/admin/spaces/{routers.id}", space_form(parent_id=str(mesh.id))
    )
    assert response.status_code == 400
    assert "inside itself" in response.get_data(as_text=True)
    db.session.refresh(routers)
    assert routers.parent_id is None


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"slug": "Not A Slug!"}, "lowercase letters"),
        ({"title": ""}, "This field is required"),
        ({"visibility": "everyone"}, "Not a valid choice"),
    ],
)
def test_bad_space_input_keeps_what_was_typed(admin_client, overrides, message):
    response = admin_client.submit("/admin/spaces/new", space_form(**overrides))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert "All about routers" in page
    assert db.session.scalar(select(Space)) is None


def test_duplicate_slug_refused(admin_client):
    admin_client.submit("/admin/spaces/new", space_form())
    response = admin_client.submit("/admin/spaces/new", space_form(title="Other"))
    assert response.status_code == 400
    assert "already uses that address" in response.get_data(as_text=True)


def test_reorder_spaces(admin_client, create_space):
    a, b = create_space("alpha"), create_space("beta")
    assert admin_client.submit(f"/admin/spaces/{b.id}/move/up").status_code == 302
    page = admin_client.get("/").get_data(as_text=True)
    assert page.index("Beta") < page.index("Alpha")
    db.session.refresh(a)
    db.session.refresh(b)
    assert b.position < a.position


def test_space_moderators(admin_client, create_space, create_user):
    space = create_space("routers")
    helper = create_user("helper")
    response = admin_client.submit(f"/admin/spaces/{space.id}/moderators", {"username": "HELPER"})
    assert response.status_code == 302
    assert db.session.get(SpaceModerator, (space.id, helper.id)) is not None
    assert "helper" in admin_client.get("/s/routers").get_data(as_text=True)
    admin_client.submit(f"/admin/spaces/{space.id}/moderators/{helper.id}/remove")
    assert db.session.get(SpaceModerator, (space.id, helper.id)) is None
    response = admin_client.submit(
        f"/admin/spaces/{space.id}/moderators", {"username": "ghost"}, follow_redirects=True
    )
    assert "No user is called ghost" in response.get_data(as_text=True)


def test_change_role_and_staff_flag(admin_client, create_user):
    member = create_user("member")
    response = admin_client.submit(
        f"/admin/users/{member.id}", {"role": "moderator", "is_staff": "y", "active": "y"}
    )
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.role == "moderator" and member.is_staff and member.active
    response = admin_client.submit(f"/admin/users/{member.id}", {"role": "pope", "active": "y"})
    assert response.status_code == 400
    db.session.refresh(member)
    assert member.role == "moderator"


def test_admin_cannot_demote_self(admin_client):
    boss = db.session.scalar(select(User).where(User.username_key == "boss"))
    response = admin_client.submit(f"/admin/users/{boss.id}", {"role": "member", "active": "y"})
    assert response.status_code == 400
    db.session.refresh(boss)
    assert boss.role == "admin"


def test_user_search(admin_client, create_user):
    create_user("giulia")
    create_user("marco")
    page = admin_client.get("/admin/users?q=giu").get_data(as_text=True)
    assert "giulia" in page and "marco" not in page
    assert admin_client.get("/admin/users?q=%25_%5C").status_code == 200


def test_site_settings(admin_client):
    response = admin_client.submit(
        "/admin/settings",
        {
            "site_name": "Acme Community",
            "logo_text": "Acme",
            "tagline": "Help each other",
            "theme": "default",
            "default_locale": "it",
        },
    )
    assert response.status_code == 302
    assert site_settings()["site_name"] == "Acme Community"
    assert "<title>Acme Community</title>" in admin_client.get("/").get_data(as_text=True)
    response = admin_client.submit(
        "/admin/settings",
        {
            "site_name": "",
            "logo_text": "X",
            "tagline": "Typed tagline",
            "theme": "nope",
            "default_locale": "en",
        },
    )
    assert response.status_code == 400
    assert "Typed tagline" in response.get_data(as_text=True)
