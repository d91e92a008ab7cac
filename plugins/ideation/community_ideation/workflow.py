"""The idea workflow: the statuses an idea may have and the moves allowed between them, both
site settings that an administrator edits as text.

Statuses, one per line: ``key | Name | #colour | open`` (or ``closed``: voting stops and the
votes return to the members' budgets). Transitions, one per line: ``from -> to, to, ...``;
``* -> duplicate`` allows a move from every status.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from flask_babel import gettext as _

KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")

DEFAULT_STATUSES = """\
new | New | #5b6472 | open
under_review | Under review | #8a5a00 | open
planned | Planned | #1d5bb8 | open
in_progress | In progress | #6b3fa0 | open
shipped | Shipped | #18673a | closed
declined | Declined | #a12b2b | closed
duplicate | Duplicate | #5b6472 | closed"""

DEFAULT_TRANSITIONS = """\
new -> under_review, planned, declined
under_review -> planned, declined, new
planned -> in_progress, shipped, declined, under_review
in_progress -> shipped, planned, declined
shipped -> in_progress
declined -> under_review
* -> duplicate"""


@dataclass(frozen=True)
class Status:
    key: str
    name: str
    colour: str
    closed: bool

    @property
    def label(self) -> str:
        """The name in the reader's language: the default statuses' names are translated;
        names an administrator typed are shown as typed."""
        return _(self.name)


@dataclass(frozen=True)
class Workflow:
    statuses: tuple[Status, ...]
    moves: frozenset[tuple[str, str]]

    def status(self, key: str | None) -> Status | None:
        return next((s for s in self.statuses if s.key == key), None)

    def allowed(self, current: str | None, new: str) -> bool:
        return (current or "", new) in self.moves or ("*", new) in self.moves

    def next_statuses(self, current: str | None) -> list[Status]:
        return [s for s in self.statuses if s.key != current and self.allowed(current, s.key)]

    @property
    def closed_keys(self) -> frozenset[str]:
        return frozenset(s.key for s in self.statuses if s.closed)


def parse_statuses(text: str) -> tuple[Status, ...]:
    """The statuses of the setting; :class:`ValueError` saying which line is wrong."""
    statuses: list[Status] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 4:
            raise ValueError(
                _("Line %(n)d: write “key | Name | #colour | open or closed”.", n=number)
            )
        key, name, colour, state = parts
        if not KEY_RE.fullmatch(key):
            raise ValueError(
                _("Line %(n)d: the key is a lowercase word of letters, digits and _.", n=number)
            )
        if not name or len(name) > 40:
            raise ValueError(_("Line %(n)d: the name has 1 to 40 characters.", n=number))
        if not COLOUR_RE.fullmatch(colour):
            raise ValueError(_("Line %(n)d: the colour is written like #1d5bb8.", n=number))
        if state not in ("open", "closed"):
            raise ValueError(_("Line %(n)d: the last part is “open” or “closed”.", n=number))
        if any(s.key == key for s in statuses):
            raise ValueError(_("Line %(n)d: the key %(key)s is there twice.", n=number, key=key))
        statuses.append(Status(key, name, colour.lower(), state == "closed"))
    if not statuses:
        raise ValueError(_("Give at least one status."))
    return tuple(statuses)


def parse_transitions(text: str, keys: set[str]) -> frozenset[tuple[str, str]]:
    moves: set[tuple[str, str]] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        source, arrow, targets = line.partition("->")
        source = source.strip()
        if not arrow or not targets.strip():
            raise ValueError(_("Line %(n)d: write “from -> to, to”.", n=number))
        if source != "*" and source not in keys:
            raise ValueError(_("Line %(n)d: there is no status %(key)s.", n=number, key=source))
        for target in (t.strip() for t in targets.split(",")):
            if target not in keys:
                raise ValueError(_("Line %(n)d: there is no status %(key)s.", n=number, key=target))
            if target != source:
                moves.add((source, target))
    return frozenset(moves)


@lru_cache(maxsize=16)
def parse(statuses_text: str, transitions_text: str) -> Workflow:
    statuses = parse_statuses(statuses_text)
    moves = parse_transitions(transitions_text, {s.key for s in statuses})
    return Workflow(statuses, moves)
