"""A mail backend of one's own, named by ``MAIL_BACKEND = "tests.plugins.mailbackend:Recording"``
(not a plugin: a module loaded by its dotted path). It keeps messages in the app, and refuses
for good any message to an address at ``nowhere.test``."""

from community.mail import MailBackend, PermanentMailError


class Recording(MailBackend):
    def send(self, message):
        if str(message["To"]).endswith("@nowhere.test"):
            raise PermanentMailError(f"no such domain: {message['To']}")
        self.app.extensions.setdefault("tests.mailbackend", []).append(message)


class NotABackend:
    def send(self, message):
        raise AssertionError("never used")
