"""One crawl's working set, shared by every source: conditional fetches, hashes, failures, ingest batches.

The per-system walkers (moderngov.py, cmis.py, listing.py) decide which URLs hold a panel's papers;
everything they fetch and ingest goes through a CrawlRun, so every source is equally polite, equally
incremental and reports its failures the same way.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field

from precedent.ingest.crawl.http import (
    Fetchable,
    Fetched,
    FetchFailed,
    MalformedResponse,
    PoliteClient,
    RequestBudgetExhausted,
)
from precedent.ingest.crawl.state import CrawlState, content_hash
from precedent.ingest.errors import ModelUnavailable, StoreMismatch, StoreUnavailable
from precedent.ingest.parse import sniff_kind
from precedent.ingest.records import DocumentMeta, SourceItem
from precedent.ingest.settings import Settings

# ingest_items(items, settings, *, progress=False) -> IngestReport (precedent.ingest.pipeline)
IngestFn = Callable[..., Any]

# Errors of the index itself: every later batch would fail the same way, so the crawl stops.
_FATAL_INGEST_ERRORS = (StoreMismatch, StoreUnavailable, ModelUnavailable)


class CrawlFailure(BaseModel):
    url: str
    error: str


class CommitteeFound(BaseModel):
    """A committee the registry named by title, and how its id was found (reported, never silent)."""

    force: str
    host: str
    title: str
    committee_id: int
    via: str


class ForceCounts(BaseModel):
    meetings_seen: int = 0
    documents_new: int = 0
    documents_changed: int = 0
    documents_unchanged: int = 0
    documents_failed: int = 0
    restricted_skipped: int = 0


class CrawlSummary(BaseModel):
    """What a crawl did, JSON-ready for `precedent crawl --json` and POST /crawl's job."""

    meetings_seen: int = 0
    documents_new: int = 0
    documents_changed: int = 0
    documents_unchanged: int = 0
    documents_failed: list[CrawlFailure] = Field(default_factory=list)
    restricted_skipped: int = 0
    committees_found: list[CommitteeFound] = Field(default_factory=list)
    forces: dict[str, ForceCounts] = Field(default_factory=dict)
    requests: int = 0
    not_modified: int = 0  # requests answered 304
    bytes_downloaded: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    stopped: str | None = None  # why the crawl ended early, if it did

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def counts(self) -> ForceCounts:
        return ForceCounts(meetings_seen=self.meetings_seen, documents_new=self.documents_new,
                           documents_changed=self.documents_changed, documents_unchanged=self.documents_unchanged,
                           documents_failed=len(self.documents_failed), restricted_skipped=self.restricted_skipped)


@dataclass(frozen=True)
class Pending:
    """A document to ingest, with what to remember about it once the pipeline has taken it."""

    item: SourceItem
    digest: str
    fetched: Fetched | None  # the download whose validators make the next crawl's request conditional
    new: bool


class Stop(Exception):
    """Ends the crawl early (request budget, broken index) with the reason in the summary."""


class CrawlRun:
    """One crawl's client, state and summary, and the steps every source shares."""

    def __init__(self, settings: Settings, client: PoliteClient, state: CrawlState,
                 ingest: IngestFn | None, summary: CrawlSummary, bar: Any = None) -> None:
        self.settings = settings
        self.client = client
        self.state = state
        self.ingest = ingest
        self.summary = summary
        self.bar = bar
        self.seen_sources: set[str] = set()  # a document linked twice is fetched once per crawl

    def fail(self, url: str, error: Exception | str) -> None:
        if isinstance(error, FetchFailed) and error.url == url:
            error = error.reason  # the URL is already beside it
        self.summary.documents_failed.append(CrawlFailure(url=url, error=str(error)))

    def fetch(self, site: Fetchable, url: str, validators: Any = None) -> Fetched:
        """One request; the request budget running out ends the whole crawl, cleanly."""
        try:
            return self.client.fetch(site, url, validators)
        except RequestBudgetExhausted as exc:
            raise Stop(str(exc)) from exc

    # --- listings: pages and XML that say what exists ----------------------------------------------

    def listing(self, site: Fetchable, url: str) -> tuple[bytes, Fetched | None]:
        """A listing's body, conditionally fetched; a 304 is answered from the stored body.

        Returns the fresh download too, to be remembered only once its body has parsed.
        """
        record = self.state.fetch_record(url)
        cached = record if record is not None and record.body is not None else None
        fetched = self.fetch(site, url, cached.validators if cached else None)
        if fetched.not_modified:
            if cached is None or cached.body is None:
                raise MalformedResponse(f"{url}: 304 Not Modified to an unconditional request")
            return cached.body, None
        return fetched.body, fetched

    def remember(self, fetched: Fetched | None) -> None:
        if fetched is not None:
            self.state.save_fetch(fetched, keep_body=True)

    # --- documents ---------------------------------------------------------------------------------

    def download(self, site: Fetchable, source: str) -> Fetched | None:
        """A linked PDF or DOCX, fetched conditionally once per crawl.

        None when already handled in this crawl, unchanged (304), or failed (recorded against its URL).
        """
        if source in self.seen_sources:
            return None
        self.seen_sources.add(source)
        known = self.state.document_hash(source)
        record = self.state.fetch_record(source) if known else None
        try:
            fetched = self.fetch(site, source, record.validators if record else None)
        except FetchFailed as exc:
            self.fail(source, exc)
            return None
        if fetched.not_modified:
            self.summary.documents_unchanged += 1
            return None
        if sniff_kind(fetched.body) not in ("pdf", "docx"):
            self.fail(source, f"not a PDF or DOCX (Content-Type '{fetched.content_type}')")
            return None
        return fetched

    def pending(self, item: SourceItem, fetched: Fetched | None = None) -> Pending | None:
        """What to ingest, unless the state already holds exactly these bytes with this metadata."""
        digest = item_digest(item.data, item.meta)
        known = self.state.document_hash(item.source)
        if known == digest:
            self.summary.documents_unchanged += 1
            if fetched is not None:
                self.state.save_fetch(fetched, keep_body=False)  # fresh validators for next time
            return None
        return Pending(item, digest, fetched, known is None)

    def restricted(self, count: int = 1) -> None:
        self.summary.restricted_skipped += count

    # --- ingest ------------------------------------------------------------------------------------

    def ingest_batch(self, pending: list[Pending], meeting_source: str) -> None:
        """One meeting's documents in one pipeline call; state is written only for what it accepted.

        A kill between the pipeline's write and the state's leaves those documents unrecorded here:
        the next crawl offers them again and the pipeline, holding the same content hash, skips them.
        """
        if not pending:
            return
        if self.ingest is None:  # dry run: report what would be ingested
            for p in pending:
                if p.new:
                    self.summary.documents_new += 1
                else:
                    self.summary.documents_changed += 1
            return
        try:
            report = self.ingest([p.item for p in pending], self.settings, progress=False)
        except _FATAL_INGEST_ERRORS as exc:
            for p in pending:
                self.fail(p.item.source, exc)
            raise Stop(f"the index cannot take documents: {exc}") from exc
        except Exception as exc:  # one bad batch must not end the crawl
            for p in pending:
                self.fail(p.item.source, f"ingest failed: {type(exc).__name__}: {exc}")
            return
        outcomes = {o.source: o for o in report.outcomes}
        for p in pending:
            outcome = outcomes.get(p.item.source)
            if outcome is None or outcome.status == "failed":
                self.fail(p.item.source, outcome.error if outcome else "not reported by the ingest pipeline")
                continue
            if outcome.status == "added":
                self.summary.documents_new += 1
            elif outcome.status == "updated":
                self.summary.documents_changed += 1
            else:
                self.summary.documents_unchanged += 1
            document_id = outcome.document_id or p.item.meta.document_id or p.item.source
            self.state.save_document(p.item.source, document_id, p.digest, meeting_source)
            if p.fetched is not None:
                self.state.save_fetch(p.fetched, keep_body=False)

    def meeting_done(self, force: str, url: str, meeting_id: int, date: Any, label: str) -> None:
        """A meeting (or listing page) fully handled: remembered, and the progress bar moves on."""
        self.summary.meetings_seen += 1
        self.state.save_meeting(url, force, meeting_id, date)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{force} {label}")
            self.bar.update(1)


def item_digest(data: bytes, meta: DocumentMeta) -> str:
    """The bytes and what the crawl says about them: a retitled item is re-ingested too."""
    return content_hash(data + b"\0" + meta.model_dump_json().encode())


def minutes_page(title: str, body_html: str) -> bytes:
    """An item's minutes as a small HTML document, so the HTML parser keeps its structure."""
    return f"<html><body><h1>{html.escape(title)}</h1>\n{body_html}\n</body></html>".encode()


_UNSAFE = re.compile(r"[^\w.\- ]+")


def document_filename(url: str, title: str, kind: str, fallback: str) -> str:
    """The document's own file name where the link has one, else its title, with the right extension."""
    name = PurePosixPath(unquote(urlsplit(url).path)).name
    stem = PurePosixPath(name).stem if PurePosixPath(name).suffix.lower() in (".pdf", ".docx") else ""
    if not stem or stem.lower() == "mgconvert2pdf":
        stem = title or fallback
    stem = " ".join(_UNSAFE.sub(" ", stem).split())[:120] or fallback
    return f"{stem}.{kind}"
