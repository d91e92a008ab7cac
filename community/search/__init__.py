"""Search: a core capability behind the ``community_search_backend`` hook.

- :mod:`community.search.query` parses what people type (words, phrases, AND/OR/NOT only);
- :mod:`community.search.backend` is the interface of a backend; core ships
  :mod:`~community.search.whoosh_backend` (default) and :mod:`~community.search.postgres_backend`;
- :mod:`community.search.indexing` keeps the index in step with the database through the
  background worker (``community worker``);
- :mod:`community.search.service` answers searches with the permission rules of listings;
- :mod:`community.search.views` is the search page, the similar-topics panel of the ask form
  and the deflection links.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app

from community.search.backend import SearchBackend, SearchDocument, SearchFilters, SearchResult
from community.search.query import ParsedQuery, any_of, parse_query

__all__ = [
    "ParsedQuery",
    "SearchBackend",
    "SearchDocument",
    "SearchFilters",
    "SearchResult",
    "any_of",
    "core_backend",
    "parse_query",
    "search_backend",
]

BACKENDS = ("whoosh", "postgresql")


def core_backend(app: Flask) -> SearchBackend:
    """The backend ``SEARCH_BACKEND`` names, made once per app."""
    backend = app.extensions.get("community.search.backend")
    if backend is None:
        choice = app.config["SEARCH_BACKEND"]
        if choice == "whoosh":
            from community.search.whoosh_backend import WhooshBackend

            path = app.config["SEARCH_WHOOSH_PATH"] or os.path.join(
                app.instance_path, "search", "whoosh"
            )
            backend = WhooshBackend(path, time_limit=app.config["SEARCH_TIME_LIMIT"])
        elif choice == "postgresql":
            from community.search.postgres_backend import PostgresBackend

            backend = PostgresBackend(
                exact_limit=app.config["SEARCH_EXACT_LIMIT"],
                candidates=app.config["SEARCH_CANDIDATES"],
                max_window=app.config["SEARCH_MAX_WINDOW"],
            )
        else:
            raise ValueError(f"SEARCH_BACKEND {choice!r}: use one of {', '.join(BACKENDS)}")
        app.extensions["community.search.backend"] = backend
    return backend


def search_backend(app: Flask | None = None) -> SearchBackend:
    """The backend in use: a plugin's answer to ``community_search_backend``, or core's."""
    from community.plugins.host import current_host

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    backend: Any = current_host().first("community_search_backend", app=app)
    return backend if backend is not None else core_backend(app)


def init_search(app: Flask) -> None:
    from community.search import models  # noqa: F401 - the tables
    from community.search.indexing import install_listeners

    if app.config["SEARCH_BACKEND"] not in BACKENDS:
        raise ValueError(
            f"SEARCH_BACKEND {app.config['SEARCH_BACKEND']!r}: use one of {', '.join(BACKENDS)}"
        )
    install_listeners()
