"""Keeping each panel's published papers in the index: registry, sources, crawl state and the crawl.

Sources: ModernGov (web service or public pages), CMIS, and listing pages on a panel's own website.
The CLI calls ``crawl(select_panels(registry_for(settings), forces), settings, since=..., until=...)``.
"""

from precedent.ingest.crawl.crawl import crawl, crawl_forces
from precedent.ingest.crawl.lock import CrawlAlreadyRunning, CrawlLock
from precedent.ingest.crawl.registry import (
           BadRegistry,
           Panel,
           Site,
           load_registry,
           registry_for,
           select_panels,
)
from precedent.ingest.crawl.run import CrawlFailure, CrawlSummary

__all__ = ["BadRegistry", "CrawlAlreadyRunning", "CrawlFailure", "CrawlLock", "CrawlSummary", "Panel", "Site",
           "crawl", "crawl_forces", "load_registry", "registry_for", "select_panels"]
