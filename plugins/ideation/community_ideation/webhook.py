"""The outgoing webhook: a product backlog tool hears about new ideas and status changes.

When the ``webhook_url`` setting is set, :func:`queue_event` writes a :class:`Delivery` row
(the exact JSON body, kept until the receiver took it) and queues :func:`deliver`, which POSTs
it from the worker and is retried while the receiver fails. Nothing is lost: a delivery that
used up its retries stays ``failed`` with its attempts and last error, and
:func:`resend_failed` queues those again. A row left "pending" because the task queue was
down when it was written is queued again by :func:`resend` (``community ideation resend``)
once it is older than :data:`STALE_AFTER`.

Only ideas of public spaces (those an anonymous visitor may see) are sent: the receiver is
outside the community, and an idea of a members-only or private space must not leak there.

The request::

    POST <webhook_url>
    Content-Type: application/json
    X-Community-Event: idea.created | idea.status_changed
    X-Community-Delivery: <the delivery id, also "id" in the body: unique, for idempotency>
    X-Community-Signature: sha256=<hex HMAC-SHA256 of the exact body, key webhook_secret>

    {"id": "...", "event": "idea.status_changed", "occurred_at": "2026-11-24T10:00:00+00:00",
     "idea": {"id": 12, "title": "...", "url": "/t/12/dark-mode", "space": "ideas",
              "status": "planned", "status_name": "Planned", "votes": 7, "author": "ann"},
     "previous_status": "new", "response": "We plan it for the spring release."}

``previous_status`` and ``response`` (the official response, Markdown, possibly empty) are
only in ``idea.status_changed`` bodies. A receiver checks the signature
with :func:`verify` (or the same three lines in its own language) on the raw body, before
parsing it, and ignores a delivery id it has already seen (a delivery may arrive twice when
the answer to the first attempt was lost). Any 2xx answer means "taken".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import and_, insert, or_, select, update

from community.accounts.models import AnonymousUser
from community.dbtypes import utcnow
from community.extensions import db
from community.permissions import visible_space_ids
from community.plugins import is_enabled
from community.tasks import enqueue, task
from community_ideation.models import Delivery
from community_ideation.settings import NAME, settings
from community_ideation.workflow import parse

log = logging.getLogger(__name__)

EVENTS = ("idea.created", "idea.status_changed")
RETRIES = 8  # the worker runs a failing delivery this many times more...
RETRY_DELAY = 60  # ...this many seconds later each time
MAX_ATTEMPTS = RETRIES + 1  # after that many failed attempts a delivery is "failed"
TIMEOUT = 10  # seconds for the receiver to answer
USER_AGENT = "Community-Ideation-Webhook/1"
# A delivery still "pending" this long after it was written is not waiting for a retry any
# more (its retries and their timeouts take under ten minutes): the worker never got it.
STALE_AFTER = timedelta(seconds=RETRIES * RETRY_DELAY + MAX_ATTEMPTS * TIMEOUT + 300)
RESEND_CHUNK = 500


def sign(body: bytes, secret: str) -> str:
    """The ``X-Community-Signature`` header value for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, secret: str, header: str) -> bool:
    """For receivers: whether ``header`` (the ``X-Community-Signature`` value) signs ``body``,
    the raw request body as received, with the shared ``secret``. Constant-time comparison."""
    if not header or not secret:
        return False
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())


def _is_public(topic: Any) -> bool:
    return topic.space_id in visible_space_ids(AnonymousUser())


def _topic_path(topic: Any) -> str:
    # Built without a request (the worker, a CLI): the path only, the receiver knows the host.
    adapter = current_app.url_map.bind(
        "localhost", script_name=current_app.config.get("APPLICATION_ROOT") or "/"
    )
    return adapter.build("topics.topic", {"topic_id": topic.id, "slug": topic.slug})


def _payload(
    event: str, topic: Any, previous_status: str | None, conf: dict, response: str = ""
) -> dict:
    status_name = topic.status
    try:
        found = parse(conf.get("statuses") or "", "").status(topic.status)
    except ValueError:
        found = None
    if found is not None:
        status_name = found.name
    payload: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "event": event,
        "occurred_at": utcnow().isoformat(),
        "idea": {
            "id": topic.id,
            "title": topic.title,
            "url": _topic_path(topic),
            "space": topic.space.slug,
            "status": topic.status,
            "status_name": status_name,
            "votes": topic.score,
            "author": topic.author.username,
        },
    }
    if event == "idea.status_changed":
        payload["previous_status"] = previous_status
        payload["response"] = response
    return payload


def queue_event(
    event: str, topic: Any, previous_status: str | None = None, response: str = ""
) -> int | None:
    """Record a delivery of ``event`` ("idea.created" or "idea.status_changed") about the idea
    ``topic`` and queue it; the row id, or None when nothing is sent (no webhook address, the
    plugin disabled, not an idea, or an idea outside the public spaces). Call it after the
    change committed (the plugin's hooks do)."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    if not is_enabled(NAME):
        return None
    conf = settings()
    if not (conf.get("webhook_url") or "").strip():
        return None
    if topic.kind != "idea" or topic.deleted_at is not None or topic.held_at is not None:
        return None
    if not _is_public(topic):
        return None
    payload = _payload(event, topic, previous_status, conf, response)
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    # On a connection of its own, as core's notification events: the caller's objects stay
    # loaded and its transaction is not committed behind its back.
    with db.engine.begin() as conn:
        delivery_id = conn.execute(
            insert(Delivery)
            .values(event=event, payload=body, state="pending", attempts=0, created_at=utcnow())
            .returning(Delivery.id)
        ).scalar_one()
    try:
        enqueue(deliver, delivery_id)
    except Exception:  # the queue is down: the row stays pending, resend_failed() finds it
        log.exception("could not queue webhook delivery %s", delivery_id)
    return delivery_id


def _record(delivery_id: int, **values: Any) -> None:
    db.session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
    db.session.commit()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer (an error), not followed: the body stays where it was sent."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST ``body`` to ``url`` (http or https only, checked by the caller); the status."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with _OPENER.open(request, timeout=TIMEOUT) as response:
            return response.status
    except urllib.error.HTTPError as exc:  # 3xx, 4xx, 5xx: an answer, not a crash
        return exc.code


@task(retries=RETRIES, retry_delay=RETRY_DELAY)
def deliver(delivery_id: int) -> None:
    """POST one delivery to the webhook address; raises (so the worker retries it) while the
    receiver does not answer 2xx. Idempotent: a delivery already sent is not sent again."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.state == "sent":
        return
    conf = settings()
    url = (conf.get("webhook_url") or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        # Retrying cannot help: failed at once; resend_failed() after the address is fixed.
        reason = "no webhook address" if not url else "the webhook address is not http(s)"
        _record(delivery_id, state="failed", last_error=f"refused: {reason}: {url[:200]!r}")
        log.warning("webhook delivery %s refused: %s", delivery_id, reason)
        return
    body = delivery.payload.encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Community-Event": delivery.event,
        "X-Community-Delivery": json.loads(delivery.payload)["id"],
        "X-Community-Signature": sign(body, conf.get("webhook_secret") or ""),
    }
    attempts = delivery.attempts + 1
    db.session.rollback()  # no transaction open while waiting for the receiver
    try:
        status = _post(url, body, headers)
        error = None if 200 <= status < 300 else f"HTTP {status}"
    except Exception as exc:  # refused, timed out, bad TLS...
        error = f"{type(exc).__name__}: {exc}"
    if error is None:
        _record(delivery_id, state="sent", sent_at=utcnow(), attempts=attempts, last_error="")
        return
    failed = attempts >= MAX_ATTEMPTS
    _record(
        delivery_id,
        state="failed" if failed else "pending",
        attempts=attempts,
        last_error=error[:500],
    )
    log.warning("webhook delivery %s attempt %s failed: %s", delivery_id, attempts, error)
    if not failed:
        raise RuntimeError(f"webhook delivery {delivery_id} failed: {error}")


def _to_resend(stale_after: timedelta | None) -> Any:
    wanted = Delivery.state == "failed"
    if stale_after is None:
        return wanted
    stale = and_(Delivery.state == "pending", Delivery.created_at < utcnow() - stale_after)
    return or_(wanted, stale)


def resendable(stale_after: timedelta | None = STALE_AFTER) -> list[int]:
    """The deliveries to queue again, oldest first: those that used up their retries (or were
    refused) and, with ``stale_after``, those still "pending" that were written longer ago
    than that (the queue was down when they were written, or lost them): a pending delivery
    whose retries are still running is never that old, see :data:`STALE_AFTER`."""
    statement = select(Delivery.id).where(_to_resend(stale_after)).order_by(Delivery.id)
    return list(db.session.scalars(statement))


def requeue(
    ids: Sequence[int],
    stale_after: timedelta | None = STALE_AFTER,
    progress: Callable[[int], Any] | None = None,
) -> int:
    """Queue the deliveries ``ids`` (from :func:`resendable`) again, each with a fresh set of
    attempts; a row that was sent or changed meanwhile is left alone. ``progress(n)`` is
    called as rows are queued. Returns how many were queued; raises when the queue is down
    (the rows left are found again by the next call). A stale row queued again keeps its
    ``created_at``: calling this twice within :data:`STALE_AFTER` may queue it twice, which
    is harmless (:func:`deliver` skips a sent delivery; receivers deduplicate by its id)."""
    queued = 0
    for start in range(0, len(ids), RESEND_CHUNK):
        chunk = list(ids[start : start + RESEND_CHUNK])
        # Only rows still as they were (a worker may have sent one meanwhile) are reset.
        chunk = list(
            db.session.scalars(
                update(Delivery)
                .where(Delivery.id.in_(chunk), _to_resend(stale_after))
                .values(state="pending", attempts=0)
                .returning(Delivery.id)
            )
        )
        db.session.commit()
        for delivery_id in chunk:
            enqueue(deliver, delivery_id)
            queued += 1
            if progress is not None:
                progress(1)
    return queued


def resend(
    stale_after: timedelta | None = STALE_AFTER, progress: Callable[[int], Any] | None = None
) -> int:
    """Queue again the failed deliveries and the stale pending ones (``community ideation
    resend``). Returns how many were queued."""
    return requeue(resendable(stale_after), stale_after, progress)


def resend_failed() -> int:
    """Queue again every delivery that used up its retries (or was refused); they get a
    fresh set of attempts. Returns how many were queued."""
    return requeue(resendable(None), None)
