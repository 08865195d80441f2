"""Checking saved searches against what an ingest or crawl added: new and changed passages only.

The store queues every chunk whose text its document did not hold before (``Store.fresh_chunks``).
After an ingest or a crawl, ``check_watches`` takes the queue, and for each watch searches the
queued chunks' documents with the watch's query and filters, keeps the queued chunks among the hits
that clear the relevance gate for the query (``passes_gate``), records them as entries, and only
then drops the queue. Interrupted anywhere, the next check does the same work again, and the entry
ids (store.entry_id) make the repeat harmless.

A watch made after a chunk was queued does not see it (``Watch.after_seq``): a new watch reports
what arrives from then on, not the archive's past.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from precedent.ingest.errors import BadQuery
from precedent.ingest.records import Filters
from precedent.ingest.store import Store
from precedent.search.relevance import RelevanceJudge
from precedent.search.retrieve import Searcher, SearchHit
from precedent.search.watches.store import Watch, WatchStore

log = logging.getLogger(__name__)

QUEUE_BATCH = 5000  # queued chunks taken at a time
DOCUMENTS_PER_SEARCH = 10  # documents one search covers: each returns its best 100 passages
SEARCH_K = 100


def relevance_gate(searcher: Searcher, query: str, hits: Sequence[SearchHit]) -> list[float | None]:
    """Each passage's relevance score to ``query`` when it clears the gate, else None.

    The one place watches call the relevance gate (search/relevance.py), so a new gate is one edit.
    """
    if not hits:
        return []
    return [r.score if r.clears_bar else None for r in RelevanceJudge(searcher, query).judge(hits)]


@dataclass
class CheckReport:
    chunks: int = 0  # new and changed chunks checked
    watches: int = 0
    new_entries: dict[str, int] = field(default_factory=dict)  # watch id -> entries added

    def to_dict(self) -> dict[str, object]:
        return {"chunks": self.chunks, "watches": self.watches, "new_entries": self.new_entries}


def _filters(searcher: Searcher, watch: Watch, document_ids: Sequence[str]) -> Filters | None:
    """The watch's filters over these documents; None when the index holds none of its forces yet."""
    known = set(searcher.store.known_forces())
    forces = tuple(f for f in watch.forces if f in known)
    if watch.forces and not forces:
        return None
    return Filters(force=forces, since=watch.since, document_id=tuple(document_ids))


def check_watch(searcher: Searcher, watch: Watch, fresh: Sequence[tuple[int, str, str]]) -> list[tuple[SearchHit, float]]:
    """The fresh chunks (seq, chunk id, document id) that match ``watch``, with their relevance scores."""
    mine = {chunk_id for seq, chunk_id, _ in fresh if seq > watch.after_seq}
    documents = list(dict.fromkeys(doc for seq, chunk_id, doc in fresh if chunk_id in mine))
    matched: list[tuple[SearchHit, float]] = []
    for i in range(0, len(documents), DOCUMENTS_PER_SEARCH):
        filters = _filters(searcher, watch, documents[i: i + DOCUMENTS_PER_SEARCH])
        if filters is None:
            return []
        try:
            hits = [h for h in searcher.search(watch.query, k=SEARCH_K, filters=filters) if h.chunk.chunk_id in mine]
        except BadQuery as exc:  # a query the search cannot run (it was valid when saved): skip, say why
            log.warning("watch %s: %s", watch.watch_id, exc)
            return []
        scores = relevance_gate(searcher, watch.query, hits)
        matched += [(hit, score) for hit, score in zip(hits, scores, strict=True) if score is not None]
    return matched


def check_watches(searcher: Searcher, store: Store, watches: WatchStore) -> CheckReport:
    """Check every watch against the new and changed chunks queued in ``store`` (the index ``searcher``
    reads), record what matched, then drop the queue. The queue is the store's to write: search only
    reads the index, so the caller hands over the store it ingested into."""
    report = CheckReport()
    all_watches = watches.watches()
    report.watches = len(all_watches)
    while True:
        fresh = store.fresh_chunks(QUEUE_BATCH)
        if not fresh:
            return report
        report.chunks += len(fresh)
        for watch in all_watches:
            found = check_watch(searcher, watch, fresh)
            if found:
                added = watches.add_entries(watch, [(hit.citation, hit.chunk.text, score) for hit, score in found])
                report.new_entries[watch.watch_id] = report.new_entries.get(watch.watch_id, 0) + added
        store.consume_fresh(max(seq for seq, _, _ in fresh))
