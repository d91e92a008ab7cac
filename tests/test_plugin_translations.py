"""Every bundled plugin with an Italian catalog translates every string it shows, with the
same placeholders (a singular may say "one" instead of the number)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
CATALOGS = sorted(ROOT.glob("plugins/*/*/translations/it/LC_MESSAGES/messages.po"))


def test_the_bundled_plugins_have_catalogs():
    names = {path.parents[4].name for path in CATALOGS}
    assert {"moderation", "gamification", "thanks"} <= names


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.parents[4].name)
def test_the_italian_catalog_covers_every_string(catalog, tmp_path):
    plugin = catalog.parents[4]
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(  # noqa: S603 - our own pybabel, fixed arguments
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=plugin,
        check=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with catalog.open("rb") as fh:
        messages = {m.id: m for m in read_po(fh, locale="it") if m.id and not m.fuzzy}

    def forms(message):
        return message.string if isinstance(message.string, tuple) else (message.string,)

    missing = sorted(str(m) for m in wanted if m not in messages or not all(forms(messages[m])))
    assert missing == []
    for msgid, message in messages.items():
        source = msgid if isinstance(msgid, tuple) else (msgid,)
        expected = set(PLACEHOLDER.findall(" ".join(source)))
        used = [set(PLACEHOLDER.findall(string)) for string in forms(message)]
        assert all(found <= expected for found in used), (msgid, forms(message))
        assert set().union(*used) == expected, (msgid, forms(message))
