"""The workflow settings: statuses and allowed moves, parsed and validated."""

from __future__ import annotations

import pytest
from community_ideation.workflow import DEFAULT_STATUSES, DEFAULT_TRANSITIONS, parse


def test_the_default_workflow():
    flow = parse(DEFAULT_STATUSES, DEFAULT_TRANSITIONS)
    assert [s.key for s in flow.statuses][:3] == ["new", "under_review", "planned"]
    assert flow.closed_keys == {"shipped", "declined", "duplicate"}
    assert flow.allowed("new", "planned")
    assert not flow.allowed("new", "shipped")
    assert flow.allowed("shipped", "duplicate")  # "* -> duplicate"
    assert "shipped" in [s.key for s in flow.next_statuses("in_progress")]


@pytest.mark.parametrize(
    ("statuses", "transitions", "message"),
    [
        ("new | New | #000000", "", "Line 1"),
        ("New | New | #000000 | open", "", "lowercase"),
        ("new | New | blue | open", "", "colour"),
        ("new | New | #000000 | maybe", "", "open"),
        ("new | New | #000000 | open\nnew | Again | #000000 | open", "", "twice"),
        ("", "", "at least one"),
        ("new | New | #000000 | open", "new -> shipped", "no status shipped"),
        ("new | New | #000000 | open", "new shipped", "from -> to"),
    ],
)
def test_bad_settings_say_what_is_wrong(statuses, transitions, message):
    with pytest.raises(ValueError, match=message):
        parse(statuses, transitions)


def test_the_admin_page_checks_moves_and_responses_against_the_statuses_saved_with_them(
    enable_plugin, create_user, client
):
    from community.plugins.settings import plugin_settings

    enable_plugin("ideation")
    create_user("admin", role="admin")
    client.login("admin")
    form = dict(plugin_settings("ideation"))
    form["statuses"] = "idea | Idea | #123456 | open\ndone | Done | #654321 | closed"
    form["transitions"] = "idea -> done, planned"
    refused = client.submit("/admin/plugins/ideation", form)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "Line 1: there is no status planned." in page
    assert "idea -&gt; done, planned" in page  # what was typed stays
    form["transitions"] = "idea -> done"
    form["response_required"] = "done, shipped"
    refused = client.submit("/admin/plugins/ideation", form)
    assert "There is no status shipped." in refused.get_data(as_text=True)
    form["response_required"] = "done"
    assert client.submit("/admin/plugins/ideation", form).status_code == 302
    assert plugin_settings("ideation")["transitions"] == "idea -> done"
