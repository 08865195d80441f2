"""ModernGov sites: their web service, the public pages behind it, and walking a panel's meetings.

A site is walked in yearly windows (GetMeetings), then meeting by meeting (GetMeeting); where the web
service is switched off, through the public pages (ieListMeetings, ieListDocuments, mgAi). Each
published agenda item's minutes becomes a minutes document (its mgAi.aspx page is its URL); each linked
PDF/DOCX becomes a report. Restricted items and enclosures are never fetched.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urljoin, urlsplit, urlunsplit

from precedent.ingest.crawl.committees import Committee, find_committee
from precedent.ingest.crawl.http import FetchFailed, MalformedResponse
from precedent.ingest.crawl.registry import Panel, Site
from precedent.ingest.crawl.run import CommitteeFound, CrawlRun, Pending, document_filename, minutes_page
from precedent.ingest.crawl.state import content_hash
from precedent.ingest.dates import human_date, parse_date
from precedent.ingest.records import AgendaItem, DocumentMeta, SourceItem

if TYPE_CHECKING:  # bs4 is imported where a page is parsed: 0.07 s that most commands never need
    from bs4 import Tag

# Statuses by which councils say "the web service is switched off here": use the public pages instead.
SERVICE_OFF_STATUSES = frozenset({403, 404, 500})


@dataclass(frozen=True)
class MeetingRef:
    id: int
    date: dt.date | None


@dataclass(frozen=True)
class LinkedDoc:
    attachment_id: str
    title: str
    url: str  # absolute, canonical
    restricted: bool = False


@dataclass(frozen=True)
class Item:
    id: int
    number: str | None
    title: str
    restricted: bool = False
    minutes_html: str = ""  # unescaped HTML body of the item's minutes ("" until published)
    docs: tuple[LinkedDoc, ...] = ()
    withheld: int = 0  # restricted enclosures listed by name only, with nothing to fetch


@dataclass(frozen=True)
class Meeting:
    id: int
    date: dt.date | None
    items: tuple[Item, ...] = ()
    # Public pages list items without their minutes: those come from each item's mgAi.aspx page.
    minutes_on_item_pages: bool = False


# --- dates -------------------------------------------------------------------------------------------


def mg_date(day: dt.date) -> str:
    """dd/mm/yyyy: the only form the web service honours (ISO dates are silently ignored)."""
    return day.strftime("%d/%m/%Y")


def yearly_windows(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Calendar-year windows covering start..end, because long ranges are capped by the service."""
    windows = []
    cursor = start
    while cursor <= end:
        year_end = min(dt.date(cursor.year, 12, 31), end)
        windows.append((cursor, year_end))
        cursor = dt.date(cursor.year + 1, 1, 1)
    return windows


# --- URLs --------------------------------------------------------------------------------------------


def _query(params: dict[str, object]) -> str:
    # Slashes stay readable in dd/mm/yyyy; IIS accepts them unescaped, as every public scraper sends them.
    return "&".join(f"{k}={quote(str(v), safe='/')}" for k, v in params.items())


def web_service_url(site: Site, method: str, **params: object) -> str:
    url = f"{site.base_url}/mgWebService.asmx/{method}"
    return f"{url}?{_query(params)}" if params else url


def committees_url(site: Site) -> str:
    return web_service_url(site, "GetCommittees")


def committee_list_url(site: Site) -> str:
    """The public committee list: where a title is looked up when the web service is off."""
    return f"{site.base_url}/mgListCommittees.aspx"


def meetings_url(site: Site, committee_id: int, start: dt.date, end: dt.date) -> str:
    return web_service_url(site, "GetMeetings", lCommitteeId=committee_id,
                           sFromDate=mg_date(start), sToDate=mg_date(end))


def meeting_url(site: Site, meeting_id: int) -> str:
    return web_service_url(site, "GetMeeting", lMeetingId=meeting_id)


def list_meetings_url(site: Site, committee_id: int, year: int) -> str:
    return f"{site.base_url}/ieListMeetings.aspx?{_query({'CId': committee_id, 'Year': year})}"


def list_documents_url(site: Site, committee_id: int, meeting_id: int) -> str:
    return f"{site.base_url}/ieListDocuments.aspx?{_query({'CId': committee_id, 'MId': meeting_id})}"


def item_url(site: Site, item_id: int) -> str:
    """The public page of one agenda item: the URL minutes documents cite."""
    return f"{site.base_url}/mgAi.aspx?ID={item_id}"


def absolute_url(site: Site, link: str) -> str:
    """A link from the site made absolute and canonical (the site's own scheme and base)."""
    url = urljoin(site.base_url + "/", html.unescape(link.strip()))
    parts = urlsplit(url)
    base = urlsplit(site.base_url)
    if parts.hostname and parts.hostname.lower() == (base.hostname or "").lower():
        url = urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))
    return url


def attachment_id_from_url(url: str) -> str | None:
    """mgConvert2PDF.aspx?ID=N -> N; documents/s1234/Name.pdf -> 1234 (g/b prefixes kept)."""
    parts = urlsplit(url)
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    if "id" in query and query["id"][0].isdigit():
        return query["id"][0]
    match = re.search(r"/documents/([a-z]?)(\d+)/", parts.path, re.IGNORECASE)
    if match:
        prefix = match.group(1).lower()
        return match.group(2) if prefix == "s" else f"{prefix}{match.group(2)}"
    return None


def document_kind(url: str) -> str | None:
    """'pdf' or 'docx' when a link names one; other files (legacy .doc, images) are not ingested."""
    path = unquote(urlsplit(url).path).lower()
    if path.endswith(".pdf") or path.endswith("mgconvert2pdf.aspx"):
        return "pdf"
    if path.endswith(".docx"):
        return "docx"
    return None


# --- the web service XML -----------------------------------------------------------------------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _parse_xml(body: bytes, what: str) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise MalformedResponse(f"{what}: malformed XML ({exc})") from exc


def _all(root: ET.Element, name: str) -> Iterator[ET.Element]:
    return (el for el in root.iter() if _local(el.tag) == name)


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if _local(c.tag) == name), None)


def _text(el: ET.Element, name: str) -> str:
    child = _child(el, name)
    return (child.text or "").strip() if child is not None else ""


def _flag(el: ET.Element, name: str, default: bool = False) -> bool:
    value = _text(el, name)
    return value.lower() == "true" if value else default


def _int(el: ET.Element, name: str, what: str) -> int:
    value = _text(el, name)
    if not value.lstrip("-").isdigit():
        raise MalformedResponse(f"{what}: <{name}> is '{value}', not a number")
    return int(value)


def _minutes_html(text: str) -> str:
    """ElementTree has undone the one level of escaping; a few installs escape twice."""
    if "<" not in text and "&lt;" in text:
        text = html.unescape(text)
    return text.strip()


def parse_committees(body: bytes) -> list[Committee]:
    root = _parse_xml(body, "GetCommittees")
    return [
        Committee(_int(c, "committeeid", "GetCommittees"), _text(c, "committeetitle"),
                  _flag(c, "committeedeleted"), _flag(c, "committeeexpired"))
        for c in _all(root, "committee")
    ]


def parse_meetings(body: bytes) -> list[MeetingRef]:
    root = _parse_xml(body, "GetMeetings")
    return [MeetingRef(_int(m, "meetingid", "GetMeetings"), parse_date(_text(m, "meetingdate")))
            for m in _all(root, "meeting")]


def parse_meeting(body: bytes, site: Site) -> Meeting:
    root = _parse_xml(body, "GetMeeting")
    meeting = next(_all(root, "meeting"), None)
    if meeting is None:
        raise MalformedResponse("GetMeeting: no <meeting> element")
    items = []
    for el in _all(meeting, "agendaitem"):
        docs = []
        for doc in _all(el, "linkeddoc"):
            link = _text(doc, "url")
            if not link:
                continue
            url = absolute_url(site, link)
            docs.append(LinkedDoc(
                attachment_id=_text(doc, "attachmentid") or attachment_id_from_url(url) or "",
                title=_text(doc, "title"), url=url, restricted=_flag(doc, "isrestricted")))
        items.append(Item(
            id=_int(el, "agendaitemid", "GetMeeting"),
            number=_text(el, "agendaitemnumber").rstrip(".") or None,
            title=_text(el, "agendaitemtitle"),
            restricted=_flag(el, "isrestricted") or not _flag(el, "isdisplayallowed", default=True),
            minutes_html=_minutes_html(_text(el, "minutesnonemptyhtmlbody")),
            docs=tuple(docs)))
    return Meeting(_int(meeting, "meetingid", "GetMeeting") if _text(meeting, "meetingid") else 0,
                   parse_date(_text(meeting, "meetingdate")), tuple(items))


# --- the public pages (when the web service is off) --------------------------------------------------


@dataclass
class _Anchor:
    href: str
    text: str = ""


class _PageText(HTMLParser):
    """Anchors and visible text of an HTML fragment: enough to read ModernGov's list pages."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[_Anchor] = []
        self.texts: list[str] = []
        self._open: _Anchor | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = _Anchor(dict(attrs).get("href") or "")
            self.anchors.append(self._open)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None

    def handle_data(self, data: str) -> None:
        self.texts.append(data)
        if self._open is not None:
            self._open.text += data

    @classmethod
    def read(cls, fragment: str) -> _PageText:
        page = cls()
        page.feed(fragment)
        page.close()
        for anchor in page.anchors:
            anchor.text = " ".join(anchor.text.split())
        return page

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.texts).split())


def _decode(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def _param(href: str, name: str) -> str | None:
    query = {k.lower(): v for k, v in parse_qs(urlsplit(html.unescape(href)).query).items()}
    values = query.get(name.lower())
    return values[0] if values else None


def parse_list_meetings_page(body: bytes) -> list[MeetingRef]:
    """ieListMeetings.aspx?CId=N&Year=YYYY: each meeting is a link to ieListDocuments with its date."""
    refs: dict[int, MeetingRef] = {}
    for anchor in _PageText.read(_decode(body)).anchors:
        if "ielistdocuments.aspx" not in anchor.href.lower():
            continue
        mid = _param(anchor.href, "MId") or _param(anchor.href, "MeetingId")
        if mid and mid.isdigit() and int(mid) not in refs:
            refs[int(mid)] = MeetingRef(int(mid), parse_date(anchor.text))
    return list(refs.values())


_RESTRICTED = re.compile(r"\b(restricted|exempt)\b", re.IGNORECASE)
_ITEM_MARKER = re.compile(r"^(restricted|exempt)(\s+item)?$", re.IGNORECASE)


def _is_document_link(url: str) -> bool:
    return document_kind(url) is not None or "/documents/" in url.lower()


def _doc_name(text: str) -> str:
    text = " ".join(text.split())
    return re.sub(r"\s*(pdf icon\s*)?(PDF|DOCX?)\s+[\d.]+\s*[KM]B\s*$", "", text, flags=re.I)


def _item_marked_restricted(row: Tag) -> bool:
    """An item-level 'Restricted' marker: an element classed as restricted, or a bare 'Restricted' line,
    outside the item's enclosure lists (an enclosure's own 'Restricted enclosure' says nothing about
    the item, which may be public with its minutes and other papers)."""
    for el in row.find_all(True):
        if el.find_parent("li") is not None or el.name == "li":
            continue
        classes = " ".join(el.get("class") or []).lower()
        if "restricted" in classes or "exempt" in classes:
            return True
    for text in row.find_all(string=True):
        if text.find_parent(["li", "a"]) is None and _ITEM_MARKER.match(" ".join(text.split())):
            return True
    return False


def parse_list_documents_page(body: bytes, site: Site, meeting_id: int) -> Meeting:
    """ieListDocuments.aspx?CId=N&MId=M: the items (one table row each) and the documents under them.

    Restricted items and enclosures are shown by name only, marked 'Restricted'. Each enclosure (one
    list entry) is judged on its own, and the item only by a marker of its own: a public item keeps
    its minutes and public papers when one of its appendices is restricted.
    """
    from bs4 import BeautifulSoup

    page = _decode(body)
    soup = BeautifulSoup(page, "html.parser")
    date = parse_date(soup.title.get_text(" ") if soup.title else "")
    items: list[Item] = []
    for row in soup.find_all("tr"):
        if row.find("tr") is not None:
            continue  # a layout row around the item rows
        item_links = [a for a in row.find_all("a", href=True)
                      if "mgai.aspx" in a["href"].lower() and (_param(a["href"], "ID") or "").isdigit()]
        if not item_links:
            continue
        item_id = int(_param(item_links[0]["href"], "ID") or 0)
        number_cell = row.find(class_="mgItemNumberCell")
        number = " ".join(number_cell.get_text(" ").split()).rstrip(".") if number_cell else None
        docs: list[LinkedDoc] = []
        withheld = 0
        for entry in row.find_all("li"):
            entry_restricted = bool(_RESTRICTED.search(entry.get_text(" "))) or any(
                "restricted" in c.lower() for c in entry.get("class") or [])
            links = [a for a in entry.find_all("a", href=True) if _is_document_link(absolute_url(site, a["href"]))]
            for anchor in links:
                url = absolute_url(site, anchor["href"])
                docs.append(LinkedDoc(attachment_id_from_url(url) or "", _doc_name(anchor.get_text(" ")), url,
                                      restricted=entry_restricted))
            if entry_restricted and not links:
                withheld += 1
        for anchor in row.find_all("a", href=True):
            if anchor.find_parent("li") is not None or not _is_document_link(absolute_url(site, anchor["href"])):
                continue
            url = absolute_url(site, anchor["href"])
            text = anchor.get_text(" ")
            docs.append(LinkedDoc(attachment_id_from_url(url) or "", _doc_name(text), url,
                                  restricted=bool(_RESTRICTED.search(text))))
        items.append(Item(item_id, number or None, " ".join(item_links[0].get_text(" ").split()),
                          restricted=_item_marked_restricted(row), docs=tuple(docs), withheld=withheld))
    if not items and "<html" not in page.lower():
        raise MalformedResponse("ieListDocuments: not an HTML page")
    return Meeting(meeting_id, date, tuple(items), minutes_on_item_pages=True)


def parse_committee_list_page(body: bytes) -> list[Committee]:
    """mgListCommittees.aspx: the public list of committees, each a link to mgCommitteeDetails.aspx?ID=N."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(body), "html.parser")
    found: dict[int, Committee] = {}
    for anchor in soup.find_all("a", href=True):
        href = anchor["href"]
        if "mgcommitteedetails.aspx" not in href.lower() and "ielistmeetings.aspx" not in href.lower():
            continue
        value = _param(href, "ID") or _param(href, "CId") or _param(href, "CommitteeId") or ""
        title = " ".join(anchor.get_text(" ").split())
        if value.isdigit() and title and int(value) not in found:
            found[int(value)] = Committee(int(value), title)
    if not found and "<html" not in _decode(body).lower():
        raise MalformedResponse("mgListCommittees: not an HTML page")
    return list(found.values())


_MINUTES_HEADING = re.compile(r">\s*Minutes:\s*</(?:p|h\d|div|span)>", re.IGNORECASE)
_AFTER_MINUTES = re.compile(
    r'<[a-z0-9]+[^>]*class="mgSubItemTitleTxt"|<ul[^>]*class="mgActionList"|<div[^>]*class="mgFooter"'
    r"|<!--\s*end\s+of\s+content", re.IGNORECASE)


def parse_item_page_minutes(body: bytes) -> str:
    """The HTML under the 'Minutes:' heading of an mgAi.aspx page ('' if the item has no minutes)."""
    page = _decode(body)
    heading = _MINUTES_HEADING.search(page)
    if heading is None:
        return ""
    rest = page[heading.end():]
    stop = _AFTER_MINUTES.search(rest)
    return rest[: stop.start() if stop else len(rest)].strip()


# --- walking a panel's meetings ---------------------------------------------------------------------


class ModernGovWalker:
    """Walks ModernGov sites for one crawl, remembering which sites have their web service off."""

    def __init__(self, run: CrawlRun) -> None:
        self.run = run
        self.service_off: set[str] = set()  # sites whose web service refused: use the public pages

    def site(self, panel: Panel, site: Site, start: dt.date, end: dt.date) -> None:
        try:
            committee_id = site.committee_id or self.committee_id(panel, site)
        except (FetchFailed, MalformedResponse) as exc:
            self.run.fail(getattr(exc, "url", None) or committees_url(site), exc)
            return
        for window_start, window_end in yearly_windows(start, end):
            try:
                refs = self.meeting_refs(site, committee_id, window_start, window_end)
            except (FetchFailed, MalformedResponse) as exc:
                self.run.fail(getattr(exc, "url", None) or meetings_url(site, committee_id, window_start,
                                                                       window_end), exc)
                continue
            for ref in sorted(refs, key=lambda r: (r.date or dt.date.min, r.id)):
                self.meeting(panel, site, committee_id, ref)

    def committee_id(self, panel: Panel, site: Site) -> int:
        """A committee the registry names by title: GetCommittees, else the public committee list."""
        title = site.committee_title or ""
        via = "GetCommittees"
        try:
            body, fetched = self.run.listing(site, committees_url(site))
            committees = parse_committees(body)
        except FetchFailed as exc:
            if exc.status not in SERVICE_OFF_STATUSES:
                raise
            self.service_off.add(site.base_url)
            via = "the public committee list (mgListCommittees.aspx)"
            body, fetched = self.run.listing(site, committee_list_url(site))
            committees = parse_committee_list_page(body)
        found = find_committee(committees, title, site.base_url)
        self.run.remember(fetched)
        self.run.summary.committees_found.append(
            CommitteeFound(force=panel.force, host=site.host, title=found.title, committee_id=found.id, via=via))
        return found.id

    def meeting_refs(self, site: Site, committee_id: int, start: dt.date, end: dt.date) -> list[MeetingRef]:
        if site.base_url not in self.service_off:
            url = meetings_url(site, committee_id, start, end)
            try:
                body, fetched = self.run.listing(site, url)
            except FetchFailed as exc:
                if exc.status not in SERVICE_OFF_STATUSES:
                    raise
                self.service_off.add(site.base_url)
            else:
                refs = parse_meetings(body)
                self.run.remember(fetched)
                return [r for r in refs if r.date is None or start <= r.date <= end]
        body, fetched = self.run.listing(site, list_meetings_url(site, committee_id, start.year))
        refs = parse_list_meetings_page(body)
        self.run.remember(fetched)
        return [r for r in refs if r.date is None or start <= r.date <= end]

    def meeting(self, panel: Panel, site: Site, committee_id: int, ref: MeetingRef) -> None:
        url = meeting_url(site, ref.id)
        try:
            meeting = None
            if site.base_url not in self.service_off:
                try:
                    body, fetched = self.run.listing(site, url)
                    meeting = parse_meeting(body, site)
                    self.run.remember(fetched)
                except FetchFailed as exc:
                    if exc.status not in SERVICE_OFF_STATUSES:
                        raise
            if meeting is None:
                url = list_documents_url(site, committee_id, ref.id)
                body, fetched = self.run.listing(site, url)
                meeting = parse_list_documents_page(body, site, ref.id)
                self.run.remember(fetched)
        except (FetchFailed, MalformedResponse) as exc:
            self.run.fail(url, exc)
            return
        date = meeting.date or ref.date
        pending: list[Pending] = []
        for item in meeting.items:
            if item.restricted:
                self.run.restricted(1 + len(item.docs) + item.withheld)
                continue
            self.run.restricted(item.withheld)
            minutes = self.minutes(panel, site, meeting, item, date)
            if minutes is not None:
                pending.append(minutes)
            for doc in item.docs:
                if doc.restricted:
                    self.run.restricted()
                    continue
                report = self.document(panel, site, item, doc, date)
                if report is not None:
                    pending.append(report)
        self.run.ingest_batch(pending, url)
        self.run.meeting_done(panel.force, url, ref.id, date, str(date or ref.id))

    def minutes(self, panel: Panel, site: Site, meeting: Meeting, item: Item,
                date: dt.date | None) -> Pending | None:
        source = item_url(site, item.id)
        body = item.minutes_html
        if meeting.minutes_on_item_pages:
            try:
                page, fetched = self.run.listing(site, source)
                body = parse_item_page_minutes(page)
                self.run.remember(fetched)
            except (FetchFailed, MalformedResponse) as exc:
                self.run.fail(source, exc)
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
        return self.run.pending(SourceItem(source, f"item-{item.id}.html", data, meta))

    def document(self, panel: Panel, site: Site, item: Item, doc: LinkedDoc,
                 date: dt.date | None) -> Pending | None:
        if document_kind(doc.url) is None:
            return None  # legacy .doc, images: not ingested
        fetched = self.run.download(site, doc.url)
        if fetched is None:
            return None
        kind = "pdf" if fetched.body.startswith(b"%PDF-") else "docx"
        filename = document_filename(doc.url, doc.title, kind, f"document-{doc.attachment_id}")
        meta = DocumentMeta(
            document_id=f"mg-{site.host_slug}-doc-{doc.attachment_id or content_hash(fetched.body)[:16]}",
            title=doc.title or filename.rsplit(".", 1)[0],
            force=panel.force, panel=panel.panel, meeting_date=date, doc_type="report",
            agenda_item=AgendaItem(number=item.number, title=item.title), url=doc.url)
        return self.run.pending(SourceItem(doc.url, filename, fetched.body, meta), fetched)
