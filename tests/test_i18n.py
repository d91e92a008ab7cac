"""Every user-facing string has an Italian translation, with the same placeholders."""

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "community" / "translations" / "it" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_italian_catalog_covers_every_string(tmp_path):
    pot = tmp_path / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
    )
    with pot.open("rb") as fh:
        wanted = {m.id for m in read_po(fh) if m.id}
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="it")
    translated = {}
    for message in catalog:
        if message.id and not message.fuzzy:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if all(strings):
                translated[message.id] = strings
    missing = sorted(str(m) for m in wanted - set(translated))
    assert missing == [], "untranslated (run the commands in README, Translations)"
    for msgid, strings in translated.items():
        source = msgid if isinstance(msgid, tuple) else (msgid,)
        expected = set(PLACEHOLDER.findall(" ".join(source)))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == expected, (msgid, string)
