"""The CMIS crawler against a local site in CMIS's formats (tests/fixtures/cmis, see its README).

Essex (committee 127) is served under /essex, Norfolk (committee found by title) under /norfolk; the
registry entries keep their real base URLs and only the fetching is pointed at the local server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest

from precedent.ingest.crawl.cmis import calendar_url, months, parse_calendar_page, parse_meeting_page
from precedent.ingest.crawl.crawl import crawl
from precedent.ingest.crawl.http import PoliteClient
from precedent.ingest.crawl.registry import Panel, load_registry, select_panels
from precedent.ingest.crawl.run import CrawlSummary
from precedent.ingest.settings import Settings
from tests.fake_sites import FIXTURES, FakeSite, RecordingIngest, serving
from tests.helpers import pdf_bytes

ESSEX = "http://cmis.essex.gov.uk/essexcmis5"
FLAGS = ("&rUzwRPf%2bZ3zd4E7Ikn8Lyw%3d%3d=pwRE6AGJFLDNlh225F5QMaQWCtPHwdhUfCZ%2fLUQzgA2uL5jNRG4jdQ%3d%3d"
         "&mCTIbCubSFfXsDGW9IXnlg%3d%3d=hFflUdN3100%3d")
TOKENS = {
    "agenda-1-june": "hT3kQ9vLm2XwR7pA0sDf1g%3d%3d", "minutes-1-june": "pW8eZ4nJc6YuB1qK5tGh2w%3d%3d",
    "previous-minutes": "aS2dF6gH9jK1lZ3xC5vB7n%3d%3d", "performance": "qE4rT7yU0iO2pL8kJ6hG3f%3d%3d",
    "appendix-a": "zX1cV4bN7mQ0wE3rT6yU9i%3d%3d", "appendix-b-exempt": "mN5bV8cX2zL4kJ7hG0fD1s%3d%3d",
    "exempt-complaint": "uY6tR9eW3qA1sD4fG7hJ0k%3d%3d", "agenda-20-july": "cV2bN5mQ8wE1rT4yU7iO0p%3d%3d",
}
SINCE, UNTIL = dt.date(2017, 5, 1), dt.date(2017, 7, 31)
MODULE = "/essexcmis5/CalendarofMeetings/tabid/73/ctl"


def document_path(name: str) -> str:
    return f"/essex/essexcmis5/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo={TOKENS[name]}{FLAGS}"


def build_site() -> FakeSite:
    site = FakeSite()
    for month in ("05", "06", "07"):
        site.put_page(f"/essex{MODULE}/MeetingCalendarPublicNoJava/mid/410/Date/2017-{month}-01/Default.aspx",
                      f"cmis/essex/calendar_2017-{month}.html")
    for meeting in (3683, 3819):
        site.put_page(f"/essex{MODULE}/ViewMeetingPublic/mid/410/Meeting/{meeting}/Committee/127/Default.aspx",
                      f"cmis/essex/meeting_{meeting}.html")
    site.put(f"/essex{MODULE}/ViewMeetingPublic/mid/410/Meeting/3820/Committee/127/Default.aspx",
             "<html><body><h1>Runtime Error</h1></body></html>", "text/html")
    papers = {
        "previous-minutes": ("Minutes of the meeting of the Essex Police and Crime Panel held on 16 February 2017.",
                             "The Panel reviewed the proposed precept for 2017/18."),
        "performance": ("Police and Crime Plan Performance Update, report EPFCP/10/17.",
                        "1. Emergency calls. 91 per cent of emergency calls were answered within ten seconds."),
        "agenda-20-july": ("Agenda of the Essex Police, Fire and Crime Panel, 20 July 2017.",
                           "Item 5: Revised Membership. Item 6: Joint governance of police and fire services."),
        "agenda-1-june": ("Agenda pack, 1 June 2017.", "Every report of the meeting, bound together."),
        "minutes-1-june": ("Printed minutes of 1 June 2017.", "The same minutes as the meeting page carries."),
        "appendix-b-exempt": ("SECRET commercially sensitive figures.",),
        "exempt-complaint": ("SECRET complaint report.",),
    }
    for name, paragraphs in papers.items():
        site.put(document_path(name), pdf_bytes(*paragraphs), "application/pdf")
    # appendix-a is missing on the server: a 404, reported against its URL.
    norfolk = "/norfolk/norfolkcc/CalendarofMeetings/tabid/128/ctl"
    site.put_page(f"{norfolk}/MeetingCalendarPublicNoJava/mid/496/Date/2019-02-01/Default.aspx",
                  "cmis/norfolk/calendar_2019-02.html")
    site.put_page(f"{norfolk}/ViewMeetingPublic/mid/496/Meeting/1290/Committee/51/Default.aspx",
                  "cmis/norfolk/meeting_1290.html")
    return site


@pytest.fixture
def site() -> Iterator[FakeSite]:
    with serving(build_site()) as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", crawl_delay_s=0, crawl_timeout_s=5, crawl_retries=2,
                    crawl_max_requests=500)


def local(site: FakeSite, force: str) -> list[Panel]:
    origins = {"http://cmis.essex.gov.uk": site.base + "/essex",
               "https://norfolkcc.cmis.uk.com": site.base + "/norfolk"}
    return [p.served_from(origins) for p in select_panels(load_registry(), [force])]


def run(site: FakeSite, settings: Settings, ingest: RecordingIngest | None, force: str = "Essex",
        since: dt.date = SINCE, until: dt.date = UNTIL, **options: object) -> CrawlSummary:
    with PoliteClient(settings, backoff_s=0.001) as client:
        return crawl(local(site, force), settings, since=since, until=until, client=client, ingest=ingest,
                     **options)  # type: ignore[arg-type]


def doc_id(name: str) -> str:
    import hashlib

    token = unquote(TOKENS[name])
    return f"cmis-cmis-essex-gov-uk-doc-{hashlib.sha1(token.encode()).hexdigest()[:16]}"


# --- formats -----------------------------------------------------------------------------------------


def test_the_calendar_is_read_a_month_at_a_time_with_the_year_from_the_month_asked() -> None:
    body = (FIXTURES / "cmis/essex/calendar_2017-06.html").read_bytes()
    entries = parse_calendar_page(body, dt.date(2017, 6, 1))
    assert [(e.meeting_id, e.committee_id, e.committee, e.date) for e in entries] == [
        (3683, 127, "Essex Police, Fire and Crime Panel", dt.date(2017, 6, 1)),
        (3720, 36, "Cabinet", dt.date(2017, 6, 20)),
        (3721, 133, "Corporate Policy and Scrutiny Committee", dt.date(2017, 6, 20)),
    ]
    assert months(dt.date(2016, 12, 15), dt.date(2017, 2, 1)) == [
        dt.date(2016, 12, 1), dt.date(2017, 1, 1), dt.date(2017, 2, 1)]


def test_a_meeting_page_gives_items_with_minutes_documents_and_the_exempt_section() -> None:
    essex = select_panels(load_registry(), ["Essex"])[0].sites[0]
    meeting = parse_meeting_page((FIXTURES / "cmis/essex/meeting_3683.html").read_bytes(), essex)
    assert meeting.date == dt.date(2017, 6, 1) and meeting.committee == "Essex Police, Fire and Crime Panel"
    items = {i.number: i for i in meeting.items}
    assert [n for n, i in items.items() if not i.restricted] == ["1", "2", "4", "6"]
    assert items["9"].restricted  # under "Exempt Items"
    assert items["2"].title == "Minutes"  # an item whose title is its paper ("Pdf Minutes (70Kb)")
    assert items["6"].minutes_html.startswith("<p>The Panel considered report EPFCP/10/17")
    appendix_b = [d for d in items["6"].docs if "Appendix B" in d.title][0]
    assert appendix_b.restricted and not items["6"].docs[0].restricted
    assert items["6"].docs[0].url.startswith(f"{ESSEX}/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo=")
    assert [d.title for d in meeting.documents] == ["Agenda", "Minutes"]
    assert calendar_url(essex, dt.date(2017, 6, 14)) == (
        f"{ESSEX}/CalendarofMeetings/tabid/73/ctl/MeetingCalendarPublicNoJava/mid/410/Date/2017-06-01/Default.aspx")


# --- the crawl ---------------------------------------------------------------------------------------


def test_only_the_panels_meetings_are_fetched_month_by_month(site: FakeSite, settings: Settings) -> None:
    run(site, settings, RecordingIngest())
    calendars = [unquote(h.path) for h in site.requests_to("MeetingCalendarPublicNoJava")]
    assert [c.split("/Date/")[1][:10] for c in calendars] == ["2017-05-01", "2017-06-01", "2017-07-01"]
    meetings = {h.path.split("/Meeting/")[1].split("/")[0] for h in site.requests_to("ViewMeetingPublic")}
    assert meetings == {"3683", "3819", "3820"}  # never Cabinet (36) or scrutiny (133)
    assert all(h.user_agent.startswith("Precedent/") for h in site.hits)


def test_public_items_become_minutes_and_their_papers_reports(site: FakeSite, settings: Settings) -> None:
    ingest = RecordingIngest()
    summary = run(site, settings, ingest)
    docs = ingest.by_id()
    minutes = docs["cmis-cmis-essex-gov-uk-meeting-3683-item-6"]
    page = f"{ESSEX}/CalendarofMeetings/tabid/73/ctl/ViewMeetingPublic/mid/410/Meeting/3683/Committee/127/Default.aspx"
    assert minutes.meta.url == page and minutes.source == page + "#item-6"
    assert minutes.meta.doc_type == "minutes" and minutes.meta.meeting_date == dt.date(2017, 6, 1)
    assert minutes.meta.agenda_item is not None and minutes.meta.agenda_item.number == "6"
    assert b"Knife surrender bins" in minutes.data
    assert (minutes.meta.force, minutes.meta.panel) == ("Essex", "Essex Police, Fire and Crime Panel")
    report = docs[doc_id("performance")]
    assert report.meta.title == "Performance Update EPFCP/10/17" and report.meta.doc_type == "report"
    assert report.filename == "Performance Update EPFCP 10 17.pdf" and report.data.startswith(b"%PDF-")
    assert report.meta.url.startswith(f"{ESSEX}/Document.ashx?")
    # 3683: minutes of items 1, 2, 4, 6 and two papers; 3819: its agenda pack, as no item has papers.
    assert summary.documents_new == len(ingest.items) == 7
    assert doc_id("agenda-20-july") in docs
    # The 1 June pack and printed minutes repeat what the items already carry.
    assert doc_id("agenda-1-june") not in docs and doc_id("minutes-1-june") not in docs


def test_exempt_items_and_restricted_enclosures_are_never_fetched(site: FakeSite, settings: Settings) -> None:
    ingest = RecordingIngest()
    summary = run(site, settings, ingest)
    for name in ("appendix-b-exempt", "exempt-complaint"):
        assert not site.requests_to(unquote(TOKENS[name])[:12])
    assert "cmis-cmis-essex-gov-uk-meeting-3683-item-9" not in ingest.by_id()
    assert not any(b"SECRET" in item.data for item in ingest.items)
    assert summary.restricted_skipped == 3  # appendix B; item 9 and its paper


def test_a_missing_paper_and_a_broken_meeting_page_are_reported_and_the_crawl_goes_on(
        site: FakeSite, settings: Settings) -> None:
    site.fail_next(document_path("performance"), 500)
    ingest = RecordingIngest()
    summary = run(site, settings, ingest)
    failures = {f.url: f.error for f in summary.documents_failed}
    appendix_a = f"{ESSEX}/Document.ashx?czJKcaeAi5tUFL1DTL2UE4zNRBcoShgo={TOKENS['appendix-a']}{FLAGS}"
    broken = f"{ESSEX}/CalendarofMeetings/tabid/73/ctl/ViewMeetingPublic/mid/410/Meeting/3820/Committee/127/Default.aspx"
    assert set(failures) == {appendix_a, broken}
    assert "HTTP 404" in failures[appendix_a] and "no meeting summary" in failures[broken]
    assert [h.status for h in site.requests_to(unquote(TOKENS["performance"])[:12])] == [500, 200]
    assert doc_id("performance") in ingest.by_id()  # retried, then ingested
    assert summary.forces["Essex"].documents_failed == 2


def test_a_recrawl_asks_conditionally_and_ingests_nothing_unchanged(site: FakeSite, settings: Settings) -> None:
    ingest = RecordingIngest()
    first = run(site, settings, ingest)
    site.reset_hits()
    ingest.batches.clear()
    second = run(site, settings, ingest)
    assert ingest.items == [] and second.documents_new == second.documents_changed == 0
    assert second.documents_unchanged == first.documents_new
    papers = [h for h in site.hits if "document.ashx" in h.path.lower() and h.status != 404]
    assert papers and all(h.conditional and h.status == 304 for h in papers)

    # A paper changes on the server: only it is fetched in full and re-ingested.
    site.put(document_path("performance"),
             pdf_bytes("Police and Crime Plan Performance Update, report EPFCP/10/17 (revised).",
                      "1. Emergency calls. 92 per cent of emergency calls were answered within ten seconds."),
             "application/pdf")
    ingest.batches.clear()
    third = run(site, settings, ingest)
    assert [i.meta.document_id for i in ingest.items] == [doc_id("performance")]
    assert third.documents_changed == 1


def test_a_committee_known_only_by_title_is_found_in_the_calendar_and_reported(
        site: FakeSite, settings: Settings) -> None:
    ingest = RecordingIngest()
    summary = run(site, settings, ingest, force="Norfolk", since=dt.date(2019, 2, 1), until=dt.date(2019, 2, 28))
    assert [(c.committee_id, c.title, c.via) for c in summary.committees_found] == [
        (51, "Norfolk Police and Crime Panel", "the CMIS meetings calendar")]
    fetched = {h.path.split("/Meeting/")[1].split("/")[0] for h in site.requests_to("ViewMeetingPublic")}
    assert fetched == {"1290"}  # not the complaints sub-committee, not Cabinet
    minutes = ingest.by_id()["cmis-norfolkcc-cmis-uk-com-meeting-1290-item-7"]
    assert b"80 more police officers" in minutes.data and minutes.meta.force == "Norfolk"


def test_a_cmis_crawl_lands_in_a_real_index_with_citable_urls(site: FakeSite, settings: Settings) -> None:
    from precedent.search.retrieve import Searcher

    summary = run(site, settings, None)
    assert summary.documents_new == 7
    searcher = Searcher(settings)
    hits = searcher.search("knife surrender bins in libraries", k=3)
    assert hits and hits[0].citation.document_id == "cmis-cmis-essex-gov-uk-meeting-3683-item-6"
    assert hits[0].citation.url and "/Meeting/3683/Committee/127/" in hits[0].citation.url
    searcher.store.close()
