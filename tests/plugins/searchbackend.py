"""A test plugin that provides the search backend through ``community_search_backend``: core's
Whoosh backend, except that it refuses to index a topic whose title has "explode" while the
switch ``fail`` is on (to test that failed index updates are kept and retried)."""

from community.hookspecs import hookimpl
from community.search.whoosh_backend import WhooshBackend

fail = {"on": True}


class ExplodingBackend(WhooshBackend):
    name = "exploding"

    def index(self, documents):
        if fail["on"] and any("explode" in d.title.lower() for d in documents):
            raise RuntimeError("the test backend refuses topics about exploding")
        super().index(documents)


@hookimpl
def community_search_backend(app):
    backend = app.extensions.get("tests.searchbackend")
    if backend is None:
        backend = ExplodingBackend(app.instance_path + "/search/exploding")
        app.extensions["tests.searchbackend"] = backend
    return backend
