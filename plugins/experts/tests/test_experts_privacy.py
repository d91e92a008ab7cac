"""A public space's figures never count the questions of a private space inside it, unless the
viewer may see that space; the plugin's writes are rate-limited like core's."""

from __future__ import annotations

import pytest
from community_experts import metrics
from community_experts.models import Grant
from sqlalchemy import func, select

from community.extensions import db


def test_metrics_of_a_public_space_leave_out_a_private_space_inside_it(
    enable_plugin, create_user, create_space, create_topic, create_post, client
):
    enable_plugin("experts")
    boss, member = create_user("boss", staff=True), create_user("member")
    help_space = create_space("help", title="Help")
    internal = create_space("internal", title="Internal", visibility="staff", parent=help_space)
    create_topic(member, help_space, title="A public question about routers")
    for n in range(3):
        topic = create_topic(boss, internal, title=f"An internal question number {n}")
        create_post(create_user(f"colleague{n}", staff=True), topic, f"Internal answer {n}")

    assert metrics.space_metrics(help_space).questions == 1
    assert metrics.space_metrics(help_space, viewer=boss).questions == 4
    assert metrics.space_metrics_json(help_space)["questions"] == 1
    assert client.get("/experts/s/help/metrics.json").get_json()["questions"] == 1
    client.login("boss")
    assert client.get("/experts/s/help/metrics.json").get_json()["questions"] == 4


class TestWritesAreRateLimited:
    @pytest.fixture
    def app_config(self):
        return {"RATELIMIT_ENABLED": True, "RATELIMIT_WRITE": "2/minute"}

    def test_a_third_write_in_a_minute_gets_429_and_changes_nothing(
        self, enable_plugin, create_user, create_space, client
    ):
        enable_plugin("experts")
        create_user("boss", role="admin")
        for name in ("ann", "bob", "cid"):
            create_user(name)
        create_space("routers")
        client.login("boss")
        answers = [
            client.submit("/experts/s/routers/grant", {"username": name, "reason": "Engineer"})
            for name in ("ann", "bob", "cid")
        ]
        assert [r.status_code for r in answers] == [302, 302, 429]
        assert db.session.scalar(select(func.count()).select_from(Grant)) == 2
