"""The test suite itself stays runnable as one command."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_test_files_have_unique_names():
    """pytest imports test files by their base name (rootdir mode): two `test_review.py` in
    different plugins' folders stop the whole run at collection."""
    names = [path.name for path in ROOT.glob("plugins/*/tests/test_*.py")]
    names += [path.name for path in (ROOT / "tests").rglob("test_*.py")]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
