"""The plugin's pages: registered at start-up (core answers 404 while it is disabled)."""

from __future__ import annotations


def register(app):
    from community_moderation.web_queue import bp as queue_bp
    from community_moderation.web_tools import bp as tools_bp

    app.register_blueprint(queue_bp)
    app.register_blueprint(tools_bp)
