import subprocess
import sys
from pathlib import Path

pytest_plugins = ["community.testing"]

TRANSLATIONS = Path(__file__).resolve().parent.parent / "community" / "translations"


def pytest_sessionstart(session):
    """Compile the message catalogs when a .po is newer than its .mo (they are not committed;
    `make install` compiles them too)."""
    stale = [
        po
        for po in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")
        if not po.with_suffix(".mo").exists()
        or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
    ]
    if stale:
        pybabel = Path(sys.executable).with_name("pybabel")
        subprocess.run([str(pybabel), "-q", "compile", "-d", str(TRANSLATIONS)], check=True)
