"""The ingest pipeline: SourceItems -> parsed, described, chunked, embedded, stored.

Parsing runs in a worker process while this process embeds (each stage has a core of its own, and
neither holds the other's GIL). Documents are embedded in batches across files and each document is
written to the store on its own, so an interruption loses at most the batch in flight and never leaves
half a document visible. Nothing is encoded twice: a chunk whose text the changed document already had
keeps its stored vector, and the same text twice in a batch is encoded once.
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import json
import logging
import multiprocessing
import os
import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from precedent.ingest.chunk import chunk_document
from precedent.ingest.clean import clean_text
from precedent.ingest.embed import Encoder, embedder_for
from precedent.ingest.errors import StoreMismatch, StoreUnavailable, UnreadableFile
from precedent.ingest.facts import FACTS_VERSION, HearingFact, PreceptFact, extract_facts
from precedent.ingest.metadata import document_id_for, infer_meta, merge_meta
from precedent.ingest.parse import decode_text, file_kind, parse_bytes
from precedent.ingest.priority import lower_thread_priority, thread_nice
from precedent.ingest.records import Document, DocumentMeta, ParsedDocument, SourceItem
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
    encoded: int = 0  # texts (chunk texts and their sentences) this run encoded
    reused: int = 0  # texts that kept a vector the store held, or shared one encoded in this run
    seconds: float = 0.0
    outcomes: list[ItemOutcome] = field(default_factory=list)

    @property
    def succeeded(self) -> int:
        return self.added + self.updated + self.unchanged

    def to_dict(self) -> dict[str, object]:
        return {
            "added": self.added, "updated": self.updated, "unchanged": self.unchanged,
            "failed": [asdict(f) for f in self.failed], "skipped": [asdict(f) for f in self.skipped],
            "documents": self.documents, "chunks": self.chunks, "encoded": self.encoded, "reused": self.reused,
            "seconds": round(self.seconds, 3),
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
    isolate_parsing: bool = False,
) -> IngestReport:
    """Ingest items into ``store`` (default: the store in ``settings.data_dir``, created if needed).

    ``isolate_parsing`` parses even a single item in the parse worker process: a server passes it, since
    parsing is pure Python and, in its own process, would hold the interpreter lock its searches need.
    """
    if store is not None:
        return _ingest_into(store, items, settings, progress=progress, total=total, embedder=embedder,
                            on_outcome=on_outcome, isolate_parsing=isolate_parsing)
    own = Store.open(settings, create=True)
    try:
        return _ingest_into(own, items, settings, progress=progress, total=total, embedder=embedder,
                            on_outcome=on_outcome, isolate_parsing=isolate_parsing)
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
    isolate_parsing: bool = False,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    embedder = embedder or embedder_for(settings)
    store.ensure_model(settings.model, embedder.dimension, embedder.encoder, embedder.build)
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
        known = _stored_vectors(store, [parsed.document.document_id for parsed, existed in batch if existed])
        writes, encoded = embed_documents(embedder, [parsed for parsed, _ in batch], known)
        texts = sum(len(w.parsed.chunks) + sum(len(s) for s in w.sentence_vectors) for w in writes)
        report.encoded += encoded
        report.reused += texts - encoded
        store.write_documents(writes)
        for parsed, existed in batch:
            done(ItemOutcome(parsed.document.source, parsed.document.document_id,
                             "updated" if existed else "added"))
        batch, batch_chunks = [], 0

    stop = threading.Event()
    # One item (a CLI upload of one file) is parsed here: starting the worker would cost more than it saves.
    single = isinstance(items, (list, tuple)) and len(items) <= 1
    worker = None if single and not isolate_parsing else parse_worker()
    try:
        parsed_stream = _Prefetch(_prepare_all(items, store, settings, worker), stop)
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


def embed_documents(embedder: Encoder, documents: list[ParsedDocument],
                    known: dict[str, np.ndarray] | None = None) -> tuple[list[EmbeddedDocument], int]:
    """Vectors for every chunk (header and text) and for each chunk's sentences, and how many texts were
    encoded for them: each distinct text once, in one encode call, and none whose vector ``known`` (by
    text) already holds."""
    chunks = [c for parsed in documents for c in parsed.chunks]
    sentences = [c.sentence_texts() for c in chunks]
    texts = [c.embedding_text() for c in chunks] + [s for group in sentences for s in group]
    vectors = dict(known or {})
    missing = list(dict.fromkeys(t for t in texts if t not in vectors))
    if missing:
        vectors.update(zip(missing, embedder.encode(missing), strict=True))

    def rows(group: list[str]) -> np.ndarray:
        if not group:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        return np.stack([vectors[t] for t in group]).astype(np.float32, copy=False)

    out, at = [], 0
    for parsed in documents:
        n = len(parsed.chunks)
        # Facts are read here, from the chunks the store will hold, and written in the same transaction.
        out.append(EmbeddedDocument(parsed, rows([c.embedding_text() for c in chunks[at: at + n]]),
                                    [rows(group) for group in sentences[at: at + n]],
                                    extract_facts(parsed.document, parsed.chunks)))
        at += n
    return out, len(missing)


def _stored_vectors(store: Store, document_ids: list[str]) -> dict[str, np.ndarray]:
    """The vectors the store holds for these documents' chunk texts and sentences, by text: a changed
    document's unchanged chunks keep them (chunk ids change with the document's hash; texts do not)."""
    if not document_ids:
        return {}
    old = store.chunks_of(document_ids)
    ids = [c.chunk_id for c in old]
    dense, stacked = store.vectors_of(ids), store.chunk_vectors(ids)
    known: dict[str, np.ndarray] = {}
    for chunk in old:
        rows = stacked.get(chunk.chunk_id)
        sentences = chunk.sentence_texts()
        if rows is not None and len(rows) == len(sentences) + 1:
            known.update(zip(sentences, rows[1:], strict=True))
    for chunk in old:  # the full-precision chunk vector from Chroma, over SQLite's float16 copy
        if chunk.chunk_id in dense:
            known[chunk.embedding_text()] = dense[chunk.chunk_id]
    return known


# How many documents the parse worker may be ahead of the one being waited for.
PARSE_AHEAD = 32


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
    items: Iterable[SourceItem | tuple[Path, str]], store: Store, settings: Settings, worker: ParseWorker | None
) -> Iterator[ItemOutcome | tuple[ParsedDocument, bool]]:
    """Skip what is unchanged, parse the rest (in the worker when there is one): in item order, an outcome
    per item that ends here, else the parsed document and whether it replaces one."""
    pending: deque[_Job] = deque()
    for item in items:
        if isinstance(item, tuple):
            pending.append(_Job(outcome=ItemOutcome(str(item[0]), None, "failed", item[1])))
        else:
            document_id = item.meta.document_id or document_id_for(item.source)
            digest = content_hash(item, settings)
            previous = store.content_hash(document_id)
            if previous == digest:
                pending.append(_Job(outcome=ItemOutcome(item.source, document_id, "unchanged")))
            elif worker is None:
                pending.append(_Job(outcome=_parse_here(item, document_id, digest, settings), existed=previous is not None))
            else:
                job = _Job(item=item, document_id=document_id, digest=digest, existed=previous is not None)
                job.future = worker.submit(item, document_id, digest, settings)
                pending.append(job)
        while pending and (len(pending) > PARSE_AHEAD or pending[0].ready()):
            yield _finish(pending, settings, worker)
    while pending:
        yield _finish(pending, settings, worker)


@dataclass
class _Job:
    """An item on its way through the parse worker (or already decided: ``outcome``)."""

    outcome: ItemOutcome | ParsedDocument | None = None
    item: SourceItem | None = None
    document_id: str = ""
    digest: str = ""
    existed: bool = False
    future: Future[ParsedDocument] | None = None

    def ready(self) -> bool:
        return self.future is None or self.future.done()


def _finish(pending: deque[_Job], settings: Settings, worker: ParseWorker | None) -> ItemOutcome | tuple[ParsedDocument, bool]:
    job = pending.popleft()
    if job.future is not None and job.item is not None and worker is not None:
        # The worker parses in item order, so by the time this item is waited for it is being parsed:
        # each file gets at least parse_timeout_s.
        timeout = settings.parse_timeout_s
        try:
            job.outcome = job.future.result(timeout=timeout)
        except TimeoutError:
            # A file the parser cannot finish (a pathological PDF, say): stop the worker, fail the file,
            # and give the items behind it a new worker.
            worker.restart(kill=True)
            job.outcome = _too_slow(job.item, job.document_id, timeout)
            _resubmit(pending, worker, settings)
        except BrokenProcessPool:
            # The worker died (a parser crashed or ran out of memory). Parse this item alone in a new
            # one: if that dies too, this item was the cause; then resubmit the items queued behind it.
            worker.restart()
            try:
                job.outcome = worker.submit(job.item, job.document_id, job.digest, settings).result(timeout=timeout)
            except TimeoutError:
                worker.restart(kill=True)
                job.outcome = _too_slow(job.item, job.document_id, timeout)
            except BrokenProcessPool:
                worker.restart()
                job.outcome = ItemOutcome(job.item.source, job.document_id, "failed",
                                          "the parser process crashed on this file")
            except Exception as exc:  # noqa: BLE001 - reported as this item's failure
                job.outcome = _failure(job.item, job.document_id, exc)
            _resubmit(pending, worker, settings)
        except (StoreUnavailable, StoreMismatch):
            raise
        except Exception as exc:  # noqa: BLE001 - one bad file must never stop the batch
            job.outcome = _failure(job.item, job.document_id, exc)
    if isinstance(job.outcome, ParsedDocument):
        return job.outcome, job.existed
    assert job.outcome is not None
    return job.outcome


def _resubmit(pending: deque[_Job], worker: ParseWorker, settings: Settings) -> None:
    """After a restart: the items queued behind the one that stopped the old worker go to the new one."""
    for queued in pending:
        if queued.future is not None and queued.item is not None:
            queued.future = worker.submit(queued.item, queued.document_id, queued.digest, settings)


def _too_slow(item: SourceItem, document_id: str, timeout: float) -> ItemOutcome:
    return ItemOutcome(item.source, document_id, "failed",
                       f"parsing took longer than {timeout:g} s, so it was stopped; nothing of this file was "
                       "stored (a paper this large needs a higher PRECEDENT_PARSE_TIMEOUT_S)")


def _parse_here(item: SourceItem, document_id: str, digest: str, settings: Settings) -> ItemOutcome | ParsedDocument:
    try:
        return prepare(item, document_id, digest, settings)
    except (StoreUnavailable, StoreMismatch):
        raise
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop the batch
        return _failure(item, document_id, exc)


def _failure(item: SourceItem, document_id: str, exc: Exception) -> ItemOutcome:
    if isinstance(exc, UnreadableFile):
        return ItemOutcome(item.source, document_id, "failed", str(exc))
    log.debug("ingest failed for %s", item.source, exc_info=exc)
    return ItemOutcome(item.source, document_id, "failed", f"{type(exc).__name__}: {exc}")


class ParseWorker:
    """One process that parses, cleans and chunks while the ingesting process embeds.

    Started on first use and kept for the life of the process (its start-up, importing unstructured and
    spaCy, costs seconds). ``spawn``, not fork: the parent may already run onnxruntime or torch threads.
    It runs at the CPU priority ``nice`` (a server's background writes: ingest/priority.py).
    """

    def __init__(self, nice: int = 0) -> None:
        self.nice = nice
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, item: SourceItem, document_id: str, digest: str, settings: Settings) -> Future[ParsedDocument]:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_start_worker, initargs=(os.getpid(), self.nice))
            return self._pool.submit(prepare, item, document_id, digest, settings)

    def restart(self, *, kill: bool = False) -> None:
        """A new worker for what comes next; ``kill`` stops one still busy (shutdown alone waits for its task)."""
        with self._lock:
            if self._pool is not None:
                if kill:
                    for process in list((getattr(self._pool, "_processes", None) or {}).values()):
                        process.kill()
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def pids(self) -> list[int]:
        """The worker's process ids (for the benchmark's RSS figures)."""
        pool = self._pool
        return list(getattr(pool, "_processes", {}) or {}) if pool is not None else []

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _start_worker(parent: int, nice: int) -> None:
    lower_thread_priority(nice)  # the worker's one thread, before it imports or parses anything
    _exit_with_parent(parent)


def _exit_with_parent(parent: int) -> None:
    """In the parse worker: exit once the ingesting process is gone (killed with -9, say). A
    ProcessPoolExecutor worker does not notice on its own, as it holds a copy of its task pipe's write end,
    and would otherwise wait forever holding a few hundred MB."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_WORKERS: dict[int, ParseWorker] = {}
_WORKER_LOCK = threading.Lock()


def parse_worker() -> ParseWorker:
    """The process's parse worker at the calling thread's CPU priority (one per priority, shared by
    concurrent ingests): a server's background writes parse at their own lower priority."""
    nice = thread_nice()
    with _WORKER_LOCK:
        if nice not in _WORKERS:
            _WORKERS[nice] = ParseWorker(nice)
            atexit.register(_WORKERS[nice].close)
        return _WORKERS[nice]


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


__all__ = ["Failure", "IngestReport", "ItemOutcome", "ParseWorker", "describe", "embed_documents", "ingest_items",
           "ingest_paths", "parse_worker", "prepare", "refresh_facts"]
