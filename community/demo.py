"""Demo content: a home-networking brand's community in English and Italian.

Rows are inserted in bulk (one transaction per batch, no per-row services or hooks), then
every counter is recomputed in SQL. The same seed gives the same community.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import click
from sqlalchemy import Table, bindparam, func, insert, select, text, update

from community.accounts.models import User
from community.dbtypes import utcnow
from community.extensions import db
from community.markdown import render_markdown
from community.notifications.models import Follow, Notification
from community.security import normalize_username
from community.spaces.models import Space, SpaceModerator
from community.topics.models import Post, Tag, Topic, TopicTag, Vote
from community.topics.recount import recount_all
from community.topics.services import slugify

DEMO_PASSWORD = "community-demo"  # noqa: S105 - documented demo credentials
ADMIN = ("admin", "community-admin")
MODERATOR = ("moderator", "community-mod")
STAFF = [
    ("marta.product", "it"),
    ("sam.support", "en"),
    ("luca.engineer", "it"),
    ("priya.pm", "en"),
]
FIRST_NAMES_EN = [
    "alex",
    "jordan",
    "casey",
    "taylor",
    "morgan",
    "riley",
    "jamie",
    "drew",
    "harper",
    "quinn",
    "avery",
    "rowan",
    "sky",
    "emery",
    "blake",
    "reese",
]
FIRST_NAMES_IT = [
    "giulia",
    "marco",
    "chiara",
    "davide",
    "sara",
    "matteo",
    "elena",
    "paolo",
    "francesca",
    "andrea",
    "silvia",
    "giorgio",
    "laura",
    "stefano",
    "anna",
]

# slug, title, description, visibility, default kind, parent slug, language
SPACES = [
    (
        "routers",
        "Routers",
        "Set-up, firmware and troubleshooting of NetHome routers.",
        "public",
        "question",
        None,
        "en",
    ),
    (
        "mesh-wifi",
        "Mesh Wi-Fi",
        "Satellites, roaming and coverage of NetHome Mesh.",
        "public",
        "question",
        "routers",
        "en",
    ),
    (
        "mobile-app",
        "Mobile app",
        "The NetHome app for iOS and Android.",
        "public",
        "question",
        None,
        "en",
    ),
    (
        "billing",
        "Account & billing",
        "Subscriptions, invoices and your NetHome account.",
        "public",
        "question",
        None,
        "en",
    ),
    (
        "ideas",
        "Ideas & feedback",
        "Suggest features and vote for the ones you want.",
        "public",
        "idea",
        None,
        "en",
    ),
    (
        "italia",
        "Community Italia",
        "Domande e discussioni in italiano su tutti i prodotti.",
        "public",
        "question",
        None,
        "it",
    ),
    (
        "beta",
        "Beta program",
        "Early firmware for registered beta testers.",
        "members",
        "discussion",
        None,
        "en",
    ),
    (
        "staff-lounge",
        "Staff lounge",
        "Internal notes for NetHome employees.",
        "staff",
        "discussion",
        None,
        "en",
    ),
]

PRODUCTS = [
    "NetHome AX3000",
    "NetHome Mesh Duo",
    "NetHome Mesh Trio",
    "NetHome Go app",
    "NetHome AX1800",
]
PROBLEMS_EN = [
    (
        "Wi-Fi drops every evening on the {p}",
        "The connection drops for a minute or two, "
        "usually between 8 and 10 pm. Neighbours have lots of networks around.",
    ),
    (
        "How do I update the firmware of the {p}?",
        "The app says an update is available but the button does nothing.",
    ),
    (
        "{p} satellite keeps blinking orange",
        "I moved the satellite to the first floor and since then it blinks orange.",
    ),
    (
        "Port forwarding not working on the {p}",
        "I forwarded port 25565 for a game server but nobody can connect from outside.",
    ),
    (
        "Can I use the {p} with my ISP's modem?",
        "My provider gave me a modem-router combo. Do I need bridge mode?",
    ),
    (
        "Slow speeds on 5 GHz with the {p}",
        "On 2.4 GHz I get 80 Mbps, on 5 GHz only 20 Mbps right next to the router.",
    ),
    (
        "Guest network can't reach the printer on the {p}",
        "Is there a way to let guests print without giving them the main password?",
    ),
    (
        "Parental controls schedule ignored on the {p}",
        "Bedtime is set to 21:30 but the kids' tablets stay online.",
    ),
    (
        "The {p} doesn't show up in the app after reset",
        "After a factory reset the app can't find the device any more.",
    ),
    (
        "Invoice shows two subscriptions for the {p}",
        "I was charged twice this month for NetHome Secure.",
    ),
]
PROBLEMS_IT = [
    (
        "Il Wi-Fi cade ogni sera con il {p}",
        "La connessione si interrompe per un paio di minuti, di solito tra le 20 e le 22.",
    ),
    (
        "Come aggiorno il firmware del {p}?",
        "L'app dice che c'è un aggiornamento ma il pulsante non fa nulla.",
    ),
    (
        "Il satellite del {p} lampeggia arancione",
        "Ho spostato il satellite al primo piano e da allora lampeggia.",
    ),
    (
        "Velocità bassa in 5 GHz con il {p}",
        "In 2,4 GHz vado a 80 Mbps, in 5 GHz solo a 20 vicino al router.",
    ),
    (
        "Posso usare il {p} con il modem del mio operatore?",
        "Il mio operatore mi ha dato un modem. Serve la modalità bridge?",
    ),
    (
        "Rete ospiti e stampante con il {p}",
        "Come faccio a far stampare gli ospiti senza dare la password principale?",
    ),
]
ANSWERS_EN = [
    "Go to **Settings → Wireless** and set the 5 GHz channel to a fixed one (36 or 44 work "
    "well) instead of *Auto*. Then restart the router.",
    "This is a known issue in firmware 2.3.1. Update to **2.3.4** or later:\n\n"
    "1. Open the app\n2. Tap *Devices → Router → Firmware*\n3. Keep the router powered "
    "during the update",
    "Put the satellite halfway between the router and the dead zone. Orange means the "
    "backhaul is weak; it should turn white within a minute.",
    "Check that your ISP modem is in bridge mode, otherwise you have double NAT:\n\n"
    "```\nWAN IP: 192.168.1.20   <- private address means double NAT\n```",
    "I had the same problem. Disabling *Smart Connect* and giving the 5 GHz band its own "
    "name fixed it for me.",
    "Factory reset (hold the button for 10 s), then set it up again from the app. "
    "Make sure Bluetooth is on, the app needs it for discovery.",
    "You can allow guests to reach a single device: **Guest network → Allowed devices** "
    "and pick the printer.",
    "See the [support article](https://example.com/support/port-forwarding) — you also "
    "need to allow the port in the built-in firewall.",
]
ANSWERS_IT = [
    "Vai in **Impostazioni → Wireless** e imposta un canale fisso per i 5 GHz (36 o 44 "
    "vanno bene) invece di *Automatico*. Poi riavvia il router.",
    "È un problema noto del firmware 2.3.1. Aggiorna alla **2.3.4** o successiva:\n\n"
    "1. Apri l'app\n2. *Dispositivi → Router → Firmware*\n3. Non spegnere il router "
    "durante l'aggiornamento",
    "Metti il satellite a metà strada tra il router e la zona scoperta. Arancione vuol dire "
    "che il collegamento è debole.",
    "Anche a me succedeva. Disattivando *Smart Connect* e dando un nome diverso alla rete "
    "5 GHz si è risolto.",
    "Controlla che il modem dell'operatore sia in modalità bridge, altrimenti hai un doppio NAT.",
]
IDEAS_EN = [
    ("Dark mode for the {p}", "The app is very bright at night. A dark theme would be great."),
    (
        "Schedule Wi-Fi off hours per device",
        "Let me pick devices and turn their access off "
        "on a schedule, not only for the whole network.",
    ),
    ("Export traffic statistics as CSV", "I'd like to analyse my monthly usage in a spreadsheet."),
    ("WPA3-only mode on the {p}", "Offer a WPA3-only option for households without old devices."),
    ("Widget with current speed", "A home-screen widget showing the current download speed."),
    (
        "Notify me when a new device joins",
        "A push notification whenever an unknown device connects to my network.",
    ),
    (
        "VPN server built into the router",
        "Let me reach my home network from outside without a separate box.",
    ),
]
IDEAS_IT = [
    (
        "Modalità scura per la {p}",
        "L'app di sera è molto luminosa, un tema scuro sarebbe perfetto.",
    ),
    (
        "Notifica quando si collega un nuovo dispositivo",
        "Vorrei una notifica quando un dispositivo sconosciuto entra in rete.",
    ),
    (
        "Statistiche di traffico esportabili",
        "Mi piacerebbe analizzare il consumo mensile in un foglio di calcolo.",
    ),
]
DISCUSSIONS_EN = [
    (
        "Share your mesh set-up photos",
        "How did you place your satellites? Post a floor plan or a photo!",
    ),
    ("Firmware 2.4 beta: first impressions", "Roaming feels faster here. What about you?"),
    (
        "Tips for a faster home network",
        "Collecting the best tips from the community: channels, placement, cables.",
    ),
]
DISCUSSIONS_IT = [
    ("Presentatevi!", "Benvenuti nella community italiana: raccontateci che rete avete a casa."),
    ("Consigli per una rete più veloce", "Raccogliamo i migliori consigli della community."),
]
REPLIES_EN = [
    "+1, I would use this every day.",
    "Great idea. It would also help when the kids' devices need a break at dinner time.",
    "Thanks for sharing! Which firmware are you on?",
    "We discussed this with the product team: keep the votes coming, it helps us plan.",
    "Agree. Bonus points if it works from the app as well as the web interface.",
]
REPLIES_IT = [
    "+1, la userei tutti i giorni.",
    "Ottima idea, sarebbe utile anche per i dispositivi dei ragazzi.",
    "Grazie per averlo condiviso! Che firmware hai?",
    "D'accordo, meglio ancora se funziona anche dall'app.",
]
COMMENTS_EN = [
    "Thanks, that worked!",
    "Which firmware version are you on?",
    "Same here, following.",
    "Could you post a screenshot?",
]
COMMENTS_IT = [
    "Grazie, ha funzionato!",
    "Che versione del firmware hai?",
    "Anche a me, seguo.",
    "Puoi mettere uno screenshot?",
]
TAGS = [
    "wifi",
    "firmware",
    "mesh",
    "5ghz",
    "app",
    "billing",
    "parental-controls",
    "vpn",
    "setup",
    "performance",
]
# A solved question that the ask form suggests to someone typing "how do I reset my router
# password": the demo of search deflection.
FAQ = (
    "How to reset the admin password of my router",
    "I changed the admin password of my NetHome router months ago and forgot it. I can't sign "
    "in to the router's settings any more. How do I get back in?",
    "You can't recover the old password, but you can reset it:\n\n"
    "1. With the router on, hold the **reset** button on the back for 10 seconds\n"
    "2. Wait for the light to turn white (about 2 minutes)\n"
    "3. Sign in with the default password printed on the label under the router\n\n"
    "This also resets the Wi-Fi name and password, so set them again in the app.",
)
IDEA_STATUSES = ["new"] * 6 + ["under_review", "planned", "in_progress", "shipped", "declined"]
WELCOME = (
    "Welcome to the NetHome Community — start here",
    "Welcome! This is where NetHome customers and employees help each other.\n\n"
    "- **Ask** a question in the space of your product\n"
    "- **Answer** and vote: the asker accepts the answer that solved it\n"
    "- **Suggest ideas** in *Ideas & feedback* and vote for the ones you want\n\n"
    "Staff answers carry a *Staff* badge. Be kind and stay on topic.",
)


@dataclass
class _Batch:
    """Rows collected for bulk insert, with ids assigned here so rows can refer to each
    other before they reach the database."""

    next_ids: dict[str, int] = field(default_factory=dict)
    rows: dict[type, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, model: type, **values: Any) -> int:
        if "id" not in values and hasattr(model, "id"):
            table = model.__tablename__  # type: ignore[attr-defined]
            values["id"] = self.next_ids.get(table, 1)
            self.next_ids[table] = values["id"] + 1
        self.rows.setdefault(model, []).append(values)
        return values.get("id", 0)

    def flush(self, order: list[type]) -> None:
        for model in order:
            rows = self.rows.pop(model, [])
            for start in range(0, len(rows), 2000):
                db.session.execute(insert(model), rows[start : start + 2000])


def database_has_users() -> bool:
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def _start_ids(batch: _Batch) -> None:
    for model in (User, Space, Topic, Post, Tag, Vote, Notification):
        current = db.session.scalar(select(func.max(model.id))) or 0
        batch.next_ids[model.__tablename__] = current + 1


def _advance_sequences() -> None:
    """Rows went in with their ids: on PostgreSQL the id sequences must move past them, or
    the next account or topic created on the site collides with a demo row."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in (User, Space, Topic, Post, Tag, Vote, Notification):
        table = model.__tablename__
        db.session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence(:table, 'id'), "  # noqa: S608 - model names
                f'(SELECT COALESCE(MAX(id), 0) + 1 FROM "{table}"), false)'
            ),
            {"table": table},
        )


def generate_demo(
    n_users: int, n_topics: int, seed: int, echo: Callable[[str], Any] = click.echo
) -> str:
    rng = random.Random(seed)
    batch = _Batch()
    _start_ids(batch)
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=120)
    html_cache: dict[str, str] = {}

    def html(source: str) -> str:
        if source not in html_cache:
            html_cache[source] = render_markdown(source)
        return html_cache[source]

    # --- people ------------------------------------------------------------------------------
    template = User(username="x", username_key="x", email="x")
    template.set_password(DEMO_PASSWORD)
    member_hash = template.password_hash
    people: list[dict[str, Any]] = []

    def person(
        name: str,
        *,
        locale: str,
        role: str = "member",
        staff: bool = False,
        password_hash: str = member_hash,
    ) -> int:
        joined = start - timedelta(days=rng.randint(1, 400))
        user_id = batch.add(
            User,
            username=name,
            username_key=normalize_username(name),
            email=f"{normalize_username(name)}@example.com",
            password_hash=password_hash,
            role=role,
            is_staff=staff,
            email_confirmed_at=joined,
            created_at=joined,
            locale=locale,
            bio="",
            active=True,
        )
        people.append({"id": user_id, "locale": locale, "staff": staff})
        return user_id

    def hashed(password: str) -> str:
        user = User(username="x", username_key="x", email="x")
        user.set_password(password)
        return user.password_hash

    admin_id = person(
        ADMIN[0], locale="en", role="admin", staff=True, password_hash=hashed(ADMIN[1])
    )
    moderator_id = person(
        MODERATOR[0], locale="it", role="moderator", password_hash=hashed(MODERATOR[1])
    )
    staff_ids = [person(name, locale=locale, staff=True) for name, locale in STAFF]
    used = {ADMIN[0], MODERATOR[0], *(name for name, _ in STAFF)}
    members_en: list[int] = []
    members_it: list[int] = []
    for i in range(max(n_users, 4)):
        italian = i % 3 == 2
        pool = FIRST_NAMES_IT if italian else FIRST_NAMES_EN
        name = f"{rng.choice(pool)}{'_' if rng.random() < 0.5 else '.'}{rng.randint(1, 999)}"
        while name in used:
            name += str(rng.randint(0, 9))
        used.add(name)
        (members_it if italian else members_en).append(
            person(name, locale="it" if italian else "en")
        )
    all_members = members_en + members_it

    # --- spaces ------------------------------------------------------------------------------
    space_ids: dict[str, int] = {}
    space_lang: dict[str, str] = {}
    for position, (slug, title, description, visibility, kind, parent, lang) in enumerate(
        SPACES, start=1
    ):
        space_ids[slug] = batch.add(
            Space,
            slug=slug,
            title=title,
            description=description,
            visibility=visibility,
            default_kind=kind,
            parent_id=space_ids.get(parent) if parent else None,
            position=position,
            created_at=start,
        )
        space_lang[slug] = lang
        if visibility == "public" and slug not in ("ideas",):
            for moderator in rng.sample(all_members, k=rng.randint(1, 2)):
                batch.add(
                    SpaceModerator, space_id=space_ids[slug], user_id=moderator, created_at=start
                )
    tag_ids = {name: batch.add(Tag, name=name) for name in TAGS}

    # --- topics ------------------------------------------------------------------------------
    question_spaces = ["routers", "mesh-wifi", "mobile-app", "billing", "italia", "beta"]
    n_posts = n_votes = 0
    # As in real communities, a few regulars give much of each space's help (and more of its
    # accepted answers). Their own generator leaves the rest of the demo as it was.
    regular_rng = random.Random(f"{seed}-regulars")
    regulars = {
        slug: regular_rng.sample(
            members_it if space_lang[slug] == "it" else members_en,
            k=min(3, len(members_it if space_lang[slug] == "it" else members_en)),
        )
        for slug in question_spaces
    }

    def when_after(moment: datetime, hours: float) -> datetime:
        return min(now, moment + timedelta(hours=rng.uniform(0.05, hours)))

    def add_post(
        topic_id: int,
        author: int,
        source: str,
        created: datetime,
        *,
        opening: bool = False,
        parent: int | None = None,
    ) -> int:
        nonlocal n_posts
        n_posts += 1
        return batch.add(
            Post,
            topic_id=topic_id,
            author_id=author,
            parent_id=parent,
            is_opening=opening,
            body_source=source,
            body_html=html(source),
            created_at=created,
        )

    def add_votes(post_id: int, author: int, voters: list[int], up_only: bool) -> None:
        nonlocal n_votes
        for voter in voters:
            if voter == author:
                continue
            value = 1 if up_only or rng.random() < 0.85 else -1
            batch.add(Vote, post_id=post_id, user_id=voter, value=value, created_at=now)
            n_votes += 1

    # Who follows which topic, as the site would have it: askers, answerers, idea voters.
    follows: set[tuple[int, int]] = set()

    def add_topic(
        slug: str,
        kind: str,
        author: int,
        title: str,
        body: str,
        created: datetime,
        *,
        pinned: bool = False,
        locked: bool = False,
    ) -> int:
        topic_id = batch.add(
            Topic,
            space_id=space_ids[slug],
            author_id=author,
            kind=kind,
            title=title[:200],
            slug=slugify(title),
            created_at=created,
            last_activity_at=created,
            is_pinned=pinned,
            is_locked=locked,
            status=rng.choice(IDEA_STATUSES) if kind == "idea" else None,
        )
        for tag in rng.sample(TAGS, k=rng.randint(0, 3)):
            batch.add(TopicTag, topic_id=topic_id, tag_id=tag_ids[tag])
        return topic_id

    welcome = add_topic(
        "routers", "discussion", admin_id, WELCOME[0], WELCOME[1], start, pinned=True
    )
    add_post(welcome, admin_id, WELCOME[1], start, opening=True)
    topic_rows = batch.rows[Topic]

    with click.progressbar(range(n_topics), label="Demo topics", file=None) as bar:
        for index in bar:
            roll = rng.random()
            kind = "question" if roll < 0.6 else "idea" if roll < 0.85 else "discussion"
            slug = (
                "ideas"
                if kind == "idea" and rng.random() < 0.7
                else rng.choice(question_spaces + ["staff-lounge"] * (kind == "discussion"))
            )
            italian = space_lang[slug] == "it" or (slug == "ideas" and rng.random() < 0.3)
            authors = members_it if italian else members_en
            if slug == "staff-lounge":
                authors = staff_ids
            product = rng.choice(PRODUCTS)
            if kind == "question":
                title, body = rng.choice(PROBLEMS_IT if italian else PROBLEMS_EN)
            elif kind == "idea":
                title, body = rng.choice(IDEAS_IT if italian else IDEAS_EN)
            else:
                title, body = rng.choice(DISCUSSIONS_IT if italian else DISCUSSIONS_EN)
            title = title.format(p=product)
            if index >= len(PROBLEMS_EN):
                title = f"{title} (#{index + 1})" if rng.random() < 0.5 else title
            created = start + timedelta(hours=rng.uniform(0, 120 * 24 - 48))
            author = rng.choice(authors)
            topic_id = add_topic(slug, kind, author, title, body, created, locked=(index == 7))
            topic = topic_rows[-1]
            opening_id = add_post(topic_id, author, body, created, opening=True)
            voters = rng.sample(
                all_members + staff_ids,
                k=min(len(all_members), rng.randint(0, 12 if kind == "idea" else 4)),
            )
            add_votes(opening_id, author, voters, up_only=kind != "question")
            follows.add((author, topic_id))
            if kind == "idea":
                follows.update((voter, topic_id) for voter in voters)

            last = created
            if kind == "question":
                n_answers = 0 if rng.random() < 0.15 else rng.randint(1, 6)
            else:
                n_answers = rng.randint(0, 4)
            answer_ids = []
            if kind == "question":
                pool = ANSWERS_IT if italian else ANSWERS_EN
            else:
                pool = REPLIES_IT if italian else REPLIES_EN
            sources = rng.sample(pool, k=min(n_answers, len(pool)))
            for source in sources:
                helper_pool = staff_ids + [moderator_id] + authors
                helper = rng.choice([h for h in helper_pool if h != author] or helper_pool)
                if kind == "question" and regular_rng.random() < 0.5:
                    helper = regular_rng.choice(
                        [r for r in regulars[slug] if r != author] or [helper]
                    )
                last = when_after(last, 30)
                answer_id = add_post(topic_id, helper, source, last)
                answer_ids.append((answer_id, helper, last))
                follows.add((helper, topic_id))
                topic.setdefault("first_answer_at", last)
                add_votes(
                    answer_id,
                    helper,
                    rng.sample(all_members, k=rng.randint(0, 5)),
                    up_only=kind != "question",
                )
                if rng.random() < 0.25:
                    last = when_after(last, 6)
                    commenter = rng.choice(authors)
                    add_post(
                        topic_id,
                        commenter,
                        rng.choice(COMMENTS_IT if italian else COMMENTS_EN),
                        last,
                        parent=answer_id,
                    )
            if kind == "question" and answer_ids and rng.random() < 0.6:
                accepted_id, _, answered_at = rng.choice(answer_ids)
                by_regulars = [a for a in answer_ids if a[1] in regulars[slug]]
                if by_regulars and regular_rng.random() < 0.7:
                    accepted_id, _, answered_at = regular_rng.choice(by_regulars)
                topic["accepted_answer_id"] = accepted_id
                topic["accepted_at"] = when_after(answered_at, 12)
                last = max(last, topic["accepted_at"])
            topic["last_activity_at"] = last

    faq_asked = start + timedelta(days=3)
    faq = add_topic("routers", "question", members_en[0], FAQ[0], FAQ[1], faq_asked)
    faq_row = topic_rows[-1]
    add_post(faq, members_en[0], FAQ[1], faq_asked, opening=True)
    answered = faq_asked + timedelta(hours=2)
    faq_answer = add_post(faq, staff_ids[0], FAQ[2], answered)
    follows.update({(members_en[0], faq), (staff_ids[0], faq)})
    add_votes(faq_answer, staff_ids[0], all_members[:8], up_only=False)
    faq_row.update(
        first_answer_at=answered,
        accepted_answer_id=faq_answer,
        accepted_at=answered + timedelta(hours=1),
        last_activity_at=answered + timedelta(hours=1),
    )

    # Replies to the admin's welcome post, waiting unread in the admin's inbox (the bell
    # shows them on the first sign-in).
    follows.add((admin_id, welcome))
    replied = start + timedelta(hours=1)
    for n, source in enumerate(rng.sample(REPLIES_EN, k=3)):
        replied = when_after(replied, 12)
        member = members_en[n]
        reply_id = add_post(welcome, member, source, replied)
        follows.add((member, welcome))
        batch.add(
            Notification,
            user_id=admin_id,
            kind="reply",
            key=f"post:{reply_id}",
            group_key=f"topic:{welcome}",
            actor_id=member,
            topic_id=welcome,
            post_id=reply_id,
            data={},
            delivery="app",
            created_at=replied,
        )
    topic_rows[0]["last_activity_at"] = replied
    for user_id, topic_id in sorted(follows):
        batch.add(Follow, user_id=user_id, target_type="topic", target_id=topic_id, created_at=now)

    for topic in topic_rows:
        topic.setdefault("first_answer_at", None)
        topic.setdefault("accepted_answer_id", None)
        topic.setdefault("accepted_at", None)
    # Topics and posts refer to each other: insert topics without their accepted answer,
    # then set it once the posts exist.
    accepted = {
        t["id"]: (t["accepted_answer_id"], t["accepted_at"])
        for t in topic_rows
        if t["accepted_answer_id"]
    }
    for topic in topic_rows:
        topic["accepted_answer_id"] = None
    batch.flush([User, Space, SpaceModerator, Tag, Topic, TopicTag, Post, Vote, Follow])
    if accepted:
        db.session.execute(
            update(cast(Table, Topic.__table__))
            .where(Topic.__table__.c.id == bindparam("topic_id"))
            .values(accepted_answer_id=bindparam("answer_id")),
            [{"topic_id": tid, "answer_id": aid} for tid, (aid, _) in accepted.items()],
        )
    batch.flush([Notification])
    _advance_sequences()
    db.session.commit()
    recount_all()
    # Rows went in in bulk, past the ORM: every topic goes to the search index.
    from community.search.indexing import queue_all_topics

    queue_all_topics()
    n_spaces = len(SPACES)
    return (
        f"Demo: {len(people)} users, {n_spaces} spaces, {n_topics + 2} topics, "
        f"{n_posts} posts, {n_votes} votes. Sign in as {ADMIN[0]} / {ADMIN[1]}."
    )
