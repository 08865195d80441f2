"""The crawl: every selected panel, site by site, with the system's walker, under the crawl lock.

A failure (a 404 PDF, malformed XML, a timeout) is recorded against its URL and the crawl goes on;
each force's outcome is written to the crawl state as it finishes, so `precedent sources` and
/health can say when each force was last crawled and how it went.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from typing import Any

from precedent.ingest.crawl.cmis import CmisWalker
from precedent.ingest.crawl.http import PoliteClient
from precedent.ingest.crawl.listing import ListingWalker
from precedent.ingest.crawl.lock import CrawlLock
from precedent.ingest.crawl.moderngov import ModernGovWalker
from precedent.ingest.crawl.registry import Panel, registry_for, select_panels
from precedent.ingest.crawl.run import CrawlRun, CrawlSummary, ForceCounts, IngestFn, Stop
from precedent.ingest.crawl.state import CrawlState, LastCrawl
from precedent.ingest.errors import PrecedentError
from precedent.ingest.pipeline import ingest_items
from precedent.ingest.settings import Settings


def crawl(
    panels: Sequence[Panel],
    settings: Settings,
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    dry_run: bool = False,
    progress: bool = False,
    client: PoliteClient | None = None,
    ingest: IngestFn | None = None,
    lock: CrawlLock | None = None,
) -> CrawlSummary:
    """Crawl the panels' sites and ingest new and changed documents, one meeting at a time.

    Takes the data dir's crawl lock (CrawlAlreadyRunning if another crawl holds it) unless the caller
    passes a lock it already holds. A dry run makes the same (conditional) requests and reports what
    would be ingested, but ingests nothing, writes no crawl state and takes no lock.
    """
    if since and until and since > until:
        raise PrecedentError(f"--since {since} is after --until {until}: swap them")
    if ingest is None and not dry_run:
        ingest = ingest_items
    own_lock = lock is None and not dry_run
    held = CrawlLock(settings) if own_lock else None
    if held is not None:
        held.acquire()
    try:
        return _crawl(panels, settings, since, until, dry_run, progress, client, ingest)
    finally:
        if held is not None:
            held.release()


def _crawl(panels: Sequence[Panel], settings: Settings, since: dt.date | None, until: dt.date | None,
           dry_run: bool, progress: bool, client: PoliteClient | None, ingest: IngestFn | None) -> CrawlSummary:
    started = time.monotonic()
    summary = CrawlSummary(dry_run=dry_run)
    own_client = client is None
    http = client or PoliteClient(settings)
    # A client passed in may have served earlier crawls: count only this one's requests.
    before = (http.requests, http.not_modified, http.bytes_downloaded)
    state = CrawlState.open(settings, read_only=dry_run)
    bar = _progress_bar(progress)
    run = CrawlRun(settings, http, state, ingest, summary, bar)
    walkers: dict[str, Any] = {"moderngov": ModernGovWalker(run), "cmis": CmisWalker(run),
                               "listing": ListingWalker(run)}
    try:
        for panel in panels:
            _crawl_panel(run, walkers, panel, since, until)
    except Stop as stop:
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


def _crawl_panel(run: CrawlRun, walkers: dict[str, Any], panel: Panel, since: dt.date | None,
                 until: dt.date | None) -> None:
    """One force's sites; its outcome goes to the crawl state even when the crawl stops inside it."""
    before = run.summary.counts()
    run.state.start_force(panel.force)
    status, detail = "ok", None
    try:
        for site in panel.crawl_sites:
            window = site.window(since, until)
            if window is not None:
                walkers[site.system].site(panel, site, *window)
    except Stop as stop:
        status, detail = "stopped", str(stop)
        raise
    except BaseException as exc:  # Ctrl-C, or a bug: the force must not look crawled
        status, detail = "interrupted", f"{type(exc).__name__}: {exc}"[:300]
        raise
    finally:
        counts = _difference(run.summary.counts(), before)
        run.summary.forces[panel.force] = counts
        if status == "ok" and counts.documents_failed:
            status = "failures"
            detail = f"{counts.documents_failed} URLs failed; see the crawl's summary"
        run.state.finish_force(LastCrawl(
            force=panel.force, started=_state_started(run, panel.force), status=status,
            meetings=counts.meetings_seen, documents_new=counts.documents_new,
            documents_changed=counts.documents_changed, documents_unchanged=counts.documents_unchanged,
            documents_failed=counts.documents_failed, detail=detail))


def _state_started(run: CrawlRun, force: str) -> str:
    last = run.state.last_crawls().get(force)
    return last.started if last else dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _difference(after: ForceCounts, before: ForceCounts) -> ForceCounts:
    return ForceCounts(**{k: getattr(after, k) - getattr(before, k) for k in ForceCounts.model_fields})


def _progress_bar(enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(unit="meeting", desc="crawl", leave=False)


def crawl_forces(forces: Iterable[str], settings: Settings, **options: Any) -> CrawlSummary:
    """Crawl the registered panels of the named forces (every crawlable panel if none are named)."""
    return crawl(select_panels(registry_for(settings), forces), settings, **options)
