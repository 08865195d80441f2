"""Keeping each panel's ModernGov archive in the index: registry, client, crawl state and the crawl.

The CLI calls ``crawl(select_panels(load_registry(), forces), settings, since=..., until=...)``.
"""

from precedent.ingest.moderngov.crawl import CrawlFailure, CrawlSummary, crawl, crawl_forces
from precedent.ingest.moderngov.registry import BadRegistry, Panel, Site, load_registry, select_panels

__all__ = ["BadRegistry", "CrawlFailure", "CrawlSummary", "Panel", "Site", "crawl", "crawl_forces",
           "load_registry", "select_panels"]
