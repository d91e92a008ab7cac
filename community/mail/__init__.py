"""Outgoing mail: queued in the database, sent by the background worker.

Code that wants a message sent queues it; ``community worker`` sends it, with retries::

    from community.mail import queue_mail, send_mail

    send_mail(user.email, subject, text, html)  # queue it and commit

    queue_mail(user.email, subject, text, html, headers={"Auto-Submitted": "auto-generated"})
    notification.emailed_at = utcnow()
    db.session.commit()  # the message and the other change, together or not at all

Nothing is sent inside a web request. :mod:`community.mail.queue` is the queue (one
``mail_queue`` row per message) and the worker's side; :mod:`community.mail.backends` the
backends that hand messages over (``MAIL_BACKEND``: smtp, console, file, memory, or a
``MailBackend`` subclass of one's own); ``community mail status|retry|send-test`` the command
line.
"""

from __future__ import annotations

from flask import Flask

from community.mail.backends import (
    ConsoleBackend,
    FileBackend,
    MailBackend,
    MemoryBackend,
    PermanentMailError,
    SMTPBackend,
    mail_backend,
    outbox,
)
from community.mail.queue import (
    MailError,
    MailStatus,
    build_message,
    deliver,
    mail_status,
    queue_mail,
    retry_failed,
    send_mail,
    sweep,
)

__all__ = [
    "ConsoleBackend",
    "FileBackend",
    "MailBackend",
    "MailError",
    "MailStatus",
    "MemoryBackend",
    "PermanentMailError",
    "SMTPBackend",
    "build_message",
    "deliver",
    "init_mail",
    "mail_backend",
    "mail_status",
    "outbox",
    "queue_mail",
    "retry_failed",
    "send_mail",
    "sweep",
]


def init_mail(app: Flask) -> None:
    from community.mail import models  # noqa: F401 - the table
    from community.mail.backends import init_backend
    from community.mail.queue import install_listeners

    init_backend(app)
    install_listeners()
