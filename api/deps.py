"""What route handlers share: the settings and one Searcher per app, opened lazily."""

from __future__ import annotations

import threading

from fastapi import Request

from precedent.ingest.errors import StoreMissing
from precedent.ingest.settings import Settings
from precedent.search.retrieve import Searcher

_lock = threading.Lock()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_searcher(request: Request) -> Searcher:
    """The app's Searcher; a missing or empty store is a 503 that says to run `precedent ingest`."""
    state = request.app.state
    if state.searcher is None:
        with _lock:
            if state.searcher is None:
                state.searcher = Searcher(state.settings)
    searcher: Searcher = state.searcher
    if searcher.store.is_empty():  # per request: must stay cheaper than counting 100k rows
        raise StoreMissing(
            f"the index in {state.settings.data_dir} is empty: run `precedent ingest PATH` to add documents"
        )
    return searcher
