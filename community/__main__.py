"""``python -m community`` is the ``community`` command."""

from community.cli import main

main()
