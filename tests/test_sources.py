"""`precedent sources` and GET /sources: one row per force, with its source, status, last crawl and counts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from precedent.api.app import create_app
from precedent.api.cli import app as cli
from precedent.ingest.crawl.crawl import crawl
from precedent.ingest.crawl.http import PoliteClient
from precedent.ingest.crawl.lock import CrawlLock
from precedent.ingest.crawl.registry import load_registry, select_panels
from precedent.ingest.crawl.state import CrawlState
from precedent.ingest.settings import Settings
from tests.fake_sites import MODERNGOV_ORIGINS, FakeModernGov, RecordingIngest, build_moderngov_site, serving


def sources_json(*args: str) -> list[dict]:  # type: ignore[type-arg]
    result = CliRunner().invoke(cli, ["sources", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_sources_lists_all_41_forces_with_their_status_and_the_reason_for_any_doubt(tmp_path: Path) -> None:
    rows = sources_json("--data-dir", str(tmp_path / "empty"))
    assert len(rows) == 41 and [r["force"] for r in rows] == sorted(r["force"] for r in rows)
    by_force = {r["force"]: r for r in rows}
    assert {s: sum(r["status"] == s for r in rows) for s in ("crawlable", "needs verification", "unsupported")} == {
        "crawlable": 28, "needs verification": 12, "unsupported": 1}
    essex = by_force["Essex"]
    assert (essex["system"], essex["hosts"], essex["committee"], essex["status"]) == (
        "CMIS", ["cmis.essex.gov.uk"], "127", "crawlable")
    assert by_force["Leicestershire"]["hosts"] == ["democracy.leics.gov.uk", "cabinet.leicester.gov.uk"]
    assert by_force["Nottinghamshire"]["status"] == "unsupported" and by_force["Nottinghamshire"]["reason"]
    assert by_force["Cumbria"]["system"] == "ModernGov + listing page"
    assert by_force["Cumbria"]["sites"][0]["until"] == "2023-03-31"  # as a registry file would write it
    assert all(r["reason"] for r in rows if r["status"] != "crawlable")
    assert all(r["documents"] == 0 and r["last_crawl"] is None for r in rows)


def test_the_text_table_names_every_force_and_sums_up(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["sources", "--data-dir", str(tmp_path / "empty")])
    assert result.exit_code == 0, result.output
    assert "41 forces: 28 crawlable, 12 need verification, 1 unsupported; 0 indexed" in result.output
    assert "meeting system was not seen" in result.output  # the unsupported reason, under its row


def test_get_sources_matches_the_cli_and_counts_what_the_index_holds(client: TestClient,
                                                                      seed_settings: Settings) -> None:
    body = client.get("/sources").json()
    assert body["count"] == 41 and body["statuses"]["unsupported"] == 1
    facets = {f["value"]: f["count"] for f in client.get("/facets").json()["forces"]}
    counted = {r["force"]: r["documents"] for r in body["sources"] if r["documents"]}
    assert counted == facets and body["indexed"] == len(facets)
    assert all(r["chunks"] > r["documents"] for r in body["sources"] if r["documents"])
    assert body["sources"] == sources_json("--data-dir", str(seed_settings.data_dir))


# --- last crawl per force ----------------------------------------------------------------------------


@pytest.fixture
def site() -> Iterator[FakeModernGov]:
    with serving(build_moderngov_site()) as fake:
        yield fake  # type: ignore[misc]


def test_sources_and_health_show_each_forces_last_crawl(tmp_path: Path, site: FakeModernGov) -> None:
    import datetime as dt

    settings = Settings(data_dir=tmp_path / "data", crawl_delay_s=0, crawl_retries=0, rate_limit_per_minute=0)
    origins = {canonical: site.base + prefix for canonical, prefix in MODERNGOV_ORIGINS.items()}
    panels = [p.served_from(origins) for p in select_panels(load_registry(), ["Devon and Cornwall", "Leicestershire"])]
    with PoliteClient(settings, backoff_s=0.001) as client:
        crawl(panels, settings, since=dt.date(2023, 1, 1), until=dt.date(2023, 12, 31), client=client,
              ingest=RecordingIngest())
    rows = {r["force"]: r for r in sources_json("--data-dir", str(settings.data_dir))}
    devon = rows["Devon and Cornwall"]["last_crawl"]
    assert devon["status"] == "failures" and devon["documents_failed"] == 2  # a 404 PDF, malformed XML
    assert (devon["meetings"], devon["documents_new"]) == (2, 9) and devon["finished"]  # 2023 only
    assert rows["Leicestershire"]["last_crawl"]["status"] == "ok"
    assert rows["Kent"]["last_crawl"] is None

    with TestClient(create_app(settings)) as api:
        health = api.get("/health").json()  # 503: no index (the crawl's ingest was a stand-in)
    assert health["crawls"]["Devon and Cornwall"]["documents_new"] == 9
    assert set(health["crawls"]) == {"Devon and Cornwall", "Leicestershire"}


def test_a_crawl_that_never_finished_shows_as_interrupted_unless_it_is_still_running(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with CrawlState.open(settings) as state:
        state.start_force("Surrey")
    row = {r["force"]: r for r in sources_json("--data-dir", str(settings.data_dir))}["Surrey"]
    assert row["last_crawl"]["status"] == "interrupted"
    with CrawlLock(settings):
        row = {r["force"]: r for r in sources_json("--data-dir", str(settings.data_dir))}["Surrey"]
        assert row["last_crawl"]["status"] == "running"
