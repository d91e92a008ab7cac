"""The plugin's pages: registered at start-up (core answers 404 while it is disabled)."""

from __future__ import annotations


def register(app):
    from community_experts.web_directory import bp as directory_bp
    from community_experts.web_routing import bp as routing_bp

    app.register_blueprint(directory_bp)
    app.register_blueprint(routing_bp)
