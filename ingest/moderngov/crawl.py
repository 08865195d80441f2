"""The ModernGov crawl: walk each panel's meetings in yearly windows and ingest what is new or changed.

Each published agenda item's minutes becomes a minutes document (its mgAi.aspx page is its URL); each
linked PDF/DOCX becomes a report. Restricted items and enclosures are never fetched. A failure (a 404
PDF, malformed XML, a timeout) is recorded against its URL and the crawl goes on.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field

from precedent.ingest.dates import human_date
from precedent.ingest.errors import ModelUnavailable, PrecedentError, StoreMismatch, StoreUnavailable
from precedent.ingest.moderngov.client import (
    SERVICE_OFF_STATUSES,
    Fetched,
    FetchFailed,
    Item,
    LinkedDoc,
    MalformedResponse,
    Meeting,
    MeetingRef,
    ModernGovClient,
    RequestBudgetExhausted,
    committees_url,
    document_kind,
    item_url,
    list_documents_url,
    list_meetings_url,
    meeting_url,
    meetings_url,
    parse_committees,
    parse_item_page_minutes,
    parse_list_documents_page,
    parse_list_meetings_page,
    parse_meeting,
    parse_meetings,
    yearly_windows,
)
from precedent.ingest.moderngov.registry import Panel, Site, load_registry, select_panels
from precedent.ingest.moderngov.state import CrawlState, content_hash
from precedent.ingest.parse import sniff_kind
from precedent.ingest.pipeline import ingest_items
from precedent.ingest.records import AgendaItem, DocumentMeta, SourceItem
from precedent.ingest.settings import Settings

# ingest_items(items, settings, *, progress=False) -> IngestReport; the API passes its own (one writer).
IngestFn = Callable[..., Any]

# Errors of the index itself: every later batch would fail the same way, so the crawl stops.
_FATAL_INGEST_ERRORS = (StoreMismatch, StoreUnavailable, ModelUnavailable)


class CrawlFailure(BaseModel):
    url: str
    error: str


class CrawlSummary(BaseModel):
    """What a crawl did, JSON-ready for `precedent crawl --json`."""

    meetings_seen: int = 0
    documents_new: int = 0
    documents_changed: int = 0
    documents_unchanged: int = 0
    documents_failed: list[CrawlFailure] = Field(default_factory=list)
    restricted_skipped: int = 0
    requests: int = 0
    not_modified: int = 0  # requests answered 304
    bytes_downloaded: int = 0
    seconds: float = 0.0
    dry_run: bool = False
    stopped: str | None = None  # why the crawl ended early, if it did

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


@dataclass(frozen=True)
class _Pending:
    """A document to ingest, with what to remember about it once the pipeline has taken it."""

    item: SourceItem
    digest: str
    fetched: Fetched | None  # the download whose validators make the next crawl's request conditional
    new: bool


class _Stop(Exception):
    """Ends the crawl early (request budget, broken index) with the reason in the summary."""


def crawl(
    panels: Sequence[Panel],
    settings: Settings,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    dry_run: bool = False,
    progress: bool = False,
    client: ModernGovClient | None = None,
    ingest: IngestFn | None = None,
) -> CrawlSummary:
    """Crawl the panels' ModernGov sites and ingest new and changed documents, one meeting at a time.

    A dry run makes the same (conditional) requests and reports what would be ingested, but ingests
    nothing and writes no crawl state.
    """
    if since and until and since > until:
        raise PrecedentError(f"--since {since} is after --until {until}: swap them")
    if ingest is None and not dry_run:
        ingest = ingest_items
    started = time.monotonic()
    summary = CrawlSummary(dry_run=dry_run)
    own_client = client is None
    http = client or ModernGovClient(settings)
    # A client passed in may have served earlier crawls: count only this one's requests.
    before = (http.requests, http.not_modified, http.bytes_downloaded)
    state = CrawlState.open(settings, read_only=dry_run)
    bar = _progress_bar(progress)
    try:
        run = _Crawl(settings, http, state, ingest, summary, bar)
        for panel in panels:
            for site in panel.sites:
                window = site.window(since, until)
                if window is not None:
                    run.site(panel, site, *window)
    except _Stop as stop:
        summary.stopped = str(stop)
    finally:
        state.close()
        if bar is not None:
            bar.close()
        if own_client:
            http.close()
    summary.requests = http.requests - before[0]
    summary.not_modified = http.not_modified - before[1]
    summary.bytes_downloaded = http.bytes_downloaded - before[2]
    summary.seconds = round(time.monotonic() - started, 3)
    return summary


def _progress_bar(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(unit="meeting", desc="crawl", leave=False)


class _Crawl:
    """One crawl's working set: the client, the state, the summary being filled in."""

    def __init__(self, settings: Settings, client: ModernGovClient, state: CrawlState,
                 ingest: IngestFn | None, summary: CrawlSummary, bar: Any) -> None:
        self.settings = settings
        self.client = client
        self.state = state
        self.ingest = ingest
        self.summary = summary
        self.bar = bar
        self.service_off: set[str] = set()  # sites whose web service refused: use public pages
        self.seen_sources: set[str] = set()  # a document linked from two items is fetched once

    def fail(self, url: str, error: Exception | str) -> None:
        if isinstance(error, FetchFailed) and error.url == url:
            error = error.reason  # the URL is already beside it
        self.summary.documents_failed.append(CrawlFailure(url=url, error=str(error)))

    # --- listings ----------------------------------------------------------------------------------

    def listing(self, site: Site, url: str) -> tuple[bytes, Fetched | None]:
        """A listing's body, conditionally fetched; a 304 is answered from the stored body.

        Returns the fresh download too, to be remembered only once its body has parsed.
        """
        record = self.state.fetch_record(url)
        cached = record if record is not None and record.body is not None else None
        try:
            fetched = self.client.fetch(site, url, cached.validators if cached else None)
        except RequestBudgetExhausted as exc:
            raise _Stop(str(exc)) from exc
        if fetched.not_modified:
            if cached is None or cached.body is None:
                raise MalformedResponse(f"{url}: 304 Not Modified to an unconditional request")
            return cached.body, None
        return fetched.body, fetched

    def remember(self, fetched: Fetched | None) -> None:
        if fetched is not None:
            self.state.save_fetch(fetched, keep_body=True)

    def site(self, panel: Panel, site: Site, start: dt.date, end: dt.date) -> None:
        try:
            committee_id = site.committee_id or self.committee_id(site)
        except (FetchFailed, MalformedResponse) as exc:
            self.fail(committees_url(site), exc)
            return
        for window_start, window_end in yearly_windows(start, end):
            try:
                refs = self.meeting_refs(site, committee_id, window_start, window_end)
            except (FetchFailed, MalformedResponse) as exc:
                self.fail(getattr(exc, "url", None) or meetings_url(site, committee_id, window_start,
                                                                   window_end), exc)
                continue
            for ref in sorted(refs, key=lambda r: (r.date or dt.date.min, r.id)):
                self.meeting(panel, site, committee_id, ref)

    def committee_id(self, site: Site) -> int:
        """Find a committee by title where the registry has no id (older hosts), via GetCommittees."""
        body, fetched = self.listing(site, committees_url(site))
        committees = parse_committees(body)
        self.remember(fetched)
        wanted = (site.committee_title or "").casefold()
        matches = ([c for c in committees if c.title.casefold() == wanted]
                   or [c for c in committees if wanted in c.title.casefold()])
        if len(matches) != 1:
            found = ", ".join(f"{c.id} '{c.title}'" for c in matches) or "none"
            raise MalformedResponse(
                f"{site.base_url}: {len(matches)} committees titled like '{site.committee_title}' ({found}); "
                "set committee_id for this site in registry.toml")
        return matches[0].id

    def meeting_refs(self, site: Site, committee_id: int, start: dt.date, end: dt.date) -> list[MeetingRef]:
        if site.base_url not in self.service_off:
            url = meetings_url(site, committee_id, start, end)
            try:
                body, fetched = self.listing(site, url)
            except FetchFailed as exc:
                if exc.status not in SERVICE_OFF_STATUSES:
                    raise
                self.service_off.add(site.base_url)
            else:
                refs = parse_meetings(body)
                self.remember(fetched)
                return [r for r in refs if r.date is None or start <= r.date <= end]
        body, fetched = self.listing(site, list_meetings_url(site, committee_id, start.year))
        refs = parse_list_meetings_page(body)
        self.remember(fetched)
        return [r for r in refs if r.date is None or start <= r.date <= end]

    # --- one meeting -------------------------------------------------------------------------------

    def meeting(self, panel: Panel, site: Site, committee_id: int, ref: MeetingRef) -> None:
        url = meeting_url(site, ref.id)
        try:
            meeting = None
            if site.base_url not in self.service_off:
                try:
                    body, fetched = self.listing(site, url)
                    meeting = parse_meeting(body, site)
                    self.remember(fetched)
                except FetchFailed as exc:
                    if exc.status not in SERVICE_OFF_STATUSES:
                        raise
            if meeting is None:
                url = list_documents_url(site, committee_id, ref.id)
                body, fetched = self.listing(site, url)
                meeting = parse_list_documents_page(body, site, ref.id)
                self.remember(fetched)
        except (FetchFailed, MalformedResponse) as exc:
            self.fail(url, exc)
            return
        date = meeting.date or ref.date
        self.summary.meetings_seen += 1
        pending: list[_Pending] = []
        for item in meeting.items:
            if item.restricted:
                self.summary.restricted_skipped += 1 + len(item.docs)
                continue
            minutes = self.minutes(panel, site, meeting, item, date)
            if minutes is not None:
                pending.append(minutes)
            for doc in item.docs:
                if doc.restricted:
                    self.summary.restricted_skipped += 1
                    continue
                report = self.document(panel, site, item, doc, date)
                if report is not None:
                    pending.append(report)
        if pending:
            self.ingest_batch(pending, url)
        self.state.save_meeting(url, panel.force, ref.id, date)
        if self.bar is not None:
            self.bar.set_postfix_str(f"{panel.force} {date or ref.id}")
            self.bar.update(1)

    def minutes(self, panel: Panel, site: Site, meeting: Meeting, item: Item,
                date: dt.date | None) -> _Pending | None:
        source = item_url(site, item.id)
        body = item.minutes_html
        if meeting.minutes_on_item_pages:
            try:
                page, fetched = self.listing(site, source)
                body = parse_item_page_minutes(page)
                self.remember(fetched)
            except (FetchFailed, MalformedResponse) as exc:
                self.fail(source, exc)
                return None
        if not body.strip():
            return None  # no minutes published for this item (yet)
        data = minutes_page(item.title, body)
        when = human_date(date) if date else "undated meeting"
        meta = DocumentMeta(
            document_id=f"mg-{site.host_slug}-item-{item.id}",
            title=f"Minutes, {when}: {item.title}",
            force=panel.force, panel=panel.panel, meeting_date=date, doc_type="minutes",
            agenda_item=AgendaItem(number=item.number, title=item.title), url=source)
        digest = item_digest(data, meta)
        known = self.state.document_hash(source)
        if known == digest:
            self.summary.documents_unchanged += 1
            return None
        return _Pending(SourceItem(source, f"item-{item.id}.html", data, meta), digest, None, known is None)

    def document(self, panel: Panel, site: Site, item: Item, doc: LinkedDoc,
                 date: dt.date | None) -> _Pending | None:
        kind = document_kind(doc.url)
        source = doc.url
        if kind is None or source in self.seen_sources:
            return None
        self.seen_sources.add(source)
        known = self.state.document_hash(source)
        record = self.state.fetch_record(source) if known else None
        try:
            fetched = self.client.fetch(site, source, record.validators if record else None)
        except RequestBudgetExhausted as exc:
            raise _Stop(str(exc)) from exc
        except FetchFailed as exc:
            self.fail(source, exc)
            return None
        if fetched.not_modified:
            self.summary.documents_unchanged += 1
            return None
        actual = sniff_kind(fetched.body)
        if actual not in ("pdf", "docx"):
            self.fail(source, f"not a PDF or DOCX (Content-Type '{fetched.content_type}')")
            return None
        filename = document_filename(doc, actual)
        meta = DocumentMeta(
            document_id=f"mg-{site.host_slug}-doc-{doc.attachment_id or content_hash(fetched.body)[:16]}",
            title=doc.title or PurePosixPath(filename).stem,
            force=panel.force, panel=panel.panel, meeting_date=date, doc_type="report",
            agenda_item=AgendaItem(number=item.number, title=item.title), url=source)
        digest = item_digest(fetched.body, meta)
        if known == digest:
            self.summary.documents_unchanged += 1
            self.state.save_fetch(fetched, keep_body=False)  # fresh validators for next time
            return None
        return _Pending(SourceItem(source, filename, fetched.body, meta), digest, fetched, known is None)

    # --- ingest ------------------------------------------------------------------------------------

    def ingest_batch(self, pending: list[_Pending], meeting_source: str) -> None:
        """One meeting's documents in one pipeline call; state is written only for what it accepted."""
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
            raise _Stop(f"the index cannot take documents: {exc}") from exc
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


def item_digest(data: bytes, meta: DocumentMeta) -> str:
    """The bytes and what the crawl says about them: a retitled item is re-ingested too."""
    return content_hash(data + b"\0" + meta.model_dump_json().encode())


def minutes_page(title: str, body_html: str) -> bytes:
    """An item's minutes as a small HTML document, so the HTML parser keeps its structure."""
    return f"<html><body><h1>{html.escape(title)}</h1>\n{body_html}\n</body></html>".encode()


_UNSAFE = re.compile(r"[^\w.\- ]+")


def document_filename(doc: LinkedDoc, kind: str) -> str:
    """The document's own file name where the link has one, else its title, with the right extension."""
    name = PurePosixPath(unquote(urlsplit(doc.url).path)).name
    stem = PurePosixPath(name).stem if PurePosixPath(name).suffix.lower() in (".pdf", ".docx") else ""
    if not stem or stem.lower() == "mgconvert2pdf":
        stem = doc.title or f"document-{doc.attachment_id}"
    stem = " ".join(_UNSAFE.sub(" ", stem).split())[:120] or f"document-{doc.attachment_id}"
    return f"{stem}.{kind}"


def crawl_forces(forces: Iterable[str], settings: Settings, **options: Any) -> CrawlSummary:
    """Crawl the registered panels of the named forces (all panels if none are named)."""
    return crawl(select_panels(load_registry(), forces), settings, **options)
