"""Rate limits for write endpoints, read from config so deployments can tune them."""

from __future__ import annotations

from flask import current_app

from community.extensions import limiter


def _from_config(key: str):
    return lambda: current_app.config[key]


write_limit = limiter.limit(_from_config("RATELIMIT_WRITE"), methods=["POST"])
vote_limit = limiter.limit(_from_config("RATELIMIT_VOTE"), methods=["POST"])
auth_limit = limiter.limit(_from_config("RATELIMIT_AUTH"), methods=["POST"])
