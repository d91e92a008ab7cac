"""Core's own answer to the search-backend hook (``trylast``: a plugin's answer wins)."""

from __future__ import annotations

from typing import Any

from community.hookspecs import hookimpl


@hookimpl(trylast=True)
def community_search_backend(app: Any) -> Any:
    from community.search import core_backend

    return core_backend(app)
