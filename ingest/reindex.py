"""Re-embed every chunk of an index with the configured encoder, in place: ``precedent reindex``.

Chunk vectors (Chroma) and each chunk's sentence vectors (SQLite, for re-scoring) are both replaced; a
store from before sentence vectors were kept gains them.

An index never holds vectors of two encoders that queries could mix: from the first replaced vector
until the last, the store says a reindex is under way and refuses searches and ingests. Documents are
walked in id order and the last one done is recorded after each batch, so a killed reindex resumes
where it stopped (overwriting a vector twice is harmless).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from precedent.ingest.embed import Encoder, embedder_for
from precedent.ingest.errors import StoreMismatch
from precedent.ingest.pipeline import embed_documents
from precedent.ingest.settings import Settings
from precedent.ingest.store import EncoderRecord, Store


@dataclass
class ReindexReport:
    encoder: str
    previous: str
    documents: int = 0
    chunks: int = 0
    resumed: bool = False
    seconds: float = 0.0

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "seconds": round(self.seconds, 3)}


def reindex(settings: Settings, *, embedder: Encoder | None = None, documents_per_batch: int = 32,
            on_batch: Callable[[int, int], None] | None = None) -> ReindexReport:
    """Replace every vector with ``settings.encoder``'s (nothing to do when it already made them)."""
    started = time.perf_counter()
    store = Store.open(settings)
    try:
        store.recover()
        embedder = embedder or embedder_for(settings)
        meta = store.meta()
        if meta.get("model", settings.model) != settings.model or int(meta.get("dimension", embedder.dimension)) != embedder.dimension:
            raise StoreMismatch(
                f"the index in {settings.data_dir} was built with model '{meta.get('model')}'; reindex changes the "
                f"encoder, not the model: set PRECEDENT_MODEL={meta.get('model')}, or ingest into a new data dir"
            )
        target = EncoderRecord(embedder.encoder, embedder.build)
        previous = store.encoder()
        report = ReindexReport(encoder=target.encoder, previous=previous.encoder)
        if store.reindex_state() is None and previous.matches(target):
            return report
        after = store.begin_reindex(target)
        report.resumed = bool(after)
        total, _ = store.counts()
        while True:
            ids = store.documents_after(after, documents_per_batch)
            if not ids:
                break
            documents = [d for d in (store.get_document(i) for i in ids) if d is not None]
            embedded, _ = embed_documents(embedder, documents)
            store.replace_vectors(embedded, done_through=ids[-1])
            after = ids[-1]
            report.documents += len(ids)
            report.chunks += sum(len(d.chunks) for d in documents)
            if on_batch:
                on_batch(report.documents, total)
        store.finish_reindex()
        report.seconds = time.perf_counter() - started
        return report
    finally:
        store.close()
