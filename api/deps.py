"""What route handlers share: the settings, and one store and Searcher per app, opened lazily."""

from __future__ import annotations

import threading
from typing import Any

from fastapi import Request

from precedent.ingest.errors import StoreMissing
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from precedent.search.retrieve import Searcher

_lock = threading.Lock()


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def app_searcher(state: Any, *, create: bool = False) -> Searcher:
    """The one Searcher (over the app's store, with the model) an app keeps, opened on first use;
    ``create`` makes the store if there is none yet."""
    if state.searcher is None:
        with _lock:
            if state.searcher is None:
                state.store = Store.open(state.settings, create=create)
                state.searcher = Searcher(state.settings, store=state.store)
    return state.searcher


def app_store(state: Any, *, create: bool = False) -> Store:
    """The app's store, for writes: uploads and crawls go through the one store its Searcher reads."""
    app_searcher(state, create=create)
    return state.store


def get_searcher(request: Request) -> Searcher:
    """The app's Searcher; a missing or empty store is a 503 that says to run `precedent ingest`."""
    state = request.app.state
    searcher = app_searcher(state)
    if searcher.store.is_empty():  # per request: must stay cheaper than counting 100k rows
        raise StoreMissing(
            f"the index in {state.settings.data_dir} is empty: run `precedent ingest PATH` to add documents"
        )
    return searcher
