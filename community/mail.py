"""Outgoing mail behind one interface: ``send_mail(to, subject, text, html)``.

Backends: ``console`` (logs the message, for development), ``file`` (writes ``.eml`` files to
``MAIL_FILE_PATH``, for development and browser tests), ``memory`` (keeps messages in
``app.extensions["community.outbox"]``, for tests) and ``smtp``.
"""

from __future__ import annotations

import logging
import smtplib
import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import Flask, current_app

log = logging.getLogger(__name__)


def build_message(to: str, subject: str, text: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["MAIL_FROM"]
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="community.local")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


def send_mail(to: str, subject: str, text: str, html: str | None = None) -> None:
    msg = build_message(to, subject, text, html)
    backend = current_app.config["MAIL_BACKEND"]
    if backend == "memory":
        current_app.extensions.setdefault("community.outbox", []).append(msg)
    elif backend == "console":
        log.warning("mail to %s: %s\n%s", to, subject, text)
    elif backend == "file":
        folder = Path(
            current_app.config["MAIL_FILE_PATH"] or Path(current_app.instance_path, "mail")
        )
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns()}.eml"
        (folder / (name + ".tmp")).write_bytes(bytes(msg))
        (folder / (name + ".tmp")).rename(folder / name)
    elif backend == "smtp":
        _send_smtp(current_app, msg)
    else:
        raise RuntimeError(f"unknown MAIL_BACKEND {backend!r}")


def _send_smtp(app: Flask, msg: EmailMessage) -> None:
    cfg = app.config
    with smtplib.SMTP(cfg["MAIL_SMTP_HOST"], cfg["MAIL_SMTP_PORT"], timeout=30) as smtp:
        if cfg["MAIL_SMTP_TLS"]:
            smtp.starttls()
        if cfg["MAIL_SMTP_USERNAME"]:
            smtp.login(cfg["MAIL_SMTP_USERNAME"], cfg["MAIL_SMTP_PASSWORD"] or "")
        smtp.send_message(msg)


def outbox(app: Flask) -> list[EmailMessage]:
    return app.extensions.setdefault("community.outbox", [])
