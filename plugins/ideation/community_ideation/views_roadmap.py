"""Pages of the roadmap, releases and insight: registered at start-up (core answers 404 while
the plugin is disabled)."""

from __future__ import annotations


def register(app):
    from community_ideation.web_insight import bp as insight_bp
    from community_ideation.web_releases import bp as releases_bp
    from community_ideation.web_roadmap import bp as roadmap_bp
    from community_ideation.web_team import bp as team_bp

    app.register_blueprint(roadmap_bp)
    app.register_blueprint(releases_bp)
    app.register_blueprint(insight_bp)
    app.register_blueprint(team_bp)
