"""A test plugin that raises while the app starts: it is left out, the site starts."""

from community.hookspecs import hookimpl


@hookimpl
def community_app_created(app):
    raise RuntimeError("cannot start: no licence key")
