"""Panels that publish on their own website: a page of links to agenda and minutes PDFs.

The walk reads the listing page (conditionally, like every page) and, where the registry gives a
``follow`` pattern, the meeting pages it links to whose URL matches it. Every link to a PDF or DOCX on
those pages is a document. Its meeting date comes from the link text, else the list entry or table
row around the link, else the link that led to its meeting page, else the nearest heading above it,
else a date in the file name; failing all of those the pipeline reads it off the paper itself.
Links marked exempt, restricted or confidential are never fetched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

from precedent.ingest.crawl.http import FetchFailed, MalformedResponse
from precedent.ingest.crawl.registry import Panel, Site
from precedent.ingest.crawl.run import CrawlRun, Pending, document_filename
from precedent.ingest.dates import parse_date
from precedent.ingest.records import DocType, DocumentMeta, SourceItem

if TYPE_CHECKING:  # bs4 is imported where a page is parsed: 0.07 s that most commands never need
    from bs4 import Tag

_DOCUMENT = re.compile(r"\.(pdf|docx)$", re.IGNORECASE)
_RESTRICTED = re.compile(r"\b(restricted|exempt|confidential)\b", re.IGNORECASE)
_FURNITURE = re.compile(r"\s*[(\[]?\s*(pdf|docx?|word)(\s+(icon|document|file))?[,:]?\s*[\d.]+\s*[kmg]b\s*[)\]]?\s*$"
                        r"|\s*[(\[]\s*(pdf|docx?)\s*[)\]]\s*$|^\s*(download|pdf icon)\s*", re.IGNORECASE)
# Dates in file names: 2015-01-23, 2015_01_23, 23-01-2015, 23.01.15, 23 January 2015 (with any separators).
_ISO_IN_NAME = re.compile(r"(?<!\d)(20\d\d)[-_.](\d{1,2})[-_.](\d{1,2})(?!\d)")
_DMY_IN_NAME = re.compile(r"(?<!\d)(\d{1,2})[-_.](\d{1,2})[-_.](20\d\d|\d\d)(?!\d)")
_BATCH = 10  # documents per ingest call: a kill loses at most one batch's state, never its data


@dataclass(frozen=True)
class ListedDoc:
    url: str  # absolute
    title: str
    date: dt.date | None
    doc_type: DocType
    restricted: bool = False


def _text(el: Tag | None) -> str:
    return " ".join(el.get_text(" ").split()) if el is not None else ""


def _absolute(page_url: str, href: str) -> str:
    return urljoin(page_url, html.unescape(href.strip())).split("#", 1)[0]


def date_in_filename(url: str) -> dt.date | None:
    """A meeting date written into a file name, in the forms councils use."""
    name = unquote(PurePosixPath(urlsplit(url).path).name)
    for pattern, order in ((_ISO_IN_NAME, (0, 1, 2)), (_DMY_IN_NAME, (2, 1, 0))):
        for match in pattern.finditer(name):
            year, month, day = (int(match.group(i + 1)) for i in order)
            year += 2000 if year < 100 else 0
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    return parse_date(re.sub(r"[-_.]+", " ", name))


def _doc_type(text: str) -> DocType:
    lowered = text.lower()
    if "minute" in lowered:
        return "minutes"
    if "agenda" in lowered and "report" not in lowered:
        return "other"
    return "report"


def _title(link_text: str, url: str) -> str:
    text = _FURNITURE.sub("", link_text).strip(" -–|")
    return text or PurePosixPath(unquote(urlsplit(url).path)).stem.replace("_", " ").replace("-", " ")


def parse_listing_page(body: bytes, page_url: str, context: str = "") -> tuple[list[ListedDoc], list[tuple[str, str]]]:
    """The documents a page links to, and every other link on it (absolute URL, link text).

    ``context`` is the text of the link that led here (a meeting page's "23 January 2015"), tried for a
    date after the document's own link and row.
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body.decode("utf-8", errors="replace"), "html.parser")
    for furniture in soup.find_all(["script", "style", "nav", "header", "footer"]):
        furniture.decompose()
    docs: dict[str, ListedDoc] = {}
    links: list[tuple[str, str]] = []
    page_title = _text(soup.title)
    for link in soup.find_all("a", href=True):
        url = _absolute(page_url, link["href"])
        if not url.startswith(("http://", "https://")):
            continue
        text = _text(link)
        if not _DOCUMENT.search(urlsplit(url).path):
            links.append((url, text))
            continue
        if url in docs:
            continue
        around = link.find_parent(["li", "tr", "p"])
        heading = link.find_previous(["h1", "h2", "h3", "h4", "h5", "h6", "caption"])
        date = (parse_date(text) or parse_date(_text(around)) or parse_date(context)
                or parse_date(_text(heading)) or date_in_filename(url) or parse_date(page_title))
        docs[url] = ListedDoc(url, _title(text, url), date, _doc_type(f"{text} {PurePosixPath(url).name}"),
                              restricted=bool(_RESTRICTED.search(f"{text} {_text(around)}")))
    if not docs and not links and "<html" not in body[:4000].decode("utf-8", errors="replace").lower():
        raise MalformedResponse(f"{page_url}: not an HTML page")
    return list(docs.values()), links


class ListingWalker:
    """Walks listing pages for one crawl: the page, then the meeting pages it links to (one level)."""

    def __init__(self, run: CrawlRun) -> None:
        self.run = run

    def site(self, panel: Panel, site: Site, start: dt.date, end: dt.date) -> None:
        pages = self.page(panel, site, site.base_url, "", start, end)
        if site.follow is None or pages is None:
            return
        pattern = re.compile(site.follow)
        host = site.host.lower()
        seen = {site.base_url}
        for url, text in pages:
            if url in seen or (urlsplit(url).hostname or "").lower() != host or not pattern.search(url):
                continue
            seen.add(url)
            self.page(panel, site, url, text, start, end)

    def page(self, panel: Panel, site: Site, url: str, context: str, start: dt.date,
             end: dt.date) -> list[tuple[str, str]] | None:
        """One page's documents ingested; its other links returned (None if the page failed)."""
        try:
            body, fetched = self.run.listing(site, url)
            docs, links = parse_listing_page(body, url, context)
            self.run.remember(fetched)
        except (FetchFailed, MalformedResponse) as exc:
            self.run.fail(url, exc)
            return None
        pending: list[Pending] = []
        for doc in sorted(docs, key=lambda d: (d.date or dt.date.min, d.url)):
            if doc.date is not None and not start <= doc.date <= end:
                continue
            if doc.restricted:
                self.run.restricted()
                continue
            found = self.document(panel, site, doc)
            if found is not None:
                pending.append(found)
            if len(pending) >= _BATCH:
                self.run.ingest_batch(pending, url)
                pending = []
        self.run.ingest_batch(pending, url)
        self.run.meeting_done(panel.force, url, 0, None, urlsplit(url).path or url)
        return links

    def document(self, panel: Panel, site: Site, doc: ListedDoc) -> Pending | None:
        fetched = self.run.download(site, doc.url)
        if fetched is None:
            return None
        kind = "pdf" if fetched.body.startswith(b"%PDF-") else "docx"
        key = hashlib.sha1(doc.url.encode()).hexdigest()[:16]
        meta = DocumentMeta(document_id=f"page-{site.host_slug}-{key}", title=doc.title, force=panel.force,
                            panel=panel.panel, meeting_date=doc.date, doc_type=doc.doc_type, url=doc.url)
        filename = document_filename(doc.url, doc.title, kind, f"document-{key}")
        return self.run.pending(SourceItem(doc.url, filename, fetched.body, meta), fetched)
