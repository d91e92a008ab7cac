"""Unit checks of the security helpers, independent of pages."""

import pytest

from community.markdown import render_markdown
from community.security import normalize_username, safe_next_url, username_problem


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "http://x@evil.example/",
        "https://evil.example",
        "javascript:alert(1)",
        "evil.example",
        "\\\\evil.example",
        "/\u200e/evil.example",
        "",
        None,
    ],
)
def test_safe_next_url_refuses_other_sites(target):
    assert safe_next_url(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/", "/s/routers", "/t/1/x?page=2#post-3", "/u/anna"])
def test_safe_next_url_keeps_local_paths(target):
    assert safe_next_url(target) == target


def test_username_normalisation():
    assert normalize_username("Ａｌｉｃｅ") == normalize_username("ALICE") == "alice"
    assert normalize_username("Straße") == normalize_username("STRASSE")


@pytest.mark.parametrize(
    "name", ["anna", "Giulia_Rossi", "dmitri.k", "Дмитрий", "user-42", "明日香"]
)
def test_good_usernames(name):
    assert username_problem(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "p\u0430ypal",
        "\u0440aypal",
        "bob\u200b",
        "ev\u202eil",
        "ab",
        "x" * 33,
        " anna",
        "anna ",
        "an na",
        "_anna",
        "anna.",
        "12345",
        "an\u0000na",
        "ann\u0301\u0430",
    ],
)
def test_bad_usernames(name):
    assert username_problem(name) is not None


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "![x](javascript:alert(1))",
        '<a href="http://x" onclick="alert(1)">x</a>',
        "<iframe src=//evil></iframe>",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "<svg/onload=alert(1)>",
    ],
)
def test_markdown_renders_html_inert(source):
    html = render_markdown(source)
    lowered = html.lower()
    assert "<script" not in lowered
    # Raw HTML is shown as text (escaped), never as elements with handlers.
    assert " onerror=" not in lowered.replace("&lt;img src=x onerror=", "")
    assert "<iframe" not in lowered and "<svg" not in lowered and '<img src="x"' not in lowered
    assert 'href="javascript' not in lowered and 'src="javascript' not in lowered
    assert 'href="data:' not in lowered


def test_markdown_features_survive_sanitizer():
    html = render_markdown(
        "# Title\n\n**bold** *it* `code` ~~old~~\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```\nconfig\n```\n\n[link](https://example.com)"
    )
    for fragment in (
        "<h1>",
        "<strong>bold</strong>",
        "<em>it</em>",
        "<code>code</code>",
        "<s>old</s>",
        "<li>a</li>",
        "<table>",
        "<pre><code>config",
        'rel="nofollow ugc noopener"',
    ):
        assert fragment in html


def test_an_excerpt_keeps_characters_as_written_and_pages_escape_them_once(
    client, create_user, create_space, create_topic, create_post
):
    from community.markdown import plain_excerpt

    assert plain_excerpt("WAN IP `10.0.0.1 <- private` & *more*") == (
        "WAN IP 10.0.0.1 <- private & more"
    )
    assert plain_excerpt("<script>alert(1)</script> hi") == "<script>alert(1)</script> hi"
    author = create_user("ann")
    topic = create_topic(
        author,
        create_space(),
        title="Double NAT on my router",
        body="It says `<- private address` & then nothing.",
    )
    page = client.get(f"/t/{topic.id}/{topic.slug}").get_data(as_text=True)
    assert "&amp;lt;" not in page and "&amp;amp;" not in page
    assert 'content="It says &lt;- private address &amp; then nothing."' in page
