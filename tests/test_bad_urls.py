"""Odd addresses and parameters get a 4xx page or a redirect, never a server error."""

import pytest

URLS = [
    "/u/%00",
    "/u/" + "x" * 500,
    "/u/%E2%80%AE",
    "/s/..%2F..%2Fetc",
    "/s/" + "a" * 300,
    "/t/0",
    "/t/99999999999999999999",
    "/t/1/%00",
    "/p/0/revisions",
    "/p/-1/edit",
    "/confirm/garbage",
    "/confirm/" + "a" * 2000,
    "/reset/garbage",
    "/tags/%00",
    "/tags/" + "z" * 300,
    "/?page=0",
    "/?page=-1",
    "/?page=99999999999",
    "/?filter=%00",
    "/s/routers?sort=%27",
    "/login?next=%00",
    "/login?next=" + "/" * 5000,
    "/theme/%2e%2e/%2e%2e/setup.cfg",
    "/admin/users?q=%00",
    "/u/anna?tab=%27%22",
]


@pytest.mark.parametrize("url", URLS)
def test_no_server_error_for_odd_urls(client, create_space, create_user, url):
    create_space("routers")
    create_user("anna")
    response = client.get(url)
    assert response.status_code < 500, url
    response.close()


@pytest.mark.parametrize("url", URLS[:12])
def test_no_server_error_for_odd_urls_signed_in(client, create_space, create_user, url):
    create_space("routers")
    create_user("anna", role="admin")
    client.login("anna")
    response = client.get(url)
    assert response.status_code < 500, url
    response.close()


@pytest.mark.parametrize(
    "url,data",
    [
        (
            "/admin/spaces/new",
            {
                "title": "X",
                "slug": "x",
                "parent_id": "abc",
                "visibility": "public",
                "default_kind": "question",
            },
        ),
        (
            "/admin/spaces/new",
            {
                "title": "X",
                "slug": "x",
                "parent_id": "99999999999",
                "visibility": "public",
                "default_kind": "question",
            },
        ),
        ("/admin/users/1", {"role": "admin\x00", "active": "y"}),
        ("/admin/settings", {"site_name": "x" * 10_000, "theme": "../../etc"}),
        ("/login", {"login": "\x00" * 300, "password": "y" * 300}),
        ("/register", {"username": "\u202eevil", "email": "a@b", "password": "x", "confirm": "x"}),
        ("/s/routers/new", {"kind": "poll", "title": "A fine title here", "body": "text"}),
        ("/settings", {"locale": "klingon", "bio": "x"}),
    ],
)
def test_no_server_error_for_odd_form_data(client, create_space, create_user, url, data):
    create_space("routers")
    create_user("anna", role="admin")
    if url not in ("/login", "/register"):
        client.login("anna")
    response = client.submit(url, data)
    assert 400 <= response.status_code < 500, (url, response.status_code)


def test_invalid_utf8_form_body(client):
    token = client.csrf_token()
    response = client.post(
        "/login",
        data=f"csrf_token={token}&login=%ED%A0%80%FF&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "query", ["slug=x", "topic_id=7", "_external=1&_scheme=https", "page=2&_anchor=x"]
)
def test_query_strings_cannot_steer_redirects_or_links(
    client, create_space, create_user, create_topic, query
):
    """Query arguments named like the route's own or like url_for's options (``_external``)
    once reached url_for: a 500, or an address on another host."""
    topic = create_topic(create_user("anna"), create_space("routers"))
    response = client.get(f"/t/{topic.id}/wrong-slug?{query}")
    assert response.status_code == 301
    location = response.headers["Location"]
    assert location.startswith(("/t/", f"http://community.test/t/{topic.id}/{topic.slug}"))
    assert f"/t/{topic.id}/{topic.slug}" in location
    page = client.get(f"/s/routers?{query}").get_data(as_text=True)
    assert "https://" not in page.split("<main", 1)[1].split("</main>", 1)[0]
