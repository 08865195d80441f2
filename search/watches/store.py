"""Saved searches and what they have found, in their own SQLite file beside the index.

A watch is a query with optional forces and a start date. Its entries are the passages that matched
it, kept as they were when found (citation and text), so a feed stays the same even if a paper is
later replaced or removed. An entry's id is derived from the watch, the document and the passage's
text, and written with INSERT OR IGNORE: checking the same passage twice (an unchanged paper
ingested again, a check interrupted and rerun) never adds it twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

from precedent.ingest.settings import Settings
from precedent.search.citations import Citation

WATCH_FILE = "watches.sqlite3"
_ID_SPACE = uuid.UUID("6f1c2a54-2f55-4f0e-9a52-5d0c8f3b7e21")  # namespace of watch and entry ids

# Numbered migrations: index i takes the schema from user_version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE watches (
        watch_id TEXT PRIMARY KEY,
        query TEXT NOT NULL,
        forces TEXT NOT NULL,
        since TEXT,
        created_at TEXT NOT NULL,
        after_seq INTEGER NOT NULL
    );
    CREATE TABLE entries (
        entry_id TEXT PRIMARY KEY,
        watch_id TEXT NOT NULL REFERENCES watches(watch_id) ON DELETE CASCADE,
        document_id TEXT NOT NULL,
        chunk_id TEXT NOT NULL,
        citation TEXT NOT NULL,
        passage TEXT NOT NULL,
        meeting_date TEXT,
        score REAL NOT NULL,
        found_at TEXT NOT NULL
    );
    CREATE INDEX entries_by_watch ON entries(watch_id, found_at);
    """,
)


class Watch(BaseModel):
    watch_id: str
    query: str
    forces: list[str] = Field(default_factory=list)
    since: dt.date | None = None
    created_at: dt.datetime
    after_seq: int = 0  # only chunks queued after this were new when the watch was made

    @property
    def feed_id(self) -> str:
        return f"urn:uuid:{uuid.uuid5(_ID_SPACE, 'watch:' + self.watch_id)}"


class WatchEntry(BaseModel):
    entry_id: str  # "urn:uuid:...", the same whenever the same passage matches the same watch
    watch_id: str
    citation: Citation
    passage: str
    score: float
    found_at: dt.datetime


def entry_id(watch_id: str, document_id: str, passage: str) -> str:
    digest = hashlib.sha256(" ".join(passage.split()).encode("utf-8")).hexdigest()
    return f"urn:uuid:{uuid.uuid5(_ID_SPACE, f'entry:{watch_id}:{document_id}:{digest}')}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class WatchStore:
    """Open with ``WatchStore.open(settings)``; use as a context manager to close it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @staticmethod
    def exists(settings: Settings) -> bool:
        """Has a watch ever been saved here? Readers check first, so a GET never creates the file."""
        return (Path(settings.data_dir) / WATCH_FILE).exists()

    @classmethod
    def open(cls, settings: Settings) -> WatchStore:
        path = Path(settings.data_dir) / WATCH_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=60000")
        store = cls(conn)
        store._migrate()
        return store

    def __enter__(self) -> WatchStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        for number in range(version, len(_MIGRATIONS)):
            with self._transaction() as conn:
                for statement in _MIGRATIONS[number].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number + 1}")

    # -- watches --------------------------------------------------------------------------------

    def add(self, query: str, forces: Sequence[str], since: dt.date | None, after_seq: int) -> Watch:
        watch = Watch(watch_id=uuid.uuid4().hex[:12], query=query, forces=list(forces), since=since,
                      created_at=_now(), after_seq=after_seq)
        with self._transaction() as conn:
            conn.execute("INSERT INTO watches VALUES (?, ?, ?, ?, ?, ?)",
                         (watch.watch_id, watch.query, json.dumps(watch.forces),
                          since.isoformat() if since else None, watch.created_at.isoformat(), after_seq))
        return watch

    def remove(self, watch_id: str) -> bool:
        with self._transaction() as conn:
            return conn.execute("DELETE FROM watches WHERE watch_id = ?", (watch_id,)).rowcount > 0

    @staticmethod
    def _watch(row: sqlite3.Row) -> Watch:
        return Watch(watch_id=row["watch_id"], query=row["query"], forces=json.loads(row["forces"]),
                     since=dt.date.fromisoformat(row["since"]) if row["since"] else None,
                     created_at=dt.datetime.fromisoformat(row["created_at"]), after_seq=row["after_seq"])

    def get(self, watch_id: str) -> Watch | None:
        row = self._conn.execute("SELECT * FROM watches WHERE watch_id = ?", (watch_id,)).fetchone()
        return self._watch(row) if row else None

    def watches(self) -> list[Watch]:
        return [self._watch(r) for r in self._conn.execute("SELECT * FROM watches ORDER BY created_at, watch_id")]

    # -- entries --------------------------------------------------------------------------------

    def add_entries(self, watch: Watch, found: Sequence[tuple[Citation, str, float]]) -> int:
        """Record passages that matched ``watch``; those it already holds are left as they are. Returns how many
        were new."""
        now = _now().isoformat()
        rows = [(entry_id(watch.watch_id, c.document_id, passage), watch.watch_id, c.document_id, c.chunk_id,
                 c.model_dump_json(), passage, c.meeting_date.isoformat() if c.meeting_date else None, score, now)
                for c, passage, score in found]
        with self._transaction() as conn:
            before = conn.total_changes
            conn.executemany("INSERT OR IGNORE INTO entries VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            return conn.total_changes - before

    def entries(self, watch_id: str, limit: int = 100) -> list[WatchEntry]:
        """Newest first: by when they were found, then by meeting date."""
        rows = self._conn.execute(
            "SELECT * FROM entries WHERE watch_id = ? ORDER BY found_at DESC, meeting_date DESC, entry_id LIMIT ?",
            (watch_id, limit)).fetchall()
        return [WatchEntry(entry_id=r["entry_id"], watch_id=r["watch_id"],
                           citation=Citation.model_validate_json(r["citation"]), passage=r["passage"],
                           score=r["score"], found_at=dt.datetime.fromisoformat(r["found_at"])) for r in rows]

    def count(self, watch_id: str) -> int:
        return int(self._conn.execute("SELECT count(*) FROM entries WHERE watch_id = ?", (watch_id,)).fetchone()[0])
