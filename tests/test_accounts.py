import re

import pytest
from sqlalchemy import select

from community.accounts.models import User
from community.extensions import db


def register(
    client, username="alice", email="alice@example.com", password="a long password", confirm=None
):
    return client.submit(
        "/register",
        {
            "username": username,
            "email": email,
            "password": password,
            "confirm": confirm if confirm is not None else password,
        },
    )


def link_in(message) -> str:
    text = message.get_body(("plain",)).get_content()
    return re.search(r"https?://\S+", text).group(0)


def test_register_sends_confirmation_and_link_confirms_once(client, outbox, run_tasks):
    response = register(client)
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username_key == "alice"))
    assert user is not None and not user.is_confirmed
    assert user.password_hash.startswith("scrypt:")
    # The request queued the mail; the worker sends it.
    assert outbox == []
    run_tasks()
    assert len(outbox) == 1
    message = outbox[0]
    assert message["To"] == "alice@example.com"
    assert message.get_body(("html",)) is not None
    link = link_in(message)
    path = link.split("community.test", 1)[1]
    assert client.get(path).status_code == 302
    db.session.refresh(user)
    assert user.is_confirmed
    # Single use: the second visit is refused.
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "invalid, expired or was already used" in page


def test_confirmation_token_expires(app, client, outbox, run_tasks):
    register(client)
    run_tasks()
    path = link_in(outbox[0]).split("community.test", 1)[1]
    app.config["CONFIRM_TOKEN_MAX_AGE"] = -1
    client.get(path)
    assert not db.session.scalar(select(User)).is_confirmed


def test_register_bad_input_keeps_what_was_typed(client):
    response = register(client, username="al", email="not-an-email", password="short")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="al"' in page and 'value="not-an-email"' in page
    assert "aria-invalid" in page
    assert db.session.scalar(select(User)) is None


@pytest.mark.parametrize("name", ["Alice", "ALICE", "Ａｌｉｃｅ", "alice"])
def test_usernames_unique_after_normalisation(client, create_user, name):
    create_user("alice")
    response = register(client, username=name, email="other@example.com")
    assert response.status_code == 400
    assert "taken" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "name",
    [
        "p\u0430ypal",  # Cyrillic a in a Latin name
        "bob\u200b",  # zero-width space
        "ev\u202eil",  # right-to-left override
        "adm\u00adin",  # soft hyphen
        "a b c",  # space
        "<script>",  # punctuation
        "---",  # no letter
    ],
)
def test_bad_usernames_refused(client, name):
    response = register(client, username=name)
    assert response.status_code == 400
    assert db.session.scalar(select(User)) is None


def test_non_latin_single_script_username_allowed(client):
    assert register(client, username="Дмитрий").status_code == 302
    assert register(client, username="giulia.rossi", email="g@example.com").status_code == 302


def test_login_by_username_or_email_and_logout(client, create_user):
    create_user("bob", password="a long password")
    assert client.login("bob", "a long password").status_code == 302
    assert "Sign out" in client.get("/").get_data(as_text=True)
    client.logout()
    assert "Sign in" in client.get("/").get_data(as_text=True)
    assert client.login("BOB@example.com", "a long password").status_code == 302


def test_wrong_password_keeps_login_and_says_so(client, create_user):
    create_user("bob")
    response = client.submit("/login", {"login": "bob", "password": "nope nope nope"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Wrong username/email or password" in page and 'value="bob"' in page


def test_suspended_user_cannot_log_in(client, create_user):
    user = create_user("bob")
    user.active = False
    db.session.commit()
    response = client.submit("/login", {"login": "bob", "password": "correct horse battery"})
    assert response.status_code == 400
    assert "suspended" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "http://x@evil.example/",
        "https://evil.example",
        "javascript:alert(1)",
        "\\\\evil.example",
        "/%09/evil.example",
    ],
)
def test_next_only_redirects_on_site(client, create_user, target):
    create_user("bob")
    response = client.submit(
        f"/login?next={target}", {"login": "bob", "password": "correct horse battery"}
    )
    assert response.headers["Location"] == "/"


def test_next_local_path_is_kept(client, create_user):
    create_user("bob")
    response = client.submit(
        "/login?next=/s/routers?filter=ideas", {"login": "bob", "password": "correct horse battery"}
    )
    assert response.headers["Location"] == "/s/routers?filter=ideas"


def test_password_reset_single_use(client, create_user, outbox, run_tasks):
    create_user("bob")
    client.submit("/reset", {"login": "bob"})
    assert outbox == []
    run_tasks()
    assert len(outbox) == 1
    path = link_in(outbox[0]).split("community.test", 1)[1]
    response = client.submit(
        path, {"password": "brand new password", "confirm": "brand new password"}
    )
    assert response.status_code == 302
    client.logout()
    client.login("bob", "brand new password")
    client.logout()
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    assert "invalid, expired or was already used" in page
    response = client.submit(
        path, {"password": "another password!", "confirm": "another password!"}
    )
    assert response.status_code == 302
    client.login("bob", "brand new password")


def test_reset_for_unknown_account_says_the_same(client, outbox, run_tasks):
    response = client.submit("/reset", {"login": "nobody"}, follow_redirects=True)
    assert "If an account matches" in response.get_data(as_text=True)
    run_tasks()
    assert outbox == []


def test_settings_change_language(client, create_user):
    create_user("bob")
    client.login("bob")
    response = client.submit("/settings", {"bio": "Router fan", "locale": "it"})
    assert response.status_code == 302
    assert 'lang="it"' in client.get("/").get_data(as_text=True)


def test_profile_404_for_unknown_user(client):
    assert client.get("/u/nobody").status_code == 404


@pytest.mark.parametrize(
    "name,initials", [("giulia.rossi", "GR"), ("alex_878", "A"), ("Дмитрий", "Д"), ("x9z", "XZ")]
)
def test_avatar_initials_use_letters(name, initials):
    assert User(username=name, username_key=name.lower(), email="x").initials == initials
