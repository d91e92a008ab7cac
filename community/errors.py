"""Exceptions services raise for refusals a user should read."""

from __future__ import annotations


class Refused(Exception):
    """The action is not possible as asked; ``message`` is translated and shown to the user."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
