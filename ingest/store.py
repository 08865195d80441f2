"""The index: chromadb for vectors, SQLite beside it for the registry and the FTS5 lexical index.

The index is written by ingest and read by search, and this is the only module that touches
chromadb or the index's SQLite database (the crawl keeps its own state database, and query
stemming uses an in-memory one). SQLite is the source of truth: a chunk exists when its row does. Each document is written in three steps recorded in a journal, so an
interrupted write is rolled forward or back on the next open, and readers never see half of one:

1. journal the new chunk ids (``pending``), then add their vectors to Chroma;
2. one SQLite transaction swaps the document's rows and FTS entries and marks the journal
   ``committed`` with the old ids;
3. delete the old vectors from Chroma, then the journal row.

Dense hits whose id has no SQLite row (a write in flight, or left by a crash) are ignored.

A document's facts (precept decisions, confirmation hearings) and its fresh chunks (those whose
text the document did not hold before, queued for the saved searches to check) are written in the
step 2 transaction, so they appear, change and go with the document's rows.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar
from urllib.parse import urlparse

import numpy as np
from pydantic import BaseModel, TypeAdapter

from precedent.ingest.errors import StoreMismatch, StoreMissing, StoreUnavailable
from precedent.ingest.facts import Fact, HearingFact, PreceptFact
from precedent.ingest.records import AgendaItem, Chunk, Document, Filters, ParsedDocument
from precedent.ingest.settings import Settings, quiet_and_offline

_FACT: TypeAdapter[PreceptFact | HearingFact] = TypeAdapter(Fact)
T = TypeVar("T")

SCHEMA_VERSION = 4
# Stores written before the encoder was recorded were all made with sentence-transformers (torch).
LEGACY_ENCODER = "torch"
# The lexical index's tokenizer; query-side stemming (search/query.py) must use the same one.
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"
# BM25 weight of a word in the passage's text and in its header (document title, panel, date, type, agenda
# item and section). A heading names what a passage is about in a few words, so a question's word there
# says more than the same word once in the text. Measured on one index of seeds and panels (README,
# "Levers tried"), header weight 0.4 / 1 / 2 / 3 / 5 gave panels nDCG@10 .773 / .783 / .796 / .802 / .802, each
# half of the panels questions (odd and even ids) choosing 3, and seeds .857 at every weight.
BM25_TEXT_WEIGHT = 1.0
BM25_HEADER_WEIGHT = 3.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS documents (
    document_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    force TEXT,
    panel TEXT,
    meeting_date TEXT,
    doc_type TEXT NOT NULL,
    agenda_number TEXT,
    agenda_title TEXT,
    source TEXT NOT NULL,
    url TEXT,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    chunk_count INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_force ON documents(force);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY,
    chunk_id TEXT NOT NULL UNIQUE,
    document_id TEXT NOT NULL REFERENCES documents(document_id),
    ordinal INTEGER NOT NULL,
    text TEXT NOT NULL,
    header TEXT NOT NULL,
    locator TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    context TEXT NOT NULL DEFAULT '',
    facets TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS chunks_document ON chunks(document_id);
{lexical}
CREATE TABLE IF NOT EXISTS journal (
    document_id TEXT PRIMARY KEY,
    stage TEXT NOT NULL,
    new_ids TEXT NOT NULL,
    old_ids TEXT NOT NULL
);
{chunk_vectors}
{facts}
{document_vectors}
"""
# Version 2: each chunk's own vector and its sentences' vectors (float16 rows, the chunk's first), for
# re-scoring candidates by their best sentence (search/rerank.py), and the chunk's context (its item
# and section), which its sentences were embedded with. Vector rows go with their chunk.
_CHUNK_VECTORS = """
CREATE TABLE IF NOT EXISTS chunk_vectors (
    chunk_id TEXT PRIMARY KEY,
    vectors BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS chunks_vectors_ad AFTER DELETE ON chunks BEGIN
    DELETE FROM chunk_vectors WHERE chunk_id = old.chunk_id;
END;
"""
# The lexical index: chunk text and header, and the chunk's facets (its document's force and type as single
# tokens, see facet_tokens) so that a filter is a term FTS5 intersects with the query inside the index
# (Store.lexical_query) instead of a join on every match. bm25 weighs the facets column 0.
_LEXICAL = """
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, header, facets, content='chunks', content_rowid='rowid',
    tokenize='{tokenizer}'
);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TRIGGER IF NOT EXISTS chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text, header, facets) VALUES (new.rowid, new.text, new.header, new.facets);
END;
CREATE TRIGGER IF NOT EXISTS chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text, header, facets)
    VALUES ('delete', old.rowid, old.text, old.header, old.facets);
END;
""".replace("{tokenizer}", FTS_TOKENIZER)
BM25 = f"bm25(chunks_fts, {BM25_TEXT_WEIGHT}, {BM25_HEADER_WEIGHT}, 0.0)"  # text, header, facets
# Version 4: every chunk vector of a document in one float16 blob, in the order of its chunk ids, for exact
# dense search inside a filter (Store.dense_query): a force's few thousand chunks are a handful of rows,
# read and scored in milliseconds, where an HNSW search under a filter took hundreds.
_DOCUMENT_VECTORS = """
CREATE TABLE IF NOT EXISTS document_vectors (
    document_id TEXT PRIMARY KEY,
    chunk_ids TEXT NOT NULL,
    vectors BLOB NOT NULL
);
CREATE TRIGGER IF NOT EXISTS documents_vectors_ad AFTER DELETE ON documents BEGIN
    DELETE FROM document_vectors WHERE document_id = old.document_id;
END;
"""
# Version 3: each document's facts (precept decisions, confirmation hearings, read at ingest), and the
# queue of fresh chunks (text their document did not hold before) for the saved searches to check.
_FACTS = """
CREATE TABLE IF NOT EXISTS facts (
    rowid INTEGER PRIMARY KEY,
    document_id TEXT NOT NULL REFERENCES documents(document_id),
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS facts_document ON facts(document_id);
CREATE INDEX IF NOT EXISTS facts_kind ON facts(kind);
CREATE TABLE IF NOT EXISTS fresh_chunks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE
);
CREATE TRIGGER IF NOT EXISTS chunks_fresh_ad AFTER DELETE ON chunks BEGIN
    DELETE FROM fresh_chunks WHERE chunk_id = old.chunk_id;
END;
"""
# Numbered migrations: what turns a store of version N-1 into version N (each idempotent): DDL, a column
# to add, or a function that fills what the DDL made.
Migration = str | tuple[str, str, str] | Callable[["Store"], None]
_MIGRATIONS: dict[int, list[Migration]] = {
    2: [_CHUNK_VECTORS, ("chunks", "context", "TEXT NOT NULL DEFAULT ''")],
    3: [_FACTS],
    4: [_DOCUMENT_VECTORS, lambda store: store._fill_document_vectors(),
        ("chunks", "facets", "TEXT NOT NULL DEFAULT ''"), lambda store: store._index_facets()],
}
# Vectors per Chroma write. Embedded Chroma's add, update and delete hold Python's GIL for the whole call
# (its bindings release it only to read), so every search thread of the process waits for it. At 100k
# chunks one write of 2,000 vectors held it 0.7-0.9 s; in batches of 256, 0.2 s; of 128, 0.12 s at most,
# for 1.6x the total time (more calls).
CHROMA_WRITE_BATCH = 128
# Dense search inside a filter (Store.dense_query): exact over the filter's document vectors up to this
# many chunks; above it, an HNSW search over-fetching this many times the share the filter leaves out,
# up to OVERFETCH_MAX results, then the filter. Measured at 1M chunks on 2 cores (README, "Benchmarks").
EXACT_DENSE_MAX = 100_000
OVERFETCH = 2.0
OVERFETCH_MAX = 4000


@dataclass(frozen=True)
class EmbeddedDocument:
    """A parsed document with one vector per chunk, and optionally each chunk's sentence vectors
    (search re-scores candidates by their best sentence): what a write takes."""

    parsed: ParsedDocument
    vectors: np.ndarray
    sentence_vectors: Sequence[np.ndarray] = ()
    facts: Sequence[PreceptFact | HearingFact] = ()  # read from the chunks at ingest, stored with them

    def document_vectors(self) -> tuple[str, bytes]:
        """The chunk ids (one a line) and their vectors as float16 rows, in the same order: the
        document_vectors row."""
        return ("\n".join(c.chunk_id for c in self.parsed.chunks),
                np.ascontiguousarray(self.vectors, dtype=np.float16).tobytes())

    def stacked(self) -> list[bytes]:
        """Per chunk, its vector then its sentences' vectors as float16 rows: the chunk_vectors blob."""
        sentences = list(self.sentence_vectors) or [np.zeros((0, self.vectors.shape[1]), np.float32)] * len(self.vectors)
        return [np.vstack([v[None, :], s]).astype(np.float16).tobytes() for v, s in zip(self.vectors, sentences, strict=True)]


@dataclass(frozen=True)
class EncoderRecord:
    """The encoder (onnx-int8, torch) and build (weights hash, recipe) that made a store's vectors."""

    encoder: str
    build: str = ""

    def matches(self, other: EncoderRecord) -> bool:
        """Same encoder, and the same build where both are known (older stores did not record one)."""
        return self.encoder == other.encoder and (not self.build or not other.build or self.build == other.build)


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    document: Document


class Counts(BaseModel):
    documents: int
    chunks: int


class IndexStats(BaseModel):
    documents: int
    chunks: int
    by_force: dict[str, Counts]
    by_type: dict[str, Counts]
    model: str | None
    encoder: str
    data_dir: str


class IndexReader(Protocol):
    """What search needs of the index: queries and reads, never writes (those are ingest's)."""

    def dense_query(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]: ...
    def lexical_query(self, match: str, n: int, filters: Filters, *,
                      newest: int | None = None) -> list[tuple[str, float]]: ...
    def term_document_counts(self, terms: Sequence[str]) -> dict[str, int]: ...
    def approximate_chunk_count(self) -> int: ...
    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]: ...
    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]: ...
    def get_document(self, document_id: str) -> ParsedDocument | None: ...
    def list_documents(self) -> list[Document]: ...
    def known_forces(self) -> list[str]: ...
    def counts(self) -> tuple[int, int]: ...
    def vector_count(self) -> int: ...
    def facets(self) -> dict[str, object]: ...
    def is_empty(self) -> bool: ...
    def check_compatible(self, model: str | None = None, dimension: int | None = None,
                         encoder: str | None = None, build: str | None = None) -> None: ...
    def close(self) -> None: ...


@dataclass
class CheckReport:
    ok: bool
    documents: int
    chunks: int
    vectors: int
    fts_rows: int
    problems: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def _date_int(date: dt.date | None) -> int:
    return int(date.strftime("%Y%m%d")) if date else 0


def facet_tokens(force: str | None, doc_type: str | None) -> str:
    """A chunk's facets for the lexical index: its document's force and type, each one token no query word
    is ("xfdevonandcornwall xtminutes"), so a filter is a term FTS5 can intersect with the query."""
    parts = []
    if force:
        parts.append("xf" + re.sub(r"[^0-9a-z]", "", force.lower()))
    if doc_type:
        parts.append("xt" + re.sub(r"[^0-9a-z]", "", doc_type.lower()))
    return " ".join(parts)


def _with_facets(match: str, filters: Filters) -> str:
    """The MATCH expression restricted to the filter's forces and type."""
    clauses = [f"({match})"]
    if filters.force:
        clauses.append("facets:(" + " OR ".join(facet_tokens(f, None) for f in filters.force) + ")")
    if filters.doc_type:
        clauses.append(f"facets:{facet_tokens(None, filters.doc_type)}")
    return " AND ".join(clauses)


def _document_filter(filters: Filters) -> tuple[str, list[object]]:
    """The filters as a condition on ``documents d`` (every filter is a document's), with its parameters."""
    where: list[str] = []
    params: list[object] = []
    if filters.force:
        where.append(f"d.force IN ({','.join('?' * len(filters.force))})")
        params.extend(filters.force)
    if filters.doc_type:
        where.append("d.doc_type = ?")
        params.append(filters.doc_type)
    if filters.document_id:
        where.append(f"d.document_id IN ({','.join('?' * len(filters.document_id))})")
        params.extend(filters.document_id)
    if filters.since:
        where.append("d.meeting_date >= ?")
        params.append(filters.since.isoformat())
    if filters.until:
        where.append("d.meeting_date <= ?")
        params.append(filters.until.isoformat())
    return " AND ".join(where) or "1", params


class _Memo:
    """Answers read off the index (counts, forces, term frequencies), kept until a write changes it.

    Every write that adds or removes documents bumps the ``generation`` in ``meta`` in its own transaction,
    whichever process makes it, and a memo from another generation is dropped. At a million chunks
    counting them costs tens of milliseconds and a common term's document count as much again: on every
    question, that was a fifth of the time.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = -1
        self._values: dict[object, object] = {}

    def get(self, generation: int, key: object, compute: Callable[[], T]) -> T:
        with self._lock:
            if generation != self._generation:
                self._generation, self._values = generation, {}
            elif key in self._values:
                return self._values[key]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            if generation == self._generation and len(self._values) < 50_000:
                self._values[key] = value
        return value


class Store:
    """Owns the data dir: open it with ``Store.open(settings)``."""

    def __init__(self, settings: Settings, *, create: bool) -> None:
        quiet_and_offline()
        self.settings = settings
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._memo = _Memo()
        path = settings.sqlite_path
        if not path.exists():
            if not create:
                raise StoreMissing(
                    f"no index in {settings.data_dir}: run `precedent ingest PATH` first "
                    "(or point PRECEDENT_DATA_DIR / --data-dir at an existing one)"
                )
            try:
                settings.data_dir.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreUnavailable(
                    f"cannot create data dir {settings.data_dir}: {exc.strerror}; "
                    "choose a writable one with --data-dir or PRECEDENT_DATA_DIR"
                ) from exc
        try:
            self._collection = None
            self._connection().executescript(
                _SCHEMA.replace("{lexical}", _LEXICAL).replace("{chunk_vectors}", _CHUNK_VECTORS)
                .replace("{facts}", _FACTS).replace("{document_vectors}", _DOCUMENT_VECTORS))
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot open {path}: {exc}; check the data dir is writable") from exc

    @classmethod
    def open(cls, settings: Settings, *, create: bool = False) -> Store:
        return cls(settings, create=create)

    # -- SQLite ---------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.settings.sqlite_path, timeout=60, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    # -- the model the vectors were made with --------------------------------------------

    def meta(self) -> dict[str, str]:
        rows = self._connection().execute("SELECT key, value FROM meta").fetchall()
        return {r["key"]: r["value"] for r in rows}

    def generation(self) -> int:
        """A number every write that adds or removes documents changes (what memos are keyed by)."""
        row = self._connection().execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _bump_generation(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO meta(key, value) VALUES ('generation', '1') "
                     "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")

    def _migrate(self) -> None:
        """Bring an older store up to this schema version, one numbered step at a time. Each step is
        idempotent DDL, so a crash before the version is recorded just runs it again next time."""
        version = int(self.meta().get("schema_version", SCHEMA_VERSION))
        for step in range(version + 1, SCHEMA_VERSION + 1):
            if step not in _MIGRATIONS:
                return  # no way forward: check_compatible says so
            conn = self._connection()
            for change in _MIGRATIONS[step]:
                if isinstance(change, str):
                    conn.executescript(change)
                elif callable(change):
                    change(self)
                elif change[1] not in {r[1] for r in conn.execute(f"PRAGMA table_info({change[0]})")}:
                    conn.execute(f"ALTER TABLE {change[0]} ADD COLUMN {change[1]} {change[2]}")
            with self._transaction() as conn:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)", (str(step),))

    def _fill_document_vectors(self) -> None:
        """Migration 3: each document's chunk vectors in one row, from the chunks' own stored vectors (or
        Chroma's, for chunks a store from before version 2 has none for). Resumable: documents that have
        their row are skipped."""
        conn = self._connection()
        dimension = int(self.meta().get("dimension", "0"))
        missing = [r[0] for r in conn.execute(
            "SELECT d.document_id FROM documents d LEFT JOIN document_vectors v ON v.document_id = d.document_id "
            "WHERE v.document_id IS NULL ORDER BY d.document_id")]
        for i in range(0, len(missing), 200):
            rows = []
            for document_id in missing[i: i + 200]:
                stored = conn.execute(
                    "SELECT c.chunk_id, cv.vectors FROM chunks c LEFT JOIN chunk_vectors cv ON cv.chunk_id = c.chunk_id "
                    "WHERE c.document_id = ? ORDER BY c.ordinal", (document_id,)).fetchall()
                unstored = [chunk_id for chunk_id, blob in stored if blob is None]
                fallback = self.vectors_of(unstored) if unstored else {}
                vectors = [blob[: dimension * 2] if blob is not None else fallback[chunk_id].astype(np.float16).tobytes()
                           for chunk_id, blob in stored if blob is not None or chunk_id in fallback]
                if len(vectors) == len(stored):  # else a chunk without any vector: `precedent check` says so
                    rows.append((document_id, "\n".join(chunk_id for chunk_id, _ in stored), b"".join(vectors)))
            with self._transaction() as tx:
                tx.executemany("INSERT OR REPLACE INTO document_vectors(document_id, chunk_ids, vectors) VALUES (?, ?, ?)",
                               rows)

    def _index_facets(self) -> None:
        """Migration 3: each chunk's facets, and the lexical index rebuilt with them (a store of 1M chunks
        takes minutes, once)."""
        conn = self._connection()
        if "facets" in [d[0] for d in conn.execute("SELECT * FROM chunks_fts LIMIT 0").description]:
            return
        conn.create_function("facet_tokens", 2, facet_tokens, deterministic=True)
        # One transaction (executescript runs it as written): a crash leaves the old index, and the next
        # open does it again.
        conn.executescript(
            "BEGIN IMMEDIATE;"
            "UPDATE chunks SET facets = (SELECT facet_tokens(d.force, d.doc_type) FROM documents d "
            "WHERE d.document_id = chunks.document_id);"
            "DROP TRIGGER IF EXISTS chunks_ai; DROP TRIGGER IF EXISTS chunks_ad;"
            "DROP TABLE IF EXISTS chunks_vocab; DROP TABLE IF EXISTS chunks_fts;"
            + _LEXICAL + "INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild'); COMMIT;")

    def ensure_model(self, model: str, dimension: int, encoder: str = LEGACY_ENCODER, build: str = "") -> None:
        """Refuse to mix vectors from two models or two encoders, or to read a store of another schema.

        An empty store takes on the model and encoder it is first written with.
        """
        meta = self.meta()
        if "model" not in meta:  # (a bare write generation is not a model)
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                    [("schema_version", str(SCHEMA_VERSION)), ("model", model), ("dimension", str(dimension)),
                     ("encoder", encoder), ("encoder_build", build)],
                )
            return
        self.check_compatible(model, dimension, encoder, build)

    def check_compatible(self, model: str | None = None, dimension: int | None = None,
                         encoder: str | None = None, build: str | None = None) -> None:
        meta = self.meta()
        if "model" not in meta:
            return
        version = int(meta.get("schema_version", "0"))
        where = self.settings.data_dir
        if version != SCHEMA_VERSION:
            raise StoreMismatch(
                f"the index in {where} has schema version {version}, this Precedent "
                f"reads version {SCHEMA_VERSION}: re-ingest into a new data dir (--data-dir)"
            )
        if "reindex_encoder" in meta:
            raise StoreMismatch(
                f"the index in {where} is part way through re-embedding its vectors with the "
                f"{meta['reindex_encoder']} encoder: run `precedent reindex` to finish it"
            )
        if model is not None and meta.get("model") != model:
            raise StoreMismatch(
                f"the index in {where} was built with model '{meta.get('model')}' "
                f"but the model setting is '{model}': set PRECEDENT_MODEL={meta.get('model')} or "
                "re-ingest into a new data dir"
            )
        if dimension is not None and int(meta.get("dimension", dimension)) != dimension:
            raise StoreMismatch(
                f"the index holds {meta.get('dimension')}-dimensional vectors but the model makes "
                f"{dimension}: re-ingest into a new data dir"
            )
        stored = self.encoder()
        if encoder is not None and not stored.matches(EncoderRecord(encoder, build or "")):
            made_by = stored.encoder + (f" (build {stored.build})" if stored.encoder == encoder else "")
            raise StoreMismatch(
                f"the index in {where} holds vectors made by the {made_by} encoder, but this run uses "
                f"{encoder}{f' (build {build})' if stored.encoder == encoder else ''}: run `precedent reindex` "
                f"to re-embed it with {encoder}, or set PRECEDENT_ENCODER={stored.encoder}"
            )

    def encoder(self) -> EncoderRecord:
        """Which encoder made the vectors (stores from before encoders were recorded: torch)."""
        meta = self.meta()
        return EncoderRecord(meta.get("encoder", LEGACY_ENCODER), meta.get("encoder_build", ""))

    # -- re-embedding in place (precedent reindex) -------------------------------------------

    def reindex_state(self) -> tuple[EncoderRecord, str] | None:
        """(target encoder, last document id done) of a reindex under way, or None."""
        meta = self.meta()
        if "reindex_encoder" not in meta:
            return None
        return EncoderRecord(meta["reindex_encoder"], meta.get("reindex_build", "")), meta.get("reindex_after", "")

    def begin_reindex(self, target: EncoderRecord) -> str:
        """Record that vectors are being replaced by ``target``'s; returns the document id to resume after
        ("" to start), so an interrupted reindex to the same encoder carries on where it stopped."""
        state = self.reindex_state()
        if state is not None and state[0] == target:
            return state[1]
        with self._transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                             [("reindex_encoder", target.encoder), ("reindex_build", target.build),
                              ("reindex_after", "")])
        return ""

    def replace_vectors(self, batch: Sequence[EmbeddedDocument], done_through: str) -> None:
        """Overwrite these documents' chunk vectors (Chroma) and chunk and sentence vectors (SQLite), then
        record that every document up to ``done_through`` is done, in the same SQLite transaction.

        Overwriting is idempotent, so a crash between the two steps only repeats this batch.
        """
        for item in batch:
            if len(item.parsed.chunks) != len(item.vectors):
                raise ValueError(f"one vector per chunk ({item.parsed.document.document_id})")
        ids = [c.chunk_id for item in batch for c in item.parsed.chunks]
        with self._write_lock:
            if ids:
                vectors = np.concatenate([item.vectors for item in batch if len(item.vectors)])
                with self._chroma():
                    for i in range(0, len(ids), CHROMA_WRITE_BATCH):
                        self.collection.update(ids=ids[i: i + CHROMA_WRITE_BATCH],
                                               embeddings=vectors[i: i + CHROMA_WRITE_BATCH])
            with self._transaction() as conn:
                for item in batch:
                    conn.executemany("INSERT OR REPLACE INTO chunk_vectors(chunk_id, vectors) VALUES (?, ?)",
                                     [(c.chunk_id, blob) for c, blob in zip(item.parsed.chunks, item.stacked(), strict=True)])
                    conn.execute("INSERT OR REPLACE INTO document_vectors(document_id, chunk_ids, vectors) VALUES (?, ?, ?)",
                                 (item.parsed.document.document_id, *item.document_vectors()))
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('reindex_after', ?)", (done_through,))

    def finish_reindex(self) -> None:
        """Every vector is the target encoder's: make it the store's encoder, in one transaction."""
        state = self.reindex_state()
        if state is None:
            return
        with self._transaction() as conn:
            conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                             [("encoder", state[0].encoder), ("encoder_build", state[0].build)])
            conn.execute("DELETE FROM meta WHERE key IN ('reindex_encoder', 'reindex_build', 'reindex_after')")

    def documents_after(self, document_id: str, limit: int) -> list[str]:
        """Document ids in order, after ``document_id``: the order a reindex walks the store in."""
        return [r[0] for r in self._connection().execute(
            "SELECT document_id FROM documents WHERE document_id > ? ORDER BY document_id LIMIT ?",
            (document_id, limit))]

    def chunks_of(self, document_ids: Sequence[str]) -> list[Chunk]:
        """The chunks of these documents, in document and chunk order."""
        if not document_ids:
            return []
        marks = ",".join("?" * len(document_ids))
        rows = self._connection().execute(
            f"SELECT * FROM chunks WHERE document_id IN ({marks}) ORDER BY document_id, ordinal", list(document_ids)
        ).fetchall()
        return [self._chunk(r) for r in rows]

    def vectors_of(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id (ids without one are absent)."""
        out: dict[str, np.ndarray] = {}
        with self._chroma():
            for i in range(0, len(chunk_ids), 2000):
                got = self.collection.get(ids=list(chunk_ids[i: i + 2000]), include=["embeddings"])
                for chunk_id, vector in zip(got["ids"], got["embeddings"], strict=True):
                    out[chunk_id] = np.asarray(vector, dtype=np.float32)
        return out

    # -- Chroma ---------------------------------------------------------------------------

    @property
    def collection(self):  # type: ignore[no-untyped-def]
        if self._collection is None:
            self._collection = self._open_collection()
        return self._collection

    def _open_collection(self):  # type: ignore[no-untyped-def]
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if self.settings.chroma_url:
                url = urlparse(self.settings.chroma_url)
                client = chromadb.HttpClient(
                    host=url.hostname or "localhost", port=url.port or 8000,
                    ssl=url.scheme == "https", settings=chroma_settings,
                )
            else:
                client = chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)
            # embedding_function=None: Chroma's default function downloads a model. We always pass vectors.
            return client.get_or_create_collection(
                self.settings.collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
            )
        except Exception as exc:
            raise StoreUnavailable(self._chroma_message(exc)) from exc

    def _chroma_message(self, exc: Exception) -> str:
        where = self.settings.chroma_url or str(self.settings.chroma_dir)
        return f"vector store at {where} is unavailable ({type(exc).__name__}: {str(exc)[:160]}); " + (
            "check the Chroma server is running" if self.settings.chroma_url else "check the data dir"
        )

    @contextmanager
    def _chroma(self) -> Iterator[None]:
        try:
            yield
        except StoreUnavailable:
            raise
        except Exception as exc:
            if self.settings.chroma_url:
                self._collection = None  # reconnect on the next call
            raise StoreUnavailable(self._chroma_message(exc)) from exc

    def _chroma_add(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict]) -> None:  # type: ignore[type-arg]
        step = CHROMA_WRITE_BATCH
        with self._chroma():
            for i in range(0, len(ids), step):
                self.collection.upsert(
                    ids=ids[i: i + step], embeddings=vectors[i: i + step], metadatas=metadatas[i: i + step]
                )

    def _chroma_delete(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        with self._chroma():
            for i in range(0, len(ids), CHROMA_WRITE_BATCH):
                self.collection.delete(ids=list(ids[i: i + CHROMA_WRITE_BATCH]))

    # -- writing --------------------------------------------------------------------------

    def recover(self) -> list[str]:
        """Finish or undo writes a crash interrupted. Idempotent; returns what it did."""
        done: list[str] = []
        with self._write_lock:
            rows = self._connection().execute("SELECT * FROM journal").fetchall()
            for row in rows:
                if row["stage"] == "pending":
                    self._chroma_delete(json.loads(row["new_ids"]))
                    done.append(f"rolled back interrupted write of {row['document_id']}")
                else:
                    self._chroma_delete(json.loads(row["old_ids"]))
                    done.append(f"completed interrupted write of {row['document_id']}")
                with self._transaction() as conn:
                    conn.execute("DELETE FROM journal WHERE document_id = ?", (row["document_id"],))
        return done

    def content_hash(self, document_id: str) -> str | None:
        row = self._connection().execute(
            "SELECT content_hash FROM documents WHERE document_id = ?", (document_id,)
        ).fetchone()
        return row["content_hash"] if row else None

    def write_documents(self, batch: Sequence[EmbeddedDocument]) -> None:
        """Add or replace several documents, each atomic as readers see it.

        One Chroma call and one SQLite transaction per step for the whole batch: per-document round
        trips cost more than parsing when thousands of documents are ingested.
        """
        if not batch:
            return
        for item in batch:
            if len(item.parsed.chunks) != len(item.vectors):
                raise ValueError(f"one vector per chunk ({item.parsed.document.document_id})")
        new_ids = [c.chunk_id for item in batch for c in item.parsed.chunks]
        metadatas = [
            {"document_id": doc.document_id, "force": doc.force or "", "doc_type": doc.doc_type,
             "date": _date_int(doc.meeting_date)}
            for item in batch for doc in [item.parsed.document] for _ in item.parsed.chunks
        ]
        with self._write_lock:
            with self._transaction() as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO journal(document_id, stage, new_ids, old_ids) VALUES (?, 'pending', ?, '[]')",
                    [(item.parsed.document.document_id, json.dumps([c.chunk_id for c in item.parsed.chunks]))
                     for item in batch],
                )
            if new_ids:
                self._chroma_add(new_ids, np.concatenate([item.vectors for item in batch if len(item.vectors)]),
                                 metadatas)
            stale: list[str] = []
            with self._transaction() as conn:
                self._bump_generation(conn)
                for item in batch:
                    stale_doc = self._swap_rows(conn, item)
                    conn.execute("UPDATE journal SET stage = 'committed', old_ids = ? WHERE document_id = ?",
                                 (json.dumps(stale_doc), item.parsed.document.document_id))
                    stale.extend(stale_doc)
            self._chroma_delete(stale)
            with self._transaction() as conn:
                conn.executemany("DELETE FROM journal WHERE document_id = ?",
                                 [(item.parsed.document.document_id,) for item in batch])

    @staticmethod
    def _swap_rows(conn: sqlite3.Connection, item: EmbeddedDocument) -> list[str]:
        """Replace a document's registry row, chunks, FTS entries, chunk vectors and facts; queue its fresh
        chunks; return the chunk ids it no longer has."""
        doc, text, chunks = item.parsed.document, item.parsed.text, item.parsed.chunks
        old = conn.execute("SELECT chunk_id, text FROM chunks WHERE document_id = ?", (doc.document_id,)).fetchall()
        old_ids = [r[0] for r in old]
        old_texts = {" ".join(r[1].split()) for r in old}
        conn.execute("DELETE FROM facts WHERE document_id = ?", (doc.document_id,))
        conn.execute("DELETE FROM chunks WHERE document_id = ?", (doc.document_id,))
        conn.execute(
            """INSERT OR REPLACE INTO documents(document_id, title, force, panel, meeting_date, doc_type,
               agenda_number, agenda_title, source, url, content_hash, ingested_at, chunk_count, text)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (doc.document_id, doc.title, doc.force, doc.panel,
             doc.meeting_date.isoformat() if doc.meeting_date else None, doc.doc_type,
             doc.agenda_item.number if doc.agenda_item else None,
             doc.agenda_item.title if doc.agenda_item else None,
             doc.source, doc.url, doc.content_hash, doc.ingested_at.isoformat(), len(chunks), text),
        )
        facets = facet_tokens(doc.force, doc.doc_type)
        conn.executemany(
            "INSERT INTO chunks(chunk_id, document_id, ordinal, text, header, locator, start, end, context, facets) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(c.chunk_id, c.document_id, c.ordinal, c.text, c.header, c.locator, c.start, c.end, c.context, facets)
             for c in chunks],
        )
        conn.executemany("INSERT OR REPLACE INTO chunk_vectors(chunk_id, vectors) VALUES (?, ?)",
                         [(c.chunk_id, blob) for c, blob in zip(chunks, item.stacked(), strict=True)])
        conn.execute("INSERT OR REPLACE INTO document_vectors(document_id, chunk_ids, vectors) VALUES (?, ?, ?)",
                     (doc.document_id, *item.document_vectors()))
        # Unchanged wording is not news: only text the document did not hold before is queued.
        conn.executemany("INSERT OR IGNORE INTO fresh_chunks(chunk_id) VALUES (?)",
                         [(c.chunk_id,) for c in chunks if " ".join(c.text.split()) not in old_texts])
        conn.executemany("INSERT INTO facts(document_id, kind, data) VALUES (?, ?, ?)",
                         [(doc.document_id, f.kind, f.model_dump_json()) for f in item.facts])
        new = {c.chunk_id for c in chunks}
        return [i for i in old_ids if i not in new]

    def remove_document(self, document_id: str) -> bool:
        with self._write_lock:
            with self._transaction() as conn:
                ids = [r[0] for r in conn.execute(
                    "SELECT chunk_id FROM chunks WHERE document_id = ?", (document_id,))]
                conn.execute("DELETE FROM facts WHERE document_id = ?", (document_id,))
                conn.execute("DELETE FROM chunks WHERE document_id = ?", (document_id,))
                found = conn.execute("DELETE FROM documents WHERE document_id = ?", (document_id,)).rowcount > 0
                if found:
                    self._bump_generation(conn)
                    conn.execute(
                        "INSERT OR REPLACE INTO journal(document_id, stage, new_ids, old_ids) "
                        "VALUES (?, 'committed', '[]', ?)", (document_id, json.dumps(ids)),
                    )
            if found:
                self._chroma_delete(ids)
                with self._transaction() as conn:
                    conn.execute("DELETE FROM journal WHERE document_id = ?", (document_id,))
        return found

    # -- reading --------------------------------------------------------------------------

    @staticmethod
    def _document(row: sqlite3.Row) -> Document:
        agenda = None
        if row["agenda_number"] or row["agenda_title"]:
            agenda = AgendaItem(number=row["agenda_number"], title=row["agenda_title"])
        return Document(
            document_id=row["document_id"], title=row["title"], force=row["force"], panel=row["panel"],
            meeting_date=dt.date.fromisoformat(row["meeting_date"]) if row["meeting_date"] else None,
            doc_type=row["doc_type"], agenda_item=agenda, source=row["source"], url=row["url"],
            content_hash=row["content_hash"], ingested_at=dt.datetime.fromisoformat(row["ingested_at"]),
            chunk_count=row["chunk_count"],
        )

    _DOC_COLUMNS = ("document_id, title, force, panel, meeting_date, doc_type, agenda_number, agenda_title, "
                    "source, url, content_hash, ingested_at, chunk_count")

    def list_documents(self) -> list[Document]:
        rows = self._connection().execute(
            f"SELECT {self._DOC_COLUMNS} FROM documents ORDER BY force, meeting_date, title"
        ).fetchall()
        return [self._document(r) for r in rows]

    def get_document(self, document_id: str) -> ParsedDocument | None:
        """A stored document with its cleaned text and chunks, as it was written."""
        conn = self._connection()
        row = conn.execute("SELECT * FROM documents WHERE document_id = ?", (document_id,)).fetchone()
        if row is None:
            return None
        chunks = [self._chunk(r) for r in conn.execute(
            "SELECT * FROM chunks WHERE document_id = ? ORDER BY ordinal", (document_id,))]
        return ParsedDocument(self._document(row), row["text"], chunks)

    @staticmethod
    def _chunk(row: sqlite3.Row) -> Chunk:
        return Chunk(chunk_id=row["chunk_id"], document_id=row["document_id"], ordinal=row["ordinal"],
                     text=row["text"], header=row["header"], locator=row["locator"], start=row["start"],
                     end=row["end"], context=row["context"])

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        """Chunks with their documents, for ids that exist (unknown ids are silently absent)."""
        if not chunk_ids:
            return {}
        out: dict[str, StoredChunk] = {}
        conn = self._connection()
        docs: dict[str, Document] = {}
        for i in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[i: i + 500])
            marks = ",".join("?" * len(part))
            rows = conn.execute(
                f"SELECT c.*, {', '.join('d.' + c.strip() + ' AS d_' + c.strip() for c in self._DOC_COLUMNS.split(','))} "
                f"FROM chunks c JOIN documents d ON d.document_id = c.document_id WHERE c.chunk_id IN ({marks})",
                part,
            ).fetchall()
            for r in rows:
                doc = docs.get(r["document_id"])
                if doc is None:
                    doc = self._document(_Prefixed(r, "d_"))
                    docs[r["document_id"]] = doc
                out[r["chunk_id"]] = StoredChunk(self._chunk(r), doc)
        return out

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Each chunk's stored vectors (row 0 the chunk's, then its sentences'), for ids that have them."""
        out: dict[str, np.ndarray] = {}
        conn = self._connection()
        dimension = int(self.meta().get("dimension", "0")) or None
        for i in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[i: i + 500])
            rows = conn.execute(f"SELECT chunk_id, vectors FROM chunk_vectors WHERE chunk_id IN ({','.join('?' * len(part))})",
                                part).fetchall()
            for chunk_id, blob in rows:
                flat = np.frombuffer(blob, dtype=np.float16)
                out[chunk_id] = flat.reshape(-1, dimension or flat.size).astype(np.float32)
        return out

    def is_empty(self) -> bool:
        return self._connection().execute("SELECT 1 FROM documents LIMIT 1").fetchone() is None

    def approximate_chunk_count(self) -> int:
        """Cheap upper bound on the number of chunks (rowids only grow): for query planning."""
        return int(self._connection().execute("SELECT coalesce(max(rowid), 0) FROM chunks").fetchone()[0])

    def vector_count(self) -> int:
        with self._chroma():
            return int(self.collection.count())

    def counts(self) -> tuple[int, int]:
        def count() -> tuple[int, int]:
            conn = self._connection()
            docs = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
            return docs, chunks

        return self._memo.get(self.generation(), "counts", count)

    def facets(self) -> dict[str, object]:
        conn = self._connection()

        def grouped(column: str) -> list[dict[str, object]]:
            rows = conn.execute(
                f"SELECT {column} AS value, count(*) AS n FROM documents WHERE {column} IS NOT NULL "
                f"GROUP BY {column} ORDER BY {column}"
            ).fetchall()
            return [{"value": r["value"], "count": r["n"]} for r in rows]

        span = conn.execute("SELECT min(meeting_date), max(meeting_date) FROM documents").fetchone()
        docs, chunks = self.counts()
        return {
            "forces": grouped("force"), "panels": grouped("panel"), "doc_types": grouped("doc_type"),
            "date_range": {"min": span[0], "max": span[1]}, "documents": docs, "chunks": chunks,
        }

    def stats(self) -> IndexStats:
        conn = self._connection()
        docs, chunks = self.counts()
        by_force = conn.execute(
            "SELECT coalesce(force, '(unknown)') AS k, count(*) AS d, sum(chunk_count) AS c FROM documents GROUP BY k ORDER BY k"
        ).fetchall()
        by_type = conn.execute(
            "SELECT doc_type AS k, count(*) AS d, sum(chunk_count) AS c FROM documents GROUP BY k ORDER BY k"
        ).fetchall()
        return IndexStats(
            documents=docs, chunks=chunks,
            by_force={r["k"]: Counts(documents=r["d"], chunks=r["c"]) for r in by_force},
            by_type={r["k"]: Counts(documents=r["d"], chunks=r["c"]) for r in by_type},
            model=self.meta().get("model"), encoder=self.encoder().encoder, data_dir=str(self.settings.data_dir),
        )

    def known_forces(self) -> list[str]:
        return list(self._memo.get(self.generation(), "forces", lambda: [r[0] for r in self._connection().execute(
            "SELECT DISTINCT force FROM documents WHERE force IS NOT NULL ORDER BY force")]))

    # -- facts ----------------------------------------------------------------------------------

    def facts(self, kind: str | None = None, forces: Sequence[str] = (),
              document_id: str | None = None) -> list[tuple[PreceptFact | HearingFact, Document]]:
        """Stored facts with their documents, by force, meeting date and document."""
        where, params = ["1 = 1"], []
        if kind:
            where.append("f.kind = ?")
            params.append(kind)
        if forces:
            where.append(f"d.force IN ({','.join('?' * len(forces))})")
            params.extend(forces)
        if document_id:
            where.append("f.document_id = ?")
            params.append(document_id)
        rows = self._connection().execute(
            f"SELECT f.data, {', '.join('d.' + c.strip() for c in self._DOC_COLUMNS.split(','))} "
            f"FROM facts f JOIN documents d ON d.document_id = f.document_id WHERE {' AND '.join(where)} "
            "ORDER BY d.force, d.meeting_date, d.title, f.rowid", params,
        ).fetchall()
        return [(_FACT.validate_json(r["data"]), self._document(r)) for r in rows]

    def replace_facts(self, facts: Mapping[str, Sequence[PreceptFact | HearingFact]], version: str | None = None) -> None:
        """Swap the facts of the given documents in one transaction (and record the rules' version)."""
        with self._write_lock, self._transaction() as conn:
            for document_id, items in facts.items():
                conn.execute("DELETE FROM facts WHERE document_id = ?", (document_id,))
                conn.executemany("INSERT INTO facts(document_id, kind, data) VALUES (?, ?, ?)",
                                 [(document_id, f.kind, f.model_dump_json()) for f in items])
            if version is not None:
                conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('facts_version', ?)", (version,))

    # -- fresh chunks, for saved searches -------------------------------------------------------

    def fresh_chunks(self, limit: int = 5000) -> list[tuple[int, str, str]]:
        """The oldest queued fresh chunks: (sequence number, chunk id, document id)."""
        rows = self._connection().execute(
            "SELECT q.seq, q.chunk_id, c.document_id FROM fresh_chunks q JOIN chunks c ON c.chunk_id = q.chunk_id "
            "ORDER BY q.seq LIMIT ?", (limit,)).fetchall()
        return [(int(r[0]), r[1], r[2]) for r in rows]

    def fresh_watermark(self) -> int:
        """The sequence number of the newest chunk queued so far (0 when none ever was)."""
        row = self._connection().execute("SELECT seq FROM sqlite_sequence WHERE name = 'fresh_chunks'").fetchone()
        return int(row[0]) if row else 0

    def consume_fresh(self, through: int) -> None:
        """Drop the queued fresh chunks up to and including sequence number ``through``."""
        with self._write_lock, self._transaction() as conn:
            conn.execute("DELETE FROM fresh_chunks WHERE seq <= ?", (through,))

    # -- retrieval primitives ---------------------------------------------------------------

    def dense_query(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        """(chunk_id, cosine similarity), best first.

        Unfiltered, Chroma's HNSW index answers. Inside a filter, Chroma's own filtered search costs
        hundreds of milliseconds at a million chunks (it lists every id the filter allows, then walks the
        graph past the rest), so: up to ``EXACT_DENSE_MAX`` chunks, an exact search over the filter's
        documents' stored vectors; above it, an HNSW search that over-fetches by the share the filter
        leaves out, filtered after, and Chroma's filtered search only if that leaves too few.
        """
        if filters.is_empty():
            return self._chroma_query(vector, n, None)
        matched = self.filter_size(filters)
        if matched == 0:
            return []
        if matched <= EXACT_DENSE_MAX:
            return self._exact_query(vector, n, filters)
        total = max(self.counts()[1], matched)
        fetch = int(n * OVERFETCH * total / matched) + 1
        if fetch <= OVERFETCH_MAX:
            found = self._chroma_query(vector, fetch, None)
            allowed = self._in_filter([chunk_id for chunk_id, _ in found], filters)
            kept = [hit for hit in found if hit[0] in allowed][:n]
            if len(kept) >= min(n, matched) or len(found) < fetch:
                return kept
        return self._chroma_query(vector, n, self._chroma_where(filters))

    def _chroma_query(self, vector: np.ndarray, n: int, where: dict | None) -> list[tuple[str, float]]:  # type: ignore[type-arg]
        with self._chroma():
            # No count() first: Chroma 1.x returns what it has when n exceeds the collection (or the
            # filter's matches), and counting cost 5x the query itself at 100k chunks.
            result = self.collection.query(
                query_embeddings=[vector.tolist()], n_results=n, where=where, include=["distances"]
            )
        ids = result["ids"][0]
        distances = result["distances"][0] if result.get("distances") else [1.0] * len(ids)
        return [(i, 1.0 - float(d)) for i, d in zip(ids, distances, strict=True)]

    def _exact_query(self, vector: np.ndarray, n: int, filters: Filters) -> list[tuple[str, float]]:
        """The n chunks nearest ``vector`` among the filter's documents, by every chunk's stored vector."""
        where, params = _document_filter(filters)
        query = vector.astype(np.float32)
        dimension = len(query)
        scores: list[np.ndarray] = []
        owners: list[str] = []  # each document's chunk ids, one a line, unsplit until a chunk wins
        for chunk_ids, blob in self._connection().execute(
                f"SELECT v.chunk_ids, v.vectors FROM documents d JOIN document_vectors v ON v.document_id = d.document_id "
                f"WHERE {where}", params):
            rows = np.frombuffer(blob, dtype=np.float16).reshape(-1, dimension)
            scores.append(rows.astype(np.float32) @ query)
            owners.append(chunk_ids)
        if not scores:
            return []
        flat = np.concatenate(scores)
        starts = np.cumsum([0] + [len(s) for s in scores[:-1]])
        top = np.argpartition(-flat, n - 1)[:n] if n < len(flat) else np.arange(len(flat))
        top = top[np.lexsort((top, -flat[top]))]
        out = []
        split: dict[int, list[str]] = {}
        for i in top:
            owner = int(np.searchsorted(starts, i, side="right")) - 1
            ids = split.get(owner) or split.setdefault(owner, owners[owner].split("\n"))
            out.append((ids[i - starts[owner]], float(flat[i])))
        return out

    def filter_size(self, filters: Filters) -> int:
        """How many chunks the filter allows (kept until the next write)."""
        where, params = _document_filter(filters)
        return int(self._memo.get(self.generation(), ("filter", filters), lambda: self._connection().execute(
            f"SELECT coalesce(sum(d.chunk_count), 0) FROM documents d WHERE {where}", params).fetchone()[0]))

    def _in_filter(self, chunk_ids: Sequence[str], filters: Filters) -> set[str]:
        where, params = _document_filter(filters)
        allowed: set[str] = set()
        conn = self._connection()
        for i in range(0, len(chunk_ids), 500):
            part = list(chunk_ids[i: i + 500])
            allowed.update(r[0] for r in conn.execute(
                f"SELECT c.chunk_id FROM chunks c JOIN documents d ON d.document_id = c.document_id "
                f"WHERE c.chunk_id IN ({','.join('?' * len(part))}) AND {where}", [*part, *params]))
        return allowed

    @staticmethod
    def _chroma_where(filters: Filters) -> dict | None:  # type: ignore[type-arg]
        clauses: list[dict] = []  # type: ignore[type-arg]
        if filters.force:
            clauses.append({"force": {"$in": list(filters.force)}})
        if filters.doc_type:
            clauses.append({"doc_type": filters.doc_type})
        if filters.document_id:
            clauses.append({"document_id": {"$in": list(filters.document_id)}})
        if filters.since:
            clauses.append({"date": {"$gte": _date_int(filters.since)}})
        if filters.until:
            clauses.append({"date": {"$lte": _date_int(filters.until)}})
            clauses.append({"date": {"$gt": 0}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def lexical_query(self, match: str, n: int, filters: Filters, *, newest: int | None = None) -> list[tuple[str, float]]:
        """(chunk_id, bm25 score where higher is better), best first. ``match`` is FTS5 syntax.

        ``newest``: score only the newest that many matches (in posting order, the order chunks were
        written), for a query whose every word is in a large share of the index.
        """
        # Rank inside FTS5 first and join the chunk ids to the top n only, computing bm25 once per row:
        # 2-3x faster than joining every match, on queries matching ~100k of 1M chunks. A force or type
        # filter is a facet term FTS5 intersects with the query (10x faster than a join on every match at
        # 100k chunks); dates and document ids still join.
        inner = [f"SELECT chunks_fts.rowid AS rowid, {BM25} AS score FROM chunks_fts"]
        where = ["chunks_fts MATCH ?"]
        params: list[object] = [_with_facets(match, filters)]
        rest = filters.model_copy(update={"force": (), "doc_type": None})
        if not rest.is_empty():
            inner.append("JOIN chunks fc ON fc.rowid = chunks_fts.rowid "
                         "JOIN documents d ON d.document_id = fc.document_id")
            clause, values = _document_filter(rest)
            where.append(clause)
            params.extend(values)
        ranked = " ".join(inner) + " WHERE " + " AND ".join(where)
        if newest is None:
            ranked += " ORDER BY score, chunks_fts.rowid LIMIT ?"
        else:
            ranked = f"SELECT * FROM ({ranked} ORDER BY chunks_fts.rowid DESC LIMIT ?) ORDER BY score, rowid LIMIT ?"
            params.append(newest)
        params.append(n)
        query = (f"SELECT c.chunk_id, -f.score FROM ({ranked}) f JOIN chunks c ON c.rowid = f.rowid "
                 "ORDER BY f.score, c.rowid")
        rows = self._connection().execute(query, params).fetchall()
        return [(r[0], float(r[1])) for r in rows]

    def term_document_counts(self, terms: Sequence[str]) -> dict[str, int]:
        """How many chunks hold each (stemmed) term (absent: none): lets the query drop terms that say
        nothing, and weighs the relevance bar's words. FTS5 counts a term by reading its whole posting
        list, so each count is kept until the next write."""
        generation = self.generation()
        conn = self._connection()

        def count(term: str) -> int:
            row = conn.execute("SELECT doc FROM chunks_vocab WHERE term = ?", (term,)).fetchone()
            return int(row[0]) if row else 0

        counts = {term: self._memo.get(generation, ("df", term), lambda t=term: count(t)) for term in dict.fromkeys(terms)}
        return {term: n for term, n in counts.items() if n}

    # -- consistency ------------------------------------------------------------------------

    def _unmatched_document_vectors(self) -> list[str]:
        """Documents whose document_vectors row is missing or does not hold their chunks, in order."""
        conn = self._connection()
        by_document: dict[str, list[str]] = {}
        for chunk_id, document_id in conn.execute("SELECT chunk_id, document_id FROM chunks ORDER BY document_id, ordinal"):
            by_document.setdefault(document_id, []).append(chunk_id)
        row_bytes = (int(self.meta().get("dimension", "0")) or 1) * 2
        stale = [document_id for document_id, ids, size in conn.execute(
                     "SELECT document_id, chunk_ids, length(vectors) FROM document_vectors")
                 if ids.split("\n") != by_document.get(document_id) or size != len(ids.split("\n")) * row_bytes]
        missing = [r[0] for r in conn.execute(
            "SELECT d.document_id FROM documents d LEFT JOIN document_vectors v ON v.document_id = d.document_id "
            "WHERE v.document_id IS NULL")]
        return sorted(stale + missing)

    def check(self, *, repair: bool = True) -> CheckReport:
        repaired = self.recover() if repair else []
        conn = self._connection()
        docs, chunks = self.counts()
        problems: list[str] = []
        sql_ids = {r[0] for r in conn.execute("SELECT chunk_id FROM chunks")}
        vector_ids: set[str] = set()
        with self._chroma():
            total = self.collection.count()
            for offset in range(0, total, 5000):
                got = self.collection.get(include=[], limit=5000, offset=offset)
                vector_ids.update(got["ids"])
        fts_rows = conn.execute("SELECT count(*) FROM chunks_fts").fetchone()[0]
        try:
            conn.execute("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            problems.append(f"lexical index does not match the chunks table: {exc}")
        missing = sql_ids - vector_ids
        orphans = vector_ids - sql_ids
        if missing:
            problems.append(f"{len(missing)} chunks have no vector (e.g. {sorted(missing)[0]})")
        if orphans:
            problems.append(f"{len(orphans)} vectors have no chunk (e.g. {sorted(orphans)[0]})")
        bad_counts = conn.execute(
            "SELECT d.document_id FROM documents d LEFT JOIN chunks c ON c.document_id = d.document_id "
            "GROUP BY d.document_id HAVING count(c.chunk_id) != max(d.chunk_count)"
        ).fetchall()
        if bad_counts:
            problems.append(f"{len(bad_counts)} documents have a wrong chunk count (e.g. {bad_counts[0][0]})")
        unmatched = self._unmatched_document_vectors()
        if unmatched and repair:
            with self._transaction() as tx:
                tx.executemany("DELETE FROM document_vectors WHERE document_id = ?", [(d,) for d in unmatched])
            self._fill_document_vectors()  # again from the chunks' own vectors
            repaired += [f"rebuilt the filtered-search vectors of {d}" for d in unmatched]
            unmatched = self._unmatched_document_vectors()
        if unmatched:
            problems.append(f"{len(unmatched)} documents' vectors for filtered search do not match their chunks "
                            f"(e.g. {unmatched[0]}): ingest them again")
        pending = conn.execute("SELECT count(*) FROM journal").fetchone()[0]
        if pending:
            problems.append(f"{pending} interrupted writes not yet recovered")
        return CheckReport(ok=not problems, documents=docs, chunks=chunks, vectors=len(vector_ids),
                           fts_rows=fts_rows, problems=problems, repaired=repaired)


class _Prefixed:
    """Row view that reads ``d_title`` as ``title``: lets one join feed ``Store._document``."""

    def __init__(self, row: sqlite3.Row, prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getitem__(self, key: str) -> object:
        return self._row[self._prefix + key]
