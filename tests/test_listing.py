"""The listing-page source: a panel's own website with links to its papers (tests/fixtures/listing).

The bundled registry marks West Yorkshire's website "needs verification"; these tests do what a user
would once they had found the meetings page: point a registry of their own at it (here, a local site).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from precedent.ingest.crawl.crawl import crawl
from precedent.ingest.crawl.http import PoliteClient
from precedent.ingest.crawl.listing import date_in_filename, parse_listing_page
from precedent.ingest.crawl.registry import load_registry, select_panels
from precedent.ingest.crawl.run import CrawlSummary
from precedent.ingest.settings import Settings
from tests.fake_sites import FIXTURES, FakeSite, RecordingIngest, serving
from tests.helpers import docx_bytes, pdf_bytes


def build_site() -> FakeSite:
    site = FakeSite()
    site.put_page("/meetings", "listing/meetings.html")
    site.put_page("/meetings/2015-02-06", "listing/meeting_2015-02-06.html")
    site.put_page("/meetings/2015-12-11", "listing/meeting_2015-12-11.html")
    site.put_pdf("/files/PCP-Minutes-2016-02-05.pdf", "West Yorkshire Police and Crime Panel. Draft Minutes.",
                 "1. The Panel received the Commissioner's precept proposal for 2016/17.")
    site.put_pdf("/files/agenda-pack-june.pdf", "Agenda. West Yorkshire Police and Crime Panel.",
                 "Item 5: Postponement of the PCP Annual Meeting 2020.")
    site.put_pdf("/files/minutes-june.pdf", "West Yorkshire Police and Crime Panel. Draft Minutes.",
                 "5.1 The Panel received a report on changes to its annual business during the pandemic.")
    site.put_pdf("/files/pcp-annual-report.pdf", "West Yorkshire Police and Crime Panel, 15 July 2016",
                 "Annual Report of the Panel.",
                 "The Panel held the Commissioner to account for the Transformation Fund and for automatic "
                 "number plate recognition investment.")
    site.put_pdf("/files/item-2-draft-minutes.pdf", "West Yorkshire Police and Crime Panel. Draft Minutes.",
                 "4. PCC Precept Proposal 2015/16. The Commissioner presented his proposed precept.")
    site.put_pdf("/files/item-5-precept.pdf", "Precept Proposal 2015/16.",
                 "The Commissioner proposes a council tax increase of 1.99 per cent for policing.")
    site.put("/files/item-6-complaints.docx", docx_bytes("Complaints update.", "Two complaints were resolved."),
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    site.put_pdf("/files/item-9-appendix.pdf", "SECRET exempt appendix.")
    return site


@pytest.fixture
def site() -> Iterator[FakeSite]:
    with serving(build_site()) as fake:
        yield fake


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", crawl_delay_s=0, crawl_timeout_s=5, crawl_retries=1,
                    crawl_max_requests=500)


def user_registry(tmp_path: Path, site: FakeSite) -> Path:
    path = tmp_path / "my-panels.toml"
    path.write_text(f'''
[[panel]]
force = "West Yorkshire"
replace_sites = true
  [[panel.site]]
  system = "listing"
  base_url = "{site.base}/meetings"
  follow = "/meetings/\\\\d{{4}}-\\\\d{{2}}-\\\\d{{2}}$"
''')
    return path


def run(tmp_path: Path, site: FakeSite, settings: Settings, ingest: RecordingIngest | None,
        **options: object) -> CrawlSummary:
    panels = select_panels(load_registry(user=user_registry(tmp_path, site)), ["West Yorkshire"])
    with PoliteClient(settings, backoff_s=0.001) as client:
        return crawl(panels, settings, client=client, ingest=ingest, **options)  # type: ignore[arg-type]


def by_file(ingest: RecordingIngest) -> dict[str, object]:
    return {item.source.rsplit("/", 1)[1]: item for item in ingest.items}


# --- formats -----------------------------------------------------------------------------------------


def test_dates_in_file_names_are_read_in_the_forms_councils_use() -> None:
    assert date_in_filename("https://x.gov.uk/files/PCP-Minutes-2016-02-05.pdf") == dt.date(2016, 2, 5)
    assert date_in_filename("https://x.gov.uk/files/minutes_05.02.16.pdf") == dt.date(2016, 2, 5)
    assert date_in_filename("https://x.gov.uk/files/Agenda%2023-January-2015.pdf") == dt.date(2015, 1, 23)
    assert date_in_filename("https://x.gov.uk/files/annual-report-2015-16.pdf") is None


def test_page_furniture_links_are_not_papers() -> None:
    docs, links = parse_listing_page((FIXTURES / "listing/meetings.html").read_bytes(), "https://wy.example/meetings")
    assert "https://wy.example/files/privacy-notice.pdf" not in {d.url for d in docs}
    assert ("https://wy.example/meetings/2015-02-06", "6 February 2015") in links


def test_a_listing_page_keeps_its_trailing_slash_so_relative_links_resolve_as_a_browser_would() -> None:
    gwent = select_panels(load_registry(), ["Gwent"])[0].sites[0]
    assert gwent.base_url == "https://www.gwentpcp.org.uk/en/the-panel/"
    page = b'<html><body><a href="papers/agenda-28-09-2018.pdf">Agenda</a></body></html>'
    (doc,), _ = parse_listing_page(page, gwent.base_url)
    assert doc.url == "https://www.gwentpcp.org.uk/en/the-panel/papers/agenda-28-09-2018.pdf"
    assert doc.date == dt.date(2018, 9, 28)


# --- the crawl ---------------------------------------------------------------------------------------


def test_every_paper_gets_its_date_from_the_link_the_row_the_heading_or_the_file_name(
        tmp_path: Path, site: FakeSite, settings: Settings) -> None:
    ingest = RecordingIngest()
    summary = run(tmp_path, site, settings, ingest)
    docs = by_file(ingest)
    dates = {name: item.meta.meeting_date for name, item in docs.items()}  # type: ignore[attr-defined]
    assert dates == {
        "PCP-Minutes-2016-02-05.pdf": dt.date(2016, 2, 5),  # file name
        "agenda-pack-june.pdf": dt.date(2020, 6, 12),  # the heading above
        "minutes-june.pdf": dt.date(2020, 6, 12),
        "pcp-annual-report.pdf": None,  # nowhere on the page: the pipeline reads it off the paper
        "item-2-draft-minutes.pdf": dt.date(2015, 2, 6),  # the link that led to its meeting page
        "item-5-precept.pdf": dt.date(2015, 2, 6),
        "item-6-complaints.docx": dt.date(2015, 2, 6),
    }
    precept = docs["item-5-precept.pdf"]
    assert precept.meta.title == "Item 5 - PCC Precept Proposal 2015/16"  # type: ignore[attr-defined]
    assert precept.meta.doc_type == "report" and docs["minutes-june.pdf"].meta.doc_type == "minutes"  # type: ignore[attr-defined]
    assert docs["agenda-pack-june.pdf"].meta.doc_type == "other"  # type: ignore[attr-defined]
    assert precept.meta.force == "West Yorkshire"  # type: ignore[attr-defined]
    assert summary.documents_new == 7 and summary.meetings_seen == 3  # the listing and two meeting pages
    assert not site.requests_to("item-9-appendix") and summary.restricted_skipped == 1
    assert not site.requests_to("privacy-notice") and not site.requests_to("/about")


def test_a_date_range_keeps_undated_papers_and_drops_those_outside_it(
        tmp_path: Path, site: FakeSite, settings: Settings) -> None:
    ingest = RecordingIngest()
    run(tmp_path, site, settings, ingest, since=dt.date(2016, 1, 1), until=dt.date(2016, 12, 31))
    assert set(by_file(ingest)) == {"PCP-Minutes-2016-02-05.pdf", "pcp-annual-report.pdf"}


def test_a_recrawl_is_conditional_and_reingests_only_a_changed_paper(
        tmp_path: Path, site: FakeSite, settings: Settings) -> None:
    ingest = RecordingIngest()
    run(tmp_path, site, settings, ingest)
    site.reset_hits()
    ingest.batches.clear()
    quiet = run(tmp_path, site, settings, ingest)
    assert ingest.items == [] and quiet.documents_unchanged == 7
    papers = [h for h in site.hits if h.path.startswith("/files/")]
    assert papers and all(h.conditional and h.status == 304 for h in papers)

    site.put("/files/item-5-precept.pdf", pdf_bytes("Precept Proposal 2015/16 (revised).",
                                                    "The Commissioner proposes a 1.5 per cent increase."),
             "application/pdf")
    ingest.batches.clear()
    changed = run(tmp_path, site, settings, ingest)
    assert [i.source.rsplit("/", 1)[1] for i in ingest.items] == ["item-5-precept.pdf"]
    assert changed.documents_changed == 1


def test_a_missing_meeting_page_is_reported_and_the_rest_is_crawled(
        tmp_path: Path, site: FakeSite, settings: Settings) -> None:
    del site.resources["/meetings/2015-12-11"]
    ingest = RecordingIngest()
    summary = run(tmp_path, site, settings, ingest)
    assert [(f.url.rsplit("/", 1)[1], f.error) for f in summary.documents_failed] == [("2015-12-11", "HTTP 404")]
    assert summary.documents_new == 7


def test_a_listing_crawl_lands_in_a_real_index_and_undated_papers_are_dated_from_their_text(
        tmp_path: Path, site: FakeSite, settings: Settings) -> None:
    from precedent.ingest.store import Store

    summary = run(tmp_path, site, settings, None)
    assert summary.documents_new == 7, summary.documents_failed
    store = Store.open(settings)
    try:
        documents = {d.url.rsplit("/", 1)[1]: d for d in store.list_documents() if d.url}
    finally:
        store.close()
    assert documents["pcp-annual-report.pdf"].meeting_date == dt.date(2016, 7, 15)
    assert documents["item-5-precept.pdf"].meeting_date == dt.date(2015, 2, 6)
    assert all(d.force == "West Yorkshire" for d in documents.values())
