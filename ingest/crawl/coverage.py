"""Which forces the archive covers, and how: one row per force for `precedent sources` and GET /sources.

A row joins three things: the registry (system, hosts, committee, status and its reason), the crawl
state (when the force was last crawled and how it went) and the index's own counts.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, Field

from precedent.ingest.crawl.lock import crawl_running
from precedent.ingest.crawl.registry import Panel, Status, registry_for
from precedent.ingest.crawl.state import STATE_FILE, CrawlState, LastCrawl
from precedent.ingest.errors import PrecedentError
from precedent.ingest.forces import all_forces
from precedent.ingest.settings import Settings
from precedent.ingest.store import IndexStats, Store


class SiteRow(BaseModel):
    """One registry site as the user would write it in a registry file of their own."""

    system: str
    base_url: str
    committee_id: int | None = None
    committee_title: str | None = None
    start: dt.date | None = Field(default=None, serialization_alias="from")
    end: dt.date | None = Field(default=None, serialization_alias="until")
    verify: str | None = None
    reason: str | None = None


class ForceSource(BaseModel):
    force: str
    panel: str
    system: str  # "ModernGov", "CMIS", "listing page", "ModernGov + listing page", "none"
    hosts: list[str]
    committee: str  # the committee id (or 'title' it is found by) of each crawlable site
    status: Status
    reason: str = ""
    last_crawl: LastCrawl | None = None
    documents: int = 0
    chunks: int = 0
    sites: list[SiteRow] = Field(default_factory=list)

    @property
    def indexed(self) -> bool:
        return self.documents > 0


def last_crawls(settings: Settings) -> dict[str, LastCrawl]:
    """Each force's last crawl; one still marked running when no crawl holds the lock was interrupted."""
    if not (settings.data_dir / STATE_FILE).exists():
        return {}
    try:
        with CrawlState.open(settings, read_only=True) as state:
            crawls = state.last_crawls()
    except sqlite3.Error:
        return {}  # a state file being created or migrated right now: nothing to report yet
    if any(c.status == "running" for c in crawls.values()) and not crawl_running(settings):
        crawls = {f: c.model_copy(update={"status": "interrupted"}) if c.status == "running" else c
                  for f, c in crawls.items()}
    return crawls


def force_sources(panels: Sequence[Panel], crawls: Mapping[str, LastCrawl],
                  counts: Mapping[str, tuple[int, int]]) -> list[ForceSource]:
    """One row per force of forces.toml, in name order; a force the registry lacks is unsupported."""
    by_force = {p.force: p for p in panels}
    rows = []
    for force in sorted(all_forces(), key=lambda f: f.name):
        documents, chunks = counts.get(force.name, (0, 0))
        panel = by_force.get(force.name)
        if panel is None:
            rows.append(ForceSource(force=force.name, panel=force.panel, system="none", hosts=[], committee="",
                                    status="unsupported", reason="no entry in the registry",
                                    last_crawl=crawls.get(force.name), documents=documents, chunks=chunks))
            continue
        rows.append(ForceSource(
            force=panel.force, panel=panel.panel, system=" + ".join(panel.systems),
            hosts=list(dict.fromkeys(s.host for s in panel.sites)),
            committee=", ".join(dict.fromkeys(s.committee for s in panel.crawl_sites if s.committee)),
            status=panel.status, reason=panel.status_reason, last_crawl=crawls.get(panel.force),
            documents=documents, chunks=chunks,
            sites=[SiteRow(system=s.system, base_url=s.base_url, committee_id=s.committee_id,
                           committee_title=s.committee_title, start=s.start, end=s.end, verify=s.verify,
                           reason=s.reason) for s in panel.sites]))
    return rows


def sources_report(settings: Settings, stats: IndexStats | None) -> list[ForceSource]:
    """The rows for this data dir and registry (PRECEDENT_REGISTRY merged over the bundled one).

    ``stats`` are the index's (the API passes its own store's; the CLI reads them with index_stats).
    """
    return force_sources(registry_for(settings), last_crawls(settings), counts_by_force(stats))


def counts_by_force(stats: IndexStats | None) -> dict[str, tuple[int, int]]:
    """(documents, chunks) per force from the index's stats; nothing when there is no index yet."""
    if stats is None:
        return {}
    return {force: (row.documents or 0, row.chunks or 0) for force, row in stats.by_force.items()}


def index_stats(settings: Settings) -> IndexStats | None:
    """The index's stats, read from its registry (SQLite only); None when there is no index yet."""
    try:
        store = Store.open(settings)
    except PrecedentError:
        return None
    try:
        return store.stats()
    finally:
        store.close()
