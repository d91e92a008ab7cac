"""Demo data for ``community demo --enable-plugin ideation``.

Core's demo gives its ideas a random status without any history. Here the ideas get the life
of a product community instead: each space holding ideas gets a product team of the demo's
employees, the administrator adds three releases, and the product team takes the most voted
idea of each subject in each space through the workflow with official responses (in Italian
for Italian ideas), shipping some in a release, declining one subject with its reasons,
marking a couple of later copies as duplicates. Staff notes go on planned work, and some
voters say how much an idea matters to them.

The changes go through the plugin's services (core's events fire, so followers are notified
by the worker); then their timeline rows are backdated so that the history spans the weeks
of the demo. The same seed gives the same choices; running it again changes nothing more.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update

from community.accounts.models import User
from community.dbtypes import utcnow
from community.errors import Refused
from community.extensions import db
from community.spaces.models import Space
from community.topics.models import Post, Topic, Vote
from community_ideation.models import (
    Change,
    Duplicate,
    Importance,
    ProductTeam,
    Release,
    StaffNote,
)

log = logging.getLogger(__name__)

# Each space's product team (usernames of the demo's employees); a space holding ideas that is
# not listed gets DEFAULT_TEAM. An Italian idea is answered by the first Italian speaker.
TEAMS = {
    "ideas": ["priya.pm", "marta.product"],
    "routers": ["luca.engineer", "priya.pm"],
    "mesh-wifi": ["luca.engineer"],
    "mobile-app": ["marta.product", "priya.pm"],
    "billing": ["sam.support", "priya.pm"],
    "italia": ["marta.product", "luca.engineer"],
    "beta": ["luca.engineer"],
}
DEFAULT_TEAM = ["priya.pm"]
ITALIAN_SPACES = {"italia"}


@dataclass(frozen=True)
class DemoRelease:
    key: str
    name: str
    days_ago: int
    notes: str


RELEASES = [
    DemoRelease(
        "go-4.2",
        "NetHome Go 4.2",
        54,
        "The app's biggest update this year.\n\n"
        "- **Dark mode**: follows your phone's setting, or choose it in "
        "*Settings → Appearance*\n"
        "- Faster start-up on older Android phones\n"
        "- The device list remembers how you sorted it\n"
        "- Fixed: the firmware update button sometimes did nothing on iOS",
    ),
    DemoRelease(
        "fw-2.4",
        "NetHome Firmware 2.4",
        26,
        "For the AX3000, the AX1800 and the Mesh Duo and Trio. The app offers the update; "
        "keep the router powered while it installs (about five minutes).\n\n"
        "- **Per-device schedules** in *Parental controls → Schedules*\n"
        "- Faster roaming between mesh satellites\n"
        "- Automatic channel selection avoids busy 5 GHz channels in the evening\n"
        "- Security fixes: we recommend this update to everyone",
    ),
    DemoRelease(
        "go-4.3",
        "NetHome Go 4.3",
        6,
        "- **Speed widget** for the home screen, on iOS and Android\n"
        "- Speed test results are kept for 90 days\n"
        "- Fixed: Italian translations in the guest network screens, VoiceOver labels",
    ),
]


@dataclass(frozen=True)
class Subject:
    """What a group of the demo's ideas asks for, and what the product team decided."""

    key: str
    keywords: tuple[str, ...]  # lowercase, found in the title
    italian: tuple[str, ...]  # keywords of the Italian titles
    path: tuple[str, ...]  # the statuses it goes through after "new"
    release: str | None = None  # the release it ships in


SUBJECTS = [
    Subject(
        "dark_mode",
        ("dark mode",),
        ("modalità scura",),
        ("under_review", "planned", "in_progress", "shipped"),
        "go-4.2",
    ),
    Subject("schedule", ("schedule wi-fi",), (), ("planned", "in_progress", "shipped"), "fw-2.4"),
    Subject(
        "notify",
        ("notify me when",),
        ("notifica quando",),
        ("under_review", "planned", "in_progress"),
    ),
    Subject(
        "widget", ("widget",), (), ("under_review", "planned", "in_progress", "shipped"), "go-4.3"
    ),
    Subject(
        "export",
        ("export traffic",),
        ("statistiche di traffico",),
        ("under_review", "planned"),
    ),
    Subject("wpa3", ("wpa3",), (), ("under_review",)),
    Subject("vpn", ("vpn server",), (), ("under_review", "declined")),
]
OPEN_STATUSES = ("new", "under_review", "planned", "in_progress")

# Official responses: (subject, status, language) -> text; a missing one falls back to
# GENERIC[(status, language)]. {release} and {release_url} name the release an idea shipped in.
RESPONSES: dict[tuple[str, str, str], str] = {
    ("dark_mode", "under_review", "en"): (
        "Thanks! A dark theme is one of the most requested things for the app. We're checking "
        "how many screens need new colours (charts and the network map are the tricky ones) "
        "before we commit to a date."
    ),
    ("dark_mode", "planned", "en"): (
        "Good news: dark mode is planned for the next version of the NetHome Go app. It will "
        "follow your phone's system setting, with a manual switch in *Settings → Appearance*."
    ),
    ("dark_mode", "in_progress", "en"): (
        "Design is done and the app team is building it now. Beta testers will see it first "
        "in the next TestFlight and Play beta builds."
    ),
    ("dark_mode", "shipped", "en"): (
        "Dark mode is out in [{release}]({release_url}). It follows your phone's setting by "
        "default; you can force it on or off in *Settings → Appearance*. Thanks to everyone "
        "who voted and tried the beta!"
    ),
    ("dark_mode", "under_review", "it"): (
        "Grazie! Il tema scuro è tra le richieste più votate per l'app. Stiamo verificando "
        "quante schermate vanno ridisegnate (grafici e mappa della rete sono le più "
        "complicate) prima di darvi una data."
    ),
    ("dark_mode", "planned", "it"): (
        "Buone notizie: la modalità scura è pianificata per la prossima versione dell'app "
        "NetHome Go. Seguirà l'impostazione del telefono, con un interruttore in "
        "*Impostazioni → Aspetto*."
    ),
    ("dark_mode", "in_progress", "it"): (
        "Il design è pronto e il team dell'app ci sta lavorando. Chi partecipa alla beta la "
        "vedrà per primo nelle prossime build di prova."
    ),
    ("dark_mode", "shipped", "it"): (
        "La modalità scura è disponibile in [{release}]({release_url}). Di default segue "
        "l'impostazione del telefono; potete forzarla in *Impostazioni → Aspetto*. Grazie a "
        "tutti per i voti e per aver provato la beta!"
    ),
    ("schedule", "planned", "en"): (
        "We're adding per-device schedules to parental controls: pick any device and give it "
        "its own off hours, on top of the schedule for the whole network. Planned for "
        "firmware 2.4."
    ),
    ("schedule", "in_progress", "en"): (
        "In development for firmware 2.4. The first builds are with the beta program now; "
        "if you're in it, feedback in the Beta space is very welcome."
    ),
    ("schedule", "shipped", "en"): (
        "Shipped in [{release}]({release_url}): *Parental controls → Schedules* now lets you "
        "choose devices one by one. Update from the app (*Devices → Router → Firmware*). "
        "Thanks for the votes and the detailed use cases!"
    ),
    ("notify", "under_review", "en"): (
        "Thanks for the idea. We're looking at how to tell a really new device from one of "
        "yours that changed its private Wi-Fi address, so the alert doesn't cry wolf."
    ),
    ("notify", "planned", "en"): (
        "The app will send a push notification when an unknown device joins your "
        "network, with a button to block it straight away."
    ),
    ("notify", "in_progress", "en"): (
        "We're building it now, for the next version of the app. Your own phones with private "
        "addresses are recognised, so they won't trigger an alert every couple of weeks. From "
        "the alert you'll be able to name the device or block it."
    ),
    ("notify", "under_review", "it"): (
        "Grazie per l'idea. Stiamo capendo come distinguere un dispositivo davvero nuovo da "
        "uno dei vostri che ha cambiato indirizzo privato, per evitare falsi allarmi."
    ),
    ("notify", "planned", "it"): (
        "L'app invierà una notifica quando un dispositivo sconosciuto entra "
        "nella vostra rete, con un pulsante per bloccarlo subito."
    ),
    ("notify", "in_progress", "it"): (
        "Ci stiamo lavorando per la prossima versione dell'app. I vostri telefoni con "
        "indirizzo privato vengono riconosciuti, quindi non riceverete avvisi inutili. Dalla "
        "notifica potrete dare un nome al dispositivo o bloccarlo."
    ),
    ("widget", "under_review", "en"): (
        "Thanks! We're checking what a widget can show without draining your battery: a live "
        "speed needs the app to ask the router every few seconds."
    ),
    ("widget", "planned", "en"): (
        "Planned for the app: a home-screen widget with the current download and upload "
        "speed, on iOS and Android."
    ),
    ("widget", "in_progress", "en"): (
        "The widget is in development. The first version refreshes every few minutes (phones "
        "limit how often widgets update); tapping it opens the speed test."
    ),
    ("widget", "shipped", "en"): (
        "The speed widget is in [{release}]({release_url}): long-press your home screen and "
        "add *NetHome Go → Speed*. It refreshes every few minutes; tap it for a full speed "
        "test. Thanks for voting!"
    ),
    ("export", "under_review", "en"): (
        "Thanks for suggesting it. We're looking at what is most useful in a spreadsheet: "
        "traffic per device, per day, or both? Tell us in a reply."
    ),
    ("export", "planned", "en"): (
        "You'll be able to download your monthly traffic per device as CSV from the "
        "app and the router's web interface. We'll update this idea when work starts."
    ),
    ("export", "under_review", "it"): (
        "Grazie per il suggerimento. Stiamo valutando cosa serve di più in un foglio di "
        "calcolo: traffico per dispositivo, per giorno o entrambi? Scrivetecelo nelle risposte."
    ),
    ("export", "planned", "it"): (
        "Potrete scaricare in CSV il traffico mensile per dispositivo, dall'app "
        "e dall'interfaccia web del router. Aggiorneremo l'idea quando iniziamo i lavori."
    ),
    ("wpa3", "under_review", "en"): (
        "We're reviewing this with the firmware team. A WPA3-only option is easy to add, but "
        "some older phones and smart-home devices can't join a WPA3-only network, so we want "
        "to warn you about them before you switch."
    ),
    ("vpn", "under_review", "en"): (
        "Interesting idea. We're looking at it with the firmware and security teams: remote "
        "access to the home network comes up a lot."
    ),
    ("vpn", "declined", "en"): (
        "Thanks for the suggestion and for all the votes. After a close look we decided not "
        "to build a VPN server into the routers for now:\n\n"
        "- running it safely means an open port on your connection and fast security updates "
        "for it, for years;\n"
        "- the AX1800 doesn't have the processor to encrypt at full speed.\n\n"
        "For remote access today, *NetHome Secure* includes a VPN to your home network. We'll "
        "look at this again for the next generation of hardware."
    ),
}
GENERIC: dict[tuple[str, str], list[str]] = {
    ("under_review", "en"): [
        "Thanks for raising this, and to everyone who voted. We're reviewing it with the "
        "product team this sprint and will post here when we've decided.",
        "This one keeps coming up, so it's now under review. If you have a specific use case, "
        "please add it in a reply: it helps us size the work.",
    ],
    ("planned", "en"): [
        "We've planned this for an upcoming release. No date yet; we'll update this idea "
        "when the work starts.",
    ],
    ("in_progress", "en"): ["The team is working on this now. Watch this idea for updates."],
    ("shipped", "en"): [
        "This is out in [{release}]({release_url}). Thanks to everyone who voted!",
    ],
    ("declined", "en"): [
        "Thanks for the idea. We've decided not to do this: it doesn't fit what we're "
        "building next, and we'd rather say so than keep it open.",
    ],
    ("under_review", "it"): [
        "Grazie per la proposta e a tutti quelli che l'hanno votata. La stiamo valutando con "
        "il team di prodotto: vi aggiorniamo qui appena abbiamo deciso.",
        "Se ne parla spesso, quindi l'abbiamo presa in esame. Se avete un caso d'uso concreto "
        "scrivetelo nelle risposte: ci aiuta a stimare il lavoro.",
    ],
    ("planned", "it"): [
        "L'abbiamo pianificata per una delle prossime versioni. Non c'è ancora una data: "
        "aggiorneremo l'idea quando iniziamo i lavori.",
    ],
    ("in_progress", "it"): ["Il team ci sta lavorando. Seguite l'idea per gli aggiornamenti."],
    ("shipped", "it"): [
        "È disponibile in [{release}]({release_url}). Grazie a tutti per i voti!",
    ],
    ("declined", "it"): [
        "Grazie per l'idea. Abbiamo deciso di non farla: non rientra in quello che stiamo "
        "costruendo, e preferiamo dirlo chiaramente piuttosto che lasciarla aperta.",
    ],
}
DUPLICATE_RESPONSE = {
    "en": (
        "Thanks! This asks for the same thing as [{title}]({url}), which we're already "
        "tracking. We're marking this one as a duplicate so the discussion stays in one "
        "place: your votes now count there."
    ),
    "it": (
        "Grazie! Chiede la stessa cosa di [{title}]({url}), che stiamo già seguendo. La "
        "segniamo come duplicato per tenere la discussione in un posto solo: i vostri voti "
        "ora contano lì."
    ),
}
# Staff notes on planned work and on what waits for a decision (internal, in English).
NOTES = {
    "export": "Backlog: APP-2210. Needs the per-device counters of firmware 2.4 (before that "
    "the router keeps daily totals only). Rough estimate: two sprints.",
    "notify": "Backlog: APP-2301, for Go 4.4. QA: test with iOS and Android private "
    "addresses on and off; support wants the help article ready on release day.",
    "wpa3": "Firmware team: about 8% of the devices we see would drop off a WPA3-only network "
    "(mostly older smart plugs). Needs a warning screen listing them before it can ship.",
}
DEFAULT_NOTE = "Raised in the roadmap review: keep it for next quarter, after the current release."
WALKED_SHARE = 0.4  # of the ideas, at most, get a decision (at least one per subject)
NOTED_STATUSES = ("planned", "in_progress", "under_review")
NOTES_AT_MOST = 6
DUPLICATES = 2
IMPORTANCE_IDEAS = 20  # the most voted open ideas get importance levels from some voters
LEVELS = [("nice", 5), ("important", 3), ("critical", 2)]


def generate(seed: int) -> dict[str, int]:
    """Returns what it did (for tests and the log). Running it again changes nothing more."""
    from community_ideation import releases, team

    admin = db.session.scalar(
        select(User).where(User.role == "admin", User.active.is_(True)).order_by(User.id).limit(1)
    )
    report = {
        "team_members": 0,
        "releases": 0,
        "changes": 0,
        "duplicates": 0,
        "votes_moved": 0,
        "notes": 0,
        "importance": 0,
    }
    if admin is None:
        return report
    now = utcnow()
    ideas = _ideas()
    spaces = {s.id: s for s in db.session.scalars(select(Space))}
    idea_spaces = sorted({t.space_id for t in ideas}, key=lambda sid: spaces[sid].position)
    usernames = {name for names in TEAMS.values() for name in names} | set(DEFAULT_TEAM)
    staff = {
        u.username: u
        for u in db.session.scalars(
            select(User).where(User.username.in_(usernames), User.active.is_(True))
        )
    }

    # --- product teams ------------------------------------------------------------------------
    teams: dict[int, list[User]] = {}
    for space_id in idea_spaces:
        space = spaces[space_id]
        wanted = [staff[n] for n in TEAMS.get(space.slug, DEFAULT_TEAM) if n in staff]
        present = set(
            db.session.scalars(select(ProductTeam.user_id).where(ProductTeam.space_id == space_id))
        )
        for user in wanted:
            if user.id in present:
                continue
            try:
                team.add_member(admin, space, user)
            except Refused as refusal:
                log.warning("demo: %s not in the team of %s: %s", user, space.slug, refusal)
                continue
            report["team_members"] += 1
        teams[space_id] = wanted

    # --- releases -----------------------------------------------------------------------------
    made: dict[str, Release] = {}
    for spec in RELEASES:
        release = db.session.scalar(select(Release).where(Release.name == spec.name))
        if release is None:
            released_on = now.date() - timedelta(days=spec.days_ago)
            release = releases.create_release(admin, spec.name, released_on, spec.notes)
            release.created_at = _at(released_on, 8)  # the admin wrote it the morning it shipped
            db.session.commit()
            report["releases"] += 1
        made[spec.key] = release

    # --- the workflow -------------------------------------------------------------------------
    with_history = set(db.session.scalars(select(Change.topic_id).distinct()))
    # Core's random statuses have no history: those ideas start again from "new".
    stale = [t for t in ideas if t.id not in with_history and t.status not in (None, "new")]
    if stale:
        db.session.execute(
            update(Topic).where(Topic.id.in_([t.id for t in stale])).values(status="new")
        )
        db.session.commit()
        db.session.expire_all()
    groups: dict[tuple[int, str, str], list[Topic]] = {}
    for topic in ideas:
        found = _subject(topic, spaces[topic.space_id])
        if found is not None:
            groups.setdefault((topic.space_id, found[0].key, found[1]), []).append(topic)
    subjects = {s.key: s for s in SUBJECTS}
    backdate: list[dict[str, Any]] = []
    walked: list[tuple[Topic, Subject, str, list[datetime]]] = []
    plans: list[tuple[int, str, str, Topic]] = []
    for (space_id, key, lang), members in groups.items():
        if any(t.id in with_history for t in members) or not teams.get(space_id):
            continue  # done by an earlier run (or nobody to do it)
        subject = subjects[key]
        release = made.get(subject.release) if subject.release else None
        topic = _pick(members, subject, release, now)
        if topic is not None:
            plans.append((space_id, key, lang, topic))
    # A realistic share: most ideas of a community stay New. Each subject first (its most
    # voted group), then the others, until the share is reached.
    room = max(len(SUBJECTS), round(WALKED_SHARE * len(ideas))) - len(
        {t.id for t in ideas} & with_history
    )
    for space_id, key, lang, topic in _by_subject(plans)[: max(room, 0)]:
        subject = subjects[key]
        release = made.get(subject.release) if subject.release else None
        rng = random.Random(f"{seed}-ideation-{space_id}-{key}-{lang}")
        actor = _actor(teams[space_id], lang)
        moments = _moments(rng, topic.created_at, len(subject.path), release, now)
        done: list[datetime] = []
        for status, moment in zip(subject.path, moments, strict=True):
            response = _response(rng, key, status, lang)
            if status == "shipped" and release is not None:
                response = response.format(
                    release=release.name, release_url=f"/releases/{release.slug}"
                )
            try:
                change = _change(actor, topic, status, response, release)
            except Refused as refusal:  # an administrator's own workflow refuses it
                log.warning("demo: idea %s not moved to %s: %s", topic.id, status, refusal)
                break
            backdate.append({"row_id": change.id, "moment": moment})
            done.append(moment)
            report["changes"] += 1
        if done:
            walked.append((topic, subject, lang, done))
    _backdate(Change, backdate)

    # --- staff notes on planned work ----------------------------------------------------------
    report["notes"] = _add_notes(walked, teams, now)

    # --- how much ideas matter to their voters ------------------------------------------------
    report["importance"] = _add_importance(seed)

    # --- duplicates ---------------------------------------------------------------------------
    moved, marked = _mark_duplicates(seed, walked, groups, teams, now)
    report["votes_moved"] = moved
    report["duplicates"] = marked
    return report


def _ideas() -> list[Topic]:
    return list(
        db.session.scalars(
            select(Topic)
            .where(
                Topic.kind == "idea",
                Topic.deleted_at.is_(None),
                Topic.held_at.is_(None),
                Topic.merged_into_id.is_(None),
            )
            .order_by(Topic.id)
        )
    )


def _subject(topic: Topic, space: Space) -> tuple[Subject, str] | None:
    title = topic.title.lower()
    for subject in SUBJECTS:
        if any(k in title for k in subject.italian):
            return subject, "it"
        if any(k in title for k in subject.keywords):
            return subject, "it" if space.slug in ITALIAN_SPACES else "en"
    return None


def _by_subject(
    plans: list[tuple[int, str, str, Topic]],
) -> list[tuple[int, str, str, Topic]]:
    """The plans, the most voted group of each subject first, in turns."""
    queues = [
        sorted((p for p in plans if p[1] == s.key), key=lambda p: (-(p[3].score or 0), p[3].id))
        for s in SUBJECTS
    ]
    ordered: list[tuple[int, str, str, Topic]] = []
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _pick(members: list[Topic], subject: Subject, release: Release | None, now: datetime):
    """The most voted idea of the group old enough for its whole history."""
    if release is not None:
        latest = _at(release.released_on, 9) - timedelta(days=4 * len(subject.path))
    else:
        latest = now - timedelta(days=3 + 4 * len(subject.path))
    fit = [t for t in members if t.created_at <= latest and t.status == "new"]
    if not fit:
        return None
    return min(fit, key=lambda t: (-(t.score or 0), t.id))


def _actor(team_members: list[User], lang: str) -> User:
    return next((u for u in team_members if u.locale == lang), team_members[0])


def _moments(
    rng: random.Random,
    created: datetime,
    steps: int,
    release: Release | None,
    now: datetime,
) -> list[datetime]:
    """When each change of the path happened: the first response a few days after the idea,
    the last on the day of its release (or some days ago), the others in between."""
    first = created + timedelta(days=rng.uniform(1, 3.5))
    if release is not None:
        last = _at(release.released_on, 9) + timedelta(hours=rng.uniform(0, 8))
    else:
        settled = first + timedelta(days=rng.uniform(12, 45))
        last = min(now - timedelta(days=rng.uniform(1, 3)), settled)
    last = max(last, first)
    if steps == 1:
        return [first]
    gap = (last - first) / (steps - 1)
    moments = [first]
    for n in range(1, steps - 1):
        moments.append(first + gap * n + gap * rng.uniform(-0.25, 0.25))
    moments.append(last)
    return [min(m, now) for m in moments]


def _response(rng: random.Random, subject: str, status: str, lang: str) -> str:
    text = RESPONSES.get((subject, status, lang))
    if text is None:
        text = rng.choice(GENERIC.get((status, lang)) or GENERIC[(status, "en")])
    return text


def _change(actor: User, topic: Topic, status: str, response: str, release: Release | None):
    from community_ideation import changes

    return changes.change_status(
        actor, topic, status, response, release if status == "shipped" else None
    )


def _backdate(model: type, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    table = cast(Table, model.__table__)  # type: ignore[attr-defined]
    db.session.execute(
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(created_at=bindparam("moment")),
        rows,
    )
    db.session.commit()


def _add_notes(
    walked: list[tuple[Topic, Subject, str, list[datetime]]],
    teams: dict[int, list[User]],
    now: datetime,
) -> int:
    from community_ideation import notes

    added: list[dict[str, Any]] = []
    by_votes = sorted(walked, key=lambda w: (-(w[0].score or 0), w[0].id))
    for topic, subject, _lang, moments in by_votes:
        if len(added) >= NOTES_AT_MOST:
            break
        if topic.status not in NOTED_STATUSES:
            continue
        if db.session.scalar(select(StaffNote.id).where(StaffNote.topic_id == topic.id)):
            continue
        author = teams[topic.space_id][0]  # the team's lead writes in the team's language
        try:
            note = notes.add_note(author, topic, NOTES.get(subject.key, DEFAULT_NOTE))
        except Refused as refusal:
            log.warning("demo: no note on idea %s: %s", topic.id, refusal)
            continue
        added.append({"row_id": note.id, "moment": min(now, moments[-1] + timedelta(hours=3))})
    _backdate(StaffNote, added)
    return len(added)


def _add_importance(seed: int) -> int:
    from community_ideation import importance

    if db.session.scalar(select(Importance.id).limit(1)) is not None:
        return 0  # done by an earlier run (or members said it themselves)
    topics = list(
        db.session.scalars(
            select(Topic)
            .where(
                Topic.kind == "idea",
                Topic.status.in_(OPEN_STATUSES),
                Topic.deleted_at.is_(None),
                Topic.held_at.is_(None),
                Topic.merged_into_id.is_(None),
                Topic.score >= 3,
            )
            .order_by(Topic.score.desc(), Topic.id)
            .limit(IMPORTANCE_IDEAS)
        )
    )
    added = 0
    levels, weights = zip(*LEVELS, strict=True)
    for topic in topics:
        rng = random.Random(f"{seed}-importance-{topic.id}")
        voters = list(
            db.session.scalars(
                select(User)
                .join(Vote, Vote.user_id == User.id)
                .join(Post, Post.id == Vote.post_id)
                .where(
                    Post.topic_id == topic.id,
                    Post.is_opening.is_(True),
                    Vote.value > 0,
                    User.active.is_(True),
                )
                .order_by(User.id)
            )
        )
        for voter in voters:
            if rng.random() < 0.5:
                continue
            try:
                importance.set_level(voter, topic, rng.choices(levels, weights)[0])
            except Refused:
                continue
            added += 1
    return added


def _mark_duplicates(
    seed: int,
    walked: list[tuple[Topic, Subject, str, list[datetime]]],
    groups: dict[tuple[int, str, str], list[Topic]],
    teams: dict[int, list[User]],
    now: datetime,
) -> tuple[int, int]:
    """A later copy of an idea the team is working on becomes its duplicate: its votes and
    followers go to the original. Returns (votes moved, duplicates marked)."""
    from community_ideation import duplicates

    if db.session.scalar(select(Duplicate.source_id).limit(1)) is not None:
        return 0, 0  # done by an earlier run
    candidates = sorted(
        (w for w in walked if w[0].status in OPEN_STATUSES),
        key=lambda w: (-(w[0].score or 0), w[0].id),
    )
    # One per language first (an Italian duplicate is answered in Italian), then the rest.
    first: dict[str, tuple[Topic, Subject, str, list[datetime]]] = {}
    for walk in candidates:
        first.setdefault(walk[2], walk)
    ordered = list(first.values()) + [w for w in candidates if w not in first.values()]
    moved = marked = 0
    backdate: list[dict[str, Any]] = []
    for original, subject, lang, _moments in ordered:
        if marked >= DUPLICATES:
            break
        copies = [
            t
            for t in groups[(original.space_id, subject.key, lang)]
            if t.id != original.id
            and t.status == "new"
            and (t.score or 0) > 0
            and t.created_at > original.created_at
        ]
        if not copies:
            continue
        source = min(copies, key=lambda t: (-(t.score or 0), t.id))
        rng = random.Random(f"{seed}-duplicate-{source.id}")
        response = DUPLICATE_RESPONSE[lang].format(
            title=original.title, url=f"/t/{original.id}/{original.slug}"
        )
        actor = _actor(teams[source.space_id], lang)
        try:
            moved += duplicates.mark_duplicate(actor, source, original, response)
        except Refused as refusal:
            log.warning("demo: idea %s not marked duplicate: %s", source.id, refusal)
            continue
        change_id = db.session.scalar(
            select(Change.id)
            .where(Change.topic_id == source.id, Change.to_status == duplicates.STATUS)
            .order_by(Change.id.desc())
            .limit(1)
        )
        moment = source.created_at + timedelta(days=rng.uniform(1, 4))
        moment = max(source.created_at, min(now - timedelta(hours=2), moment))
        backdate.append({"row_id": change_id, "moment": moment})
        marked += 1
    _backdate(Change, backdate)
    return moved, marked
