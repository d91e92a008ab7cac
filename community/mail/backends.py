"""Mail backends: what finally hands a message over.

``MAIL_BACKEND`` names one of core's backends, or a class of one's own::

    smtp      SMTPBackend     an SMTP server (MAIL_SMTP_*): production
    console   ConsoleBackend  logs each message: development
    file      FileBackend     writes .eml files to MAIL_FILE_PATH: development, browser tests
    memory    MemoryBackend   keeps them in a list (the ``outbox`` test fixture): tests

    MAIL_BACKEND = "mycompany.mail:RelayBackend"   # a MailBackend subclass, "module:Class"

Backends are called by the background worker only (see :mod:`community.mail.queue`), never
inside a web request. ``send`` returns once the message is handed over and raises when it was
not: :class:`PermanentMailError` when trying again cannot help (the server refused the
recipient for good), any other exception when it may (the server is down, busy, or slow).
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import smtplib
import ssl
import time
from email.message import EmailMessage
from pathlib import Path

from flask import Flask

log = logging.getLogger(__name__)

EXTENSION = "community.mail.backend"
OUTBOX = "community.outbox"


class PermanentMailError(Exception):
    """Raised by a backend when the message can never be delivered as it is: the worker marks
    it failed at once instead of trying again."""


class MailBackend:
    """The interface of a mail backend. One instance is made per app, when the app starts;
    it reads its settings from ``app.config`` when it sends, so it must not keep per-message
    state."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over (its ``To`` header is the recipient). Raise
        :class:`PermanentMailError` when it can never be delivered, any other exception when
        a later attempt may succeed."""
        raise NotImplementedError


class SMTPBackend(MailBackend):
    """Delivery to an SMTP server: ``MAIL_SMTP_HOST`` and ``_PORT``; ``MAIL_SMTP_TLS`` for
    STARTTLS (port 587) or ``MAIL_SMTP_SSL`` for implicit TLS (SMTPS, port 465), certificates
    checked; ``MAIL_SMTP_USERNAME`` and ``_PASSWORD`` when the server wants a login. One
    connection per message."""

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        if app.config["MAIL_SMTP_TLS"] and app.config["MAIL_SMTP_SSL"]:
            raise ValueError(
                "MAIL_SMTP_TLS (STARTTLS) and MAIL_SMTP_SSL (implicit TLS) exclude each other"
            )

    def send(self, message: EmailMessage) -> None:
        cfg = self.app.config
        host, port, timeout = cfg["MAIL_SMTP_HOST"], cfg["MAIL_SMTP_PORT"], cfg["MAIL_SMTP_TIMEOUT"]
        smtp: smtplib.SMTP
        if cfg["MAIL_SMTP_SSL"]:
            smtp = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        with smtp:
            if cfg["MAIL_SMTP_TLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if cfg["MAIL_SMTP_USERNAME"]:
                smtp.login(cfg["MAIL_SMTP_USERNAME"], cfg["MAIL_SMTP_PASSWORD"] or "")
            try:
                smtp.send_message(message)
            except smtplib.SMTPRecipientsRefused as refused:
                codes = [code for code, _reply in refused.recipients.values()]
                if codes and all(500 <= code < 600 for code in codes):
                    raise PermanentMailError(_describe(refused)) from refused
                raise
            except smtplib.SMTPDataError as refused:
                if 500 <= refused.smtp_code < 600:
                    raise PermanentMailError(_describe(refused)) from refused
                raise


def _describe(error: smtplib.SMTPException) -> str:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return str(error)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class ConsoleBackend(MailBackend):
    """Logs each message (recipient, subject and text) at WARNING, so that it shows in the
    worker's output. Development only: nothing is delivered."""

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if isinstance(body, EmailMessage) else ""
        log.warning("mail to %s: %s\n%s", message["To"], message["Subject"], text)


class FileBackend(MailBackend):
    """Writes each message to an ``.eml`` file in ``MAIL_FILE_PATH`` (default
    ``instance/mail/``), named by the time it was written, so that sorting the names sorts the
    messages. Each file appears complete (written aside, then renamed)."""

    def send(self, message: EmailMessage) -> None:
        folder = Path(self.app.config["MAIL_FILE_PATH"] or Path(self.app.instance_path, "mail"))
        folder.mkdir(parents=True, exist_ok=True)
        # Several worker threads and processes may write at the same nanosecond.
        name = f"{time.time_ns()}-{os.getpid()}-{secrets.token_hex(3)}.eml"
        partial = folder / (name + ".tmp")
        partial.write_bytes(bytes(message))
        os.replace(partial, folder / name)


class MemoryBackend(MailBackend):
    """Keeps each message in ``app.extensions["community.outbox"]`` (what the ``outbox`` test
    fixture returns)."""

    def send(self, message: EmailMessage) -> None:
        outbox(self.app).append(message)


def outbox(app: Flask) -> list[EmailMessage]:
    """The messages the ``memory`` backend has sent in this app."""
    return app.extensions.setdefault(OUTBOX, [])


BACKENDS: dict[str, type[MailBackend]] = {
    "smtp": SMTPBackend,
    "console": ConsoleBackend,
    "file": FileBackend,
    "memory": MemoryBackend,
}


def backend_class(name: str) -> type[MailBackend]:
    """The class ``MAIL_BACKEND`` names: a core backend's name or ``"module:ClassName"``."""
    if name in BACKENDS:
        return BACKENDS[name]
    module_name, _, class_name = name.partition(":")
    if not module_name or not class_name:
        raise ValueError(
            f"MAIL_BACKEND {name!r}: use one of {', '.join(BACKENDS)} "
            "or 'package.module:ClassName' (a MailBackend subclass)"
        )
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, MailBackend)):
        raise ValueError(f"MAIL_BACKEND {name!r} is not a community.mail.MailBackend subclass")
    return cls


def init_backend(app: Flask) -> MailBackend:
    """Make the app's backend (when the app starts, so a wrong MAIL_BACKEND fails at once)."""
    backend = backend_class(app.config["MAIL_BACKEND"])(app)
    app.extensions[EXTENSION] = backend
    return backend


def mail_backend(app: Flask) -> MailBackend:
    return app.extensions[EXTENSION]
