"""Saved searches (watches): checked after every ingest or crawl, read as Atom feeds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from precedent.ingest.dates import date_arg
from precedent.ingest.errors import BadQuery, PrecedentError
from precedent.ingest.forces import all_forces, force_named
from precedent.ingest.store import Store
from precedent.search.filters import check_query
from precedent.search.retrieve import Searcher
from precedent.search.watches.check import CheckReport, check_watches, relevance_gate
from precedent.search.watches.feed import atom_feed, describe
from precedent.search.watches.store import Watch, WatchEntry, WatchStore


class UnknownWatch(PrecedentError):
    """No watch has that id."""


def add_watch(watches: WatchStore, store: Store | None, query: str, forces: Sequence[str] = (),
              since: str | dt.date | None = None) -> Watch:
    """Save a search. Forces are checked against every force in England and Wales (the index may not hold
    a force's papers yet); only chunks that arrive from now on are checked against it."""
    query = check_query(query)
    names: list[str] = []
    for raw in forces:
        if not str(raw).strip():
            continue
        force = force_named(str(raw))
        if force is None:
            raise BadQuery(f"unknown force '{str(raw)[:80]}': use a force name such as "
                           f"{', '.join(f.name for f in all_forces()[:3])}")
        if force.name not in names:
            names.append(force.name)
    start = date_arg(since, "since")
    return watches.add(query, names, start, store.fresh_watermark() if store is not None else 0)


def remove_watch(watches: WatchStore, watch_id: str) -> None:
    if not watches.remove(watch_id):
        raise UnknownWatch(f"no watch '{watch_id[:40]}': list them with `precedent watch list` or GET /watches")


def check_after_ingest(searcher: Searcher, store: Store) -> CheckReport:
    """Run after every ingest or crawl: check the watches against the new and changed chunks in ``store`` (the
    index ``searcher`` reads), or, when no watch was ever saved, just let the queue go."""
    settings = searcher.settings
    if not WatchStore.exists(settings):
        store.consume_fresh(store.fresh_watermark())
        return CheckReport()
    with WatchStore.open(settings) as watches:
        return check_watches(searcher, store, watches)


__all__ = ["CheckReport", "UnknownWatch", "Watch", "WatchEntry", "WatchStore", "add_watch", "atom_feed",
           "check_after_ingest", "check_watches", "describe", "relevance_gate", "remove_watch"]
