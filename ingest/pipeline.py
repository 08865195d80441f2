"""The ingest pipeline: SourceItems -> parsed, described, chunked, embedded, stored.

Documents are embedded in batches across files (the model is the cost; batching keeps it busy)
and each batch is written to the store in one journaled step per stage, every document atomic as
readers see it, so an interruption loses at most the batch in flight and never leaves half a
document visible.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from precedent.ingest.chunk import chunk_document
from precedent.ingest.clean import clean_text
from precedent.ingest.embed import Encoder, get_embedder
from precedent.ingest.errors import StoreMismatch, StoreUnavailable, UnreadableFile
from precedent.ingest.facts import FACTS_VERSION, HearingFact, PreceptFact, extract_facts
from precedent.ingest.metadata import document_id_for, infer_meta, merge_meta
from precedent.ingest.parse import decode_text, file_kind, parse_bytes
from precedent.ingest.records import Document, DocumentMeta, ParsedDocument, SourceItem
from precedent.ingest.sentences import chunk_sentences
from precedent.ingest.settings import Settings
from precedent.ingest.sources import file_items, find_files
from precedent.ingest.store import EmbeddedDocument, Store

log = logging.getLogger(__name__)

# Bump when parsing, cleaning, metadata inference, chunking or embedding changes, so a re-ingest rebuilds
# documents.
PIPELINE_VERSION = "3"

Status = Literal["added", "updated", "unchanged", "failed"]


@dataclass
class Failure:
    path: str
    error: str


@dataclass
class ItemOutcome:
    source: str
    document_id: str | None
    status: Status
    error: str | None = None


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Failure] = field(default_factory=list)
    documents: int = 0
    chunks: int = 0
    seconds: float = 0.0
    outcomes: list[ItemOutcome] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return self.added + self.updated + self.unchanged

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "failed": [asdict(f) for f in self.failed], "skipped": [asdict(f) for f in self.skipped],
            "documents": self.documents, "chunks": self.chunks, "seconds": round(self.seconds, 3),
        }

    def record(self, outcome: ItemOutcome) -> None:
        self.outcomes.append(outcome)
        if outcome.status == "failed":
            self.failed.append(Failure(outcome.source, outcome.error or "failed"))
        else:
            setattr(self, outcome.status, getattr(self, outcome.status) + 1)


def content_hash(item: SourceItem, settings: Settings) -> str:
    """What decides "unchanged": the bytes, what the source says about them, and how we chunk."""
    h = hashlib.sha256(item.data)
    h.update(json.dumps([item.meta.model_dump(mode="json"), PIPELINE_VERSION, settings.chunk_size,
                         settings.chunk_overlap, settings.min_chunk_size], sort_keys=True).encode())
    return h.hexdigest()


def describe(item: SourceItem, raw: str) -> DocumentMeta:
    """The document's metadata: what the source says wins, the rest is read off the paper.

    A text file is read in its own lines: the parser joins the lines of a paragraph, which would run an
    item's heading into its first sentence ("1 Apologies for Absence The Secretary reported ...").
    ``precedent eval`` measures this same function against a corpus manifest.
    """
    layout = decode_text(item.data) if file_kind(item.filename) == "text" else raw
    return merge_meta(item.meta, infer_meta(layout))


def prepare(item: SourceItem, document_id: str, digest: str, settings: Settings) -> ParsedDocument:
    """Parse, clean, describe and chunk one item (everything but the model and the store)."""
    raw = parse_bytes(item.data, item.filename, settings)
    text = clean_text(raw)
    if not text:
        raise UnreadableFile("no text left after removing page furniture")
    meta = describe(item, raw)
    doc = Document(
        document_id=document_id,
        title=meta.title or Path(item.filename).stem,
        force=meta.force, panel=meta.panel, meeting_date=meta.meeting_date,
        doc_type=meta.doc_type or "other", agenda_item=meta.agenda_item,
        source=item.source, url=meta.url, content_hash=digest,
        ingested_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
    )
    chunks = chunk_document(doc, text, chunk_size=settings.chunk_size, overlap=settings.chunk_overlap,
                            min_size=settings.min_chunk_size)
    if not chunks:
        raise UnreadableFile("no chunks: the document has no paragraphs of text")
    doc.chunk_count = len(chunks)
    return ParsedDocument(doc, text, chunks)


def ingest_items(
    items: Iterable[SourceItem | tuple[Path, str]],
    settings: Settings,
    *,
    progress: bool = False,
    total: int | None = None,
    embedder: Encoder | None = None,
    store: Store | None = None,
    on_outcome: Callable[[ItemOutcome], None] | None = None,
) -> IngestReport:
    """Ingest items into ``store`` (default: the store in ``settings.data_dir``, created if needed)."""
    if store is not None:
        return _ingest_into(store, items, settings, progress=progress, total=total, embedder=embedder,
                            on_outcome=on_outcome)
    own = Store.open(settings, create=True)
    try:
        return _ingest_into(own, items, settings, progress=progress, total=total, embedder=embedder,
                            on_outcome=on_outcome)
    finally:
        own.close()


def _ingest_into(
    store: Store,
    items: Iterable[SourceItem | tuple[Path, str]],
    settings: Settings,
    *,
    progress: bool,
    total: int | None,
    embedder: Encoder | None,
    on_outcome: Callable[[ItemOutcome], None] | None,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    embedder = embedder or get_embedder(settings.model, settings.embed_batch_size)
    store.ensure_model(settings.model, embedder.dimension)
    store.recover()
    refresh_facts(store)

    batch: list[tuple[ParsedDocument, bool]] = []
    batch_chunks = 0
    bar = _progress_bar(total, progress)

    def done(outcome: ItemOutcome) -> None:
        report.record(outcome)
        if on_outcome:
            on_outcome(outcome)
        if bar is not None:
            bar.update(1)

    def flush() -> None:
        nonlocal batch, batch_chunks
        if not batch:
            return
        writes = embed_documents(embedder, [parsed for parsed, _ in batch])
        store.write_documents(writes)
        for parsed, existed in batch:
            done(ItemOutcome(parsed.document.source, parsed.document.document_id,
                             "updated" if existed else "added"))
        batch, batch_chunks = [], 0

    stop = threading.Event()
    try:
        parsed_stream = _Prefetch(_prepare_all(items, store, settings), stop)
        for event in parsed_stream:
            if isinstance(event, ItemOutcome):
                done(event)
                continue
            parsed, existed = event
            if any(p.document.document_id == parsed.document.document_id for p, _ in batch):
                flush()  # the same document twice in one run: the later version wins, in order
            batch.append((parsed, existed))
            batch_chunks += len(parsed.chunks)
            # Big batches embed fastest; but when the parser is behind, keep the model busy instead.
            if batch_chunks >= settings.embed_batch_size * 16 or (
                batch_chunks >= settings.embed_batch_size and parsed_stream.starved()
            ):
                flush()
        flush()
    finally:
        stop.set()
        if bar is not None:
            bar.close()
    report.documents, report.chunks = store.counts()
    report.seconds = time.perf_counter() - started
    return report


def embed_documents(embedder: Encoder, documents: list[ParsedDocument]) -> list[EmbeddedDocument]:
    """Vectors for every chunk (header and text) and for each chunk's sentences, in one encode call
    so the model batches them together (it sorts them by length)."""
    chunks = [c for parsed in documents for c in parsed.chunks]
    sentences = [chunk_sentences(c.text) for c in chunks]
    vectors = embedder.encode([c.embedding_text() for c in chunks] + [s for group in sentences for s in group])
    chunk_vectors, rest = vectors[: len(chunks)], vectors[len(chunks):]
    per_chunk: list[np.ndarray] = []
    offset = 0
    for group in sentences:
        per_chunk.append(rest[offset: offset + len(group)])
        offset += len(group)
    out, at = [], 0
    for parsed in documents:
        n = len(parsed.chunks)
        # Facts are read here, from the chunks the store will hold, and written in the same transaction.
        out.append(EmbeddedDocument(parsed, chunk_vectors[at: at + n], per_chunk[at: at + n],
                                    extract_facts(parsed.document, parsed.chunks)))
        at += n
    return out


def refresh_facts(store: Store, *, force: bool = False) -> int:
    """Read the facts of every stored document again when the rules have changed since they were read.

    Facts come from the stored chunks alone, so this needs neither the files nor the model. Returns the
    number of documents read again (0 when the stored facts are current). ``force`` reads them again
    regardless (the facts eval does, so it always measures the rules as they are).
    """
    if not force and store.meta().get("facts_version") == FACTS_VERSION:
        return 0
    found: dict[str, list[PreceptFact | HearingFact]] = {}
    for listed in store.list_documents():
        stored = store.get_document(listed.document_id)
        if stored is not None:
            found[listed.document_id] = extract_facts(stored.document, stored.chunks)
    store.replace_facts(found, version=FACTS_VERSION)
    return len(found)


def _prepare_all(
    items: Iterable[SourceItem | tuple[Path, str]], store: Store, settings: Settings
) -> Iterator[ItemOutcome | tuple[ParsedDocument, bool]]:
    """Skip what is unchanged, parse the rest: an outcome per item that ends here, else the parsed document."""
    for item in items:
        if isinstance(item, tuple):
            yield ItemOutcome(str(item[0]), None, "failed", item[1])
            continue
        document_id = item.meta.document_id or document_id_for(item.source)
        digest = content_hash(item, settings)
        previous = store.content_hash(document_id)
        if previous == digest:
            yield ItemOutcome(item.source, document_id, "unchanged")
            continue
        try:
            parsed = prepare(item, document_id, digest, settings)
        except UnreadableFile as exc:
            yield ItemOutcome(item.source, document_id, "failed", str(exc))
            continue
        except (StoreUnavailable, StoreMismatch):
            raise
        except Exception as exc:  # one bad file must never stop the batch
            log.debug("ingest failed for %s", item.source, exc_info=True)
            yield ItemOutcome(item.source, document_id, "failed", f"{type(exc).__name__}: {exc}")
            continue
        yield parsed, previous is not None


_DONE = object()


class _Prefetch:
    """Run ``events`` in a thread so parsing the next documents overlaps embedding the current batch
    (the model releases the GIL while it computes)."""

    def __init__(self, events: Iterator[Any], stop: threading.Event, depth: int = 256) -> None:
        self._box: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self._events, self._stop = events, stop
        threading.Thread(target=self._produce, name="ingest-parse", daemon=True).start()

    def _produce(self) -> None:
        try:
            for event in self._events:
                while not self._stop.is_set():
                    try:
                        self._box.put(event, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if self._stop.is_set():
                    return
            self._box.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._box.put(exc)

    def starved(self) -> bool:
        """Nothing parsed is waiting: better to embed what we have than to sit idle."""
        return self._box.empty()

    def __iter__(self) -> Iterator[Any]:
        while True:
            event = self._box.get()
            if event is _DONE:
                return
            if isinstance(event, BaseException):
                raise event
            yield event


def ingest_paths(
    paths: list[Path], settings: Settings, *, manifest: Path | None = None, include_md: bool = False,
    progress: bool = False,
) -> IngestReport:
    """Ingest files and folders; where a manifest governs a folder, only the files it lists."""
    files, skipped = find_files(paths, manifest, include_md=include_md)
    report = ingest_items(file_items(files, settings.max_file_mb), settings, progress=progress, total=len(files))
    report.skipped = [Failure(s.path, s.reason) for s in skipped]
    return report


def _progress_bar(total: int | None, enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="doc", desc="ingest", file=sys.stderr)


__all__ = ["Failure", "IngestReport", "ItemOutcome", "describe", "ingest_items", "ingest_paths", "prepare",
           "refresh_facts"]
