"""Every string the moderation plugin shows has an Italian translation with the same
placeholders, and Italian members read the plugin's pages in Italian."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

PLUGIN = Path(__file__).resolve().parent.parent
CATALOG = PLUGIN / "community_moderation" / "translations" / "it" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_the_italian_catalog_covers_every_string(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(  # noqa: S603 - our own pybabel, fixed arguments
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=PLUGIN,
        check=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with CATALOG.open("rb") as fh:
        catalog = {m.id: m for m in read_po(fh, locale="it") if m.id and not m.fuzzy}
    missing = sorted(
        str(m)
        for m in wanted
        if m not in catalog
        or not all(
            catalog[m].string if isinstance(catalog[m].string, tuple) else (catalog[m].string,)
        )
    )
    assert missing == []
    for msgid, message in catalog.items():
        source = msgid if isinstance(msgid, tuple) else (msgid,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set(PLACEHOLDER.findall(" ".join(source)))
        # A singular may say "one" instead of the number; together the forms use them all.
        used = [set(PLACEHOLDER.findall(string)) for string in strings]
        assert all(found <= expected for found in used), (msgid, strings)
        assert set().union(*used) == expected, (msgid, strings)


def test_the_queue_speaks_italian(client, create_user, create_space, enable_plugin):
    enable_plugin("moderation")
    create_space("routers")
    create_user("mod", role="moderator", locale="it")
    client.login("mod")
    page = client.get("/moderation/").get_data(as_text=True)
    assert "Coda di revisione" in page and "Segnalati" in page
