import subprocess
import sys
from pathlib import Path

# The fixtures come from community.testing, a pytest plugin that installing Community registers.

ROOT = Path(__file__).resolve().parent.parent
CATALOGS = [ROOT / "community" / "translations", *ROOT.glob("plugins/*/*/translations")]


def pytest_sessionstart(session):
    """Compile the message catalogs when a .po is newer than its .mo (they are not committed;
    `make install` compiles them too)."""
    pybabel = Path(sys.executable).with_name("pybabel")
    for catalogs in CATALOGS:
        stale = [
            po
            for po in catalogs.glob("*/LC_MESSAGES/messages.po")
            if not po.with_suffix(".mo").exists()
            or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime
        ]
        if stale:
            subprocess.run([str(pybabel), "-q", "compile", "-d", str(catalogs)], check=True)
