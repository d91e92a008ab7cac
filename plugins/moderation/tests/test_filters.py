"""Filters: blocked, approval and replaced words; a newcomer's links; duplicates."""

import pytest
from community_moderation import filters
from sqlalchemy import select

from community.errors import Refused
from community.extensions import db
from community.plugins import Hold
from community.plugins.settings import save_plugin_settings
from community.topics.models import Post


def configure(**values):
    defaults = {"newcomer_days": 0, "duplicate_hours": 0}
    assert save_plugin_settings("moderation", {**defaults, **values}) == {}


@pytest.fixture
def site(enable_plugin, create_user, create_space, create_topic):
    enable_plugin("moderation")
    asker = create_user("asker")
    member = create_user("member")
    keeper = create_user("keeper")
    space = create_space("help", moderators=[keeper])
    topic = create_topic(asker, space, title="How do I reset my router?")
    return {"asker": asker, "member": member, "keeper": keeper, "space": space, "topic": topic}


def test_whole_words_only():
    assert filters.find_word("Buy CHEAP pills", ["cheap"]) == "CHEAP"
    assert filters.find_word("cheapest router", ["cheap"]) is None
    assert filters.find_word("this is a cheap-o router", ["cheap"]) == "cheap"
    assert filters.find_word("free money now", ["free money"]) == "free money"
    assert filters.find_word("nothing here", []) is None


def test_blocked_words_refuse_and_keep_the_text(client, site):
    configure(blocked_words="casino\nfree money")
    client.login("member")
    url = f"/t/{site['topic'].id}/reply"
    response = client.submit(url, {"body": "Try the Casino down the road."})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Your post contains a blocked word: “Casino”. Please rephrase it." in page
    assert "Try the Casino down the road." in page
    # In titles too.
    response = client.submit(
        "/s/help/new", {"kind": "question", "title": "Free money for routers", "body": "Hello."}
    )
    assert response.status_code == 400
    assert "“Free money”" in response.get_data(as_text=True)
    # Moderators of the space are not filtered.
    client.logout()
    client.login("keeper")
    assert client.submit(url, {"body": "Casino spam removed."}).status_code == 302


def test_blocked_words_apply_to_edits(site, create_post):
    from community.topics.services import edit_post

    post = create_post(site["member"], site["topic"], "A perfectly fine answer.")
    configure(blocked_words="casino")
    with pytest.raises(Refused):
        edit_post(site["member"], post, "A perfectly fine casino answer.")


def test_approval_words_hold_the_post(site, create_post):
    configure(approval_words="refund")
    post = create_post(site["member"], site["topic"], "I want a refund for this router.")
    assert post.held_at is not None
    assert post.held_reason == "Your post contains a word that a moderator must review first."


def test_an_edit_is_refused_only_when_it_adds_a_watched_word(site, create_post):
    from community.topics.services import edit_post

    post = create_post(site["member"], site["topic"], "I want a refund for this router.")
    configure(approval_words="refund\nlawyer")
    assert isinstance(
        filters.post_gate(
            user=site["member"],
            action="post.edit",
            space=site["space"],
            topic=site["topic"],
            post=post,
            title=None,
            body="I want a refund, and a lawyer.",
        ),
        Hold,
    )
    # Already there: fine.
    edit_post(site["member"], post, "I want a refund for this old router.")


def test_replaced_words_in_text_only(site, create_post):
    configure(replaced_words="darn = gosh\nheck")
    post = create_post(
        site["member"],
        site["topic"],
        "Darn, what the heck. [darn link](https://example.com/darn) `heck`",
    )
    html = post.body_html
    assert "gosh, what the ***" in html
    assert 'href="https://example.com/darn"' in html  # attributes untouched
    assert ">gosh link<" in html
    assert post.body_source.startswith("Darn")  # the source stays as written


def test_replacing_leaves_markup_alone():
    html = '<p title="heck">heck &amp; heck&amp;heck <a href="/heck">x</a></p>'
    pattern = filters._pattern(("heck",))
    assert pattern is not None
    save = filters._replacements
    filters._replacements = lambda: {"heck": "***"}
    try:
        out = filters.replace_watched_words(html)
    finally:
        filters._replacements = save
    assert out == '<p title="heck">*** &amp; ***&amp;*** <a href="/heck">x</a></p>'


def test_link_counting():
    assert filters.count_links("no links") == 0
    assert filters.count_links("see https://a.example and www.b.example") == 2
    assert filters.count_links("[one](https://a.example) and [two](/local)") == 2
    assert filters.count_links("![img](https://a.example/x.png) <https://c.example>") == 2


def test_newcomers_may_add_few_links(site, create_post):
    configure(newcomer_days=3, newcomer_max_links=1)
    body = "Look at https://a.example and [this](https://b.example)."
    with pytest.raises(Refused) as refused:
        create_post(site["member"], site["topic"], body)
    assert refused.value.message == "New members can add at most 1 link to a post."
    create_post(site["member"], site["topic"], "Only https://a.example here.")
    configure(newcomer_days=0, newcomer_max_links=1)
    create_post(site["member"], site["topic"], body)  # no longer a newcomer


def test_duplicates(site, create_post, create_topic):
    configure(duplicate_hours=24)
    text = "Hold the reset button for ten seconds."
    create_post(site["member"], site["topic"], text)
    other = create_topic(
        site["asker"], site["space"], title="Another router question", body="My modem blinks red."
    )
    with pytest.raises(Refused) as refused:
        create_post(site["member"], other, "  hold the RESET button   for ten seconds. ")
    assert refused.value.message.startswith(
        "You posted the same text a moment ago: “How do I reset my router?”."
    )
    # Short texts may be said twice; other members may say the same.
    create_post(site["member"], other, "Thanks!")
    create_post(site["member"], other, "Thanks!")
    create_post(site["asker"], other, text)
    # A deleted post does not count.
    from community.topics.services import delete_post

    first = db.session.scalars(
        select(Post).where(Post.author_id == site["member"].id, Post.body_source == text)
    ).one()
    delete_post(site["member"], first)
    create_post(site["member"], other, text)


def test_edits_are_not_duplicates(site, create_post):
    from community.topics.services import edit_post

    configure(duplicate_hours=24)
    post = create_post(site["member"], site["topic"], "Hold the reset button for ten seconds.")
    edit_post(site["member"], post, "Hold the reset button for ten seconds!")
