"""@mentions: linked in rendered posts, listed for notifications, suggested while typing."""

from __future__ import annotations

import unicodedata
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from community.extensions import db
from community.markdown import render_markdown, sanitize_html
from community.mentions import MAX_MENTIONS, MAX_SUGGESTIONS, mentioned_users
from community.security import username_problem
from community.topics import services
from community.topics.models import Post


class _Links(HTMLParser):
    """The mention links of some HTML, as (href, text) pairs, and every other link's text."""

    def __init__(self) -> None:
        super().__init__()
        self.mentions: list[tuple[str, str]] = []
        self.other_links: list[str] = []
        self._open: tuple[str | None, str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            attributes = dict(attrs)
            self._open = (attributes.get("class"), attributes.get("href") or "")
            self._text = ""

    def handle_data(self, data):
        if self._open is not None:
            self._text += data

    def handle_endtag(self, tag):
        if tag == "a" and self._open is not None:
            css_class, href = self._open
            if css_class == "mention":
                self.mentions.append((href, self._text))
            else:
                self.other_links.append(self._text)
            self._open = None


def mentions_in(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return parser.mentions


def render(source: str) -> str:
    return render_markdown(source, mentions=True)


@pytest.fixture
def people(create_user):
    return {name: create_user(name) for name in ("ann", "bob", "giulia.rossi")}


# --- rendering -------------------------------------------------------------------------------


def test_mention_links_the_profile(people):
    html = render("Thanks @ann, and @bob!")
    assert mentions_in(html) == [("/u/ann", "@ann"), ("/u/bob", "@bob")]
    assert "Thanks <a " in html and "</a>, and <a " in html and "</a>!" in html


@pytest.mark.parametrize(
    "source",
    [
        "Run `ping @ann` first.",
        "```\n@ann\n```",
        "    @ann in an indented code block",
        "[@ann](https://example.com/ann)",
        "[see @ann here](https://example.com/)",
        "<https://example.com/@ann>",
        "<ann@example.com>",
        "Write to ann@example.com or bob.smith@ann.example",
        "Follow @ann@example.social over there",
        "Install @ann/widgets from the registry",
        "https://example.com/@ann is a web address",
        r"A literal \@ann, escaped",
        "![@ann](https://example.com/ann.png)",
        "Email me@ann",
        "two at signs @@ann",
    ],
)
def test_no_mention_where_markdown_or_addresses_say_otherwise(people, source):
    html = render(source)
    assert mentions_in(html) == []
    assert "ann" in html
    assert mentioned_users(source) == []


@pytest.mark.parametrize("after", [".", ",", "!", "?", ":", ")", "-", "_", "...", "'s"])
def test_punctuation_after_a_name_is_not_part_of_it(people, after):
    html = render(f"(@ann{after} then)")
    assert mentions_in(html) == [("/u/ann", "@ann")]
    assert html.count("@ann") == 1


def test_names_with_dots_inside_and_emphasis_around(people):
    html = render("**@giulia.rossi.** and *@bob*")
    assert mentions_in(html) == [("/u/giulia.rossi", "@giulia.rossi"), ("/u/bob", "@bob")]
    assert "<strong><a " in html and "</a>.</strong>" in html
    assert "<em><a " in html


def test_mention_in_lists_quotes_headings_and_tables(people):
    source = "# Hi @ann\n\n> @bob said\n\n- @giulia.rossi\n\n| who |\n| --- |\n| @ann |\n"
    assert [href for href, _ in mentions_in(render(source))] == [
        "/u/ann",
        "/u/bob",
        "/u/giulia.rossi",
        "/u/ann",
    ]


def test_names_match_as_usernames_do_and_show_the_account_spelling(people, create_user):
    create_user("Zoë")
    html = render("@ANN @Giulia.Rossi @ZOË @zoe\u0308 @ann")
    assert mentions_in(html) == [
        ("/u/ann", "@ann"),
        ("/u/giulia.rossi", "@giulia.rossi"),
        ("/u/Zo%C3%AB", "@Zoë"),
        ("/u/Zo%C3%AB", "@Zoë"),
        ("/u/ann", "@ann"),
    ]


def test_unicode_usernames(create_user):
    omega = create_user("Ωμέγα")
    create_user("giulia")
    assert username_problem("Ωmega") is not None  # one script per name: no Greek-Latin mix
    decomposed = unicodedata.normalize("NFD", "@ωμέγα")
    html = render(f"Ciao @giulia e @Ωμέγα, {decomposed}.")
    assert mentions_in(html) == [
        ("/u/giulia", "@giulia"),
        ("/u/%CE%A9%CE%BC%CE%AD%CE%B3%CE%B1", "@Ωμέγα"),
        ("/u/%CE%A9%CE%BC%CE%AD%CE%B3%CE%B1", "@Ωμέγα"),
    ]
    assert mentioned_users("@ΩΜΈΓΑ") == [omega]


def test_unknown_and_suspended_accounts_stay_text(people):
    people["bob"].active = False
    db.session.commit()
    html = render("@nobody @bob @ann")
    assert mentions_in(html) == [("/u/ann", "@ann")]
    assert "@nobody" in html and "@bob" in html


def test_names_that_cannot_be_usernames_are_never_looked_up(people, count_queries):
    source = "@ab @1234 @-ann @a\u200bnn @<script>alert(1)</script> @" + "a" * 33
    with count_queries() as queries:
        html = render(source)
    assert len(queries) == 0
    assert mentions_in(html) == []
    assert "<script" not in html
    assert "@&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert username_problem("<script>") is not None


def test_html_in_a_post_around_a_mention_stays_text(people):
    html = render('@ann<script>alert(1)</script> @ann"onmouseover="x')
    assert mentions_in(html) == [("/u/ann", "@ann"), ("/u/ann", "@ann")]
    assert "<script" not in html
    # The quote ends the name: what follows is text after the link, not an attribute.
    assert '@ann</a>"onmouseover="x' in html


def test_only_the_first_twenty_names_are_looked_up(create_user, count_queries):
    assert MAX_MENTIONS == 20  # as the README and the plugin guide say
    users = [create_user(f"member{i:02d}") for i in range(MAX_MENTIONS + 1)]
    source = " ".join(f"@{user.username}" for user in users) + " and again @member00"
    with count_queries() as queries:
        html = render(source)
    assert len(queries) == 1
    linked = [text for _, text in mentions_in(html)]
    assert linked == [f"@{user.username}" for user in users[:MAX_MENTIONS]] + ["@member00"]
    assert f"@{users[-1].username}" in html  # as text


def test_unknown_names_count_towards_the_limit(people):
    unknown = " ".join(f"@ghost{i:02d}" for i in range(MAX_MENTIONS))
    assert mentions_in(render(f"{unknown} @ann")) == []
    assert mentions_in(render(f"@ann {unknown}")) == [("/u/ann", "@ann")]


def test_plain_rendering_links_nobody_and_asks_nothing(people, count_queries):
    with count_queries() as queries:
        html = render_markdown("Thanks @ann")
        render("No mention here, only ann@example.com")
    assert len(queries) == 0
    assert mentions_in(html) == []
    assert "Thanks @ann" in html


def test_sanitizer_keeps_the_mention_class_on_links_only():
    html = sanitize_html(
        '<a class="mention evil" href="/u/ann">@ann</a><p class="mention">x</p>'
        '<strong class="mention">y</strong><a class="other" href="/">z</a>'
    )
    assert '<a class="mention" href="/u/ann"' in html
    assert "<p>x</p>" in html and "<strong>y</strong>" in html
    assert 'class="other"' not in html and "evil" not in html


# --- mentioned_users -------------------------------------------------------------------------


def test_mentioned_users_in_order_of_first_mention_each_once(people):
    source = "@bob first, then `@giulia.rossi` in code, @ANN, @bob again, @giulia.rossi, @ann."
    assert mentioned_users(source) == [people["bob"], people["ann"], people["giulia.rossi"]]


def test_mentioned_users_leaves_out_unknown_and_suspended(people):
    people["ann"].active = False
    db.session.commit()
    assert mentioned_users("@ann @nobody @bob") == [people["bob"]]
    assert mentioned_users("no mentions at all") == []


def test_mentioned_users_at_most_twenty(create_user, count_queries):
    users = [create_user(f"member{i:02d}") for i in range(MAX_MENTIONS + 2)]
    source = "\n\n".join(f"Hello @{user.username}" for user in reversed(users))
    with count_queries() as queries:
        found = mentioned_users(source)
    assert len(queries) == 1
    assert found == list(reversed(users))[:MAX_MENTIONS]


# --- posts -----------------------------------------------------------------------------------


def test_posts_store_the_linked_html(people, create_space, create_topic, create_post):
    space = create_space("routers")
    topic = create_topic(people["ann"], space, body="Any idea, @bob?")
    opening = db.session.scalar(select(Post).where(Post.topic_id == topic.id, Post.is_opening))
    assert mentions_in(opening.body_html) == [("/u/bob", "@bob")]
    reply = create_post(people["bob"], topic, "Ask @Giulia.Rossi, she knows.")
    comment = create_post(people["ann"], topic, "Thanks @bob", parent=reply)
    assert mentions_in(reply.body_html) == [("/u/giulia.rossi", "@giulia.rossi")]
    assert mentions_in(comment.body_html) == [("/u/bob", "@bob")]
    assert reply.body_source == "Ask @Giulia.Rossi, she knows."


def test_an_edit_renders_the_mentions_again(people, create_space, create_topic, create_post):
    topic = create_topic(people["ann"], create_space("routers"))
    post = create_post(people["bob"], topic, "Ping @ann")
    services.edit_post(people["bob"], post, "Ping @giulia.rossi instead, not `@ann`")
    assert mentions_in(post.body_html) == [("/u/giulia.rossi", "@giulia.rossi")]


def test_mentions_show_on_the_topic_page(client, people, create_space, create_topic):
    topic = create_topic(people["ann"], create_space("routers"), body="Hello @bob")
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert ("/u/bob", "@bob") in mentions_in(page)


def test_post_forms_offer_the_autocomplete(client, people, create_space, create_topic):
    topic = create_topic(people["ann"], create_space("routers"))
    client.login("bob")
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    # The reply box and the comment box of the opening post.
    assert page.count('data-mention-suggest="/users/suggest"') == 2
    assert 'data-mention-label="People to mention"' in page


# --- the autocomplete ------------------------------------------------------------------------


@pytest.fixture
def named(create_user):
    names = ["admin", "Adele", "adam", "bob", "Ádám"]
    return {name: create_user(name) for name in names}


def suggest(client, q):
    response = client.get("/users/suggest", query_string={"q": q})
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/json"
    return response.get_json()


def test_suggest_needs_a_signed_in_user(client, named):
    response = client.get("/users/suggest?q=ad")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_suggest_matches_the_start_of_usernames_in_order(client, named):
    client.login("bob")
    found = suggest(client, "ad")
    assert [user["username"] for user in found] == ["adam", "Adele", "admin"]
    admin = named["admin"]
    assert found[-1] == {
        "username": "admin",
        "initials": admin.initials,
        "avatar_color": admin.avatar_color,
    }
    assert [user["username"] for user in suggest(client, "AD")] == [
        user["username"] for user in found
    ]
    assert [user["username"] for user in suggest(client, "ÁD")] == ["Ádám"]
    assert [user["username"] for user in suggest(client, "adm")] == ["admin"]
    assert suggest(client, "x") == []


def test_suggest_leaves_out_suspended_accounts_even_for_staff(client, named, create_user):
    named["adam"].active = False
    db.session.commit()
    create_user("staffer", staff=True, role="admin")
    client.login("staffer")
    assert "adam" not in [user["username"] for user in suggest(client, "ad")]


def test_suggest_offers_at_most_eight(client, create_user):
    assert MAX_SUGGESTIONS == 8
    for i in range(MAX_SUGGESTIONS + 3):
        create_user(f"sam{i:02d}")
    client.login("sam00")
    found = suggest(client, "sam")
    assert [user["username"] for user in found] == [f"sam{i:02d}" for i in range(MAX_SUGGESTIONS)]


@pytest.mark.parametrize("q", ["%", "_", "%a", "a%", "\\", "'", "*", "ad min", "@ad"])
def test_suggest_prefix_is_not_a_pattern(client, named, q):
    client.login("bob")
    assert suggest(client, q) == []


def test_suggest_underscore_matches_itself(client, named, create_user):
    create_user("ad_min")
    client.login("bob")
    assert [user["username"] for user in suggest(client, "ad_")] == ["ad_min"]


@pytest.mark.parametrize(
    "q", ["", " ", "a" * 33, "a" * 200, "<script>", "\u202e", "' OR 1=1 --", "ad\x00"]
)
def test_suggest_bad_input_never_fails(client, named, q):
    client.login("bob")
    response = client.get("/users/suggest", query_string={"q": q})
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.get_json() == []


def test_suggest_takes_one_query_whatever_it_finds(client, create_user, count_queries):
    for i in range(MAX_SUGGESTIONS + 2):
        create_user(f"sam{i:02d}")
    create_user("solo")
    client.login("solo")
    counts = {}
    for q in ("sam", "solo"):
        db.session.expire_all()
        with count_queries() as queries:
            suggest(client, q)
        counts[q] = len(queries)
        assert sum("LIKE" in statement.upper() for statement in queries.statements) == 1
    assert counts["sam"] == counts["solo"]


class TestSuggestRateLimit:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_SUGGEST": "2/minute"}

    def test_suggest_is_rate_limited(self, client, named):
        client.login("bob")
        assert [client.get("/users/suggest?q=ad").status_code for _ in range(3)] == [200, 200, 429]


class TestOutsideRequests:
    """A command or the worker renders without a request, and maybe without SERVER_NAME: the
    link is the same path."""

    @pytest.fixture
    def app_config(self):
        return {"SERVER_NAME": None}

    def test_links_are_paths_anywhere(self, app, people):
        assert mentions_in(render("@ann")) == [("/u/ann", "@ann")]
        with app.test_request_context("/", base_url="https://elsewhere.example"):
            assert mentions_in(render("@ann")) == [("/u/ann", "@ann")]
