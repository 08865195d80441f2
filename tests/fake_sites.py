"""Local stand-ins for council websites: one HTTP server answering like ModernGov, CMIS or a plain site.

Pages and XML come from recorded-format fixtures (tests/fixtures/*); PDFs and DOCX files are made at
test time (tests/helpers.py). The server honours ETag / If-None-Match like the installs that send validators, can fail a
route a set number of times, stall it, or hold it until the test lets it go (to stop a crawl at a
known point), and records every request it answered.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from precedent.ingest.pipeline import IngestReport, ItemOutcome
from precedent.ingest.records import SourceItem
from precedent.ingest.settings import Settings
from tests.helpers import docx_bytes, pdf_bytes

FIXTURES = Path(__file__).parent / "fixtures"
DD_MM_YYYY = re.compile(r"^\d{2}/\d{2}/\d{4}$")


@dataclass
class Resource:
    body: bytes
    content_type: str
    validators: bool = True  # many installs send no ETag / Last-Modified at all
    version: int = 1

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'

    @property
    def last_modified(self) -> str:
        return formatdate(1_675_000_000 + self.version * 86_400, usegmt=True)


@dataclass(frozen=True)
class Hit:
    path: str
    status: int
    conditional: bool
    user_agent: str


def route_key(path_and_query: str) -> str:
    """IIS ignores case in paths and parameter names; `Ver=` only picks a page layout."""
    parts = urlsplit(path_and_query)
    query = sorted((k.lower(), v.lower()) for k, v in parse_qsl(parts.query) if k.lower() != "ver")
    return unquote(parts.path).lower() + ("?" + "&".join(f"{k}={v}" for k, v in query) if query else "")


@dataclass
class Hold:
    """A route that waits for the test: `arrived` is set when the request comes, it answers on `release`."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


@dataclass
class FakeSite:
    resources: dict[str, Resource] = field(default_factory=dict)
    scripted: dict[str, list[int]] = field(default_factory=dict)  # route -> statuses to answer first
    slow: dict[str, float] = field(default_factory=dict)  # route -> seconds to stall before answering
    holds: dict[str, Hold] = field(default_factory=dict)
    # Absolute links to rewrite in pages and XML: a recorded site replayed under the local host.
    rewrite: dict[str, str] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    base: str = ""

    def put(self, path: str, body: bytes | str, content_type: str, *, validators: bool = True) -> None:
        data = body.encode() if isinstance(body, str) else body
        key = route_key(path)
        old = self.resources.get(key)
        self.resources[key] = Resource(data, content_type, validators, old.version + 1 if old else 1)

    def put_page(self, path: str, fixture: str, *, validators: bool = False) -> None:
        self.put(path, (FIXTURES / fixture).read_bytes(), "text/html; charset=utf-8", validators=validators)

    def put_pdf(self, path: str, *paragraphs: str, validators: bool = True) -> None:
        self.put(path, pdf_bytes(*paragraphs), "application/pdf", validators=validators)

    def fail_next(self, path: str, *statuses: int) -> None:
        self.scripted[route_key(path)] = list(statuses)

    def hold(self, path: str) -> Hold:
        held = Hold()
        self.holds[route_key(path)] = held
        return held

    def reset_hits(self) -> None:
        self.hits.clear()

    def requests_to(self, fragment: str) -> list[Hit]:
        return [h for h in self.hits if fragment.lower() in unquote(h.path).lower()]

    def resource_for(self, key: str, raw_path: str) -> Resource | tuple[int, bytes] | None:
        """The resource a route serves (subclasses answer computed routes here)."""
        return self.resources.get(key)

    def answer(self, raw_path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        key = route_key(raw_path)
        if self.scripted.get(key):
            return self.scripted[key].pop(0), {}, b"<html><body>Server Error</body></html>"
        found = self.resource_for(key, raw_path)
        if found is None:
            return 404, {"Content-Type": "text/html"}, b"<html><body>404 - File not found.</body></html>"
        if isinstance(found, tuple):
            return found[0], {"Content-Type": "text/html"}, found[1]
        out = {"Content-Type": found.content_type}
        if found.validators:
            out |= {"ETag": found.etag, "Last-Modified": found.last_modified}
            if headers.get("if-none-match") == found.etag or (
                "if-none-match" not in headers and headers.get("if-modified-since") == found.last_modified
            ):
                return 304, out, b""
        body = found.body
        if self.rewrite and found.content_type.startswith(("text/", "application/xml")):
            for canonical, local in self.rewrite.items():
                body = body.replace(canonical.encode(), local.encode())
        return 200, out, body


@dataclass
class FakeModernGov(FakeSite):
    meetings_xml: dict[str, str] = field(default_factory=dict)  # prefix -> full GetMeetings answer
    service_off: set[str] = field(default_factory=set)  # prefixes whose web service answers 403

    def put_xml(self, path: str, fixture: str) -> None:
        self.put(path, (FIXTURES / "moderngov" / fixture).read_bytes(), "text/xml; charset=utf-8")

    def put_page(self, path: str, fixture: str, *, validators: bool = False) -> None:
        super().put_page(path, f"moderngov/{fixture}", validators=validators)

    def resource_for(self, key: str, raw_path: str) -> Resource | tuple[int, bytes] | None:
        prefix = "/" + key.split("/")[1]
        if "/mgwebservice.asmx/" in key and prefix in self.service_off:
            return 403, b"<html><body>403 - Forbidden: Access is denied.</body></html>"
        if key.startswith(prefix + "/mgwebservice.asmx/getmeetings") and prefix in self.meetings_xml:
            status, body = self._get_meetings(prefix, dict(parse_qsl(urlsplit(raw_path).query)))
            return Resource(body, "text/xml; charset=utf-8") if status == 200 else (status, body)
        return super().resource_for(key, raw_path)

    def _get_meetings(self, prefix: str, params: dict[str, str]) -> tuple[int, bytes]:
        """GetMeetings as the real service: no dates is an error, ISO dates are silently ignored."""
        params = {k.lower(): v for k, v in params.items()}
        text = self.meetings_xml[prefix]
        start, end = params.get("sfromdate"), params.get("stodate")
        if not start or not end:
            return 500, b"System.ArgumentException: sFromDate"
        if not (DD_MM_YYYY.match(start) and DD_MM_YYYY.match(end)):
            return 200, text.encode()  # the quirk: every meeting comes back

        def day(value: str) -> dt.date:
            return dt.datetime.strptime(value, "%d/%m/%Y").date()

        def keep(match: re.Match[str]) -> str:
            when = re.search(r"<meetingdate>(.*?)</meetingdate>", match.group(0))
            inside = when is not None and day(start) <= day(when.group(1)) <= day(end)
            return match.group(0) if inside else ""

        return 200, re.sub(r"\s*<meeting>.*?</meeting>", keep, text, flags=re.DOTALL).encode()


@contextmanager
def serving(site: FakeSite) -> Iterator[FakeSite]:
    """Serve the site on a free local port (``site.base``) until the block ends."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            headers = {k.lower(): v for k, v in self.headers.items()}
            key = route_key(self.path)
            held = site.holds.get(key)
            if held is not None:
                held.arrived.set()
                held.release.wait(timeout=120)
            stall = site.slow.get(key)
            if stall:
                time.sleep(stall)
            status, out, body = site.answer(self.path, headers)
            conditional = "if-none-match" in headers or "if-modified-since" in headers
            site.hits.append(Hit(self.path, status, conditional, headers.get("user-agent", "")))
            try:
                self.send_response(status)
                for name, value in out.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client timed out or was killed and left, as some tests intend

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        for held in site.holds.values():
            held.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class RecordingIngest:
    """Stands in for ingest_items where a test is about the crawl, not the index: records each batch."""

    def __init__(self) -> None:
        self.batches: list[list[SourceItem]] = []
        self._hashes: dict[str, str] = {}

    def __call__(self, items: Iterable[SourceItem], settings: Settings, *,
                 progress: bool = False) -> IngestReport:
        batch = list(items)
        self.batches.append(batch)
        report = IngestReport()
        for item in batch:
            digest = hashlib.sha256(item.data).hexdigest()
            previous = self._hashes.get(item.source)
            status = "unchanged" if previous == digest else ("updated" if previous else "added")
            self._hashes[item.source] = digest
            report.record(ItemOutcome(item.source, item.meta.document_id, status))
        return report

    @property
    def items(self) -> list[SourceItem]:
        return [item for batch in self.batches for item in batch]

    def by_id(self) -> dict[str | None, SourceItem]:
        return {item.meta.document_id: item for item in self.items}


# --- the ModernGov site of tests/test_moderngov.py (also used by registry and scheduling tests) ------

PERFORMANCE_REPORT = (
    "Police and Crime Commissioner's Performance Report, February 2023.",
    "1. Purpose. This report sets out police performance against the Police and Crime Plan for the "
    "period April to December 2022, for the Panel's scrutiny.",
    "2. Calls for service. Average 101 call answering times fell from nine minutes to four minutes. "
    "Emergency calls answered within ten seconds remained above 90 per cent.",
)


def build_moderngov_site() -> FakeModernGov:
    """Plymouth (web service on), Leicester City (off: public pages), Leicestershire, old Dorset."""
    site = FakeModernGov()
    site.meetings_xml["/plymouth"] = (FIXTURES / "moderngov/plymouth/GetMeetings.xml").read_text()
    for meeting_id in (10245, 10300, 10350, 10400):
        site.put_xml(f"/plymouth/mgWebService.asmx/GetMeeting?lMeetingId={meeting_id}",
                     f"plymouth/GetMeeting_{meeting_id}.xml")
    site.put("/plymouth/mgConvert2PDF.aspx?ID=5001",
             pdf_bytes("Minutes of the Police and Crime Panel, 18 November 2022.",
                      "The Panel considered the proposed precept and the Commissioner's response."),
             "application/pdf", validators=False)
    site.put("/plymouth/documents/s5002/PCC Performance Report.pdf", pdf_bytes(*PERFORMANCE_REPORT),
             "application/pdf")
    site.put("/plymouth/documents/s5004/Appendix A Budget Monitoring Table.docx",
             docx_bytes("Appendix A: Budget Monitoring Table.",
                       "Police officer pay is forecast to be underspent by 1.2 million pounds."),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    for restricted in ("/plymouth/documents/s5005/Appendix B Contract Values.pdf",
                       "/plymouth/documents/s5006/Complaint report.pdf",
                       "/leicester/documents/s6102/Candidate Assessments.pdf"):
        site.put(restricted, pdf_bytes("SECRET restricted content."), "application/pdf")

    site.service_off.add("/leicester")
    site.put_page("/leicester/ieListMeetings.aspx?CId=989&Year=2023", "leicester/ieListMeetings_2023.html")
    for meeting_id in (11200, 11267):
        site.put_page(f"/leicester/ieListDocuments.aspx?CId=989&MId={meeting_id}",
                      f"leicester/ieListDocuments_{meeting_id}.html")
    for item_id in (40101, 40201):
        site.put_page(f"/leicester/mgAi.aspx?ID={item_id}", f"leicester/mgAi_{item_id}.html")
    site.put("/leicester/documents/s6101/Estates Strategy Report.pdf",
             pdf_bytes("Estates Strategy 2023 to 2028.",
                      "The Commissioner proposes a shared police station in Oakham and the closure of two "
                      "front counters in Rutland."),
             "application/pdf")

    site.meetings_xml["/leics"] = (FIXTURES / "moderngov/leics/GetMeetings.xml").read_text()
    site.meetings_xml["/dorset-old"] = (FIXTURES / "moderngov/dorset-old/GetMeetings.xml").read_text()
    site.put_xml("/dorset-old/mgWebService.asmx/GetCommittees", "dorset-old/GetCommittees.xml")
    site.put_page("/dorset-old/mgListCommittees.aspx", "dorset-old/mgListCommittees.html")
    site.put_page("/dorset-old/ieListMeetings.aspx?CId=138&Year=2019", "dorset-old/ieListMeetings_2019.html")

    # Somerset: one meeting served both ways (web service, and public pages when a test turns it off),
    # a public confirmation hearing with one restricted appendix beside a wholly restricted item.
    site.meetings_xml["/somerset"] = (FIXTURES / "moderngov/somerset/GetMeetings.xml").read_text()
    site.put_xml("/somerset/mgWebService.asmx/GetMeeting?lMeetingId=2533", "somerset/GetMeeting_2533.xml")
    site.put_page("/somerset/ieListMeetings.aspx?CId=225&Year=2024", "somerset/ieListMeetings_2024.html")
    site.put_page("/somerset/ieListDocuments.aspx?CId=225&MId=2533", "somerset/ieListDocuments_2533.html")
    site.put_page("/somerset/mgAi.aspx?ID=9001", "somerset/mgAi_9001.html")
    site.put_pdf("/somerset/documents/s7001/Proposed Appointment Report.pdf",
                 "Report of the Police and Crime Commissioner: Proposed Appointment of a Chief Executive.",
                 "The Commissioner proposes to appoint her preferred candidate as Chief Executive and Monitoring "
                 "Officer, following an open recruitment campaign.")
    site.put_pdf("/somerset/documents/s7002/Appendix A Job Description.pdf",
                 "Appendix A: Job Description and Person Specification for the Chief Executive.",
                 "The Chief Executive is the head of paid service of the Office of the Commissioner.")
    for restricted in ("/somerset/documents/s7003/Appendix B Assessment Panel Report.pdf",
                       "/somerset/documents/s7004/Complaint Report.pdf"):
        site.put_pdf(restricted, "SECRET restricted content.")
    return site


MODERNGOV_ORIGINS = {
    "https://democracy.plymouth.gov.uk": "/plymouth",
    "https://cabinet.leicester.gov.uk": "/leicester",
    "https://democracy.leics.gov.uk": "/leics",
    "https://dorset.moderngov.co.uk": "/dorset-old",
    "https://democracy.somerset.gov.uk": "/somerset",
}
