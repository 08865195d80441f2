"""What the crawler remembers between runs (SQLite beside the index), so a re-crawl repeats no work.

Per URL: the validators the server sent (ETag, Last-Modified), the hash of the body, and for listings
(web service XML, list pages, calendars) the body itself, so a 304 can be answered from here. Per
ingested document: the hash of what was ingested, written only once the pipeline accepted it, so a
failed or interrupted ingest is retried next time. Per force: how its last crawl went.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from precedent.ingest.crawl.http import Fetched, Validators
from precedent.ingest.settings import Settings

STATE_FILE = "crawl_state.sqlite3"

# Numbered migrations: index i takes the schema from user_version i to i + 1.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE fetches (
        url TEXT PRIMARY KEY,
        etag TEXT,
        last_modified TEXT,
        content_hash TEXT NOT NULL,
        body BLOB,
        fetched_at TEXT NOT NULL
    );
    CREATE TABLE documents (
        source TEXT PRIMARY KEY,
        document_id TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        meeting_url TEXT,
        ingested_at TEXT NOT NULL
    );
    CREATE TABLE meetings (
        url TEXT PRIMARY KEY,
        force TEXT NOT NULL,
        meeting_id INTEGER NOT NULL,
        meeting_date TEXT,
        last_seen TEXT NOT NULL
    );
    """,
    """
    CREATE TABLE crawls (
        force TEXT PRIMARY KEY,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL,
        meetings INTEGER NOT NULL DEFAULT 0,
        documents_new INTEGER NOT NULL DEFAULT 0,
        documents_changed INTEGER NOT NULL DEFAULT 0,
        documents_unchanged INTEGER NOT NULL DEFAULT 0,
        documents_failed INTEGER NOT NULL DEFAULT 0,
        detail TEXT
    );
    """,
)


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class LastCrawl(BaseModel):
    """How a force's most recent crawl went: 'running' until it ends ('interrupted' if it never did)."""

    force: str
    started: str
    finished: str | None = None
    status: str = "running"  # running | ok | failures | stopped | interrupted
    meetings: int = 0
    documents_new: int = 0
    documents_changed: int = 0
    documents_unchanged: int = 0
    documents_failed: int = 0
    detail: str | None = None


_CRAWL_COLUMNS = ("force", "started", "finished", "status", "meetings", "documents_new", "documents_changed",
                  "documents_unchanged", "documents_failed", "detail")


@dataclass(frozen=True)
class FetchRecord:
    validators: Validators
    content_hash: str
    body: bytes | None


class CrawlState:
    """The crawl's memory. A read-only state (dry runs) answers questions but never writes."""

    def __init__(self, conn: sqlite3.Connection, *, read_only: bool = False) -> None:
        self._conn = conn
        self.read_only = read_only

    @classmethod
    def open(cls, settings: Settings, *, read_only: bool = False) -> CrawlState:
        path = Path(settings.data_dir) / STATE_FILE
        if read_only:
            # A dry run must leave no trace, not even a new empty file.
            conn = (sqlite3.connect(f"file:{path}?mode=ro", uri=True) if path.exists()
                    else sqlite3.connect(":memory:"))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA journal_mode=WAL")
        state = cls(conn, read_only=read_only)
        state._migrate(in_memory=read_only and not path.exists())
        return state

    def _migrate(self, *, in_memory: bool) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version >= len(_MIGRATIONS) or (self.read_only and not in_memory):
            return
        with self._conn:
            for number in range(version, len(_MIGRATIONS)):
                self._conn.executescript(_MIGRATIONS[number])
            self._conn.execute(f"PRAGMA user_version = {len(_MIGRATIONS)}")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> CrawlState:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch_record(self, url: str) -> FetchRecord | None:
        row = self._conn.execute(
            "SELECT etag, last_modified, content_hash, body FROM fetches WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        return FetchRecord(Validators(row[0], row[1]), row[2], row[3])

    def save_fetch(self, fetched: Fetched, *, keep_body: bool) -> None:
        """Remember a 200 answer's validators and hash (and body, for listings answered by 304 later)."""
        if self.read_only or fetched.not_modified:
            return
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO fetches (url, etag, last_modified, content_hash, body, fetched_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (fetched.url, fetched.validators.etag, fetched.validators.last_modified,
                 content_hash(fetched.body), fetched.body if keep_body else None, _now()),
            )

    def document_hash(self, source: str) -> str | None:
        row = self._conn.execute("SELECT content_hash FROM documents WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def save_document(self, source: str, document_id: str, digest: str, meeting_url: str) -> None:
        if self.read_only:
            return
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO documents"
                " (source, document_id, content_hash, meeting_url, ingested_at) VALUES (?, ?, ?, ?, ?)",
                (source, document_id, digest, meeting_url, _now()),
            )

    def save_meeting(self, url: str, force: str, meeting_id: int, meeting_date: dt.date | None) -> None:
        if self.read_only:
            return
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO meetings (url, force, meeting_id, meeting_date, last_seen)"
                " VALUES (?, ?, ?, ?, ?)",
                (url, force, meeting_id, meeting_date.isoformat() if meeting_date else None, _now()),
            )

    def start_force(self, force: str) -> None:
        """Mark a force's crawl as begun: if the process dies, the row says it never finished."""
        if self.read_only:
            return
        with self._conn:
            self._conn.execute(
                "INSERT OR REPLACE INTO crawls (force, started, status) VALUES (?, ?, 'running')", (force, _now()))

    def finish_force(self, result: LastCrawl) -> None:
        if self.read_only:
            return
        row = result.model_dump()
        row["finished"] = row["finished"] or _now()
        with self._conn:
            self._conn.execute(
                f"INSERT OR REPLACE INTO crawls ({', '.join(_CRAWL_COLUMNS)}) "
                f"VALUES ({', '.join('?' for _ in _CRAWL_COLUMNS)})", [row[c] for c in _CRAWL_COLUMNS])

    def last_crawls(self) -> dict[str, LastCrawl]:
        """Each force's last crawl; a state file older than the crawls table has none."""
        if self._conn.execute("PRAGMA user_version").fetchone()[0] < 2:
            return {}
        rows = self._conn.execute(f"SELECT {', '.join(_CRAWL_COLUMNS)} FROM crawls ORDER BY force").fetchall()
        return {r[0]: LastCrawl(**dict(zip(_CRAWL_COLUMNS, r, strict=True))) for r in rows}

    def counts(self) -> dict[str, int]:
        return {table: self._conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("fetches", "documents", "meetings", "crawls")}


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
