"""The plugin's pages: registered at start-up (core answers 404 while it is disabled)."""

from __future__ import annotations


def register(app):
    from community_gamification.web_badges import bp as badges_bp
    from community_gamification.web_leaderboard import bp as leaderboard_bp

    app.register_blueprint(leaderboard_bp)
    app.register_blueprint(badges_bp)
