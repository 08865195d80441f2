"""The ModernGov crawler against a local site that answers like the real ones (tests/fixtures/moderngov).

Four hosts are served from one local HTTP server under path prefixes: Plymouth (web service on),
Leicester City (web service off: public pages), Leicestershire (no meetings in range) and the old
Dorset County site (committee found by title). Registry entries keep their real base URLs; only the
fetching is pointed at the local server, as a recorded site would be replayed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from precedent.ingest.crawl.committees import Committee, find_committee
from precedent.ingest.crawl.crawl import crawl
from precedent.ingest.crawl.http import MalformedResponse, PoliteClient
from precedent.ingest.crawl.moderngov import mg_date, parse_meeting, parse_meetings, yearly_windows
from precedent.ingest.crawl.registry import BadRegistry, Panel, Site, load_registry, select_panels
from precedent.ingest.crawl.run import CrawlSummary
from precedent.ingest.settings import Settings
from tests.fake_sites import (
    MODERNGOV_ORIGINS,
    PERFORMANCE_REPORT,
    FakeModernGov,
    RecordingIngest,
    build_moderngov_site,
    route_key,
    serving,
)
from tests.helpers import pdf_bytes

FIXTURES = Path(__file__).parent / "fixtures" / "moderngov"
SINCE, UNTIL = dt.date(2023, 1, 1), dt.date(2024, 6, 30)


@pytest.fixture
def site() -> Iterator[FakeModernGov]:
    with serving(build_moderngov_site()) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", crawl_delay_s=0, crawl_timeout_s=5, crawl_retries=2,
                    crawl_max_requests=500)


def local_panels(site: FakeModernGov, *forces: str) -> list[Panel]:
    mapping = {canonical: site.base + prefix for canonical, prefix in MODERNGOV_ORIGINS.items()}
    return [p.served_from(mapping) for p in select_panels(load_registry(), forces)]


def client_for(settings: Settings) -> PoliteClient:
    return PoliteClient(settings, backoff_s=0.001)


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
            assert s.base_url.startswith(("https://", "http://"))
            if s.system in ("moderngov", "cmis"):
                assert not s.base_url.endswith("/")
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


@pytest.mark.parametrize("mode", ["web service", "public pages"])
def test_a_public_item_with_one_restricted_appendix_keeps_its_minutes_and_public_papers(
        site: FakeModernGov, settings: Settings, mode: str) -> None:
    if mode == "public pages":
        site.service_off.add("/somerset")
    ingest = RecordingIngest()
    with client_for(settings) as client:
        summary = crawl(local_panels(site, "Avon and Somerset"), settings, since=dt.date(2024, 1, 1),
                        until=dt.date(2024, 12, 31), client=client, ingest=ingest)
    docs = ingest.by_id()
    assert set(docs) == {"mg-democracy-somerset-gov-uk-item-9001", "mg-democracy-somerset-gov-uk-doc-7001",
                         "mg-democracy-somerset-gov-uk-doc-7002"}
    minutes = docs["mg-democracy-somerset-gov-uk-item-9001"]
    assert b"supports the appointment without recommendation" in minutes.data
    assert minutes.meta.agenda_item is not None and minutes.meta.agenda_item.number == "6"
    assert docs["mg-democracy-somerset-gov-uk-doc-7002"].meta.title == (
        "Appendix A: Job Description and Person Specification")
    # The restricted appendix and the restricted item's paper are never asked for.
    assert not site.requests_to("s7003") and not site.requests_to("s7004")
    assert not any(b"SECRET" in item.data for item in ingest.items)
    assert summary.restricted_skipped == 3  # appendix B; item 8 and its enclosure
    assert not summary.documents_failed
    used_pages = bool(site.requests_to("/somerset/ieListDocuments.aspx"))
    assert used_pages == (mode == "public pages")


def test_a_committee_without_an_id_is_found_by_its_title(site: FakeModernGov, settings: Settings) -> None:
    dorset = local_panels(site, "Dorset")
    with client_for(settings) as client:
        crawl(dorset, settings, since=dt.date(2019, 1, 1), until=dt.date(2019, 3, 31), client=client,
              ingest=RecordingIngest())
    first_ask = site.requests_to("/dorset-old/mgWebService.asmx/GetMeetings")[0]
    asked = dict(parse_qsl(urlsplit(first_ask.path).query))
    assert asked["lCommitteeId"] == "138"  # the exact title wins over the sub-committee


def test_with_the_web_service_off_a_committee_is_found_on_the_public_list_and_the_route_is_reported(
        site: FakeModernGov, settings: Settings) -> None:
    site.service_off.add("/dorset-old")
    with client_for(settings) as client:
        summary = crawl(local_panels(site, "Dorset"), settings, since=dt.date(2019, 1, 1),
                        until=dt.date(2019, 3, 31), client=client, ingest=RecordingIngest())
    assert [(c.host, c.committee_id, c.title, c.via) for c in summary.committees_found] == [
        ("dorset.moderngov.co.uk", 138, "Police and Crime Panel", "the public committee list (mgListCommittees.aspx)")]
    assert site.requests_to("/dorset-old/ieListMeetings.aspx?CId=138&Year=2019")
    assert site.requests_to("/dorset-old/ieListDocuments.aspx?CId=138&MId=1663")  # 404 here: reported
    assert [f.url for f in summary.documents_failed] == [
        "https://dorset.moderngov.co.uk/ieListDocuments.aspx?CId=138&MId=1663"]


def test_a_title_never_picks_a_sub_committee_and_ambiguity_names_the_candidates() -> None:
    committees = [Committee(140, "Police and Crime Panel Complaints Sub-Committee"),
                  Committee(232, "Cleveland Police and Crime Panel Complaint Sub-Committee"),
                  Committee(231, "Cleveland Police & Crime Panel")]
    assert find_committee(committees, "Cleveland Police and Crime Panel", "rcbc").id == 231
    with pytest.raises(MalformedResponse, match="0 committees titled like 'Police and Crime Panel'"):
        find_committee(committees[:2], "Police and Crime Panel", "x")
    two = [Committee(1, "Dorset Police and Crime Panel"), Committee(2, "Dorset Council - Police and Crime Panel")]
    with pytest.raises(MalformedResponse, match="2 committees.*1 'Dorset Police and Crime Panel'.*set committee_id"):
        find_committee(two, "Police and Crime Panel", "x")


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

