"""Merging duplicates: a voter of both counts once, followers move, the duplicate stays
readable with its status and a link to the original."""

from __future__ import annotations

import pytest
from community_ideation import duplicates, team
from community_ideation.models import Duplicate

from community.errors import Refused
from community.extensions import db
from community.notifications.service import is_following
from community.topics import services
from community.topics.queries import opening_post


def test_a_duplicate_gives_its_votes_once_and_its_followers(
    enable_plugin, create_user, create_space, create_topic, client
):
    enable_plugin("ideation")
    admin, pm = create_user("admin", role="admin"), create_user("product")
    ann, bob = create_user("ann"), create_user("bob")
    voters = [create_user(f"voter{n}") for n in range(3)]
    space = create_space("ideas", default_kind="idea")
    team.add_member(admin, space, pm)
    original = create_topic(ann, space, kind="idea", title="Export my data as CSV")
    duplicate = create_topic(bob, space, kind="idea", title="A CSV export of my data")
    for voter in voters:
        services.cast_vote(voter, opening_post(duplicate), 1)
    services.cast_vote(voters[0], opening_post(original), 1)

    with pytest.raises(Refused):
        duplicates.mark_duplicate(ann, duplicate, original)  # a member may not
    assert duplicates.mark_duplicate(pm, duplicate, original) == 2
    db.session.expire_all()
    assert (original.score, duplicate.score) == (3, 0)
    assert duplicate.status == "duplicate"
    assert all(is_following(v, "topic", original.id) for v in voters)
    assert db.session.get(Duplicate, duplicate.id).target_id == original.id
    page = client.get(f"/t/{duplicate.id}/{duplicate.slug}").get_data(as_text=True)
    assert f"/t/{original.id}/{original.slug}" in page  # the official response links it
    with pytest.raises(Refused):
        duplicates.mark_duplicate(pm, duplicate, original)  # once
