"""Talking to a ModernGov site: polite HTTP, its web service, and the public pages behind it.

Everything here is stateless about the crawl: it builds URLs, fetches them (conditionally, if told the
validators), and parses what comes back into typed meetings, agenda items and linked documents.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, unquote, urljoin, urlsplit, urlunsplit

import httpx

from precedent.ingest.dates import parse_date
from precedent.ingest.errors import PrecedentError
from precedent.ingest.moderngov.registry import Site
from precedent.ingest.settings import Settings

# Statuses worth another try: the server or something in front of it is struggling, not refusing.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Statuses by which councils say "the web service is switched off here": use the public pages instead.
SERVICE_OFF_STATUSES = frozenset({403, 404, 500})


class FetchFailed(PrecedentError):
    """A URL could not be fetched (after retries): its status, or the network error."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.reason = message
        self.status = status


class MalformedResponse(PrecedentError):
    """A site answered with XML or HTML this crawler cannot read."""


class RequestBudgetExhausted(PrecedentError):
    """The crawl reached its request limit (PRECEDENT_CRAWL_MAX_REQUESTS)."""


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class Fetched:
    url: str  # canonical URL (the identity), not the URL the request went to
    status: int
    body: bytes
    validators: Validators
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Committee:
    id: int
    title: str
    deleted: bool = False
    expired: bool = False


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


_RESTRICTED = re.compile(r"\b(restricted|exempt enclosure)\b", re.IGNORECASE)
_ROW = re.compile(r"<tr\b", re.IGNORECASE)


def parse_list_documents_page(body: bytes, site: Site, meeting_id: int) -> Meeting:
    """ieListDocuments.aspx?CId=N&MId=M: the items (one table row each) and the documents under them.

    Restricted items and enclosures are shown by name only, marked 'Restricted'; they are flagged here
    so the crawl can skip them.
    """
    page = _decode(body)
    title = re.search(r"<title>(.*?)</title>", page, re.IGNORECASE | re.DOTALL)
    date = parse_date(html.unescape(title.group(1))) if title else None
    items: list[Item] = []
    for row in _ROW.split(page)[1:]:
        text = _PageText.read(row)
        item_links = [a for a in text.anchors if "mgai.aspx" in a.href.lower() and _param(a.href, "ID")]
        if not item_links:
            continue
        item_id = int(_param(item_links[0].href, "ID") or 0)
        number_cell = re.search(r'class="mgItemNumberCell"[^>]*>(.*?)</td>', row, re.IGNORECASE | re.DOTALL)
        number = _PageText.read(number_cell.group(1)).text.rstrip(".") if number_cell else None
        docs = []
        for anchor in text.anchors:
            url = absolute_url(site, anchor.href)
            if document_kind(url) is None and "/documents/" not in url.lower():
                continue
            name = re.sub(r"\s*(pdf icon\s*)?(PDF|DOCX?)\s+[\d.]+\s*[KM]B\s*$", "", anchor.text, flags=re.I)
            docs.append(LinkedDoc(attachment_id_from_url(url) or "", name, url,
                                  restricted=bool(_RESTRICTED.search(anchor.text))))
        non_link_text = text.text
        for anchor in text.anchors:
            non_link_text = non_link_text.replace(anchor.text, " ")
        items.append(Item(item_id, number or None, item_links[0].text,
                          restricted=bool(_RESTRICTED.search(non_link_text)), docs=tuple(docs)))
    if not items and "<html" not in page.lower():
        raise MalformedResponse("ieListDocuments: not an HTML page")
    return Meeting(meeting_id, date, tuple(items), minutes_on_item_pages=True)


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


# --- HTTP --------------------------------------------------------------------------------------------


class ModernGovClient:
    """Polite HTTP for ModernGov sites: delay, User-Agent, retries with backoff, a request budget.

    Counts every request it sends (retries included), so a crawl can report and bound its cost.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.backoff_s = backoff_s
        self.requests = 0
        self.not_modified = 0
        self.bytes_downloaded = 0
        self._sleep = sleep
        self._last_request = 0.0
        self._http = httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept": "*/*"},
            timeout=settings.crawl_timeout_s,
            follow_redirects=True,
            transport=transport,
        )

    def __enter__(self) -> ModernGovClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch(self, site: Site, url: str, validators: Validators | None = None) -> Fetched:
        """GET a canonical URL of the site (conditionally if validators are given); 200 or 304 only."""
        target = site.fetch_url(url)
        headers = validators.headers() if validators else {}
        attempts = self.settings.crawl_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self._wait_turn()
            try:
                response = self._http.get(target, headers=headers)
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                if last:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "network error"
                    reason = f"{kind} after {attempts} attempts ({type(exc).__name__})"
                    raise FetchFailed(url, reason) from exc
                self._sleep(self.backoff_s * 2**attempt)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._sleep(self._retry_after(response) or self.backoff_s * 2**attempt)
                continue
            if response.status_code == 304:
                self.not_modified += 1
                return Fetched(url, 304, b"", validators or Validators())
            if response.status_code != 200:
                raise FetchFailed(url, f"HTTP {response.status_code}", response.status_code)
            self.bytes_downloaded += len(response.content)
            return Fetched(
                url, 200, response.content,
                Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")),
                response.headers.get("Content-Type", ""))
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_turn(self) -> None:
        if self.requests >= self.settings.crawl_max_requests:
            raise RequestBudgetExhausted(
                f"stopped after {self.requests} requests (PRECEDENT_CRAWL_MAX_REQUESTS); "
                "run the crawl again to continue where it stopped, or raise the limit")
        gap = self.settings.crawl_delay_s - (time.monotonic() - self._last_request)
        if gap > 0 and self.requests:
            self._sleep(gap)
        self.requests += 1
        self._last_request = time.monotonic()

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "")
        return min(float(value), 60.0) if value.isdigit() else None
