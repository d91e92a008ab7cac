"""The SMTP mail backend against a real SMTP server on the loopback interface."""

import socket

import pytest
from aiosmtpd.controller import Controller

from community.mail import send_mail


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def app_config():
    return {"MAIL_BACKEND": "smtp", "MAIL_FROM": "Community <noreply@community.test>"}


def test_smtp_backend_delivers_multipart_mail(app, smtp_server):
    controller, inbox = smtp_server
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=controller.port)
    send_mail("anna@example.com", "Hello", "Plain text body", "<p>HTML body</p>")
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["anna@example.com"]
    raw = envelope.content.decode()
    assert "Subject: Hello" in raw
    assert "multipart/alternative" in raw
    assert "Plain text body" in raw and "<p>HTML body</p>" in raw


def test_registration_confirmation_goes_through_smtp(app, client, smtp_server):
    controller, inbox = smtp_server
    app.config.update(MAIL_SMTP_HOST="127.0.0.1", MAIL_SMTP_PORT=controller.port)
    response = client.submit(
        "/register",
        {
            "username": "anna",
            "email": "anna@example.com",
            "password": "a long password",
            "confirm": "a long password",
        },
    )
    assert response.status_code == 302
    assert len(inbox.messages) == 1
    assert "/confirm/" in inbox.messages[0].content.decode()
