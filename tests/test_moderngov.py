"""The ModernGov crawler against a local site that answers like the real ones (tests/fixtures/moderngov).

Four hosts are served from one local HTTP server under path prefixes: Plymouth (web service on),
Leicester City (web service off: public pages), Leicestershire (no meetings in range) and the old
Dorset County site (committee found by title). Registry entries keep their real base URLs; only the
fetching is pointed at the local server, as a recorded site would be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from precedent.ingest.moderngov.client import (
    ModernGovClient,
    mg_date,
    parse_meeting,
    parse_meetings,
    yearly_windows,
)
from precedent.ingest.moderngov.crawl import CrawlSummary, crawl
from precedent.ingest.moderngov.registry import BadRegistry, Panel, Site, load_registry, select_panels
from precedent.ingest.pipeline import IngestReport, ItemOutcome
from precedent.ingest.records import SourceItem
from precedent.ingest.settings import Settings
from tests.helpers import docx_bytes, pdf_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "moderngov"
SINCE, UNTIL = dt.date(2023, 1, 1), dt.date(2024, 6, 30)
PREFIXES = {
    "https://democracy.plymouth.gov.uk": "/plymouth",
    "https://cabinet.leicester.gov.uk": "/leicester",
    "https://democracy.leics.gov.uk": "/leics",
    "https://dorset.moderngov.co.uk": "/dorset-old",
}
DD_MM_YYYY = re.compile(r"^\d{2}/\d{2}/\d{4}$")


# --- documents generated at test time ----------------------------------------------------------------


PERFORMANCE_REPORT = (
    "Police and Crime Commissioner's Performance Report, February 2023.",
    "1. Purpose. This report sets out police performance against the Police and Crime Plan for the "
    "period April to December 2022, for the Panel's scrutiny.",
    "2. Calls for service. Average 101 call answering times fell from nine minutes to four minutes. "
    "Emergency calls answered within ten seconds remained above 90 per cent.",
)


# --- the fake ModernGov site -------------------------------------------------------------------------


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
class FakeModernGov:
    resources: dict[str, Resource] = field(default_factory=dict)
    meetings_xml: dict[str, str] = field(default_factory=dict)  # prefix -> full GetMeetings answer
    service_off: set[str] = field(default_factory=set)  # prefixes whose web service answers 403
    scripted: dict[str, list[int]] = field(default_factory=dict)  # route -> statuses to answer first
    slow: dict[str, float] = field(default_factory=dict)  # route -> seconds to stall before answering
    hits: list[Hit] = field(default_factory=list)
    base: str = ""

    def put(self, path: str, body: bytes | str, content_type: str, *, validators: bool = True) -> None:
        data = body.encode() if isinstance(body, str) else body
        key = route_key(path)
        old = self.resources.get(key)
        self.resources[key] = Resource(data, content_type, validators, old.version + 1 if old else 1)

    def put_xml(self, path: str, fixture: str) -> None:
        self.put(path, (FIXTURES / fixture).read_bytes(), "text/xml; charset=utf-8")

    def put_page(self, path: str, fixture: str) -> None:
        self.put(path, (FIXTURES / fixture).read_bytes(), "text/html; charset=utf-8", validators=False)

    def fail_next(self, path: str, *statuses: int) -> None:
        self.scripted[route_key(path)] = list(statuses)

    def reset_hits(self) -> None:
        self.hits.clear()

    def answer(self, raw_path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        key = route_key(raw_path)
        if self.scripted.get(key):
            return self.scripted[key].pop(0), {}, b"<html><body>Server Error</body></html>"
        prefix = "/" + key.split("/")[1]
        if "/mgwebservice.asmx/" in key and prefix in self.service_off:
            return 403, {}, b"<html><body>403 - Forbidden: Access is denied.</body></html>"
        if key.startswith(prefix + "/mgwebservice.asmx/getmeetings") and prefix in self.meetings_xml:
            status, body = self._get_meetings(prefix, dict(parse_qsl(urlsplit(raw_path).query)))
            if status != 200:
                return status, {}, body
            resource = Resource(body, "text/xml; charset=utf-8")
        else:
            found = self.resources.get(key)
            if found is None:
                return 404, {"Content-Type": "text/html"}, b"<html><body>404 - File not found.</body></html>"
            resource = found
        out = {"Content-Type": resource.content_type}
        if resource.validators:
            out |= {"ETag": resource.etag, "Last-Modified": resource.last_modified}
            if headers.get("if-none-match") == resource.etag or (
                "if-none-match" not in headers and headers.get("if-modified-since") == resource.last_modified
            ):
                return 304, out, b""
        return 200, out, resource.body

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

    def requests_to(self, fragment: str) -> list[Hit]:
        return [h for h in self.hits if fragment.lower() in h.path.lower()]


def serve(site: FakeModernGov) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            headers = {k.lower(): v for k, v in self.headers.items()}
            stall = site.slow.get(route_key(self.path))
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
                pass  # the client timed out and left, as the timeout test intends

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    return server, thread


def build_site() -> FakeModernGov:
    site = FakeModernGov()
    site.meetings_xml["/plymouth"] = (FIXTURES / "plymouth/GetMeetings.xml").read_text()
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

    site.meetings_xml["/leics"] = (FIXTURES / "leics/GetMeetings.xml").read_text()
    site.meetings_xml["/dorset-old"] = (FIXTURES / "dorset-old/GetMeetings.xml").read_text()
    site.put_xml("/dorset-old/mgWebService.asmx/GetCommittees", "dorset-old/GetCommittees.xml")
    return site


@pytest.fixture
def site() -> Iterator[FakeModernGov]:
    fake = build_site()
    server, thread = serve(fake)
    yield fake
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", crawl_delay_s=0, crawl_timeout_s=5, crawl_retries=2,
                    crawl_max_requests=500)


def local_panels(site: FakeModernGov, *forces: str) -> list[Panel]:
    mapping = {canonical: site.base + prefix for canonical, prefix in PREFIXES.items()}
    return [p.served_from(mapping) for p in select_panels(load_registry(), forces)]


def client_for(settings: Settings) -> ModernGovClient:
    return ModernGovClient(settings, backoff_s=0.001)


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


def run(site_panels: list[Panel], settings: Settings, ingest: RecordingIngest | None = None,
        **options: object) -> CrawlSummary:
    with client_for(settings) as client:
        return crawl(site_panels, settings, since=SINCE, until=UNTIL, client=client,
                     ingest=ingest, **options)  # type: ignore[arg-type]


# --- registry ----------------------------------------------------------------------------------------


def test_every_registry_entry_is_valid_and_names_a_known_force() -> None:
    panels = load_registry()
    assert {"Devon and Cornwall", "Dorset", "Leicestershire"} <= {p.force for p in panels}
    for panel in panels:
        assert panel.sites, panel.force
        for s in panel.sites:
            assert s.base_url.startswith(("https://", "http://")) and not s.base_url.endswith("/")
            assert s.committee_id or s.committee_title
            assert s.start is None or s.end is None or s.start <= s.end


def test_registry_holds_the_three_first_corpus_panels_with_their_hosts_and_ranges() -> None:
    by_force = {p.force: p for p in load_registry()}
    plymouth = by_force["Devon and Cornwall"].sites
    assert [(s.host, s.committee_id) for s in plymouth] == [("democracy.plymouth.gov.uk", 1051)]
    dorset = by_force["Dorset"].sites
    assert ("moderngov.dorsetcouncil.gov.uk", 154) in [(s.host, s.committee_id) for s in dorset]
    assert "dorset.moderngov.co.uk" in [s.host for s in dorset]
    leicester = [s for s in by_force["Leicestershire"].sites if s.host == "cabinet.leicester.gov.uk"]
    assert leicester[0].committee_id == 989
    assert (leicester[0].start, leicester[0].end) == (dt.date(2020, 5, 11), dt.date(2023, 10, 16))


def test_a_panel_moved_between_hosts_is_crawled_on_each_host_only_inside_its_range() -> None:
    sites = select_panels(load_registry(), ["Leicestershire"])[0].sites
    windows = [s.window(dt.date(2019, 1, 1), dt.date(2024, 12, 31)) for s in sites]
    assert windows == [(dt.date(2019, 1, 1), dt.date(2020, 5, 10)),
                       (dt.date(2020, 5, 11), dt.date(2023, 10, 16)),
                       (dt.date(2023, 10, 17), dt.date(2024, 12, 31))]


def test_an_invalid_registry_entry_is_refused_with_the_field_and_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "registry.toml"
    bad.write_text('[[panel]]\nforce = "Atlantis"\npanel = "x"\n[[panel.site]]\nbase_url = "ftp://x"\n')
    with pytest.raises(BadRegistry) as err:
        load_registry(bad)
    message = str(err.value)
    assert "registry.toml" in message and "base_url" in message and "Atlantis" in message


def test_selecting_an_unregistered_force_names_the_registered_ones() -> None:
    assert [p.force for p in select_panels(load_registry(), ["devon & cornwall"])] == ["Devon and Cornwall"]
    with pytest.raises(BadRegistry, match="Devon and Cornwall"):
        select_panels(load_registry(), ["Gotham"])


# --- dates and parsing -------------------------------------------------------------------------------


def test_long_ranges_are_walked_in_calendar_year_windows() -> None:
    windows = yearly_windows(dt.date(2022, 11, 5), dt.date(2024, 2, 29))
    assert windows == [(dt.date(2022, 11, 5), dt.date(2022, 12, 31)),
                       (dt.date(2023, 1, 1), dt.date(2023, 12, 31)),
                       (dt.date(2024, 1, 1), dt.date(2024, 2, 29))]
    assert mg_date(dt.date(2023, 2, 3)) == "03/02/2023"


def test_meeting_xml_is_read_whatever_its_namespace_and_minutes_come_back_as_html() -> None:
    plymouth = Site("https://democracy.plymouth.gov.uk", 1051)
    with_ns = parse_meeting((FIXTURES / "plymouth/GetMeeting_10245.xml").read_bytes(), plymouth)
    without_ns = parse_meeting((FIXTURES / "plymouth/GetMeeting_10300.xml").read_bytes(), plymouth)
    assert with_ns.date == dt.date(2023, 2, 3) and without_ns.date == dt.date(2023, 6, 16)
    items = {i.id: i for i in with_ns.items}
    assert items[30003].number == "5"
    assert items[30003].minutes_html.startswith('<p class="MsoNormal">The Commissioner presented')
    assert items[30005].restricted and not items[30003].restricted
    docs = {d.attachment_id: d for d in items[30004].docs}
    assert docs["5005"].restricted and not docs["5004"].restricted
    assert items[30002].docs[0].url == "https://democracy.plymouth.gov.uk/mgConvert2PDF.aspx?ID=5001"
    refs = parse_meetings((FIXTURES / "plymouth/GetMeetings.xml").read_bytes())
    assert [r.id for r in refs][:2] == [10180, 10245] and refs[0].date == dt.date(2022, 11, 18)


# --- the crawl ---------------------------------------------------------------------------------------


def test_crawl_asks_for_meetings_in_yearly_windows_with_dd_mm_yyyy_dates(
        site: FakeModernGov, settings: Settings) -> None:
    run(local_panels(site, "Devon and Cornwall"), settings, RecordingIngest())
    asked = [dict(parse_qsl(urlsplit(h.path).query)) for h in site.requests_to("GetMeetings")]
    assert [(q["sFromDate"], q["sToDate"]) for q in asked] == [("01/01/2023", "31/12/2023"),
                                                               ("01/01/2024", "30/06/2024")]
    assert all(q["lCommitteeId"] == "1051" for q in asked)
    assert all(h.user_agent.startswith("Precedent/") for h in site.hits)


def test_crawl_turns_items_into_minutes_and_linked_files_into_reports(
        site: FakeModernGov, settings: Settings) -> None:
    ingest = RecordingIngest()
    summary = run(local_panels(site, "Devon and Cornwall"), settings, ingest)
    docs = ingest.by_id()
    minutes = docs["mg-democracy-plymouth-gov-uk-item-30003"]
    assert minutes.source == minutes.meta.url == "https://democracy.plymouth.gov.uk/mgAi.aspx?ID=30003"
    assert minutes.filename == "item-30003.html"
    assert minutes.data.startswith(
        b"<html><body><h1>Police and Crime Commissioner&#x27;s Performance Report</h1>")
    assert b"<li class=\"MsoNormal\">101 call answering times" in minutes.data
    assert minutes.meta.doc_type == "minutes" and minutes.meta.meeting_date == dt.date(2023, 2, 3)
    assert minutes.meta.agenda_item is not None
    assert (minutes.meta.agenda_item.number, minutes.meta.agenda_item.title) == (
        "5", "Police and Crime Commissioner's Performance Report")
    assert (minutes.meta.force, minutes.meta.panel) == ("Devon and Cornwall",
                                                        "Devon and Cornwall Police and Crime Panel")
    report = docs["mg-democracy-plymouth-gov-uk-doc-5002"]
    assert report.meta.doc_type == "report" and report.filename == "PCC Performance Report.pdf"
    assert report.meta.url == (
        "https://democracy.plymouth.gov.uk/documents/s5002/PCC%20Performance%20Report.pdf")
    assert report.data.startswith(b"%PDF-")
    converted = docs["mg-democracy-plymouth-gov-uk-doc-5001"]
    assert converted.filename == "Minutes 18 11 2022 Police and Crime Panel.pdf"
    assert docs["mg-democracy-plymouth-gov-uk-doc-5004"].filename.endswith(".docx")
    # 10245: four public items with minutes + three files; 10300: two items with minutes (its PDF is a 404).
    assert summary.documents_new == len(ingest.items) == 9
    assert summary.meetings_seen == 3  # 10245, 10300, 10400; 10350 is malformed


def test_restricted_items_and_enclosures_are_never_fetched_or_ingested(
        site: FakeModernGov, settings: Settings) -> None:
    ingest = RecordingIngest()
    summary = run(local_panels(site, "Devon and Cornwall", "Leicestershire"), settings, ingest)
    assert not site.requests_to("s5005") and not site.requests_to("s5006") and not site.requests_to("s6102")
    ids = set(ingest.by_id())
    assert "mg-democracy-plymouth-gov-uk-item-30005" not in ids
    assert "mg-cabinet-leicester-gov-uk-item-40102" not in ids
    assert not any(b"SECRET" in item.data for item in ingest.items)
    assert summary.restricted_skipped == 5  # item 30005 + its file, file 5005, item 40102 + its file


def test_a_404_pdf_and_malformed_xml_are_reported_per_item_and_the_crawl_goes_on(
        site: FakeModernGov, settings: Settings) -> None:
    ingest = RecordingIngest()
    summary = run(local_panels(site, "Devon and Cornwall"), settings, ingest)
    failures = {f.url: f.error for f in summary.documents_failed}
    assert set(failures) == {
        "https://democracy.plymouth.gov.uk/documents/s5101/Annual%20Report.pdf",
        "https://democracy.plymouth.gov.uk/mgWebService.asmx/GetMeeting?lMeetingId=10350",
    }
    assert "HTTP 404" in failures["https://democracy.plymouth.gov.uk/documents/s5101/Annual%20Report.pdf"]
    assert "malformed XML" in failures[
        "https://democracy.plymouth.gov.uk/mgWebService.asmx/GetMeeting?lMeetingId=10350"]
    # The meeting after the malformed one was still read, and the 404's siblings were ingested.
    assert site.requests_to("lMeetingId=10400")
    assert "mg-democracy-plymouth-gov-uk-item-30102" in ingest.by_id()


def test_a_500_then_success_is_retried(site: FakeModernGov, settings: Settings) -> None:
    site.fail_next("/plymouth/mgWebService.asmx/GetMeeting?lMeetingId=10245", 500)
    site.fail_next("/plymouth/documents/s5002/PCC Performance Report.pdf", 503, 500)
    ingest = RecordingIngest()
    summary = run(local_panels(site, "Devon and Cornwall"), settings, ingest)
    statuses = [h.status for h in site.requests_to("lMeetingId=10245")]
    assert statuses == [500, 200]
    assert [h.status for h in site.requests_to("s5002")] == [503, 500, 200]
    assert "mg-democracy-plymouth-gov-uk-doc-5002" in ingest.by_id()
    assert not any("10245" in f.url or "s5002" in f.url for f in summary.documents_failed)


def test_retries_are_bounded_and_a_persistent_500_is_reported(
        site: FakeModernGov, settings: Settings) -> None:
    site.fail_next("/plymouth/documents/s5002/PCC Performance Report.pdf", 500, 500, 500, 500)
    summary = run(local_panels(site, "Devon and Cornwall"), settings, RecordingIngest())
    assert len(site.requests_to("s5002")) == settings.crawl_retries + 1
    assert any("s5002" in f.url and "HTTP 500" in f.error for f in summary.documents_failed)


def test_a_timeout_is_retried_then_reported_for_that_document_only(
        site: FakeModernGov, settings: Settings) -> None:
    site.slow[route_key("/plymouth/documents/s5002/PCC Performance Report.pdf")] = 0.5
    quick = settings.model_copy(update={"crawl_timeout_s": 0.1, "crawl_retries": 1})
    ingest = RecordingIngest()
    summary = run(local_panels(site, "Devon and Cornwall"), quick, ingest)
    timed_out = [f for f in summary.documents_failed if "s5002" in f.url]
    assert len(timed_out) == 1 and "timed out after 2 attempts" in timed_out[0].error
    assert "mg-democracy-plymouth-gov-uk-doc-5004" in ingest.by_id()  # the next file was still fetched


def test_a_site_with_its_web_service_off_is_crawled_through_its_public_pages(
        site: FakeModernGov, settings: Settings) -> None:
    ingest = RecordingIngest()
    run(local_panels(site, "Leicestershire"), settings, ingest)
    docs = ingest.by_id()
    minutes = docs["mg-cabinet-leicester-gov-uk-item-40101"]
    assert minutes.meta.url == "https://cabinet.leicester.gov.uk/mgAi.aspx?ID=40101"
    assert minutes.meta.meeting_date == dt.date(2023, 7, 24)
    assert b"shared station in Oakham" in minutes.data and b"Supporting documents" not in minutes.data
    assert minutes.meta.agenda_item is not None and minutes.meta.agenda_item.number == "1"
    report = docs["mg-cabinet-leicester-gov-uk-doc-6101"]
    assert report.filename == "Estates Strategy Report.pdf" and report.meta.title == "Estates Strategy Report"
    assert "mg-cabinet-leicester-gov-uk-item-40201" not in docs  # an item without minutes
    # The 403 was learnt once: later windows and meetings go straight to the pages.
    assert len([h for h in site.requests_to("/leicester/mgWebService") if h.status == 403]) == 1
    # The county site is asked only for its own range after the city's (from 17/10/2023).
    leics = [dict(parse_qsl(urlsplit(h.path).query)) for h in site.requests_to("/leics/")]
    assert leics[0]["sFromDate"] == "17/10/2023"


def test_a_committee_without_an_id_is_found_by_its_title(site: FakeModernGov, settings: Settings) -> None:
    dorset = local_panels(site, "Dorset")
    with client_for(settings) as client:
        crawl(dorset, settings, since=dt.date(2019, 1, 1), until=dt.date(2019, 3, 31), client=client,
              ingest=RecordingIngest())
    first_ask = site.requests_to("/dorset-old/mgWebService.asmx/GetMeetings")[0]
    asked = dict(parse_qsl(urlsplit(first_ask.path).query))
    assert asked["lCommitteeId"] == "138"  # the exact title wins over the sub-committee


def test_recrawl_fetches_only_what_changed_and_reingests_exactly_those_two(
        site: FakeModernGov, settings: Settings) -> None:
    panels = local_panels(site, "Devon and Cornwall")
    ingest = RecordingIngest()
    first = run(panels, settings, ingest)
    assert first.documents_new == 9

    # Nothing changed: every request is conditional or validator-less, and nothing is ingested.
    site.reset_hits()
    ingest.batches.clear()
    quiet = run(panels, settings, ingest)
    assert ingest.items == []
    assert quiet.documents_new == quiet.documents_changed == 0
    assert quiet.documents_unchanged == 9
    with_validators = [h for h in site.hits if "mgConvert2PDF" not in h.path and h.status != 404]
    assert all(h.conditional and h.status == 304 for h in with_validators
               if "lMeetingId=10350" not in h.path)

    # One item's minutes and one PDF change on the server.
    xml = (FIXTURES / "plymouth/GetMeeting_10300.xml").read_text().replace(
        "Safer Streets programme in Torbay", "Safer Streets programme in Torbay and Paignton")
    site.put("/plymouth/mgWebService.asmx/GetMeeting?lMeetingId=10300", xml, "text/xml; charset=utf-8")
    site.put("/plymouth/documents/s5002/PCC Performance Report.pdf",
             pdf_bytes(*PERFORMANCE_REPORT, "3. Addendum. Figures for January 2023 have been added."),
             "application/pdf")
    site.reset_hits()
    ingest.batches.clear()
    second = run(panels, settings, ingest)
    assert sorted(i.meta.document_id or "" for i in ingest.items) == [
        "mg-democracy-plymouth-gov-uk-doc-5002", "mg-democracy-plymouth-gov-uk-item-30103"]
    assert (second.documents_changed, second.documents_new, second.documents_unchanged) == (2, 0, 7)
    full_downloads = sorted(h.path for h in site.hits if h.status == 200)
    assert full_downloads == sorted([
        "/plymouth/documents/s5002/PCC%20Performance%20Report.pdf",
        "/plymouth/mgConvert2PDF.aspx?ID=5001",  # sends no validators: judged by its content hash
        "/plymouth/mgWebService.asmx/GetMeeting?lMeetingId=10300",
        "/plymouth/mgWebService.asmx/GetMeeting?lMeetingId=10350",  # malformed: never cached
    ])
    assert second.requests == first.requests  # the same URLs, most answered 304
    assert second.not_modified == second.requests - len(full_downloads) - 1  # the 404 PDF


def test_a_dry_run_reports_without_ingesting_or_writing_state(
        site: FakeModernGov, settings: Settings) -> None:
    summary = run(local_panels(site, "Devon and Cornwall"), settings, None, dry_run=True)
    assert summary.dry_run and summary.documents_new == 9
    assert not (settings.data_dir / "crawl_state.sqlite3").exists()
    assert summary.to_dict()["documents_failed"][0]["url"].startswith("https://")


def test_the_request_budget_stops_the_crawl_cleanly(site: FakeModernGov, settings: Settings) -> None:
    tight = settings.model_copy(update={"crawl_max_requests": 4})
    summary = run(local_panels(site, "Devon and Cornwall"), tight, RecordingIngest())
    assert summary.requests == 4 and len(site.hits) == 4
    assert summary.stopped and "PRECEDENT_CRAWL_MAX_REQUESTS" in summary.stopped


def test_end_to_end_crawl_into_a_real_index_then_only_changes_are_reingested(
        site: FakeModernGov, settings: Settings) -> None:
    from precedent.ingest.store import Store

    panels = local_panels(site, "Devon and Cornwall", "Leicestershire")
    first = run(panels, settings)
    store = Store.open(settings)
    try:
        documents = {d.document_id: d for d in store.list_documents()}
    finally:
        store.close()
    assert first.documents_new == 11 and not [f for f in first.documents_failed if "s5101" not in f.url
                                               and "10350" not in f.url]
    minutes = documents["mg-democracy-plymouth-gov-uk-item-30003"]
    assert minutes.doc_type == "minutes"
    assert minutes.url == "https://democracy.plymouth.gov.uk/mgAi.aspx?ID=30003"
    assert minutes.agenda_item is not None and minutes.agenda_item.number == "5"
    assert documents["mg-cabinet-leicester-gov-uk-doc-6101"].doc_type == "report"
    assert not any("SECRET" in d.title for d in documents.values())

    site.put("/plymouth/documents/s5002/PCC Performance Report.pdf",
             pdf_bytes(*PERFORMANCE_REPORT, "3. Addendum. Figures for January 2023 have been added."),
             "application/pdf")
    xml = (FIXTURES / "plymouth/GetMeeting_10300.xml").read_text().replace(
        "Safer Streets programme in Torbay", "Safer Streets programme in Torbay and Paignton")
    site.put("/plymouth/mgWebService.asmx/GetMeeting?lMeetingId=10300", xml, "text/xml; charset=utf-8")
    second = run(panels, settings)
    assert (second.documents_changed, second.documents_new) == (2, 0)
    assert second.documents_unchanged == first.documents_new - 2
    print(f"\nfirst crawl: {first.requests} requests, {first.seconds:.2f}s; "
          f"re-crawl: {second.requests} requests ({second.not_modified} answered 304), {second.seconds:.2f}s")

