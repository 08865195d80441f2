"""CMIS sites (Civica's committee system on DotNetNuke: Essex, Birmingham for West Midlands, Norfolk).

CMIS has no public web service. Its meetings module serves plain pages that need no session:
- a month of the calendar, for any month:
  ``{base}/{page}/tabid/{tab}/ctl/MeetingCalendarPublicNoJava/mid/{module}/Date/{yyyy-mm-dd}/Default.aspx``,
  a table of day headings ("Monday, 8 June", no year) each beside links to that day's meetings,
  "10:00 Committee name" -> ``.../ctl/ViewMeetingPublic/mid/{module}/Meeting/{M}/Committee/{C}/...``;
- a meeting: its summary (Committee, Date/Time, Status as label/value pairs), the meeting's documents
  (agenda pack, printed minutes) and the agenda in sections ("Standard Items", "Exempt Items"), each
  item with its number, title, description, documents and, once published, its minutes;
- documents at ``{base}/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=<opaque id>&...``.

The walk reads each month of a site's range, keeps the panel's meetings (by committee id, or by title
where the id was never seen), and turns each public item's minutes into a minutes document and each
public file into a report. Items under an exempt heading and enclosures marked restricted or exempt
are never fetched.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urljoin, urlsplit

from precedent.ingest.crawl.committees import Committee, find_committee
from precedent.ingest.crawl.http import FetchFailed, MalformedResponse
from precedent.ingest.crawl.registry import Panel, Site
from precedent.ingest.crawl.run import CommitteeFound, CrawlRun, Pending, document_filename, minutes_page
from precedent.ingest.dates import human_date, parse_date
from precedent.ingest.records import AgendaItem, DocType, DocumentMeta, SourceItem

if TYPE_CHECKING:  # bs4 is imported where a page is parsed: 0.07 s that most commands never need
    from bs4 import Tag

_MEETING_LINK = re.compile(r"/Meeting/(\d+)/Committee/(\d+)/", re.IGNORECASE)
_DAY_HEADING = re.compile(r"^\w+day,\s+(\d{1,2})\s+([A-Za-z]+)(?:,?\s+(\d{4}))?$")
_ENTRY = re.compile(r"^(?:\d{1,2}[:.]\d{2}\s+)?(.+)$")
_EXEMPT_SECTION = re.compile(r"\b(exempt|confidential|private|restricted|part\s*(2|ii))\b", re.IGNORECASE)
_RESTRICTED = re.compile(r"\b(restricted|exempt|confidential)\b", re.IGNORECASE)
_FILE_FURNITURE = re.compile(r"^\s*(pdf|docx?|doc)\s+|\s*\(\s*[\d.]+\s*[KM]b\s*\)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class CalendarEntry:
    meeting_id: int
    committee_id: int
    committee: str
    date: dt.date


@dataclass(frozen=True)
class CmisDoc:
    title: str
    url: str  # absolute, canonical
    restricted: bool = False


@dataclass(frozen=True)
class CmisItem:
    number: str | None
    title: str
    restricted: bool = False
    minutes_html: str = ""
    docs: tuple[CmisDoc, ...] = ()


@dataclass(frozen=True)
class CmisMeeting:
    date: dt.date | None
    committee: str
    items: tuple[CmisItem, ...] = ()
    documents: tuple[CmisDoc, ...] = ()  # the meeting's own: agenda pack, printed minutes


# --- URLs --------------------------------------------------------------------------------------------


def _module(site: Site) -> str:
    return f"{site.base_url}/{site.page}/tabid/{site.tab_id}"


def calendar_url(site: Site, month: dt.date) -> str:
    return (f"{_module(site)}/ctl/MeetingCalendarPublicNoJava/mid/{site.module_id}"
            f"/Date/{month.replace(day=1):%Y-%m-%d}/Default.aspx")


def meeting_url(site: Site, meeting_id: int, committee_id: int) -> str:
    return (f"{_module(site)}/ctl/ViewMeetingPublic/mid/{site.module_id}"
            f"/Meeting/{meeting_id}/Committee/{committee_id}/Default.aspx")


def months(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first of each calendar month spanned by start..end: one calendar page each."""
    out, month = [], start.replace(day=1)
    while month <= end:
        out.append(month)
        month = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def document_token(url: str) -> str:
    """A Document.ashx link's first parameter value: the site's (encrypted) document id."""
    query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    return query[0][1] if query else url


def _absolute(site: Site, href: str) -> str:
    url = urljoin(site.base_url + "/", html.unescape(href.strip()))
    parts, base = urlsplit(url), urlsplit(site.base_url)
    if parts.hostname and parts.hostname.lower() == (base.hostname or "").lower():
        url = f"{base.scheme}://{base.netloc}{parts.path}" + (f"?{parts.query}" if parts.query else "")
    return url


# --- parsing -----------------------------------------------------------------------------------------


def _text(el: Tag | None) -> str:
    return " ".join(el.get_text(" ").split()) if el is not None else ""


def _classed(el: Tag, fragment: str) -> Tag | None:
    """The first descendant whose class contains ``fragment`` (CMIS skins vary the prefixes)."""
    return el.find(class_=lambda c: bool(c) and fragment.lower() in c.lower())


def parse_calendar_page(body: bytes, month: dt.date) -> list[CalendarEntry]:
    """One month of MeetingCalendarPublicNoJava: every meeting with its committee and day."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body.decode("utf-8", errors="replace"), "html.parser")
    entries: list[CalendarEntry] = []
    for cell in soup.find_all("td"):
        heading = _DAY_HEADING.match(_text(cell))
        if heading is None:
            continue
        day = parse_date(f"{heading.group(1)} {heading.group(2)} {heading.group(3) or month.year}")
        meetings = cell.find_next_sibling("td")
        if day is None or meetings is None:
            continue
        for link in meetings.find_all("a", href=True):
            ids = _MEETING_LINK.search(link["href"])
            name = _ENTRY.match(_text(link))
            if ids and name:
                entries.append(CalendarEntry(int(ids.group(1)), int(ids.group(2)), name.group(1).strip(), day))
    if not entries and "<html" not in body[:2000].decode("utf-8", errors="replace").lower():
        raise MalformedResponse("CMIS calendar: not an HTML page")
    return entries


def _docs(site: Site, container: Tag) -> list[CmisDoc]:
    docs = []
    for link in container.find_all("a", href=True):
        if "document.ashx" not in link["href"].lower():
            continue
        entry = link.find_parent("li") or link.parent or link
        title = _FILE_FURNITURE.sub("", _text(link)).strip()
        docs.append(CmisDoc(title, _absolute(site, link["href"]), restricted=bool(_RESTRICTED.search(_text(entry)))))
    return docs


def _item_title(item: Tag) -> str:
    title = _classed(item, "ItemTitle")
    text = _text(title)
    if not text:
        description = _classed(item, "ItemDescription")
        text = _text(description).split(".")[0]
    return _FILE_FURNITURE.sub("", text).strip()


def parse_meeting_page(body: bytes, site: Site) -> CmisMeeting:
    """A ViewMeetingPublic page: the summary, the meeting's documents and its agenda items."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body.decode("utf-8", errors="replace"), "html.parser")
    summary: dict[str, str] = {}
    for holder in soup.select("div.holder"):
        label, value = _classed(holder, "DNNLabel"), holder.find(class_=lambda c: bool(c) and "Value" in c.split())
        if label is not None and value is not None:
            summary.setdefault(_text(label).rstrip(":").strip(), _text(value))
    items: list[CmisItem] = []
    for item in soup.find_all(class_=lambda c: bool(c) and "AgendaItem" in c.split()):
        section = item.find_parent(class_=lambda c: bool(c) and "AgendaSection" in c.split())
        heading = _text(_classed(section, "SectionTitle")) if section is not None else ""
        minutes = _classed(item, "MinuteText")
        number = _text(_classed(item, "ItemNumber")).rstrip(".") or None
        items.append(CmisItem(
            number=number, title=_item_title(item),
            restricted=bool(_EXEMPT_SECTION.search(heading)) or _classed(item, "Restricted") is not None,
            minutes_html=minutes.decode_contents().strip() if minutes is not None else "",
            docs=tuple(_docs(site, item))))
    documents: list[CmisDoc] = []
    for panel in soup.find_all(id=lambda i: bool(i) and "cmisdocuments" in i.lower()):
        documents.extend(_docs(site, panel))
    if not summary and not items and not documents:
        raise MalformedResponse("CMIS meeting page: no meeting summary, agenda or documents found")
    return CmisMeeting(parse_date(summary.get("Date/Time", "")), summary.get("Committee", ""),
                       tuple(items), tuple(dict.fromkeys(documents)))


# --- walking a panel's meetings ---------------------------------------------------------------------


class CmisWalker:
    """Walks CMIS sites for one crawl: month by month, then meeting by meeting."""

    def __init__(self, run: CrawlRun) -> None:
        self.run = run
        self.found: dict[str, int] = {}  # base_url -> committee id found by title

    def site(self, panel: Panel, site: Site, start: dt.date, end: dt.date) -> None:
        done: set[int] = set()
        for month in months(start, end):
            url = calendar_url(site, month)
            try:
                body, fetched = self.run.listing(site, url)
                entries = parse_calendar_page(body, month)
                self.run.remember(fetched)
            except (FetchFailed, MalformedResponse) as exc:
                self.run.fail(url, exc)
                continue
            for entry in sorted(entries, key=lambda e: (e.date, e.meeting_id)):
                if entry.meeting_id in done or not start <= entry.date <= end or not self.wanted(panel, site, entry):
                    continue
                done.add(entry.meeting_id)
                self.meeting(panel, site, entry)

    def wanted(self, panel: Panel, site: Site, entry: CalendarEntry) -> bool:
        """The panel's meetings: its committee id, or (found once, then by id) its title."""
        if site.committee_id is not None:
            return entry.committee_id == site.committee_id
        if site.base_url in self.found:
            return entry.committee_id == self.found[site.base_url]
        try:
            find_committee([Committee(entry.committee_id, entry.committee)], site.committee_title or "", site.base_url)
        except MalformedResponse:
            return False
        self.found[site.base_url] = entry.committee_id
        self.run.summary.committees_found.append(CommitteeFound(
            force=panel.force, host=site.host, title=entry.committee, committee_id=entry.committee_id,
            via="the CMIS meetings calendar"))
        return True

    def meeting(self, panel: Panel, site: Site, entry: CalendarEntry) -> None:
        url = meeting_url(site, entry.meeting_id, entry.committee_id)
        try:
            body, fetched = self.run.listing(site, url)
            meeting = parse_meeting_page(body, site)
            self.run.remember(fetched)
        except (FetchFailed, MalformedResponse) as exc:
            self.run.fail(url, exc)
            return
        date = entry.date or meeting.date
        pending: list[Pending | None] = []
        for item in meeting.items:
            if item.restricted:
                self.run.restricted(1 + len(item.docs))
                continue
            if item.minutes_html.strip():
                pending.append(self.minutes(panel, site, entry, url, item, date))
            for doc in item.docs:
                self.document(panel, site, doc, date, AgendaItem(number=item.number, title=item.title), pending)
        has_minutes = any(i.minutes_html.strip() for i in meeting.items if not i.restricted)
        has_item_docs = any(i.docs for i in meeting.items if not i.restricted)
        for doc in meeting.documents:
            is_minutes = "minute" in doc.title.lower()
            # The agenda pack repeats the items' own papers, the printed minutes the items' minutes.
            if (is_minutes and has_minutes) or (not is_minutes and has_item_docs):
                continue
            self.document(panel, site, doc, date, None, pending, "minutes" if is_minutes else "report")
        self.run.ingest_batch([p for p in pending if p is not None], url)
        self.run.meeting_done(panel.force, url, entry.meeting_id, date, str(date))

    def minutes(self, panel: Panel, site: Site, entry: CalendarEntry, url: str, item: CmisItem,
                date: dt.date | None) -> Pending | None:
        slug = re.sub(r"[^\w]+", "-", item.number or hashlib.sha1(item.title.encode()).hexdigest()[:8]).strip("-")
        source = f"{url}#item-{slug}"
        when = human_date(date) if date else "undated meeting"
        meta = DocumentMeta(
            document_id=f"cmis-{site.host_slug}-meeting-{entry.meeting_id}-item-{slug}",
            title=f"Minutes, {when}: {item.title}", force=panel.force, panel=panel.panel,
            meeting_date=date, doc_type="minutes", agenda_item=AgendaItem(number=item.number, title=item.title),
            url=url)
        data = minutes_page(item.title, item.minutes_html)
        return self.run.pending(SourceItem(source, f"meeting-{entry.meeting_id}-item-{slug}.html", data, meta))

    def document(self, panel: Panel, site: Site, doc: CmisDoc, date: dt.date | None,
                 agenda_item: AgendaItem | None, pending: list[Pending | None],
                 doc_type: DocType = "report") -> None:
        if doc.restricted:
            self.run.restricted()
            return
        fetched = self.run.download(site, doc.url)
        if fetched is None:
            return
        token = hashlib.sha1(document_token(doc.url).encode()).hexdigest()[:16]
        kind = "pdf" if fetched.body.startswith(b"%PDF-") else "docx"
        meta = DocumentMeta(
            document_id=f"cmis-{site.host_slug}-doc-{token}", title=doc.title or None, force=panel.force,
            panel=panel.panel, meeting_date=date, doc_type=doc_type, agenda_item=agenda_item, url=doc.url)
        filename = document_filename(doc.url, doc.title, kind, f"document-{token}")
        pending.append(self.run.pending(SourceItem(doc.url, filename, fetched.body, meta), fetched))
