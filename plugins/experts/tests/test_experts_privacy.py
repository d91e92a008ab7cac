"""A public space's figures never count the questions of a private space inside it, unless the
viewer may see that space."""

from __future__ import annotations

from community_experts import metrics


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
