"""A test plugin that adds a route and then raises while the app starts: it is left out, the
site starts, and its route answers 404."""

from flask import Blueprint

from community.hookspecs import hookimpl

bp = Blueprint("badstart", __name__)


@bp.route("/badstart")
def page():
    return "should never be served"


@hookimpl
def community_app_created(app):
    app.register_blueprint(bp)
    raise RuntimeError("cannot start: no licence key")
