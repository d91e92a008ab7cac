from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from community.extensions import db, wants_json

log = logging.getLogger(__name__)


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        403: _("You are not allowed to do that."),
        404: _("This page does not exist, or you may not see it."),
        405: _("This address does not accept that method."),
        413: _("What you sent is too large."),
        429: _("You are doing that too often. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again later."),
    }


def _render(code: int, message: str):
    if wants_json():
        return jsonify(error=message), code
    return render_template("error.html", code=code, message=message), code


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return _render(
            400,
            _(
                "Your form expired or was not sent from this site. Go back, reload the page "
                "and try again: what you typed is still in the form."
            ),
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        code = error.code or 500
        # A view that aborts with its own description (already translated) says why.
        custom = error.description and error.description != type(error).description
        message = error.description if custom else _messages().get(code, error.description or "")
        if code == 429:
            message = _(
                "You are doing that too often (limit: %(limit)s). Please try again "
                "in a little while.",
                limit=str(error.description),
            )
        return _render(code, message or "")

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        log.exception("unhandled error")
        db.session.rollback()
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise error
        return _render(500, _messages()[500])
