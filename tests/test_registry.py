"""The registry of panels: the bundled file covers every force, and a user's own file merges over it."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from precedent.ingest.crawl.registry import BadRegistry, load_registry, registry_for, select_panels
from precedent.ingest.forces import all_forces
from precedent.ingest.settings import Settings
from tests.conftest import ROOT, SHARED
from tests.fake_sites import FakeModernGov, build_moderngov_site, serving


def panels_csv() -> list[dict[str, str]]:
    with (SHARED / "panels.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def by_force(user: Path | None = None) -> dict:  # type: ignore[type-arg]
    return {p.force: p for p in load_registry(user=user)}


# --- the bundled registry ----------------------------------------------------------------------------


def test_the_bundled_registry_has_every_force_once_with_a_status() -> None:
    panels = load_registry()
    assert sorted(p.force for p in panels) == sorted(f.name for f in all_forces())
    assert len(panels) == 41
    for panel in panels:
        assert panel.status in ("crawlable", "needs verification", "unsupported")
        if panel.status != "crawlable":
            assert panel.status_reason, panel.force  # never a doubt or a gap without its reason


def test_every_verified_row_of_panels_csv_is_crawlable_at_its_host_and_committee() -> None:
    panels = by_force()
    verified = [row for row in panels_csv() if row["status"] == "verified"]
    assert len(verified) == 28
    for row in verified:
        panel = panels[row["force"]]
        assert panel.status == "crawlable", (row["force"], panel.status_reason)
        sites = [(s.base_url, s.committee_id) for s in panel.crawl_sites]
        assert (row["base_url"], int(row["committee_id"])) in sites, row["force"]


def test_every_partial_row_is_reachable_by_a_tested_source_or_unsupported_with_its_reason() -> None:
    panels = by_force()
    for row in panels_csv():
        if row["status"] == "verified":
            continue
        panel = panels[row["force"]]
        system = row["system"].lower()
        systems = {s.system for s in panel.crawl_sites}
        if system.startswith("cmis"):
            assert systems == {"cmis"}, row["force"]
        elif system.startswith("moderngov"):
            assert "moderngov" in systems, row["force"]
        elif panel.status == "unsupported":
            assert "meeting system was not seen" in panel.status_reason, row["force"]
        else:  # a panel website or host-council pages
            assert "listing" in systems, row["force"]
        assert panel.status in ("needs verification", "unsupported"), row["force"]


def test_the_registry_header_names_the_shared_file_relative_to_the_repository() -> None:
    text = (ROOT / "ingest/crawl/registry.toml").read_text()
    assert "../shared/panels.csv" in text and "/work/" not in text


def test_naming_an_unsupported_force_says_why_and_how_to_add_it() -> None:
    with pytest.raises(BadRegistry, match="meeting system was not seen.*--registry FILE"):
        select_panels(load_registry(), ["Nottinghamshire"])
    assert "Nottinghamshire" not in {p.force for p in select_panels(load_registry())}


# --- a user's registry -------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, name: str = "my-panels.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_user_file_overrides_one_sites_date_range_and_keeps_the_rest(tmp_path: Path) -> None:
    user = write(tmp_path, '''
[[panel]]
force = "Dorset"
  [[panel.site]]
  base_url = "https://dorset.moderngov.co.uk"
  from = 2014-01-01
''')
    dorset = by_force(user)["Dorset"]
    old = [s for s in dorset.sites if s.host == "dorset.moderngov.co.uk"][0]
    assert (old.start, old.end, old.committee_title) == (dt.date(2014, 1, 1), dt.date(2019, 3, 31),
                                                        "Police and Crime Panel")
    assert len(dorset.sites) == 2 and str(user) in dorset.defined_in


def test_a_user_file_sets_a_committee_id_and_its_doubt_goes(tmp_path: Path) -> None:
    user = write(tmp_path, '''
[[panel]]
force = "Cleveland"
  [[panel.site]]
  base_url = "https://rcbc.moderngov.co.uk"
  committee_id = 231
''')
    cleveland = by_force(user)["Cleveland"]
    assert cleveland.crawl_sites[0].committee_id == 231
    assert cleveland.status == "crawlable"  # the unsupported Stockton years stay listed in the reason
    assert "AKS egenda" in cleveland.status_reason


def test_a_user_file_adds_a_site_or_replaces_a_forces_hosts(tmp_path: Path) -> None:
    user = write(tmp_path, '''
[[panel]]
force = "Sussex"
  [[panel.site]]
  base_url = "https://democracy.eastsussex.gov.uk"
  committee_id = 423
  until = 2017-12-31

[[panel]]
force = "Nottinghamshire"
replace_sites = true
  [[panel.site]]
  system = "cmis"
  base_url = "https://cmis.example.gov.uk/cmis"
  page = "Meetings"
  tab_id = 70
  module_id = 397
  committee_title = "Nottinghamshire Police and Crime Panel"
''')
    panels = by_force(user)
    assert [s.host for s in panels["Sussex"].sites] == ["westsussex.moderngov.co.uk", "democracy.eastsussex.gov.uk"]
    notts = panels["Nottinghamshire"]
    assert notts.status == "crawlable" and [s.system for s in notts.sites] == ["cmis"]
    assert [p.force for p in select_panels(list(panels.values()), ["Nottinghamshire"])] == ["Nottinghamshire"]


def test_a_user_file_can_leave_the_bundled_panels_out(tmp_path: Path) -> None:
    user = write(tmp_path, '''
bundled = false

[[panel]]
force = "Gwent"
  [[panel.site]]
  system = "listing"
  base_url = "https://www.gwentpcp.org.uk/en/meetings/"
''')
    panels = load_registry(user=user)
    assert [(p.force, p.status) for p in panels] == [("Gwent", "crawlable")]


@pytest.mark.parametrize(("text", "expected"), [
    ('[[panel]]\nforce = "Dorset"\n  [[panel.site]]\n  base_url = "https://new.example.gov.uk"\n'
     '  committee_id = -3\n',
     ["[[panel]] #1 (force 'Dorset')", "[[panel.site]] #1 (https://new.example.gov.uk)", "committee_id",
      "greater than 0"]),
    ('[[panel]]\nforce = "Surrey"\n  [[panel.site]]\n  base_url = "https://a.example.gov.uk"\n'
     '  committee_id = 1\n[[panel]]\nforce = "Atlantis"\n  [[panel.site]]\n  base_url = "https://b.example"\n'
     '  committee_id = 2\n',
     ["[[panel]] #2 (force 'Atlantis')", "not a force name"]),
    ('[[panel]]\nforce = "Essex"\nreplace_sites = true\n  [[panel.site]]\n  system = "cmis"\n'
     '  base_url = "https://cmis.example.gov.uk/cmis"\n  committee_id = 127\n',
     ["[[panel]] #1 (force 'Essex')", "[[panel.site]] #1 (https://cmis.example.gov.uk/cmis)", "page, tab_id, module_id"]),
    ('[[panel]]\nforce = "Leicestershire"\n  [[panel.site]]\n  base_url = "https://democracy.leics.gov.uk"\n'
     '  until = 2020-01-01\n',
     ["[[panel]] #1 (force 'Leicestershire')", "matches 2 sites", "replace_sites = true"]),
    ('[[panel]]\nforce = "Kent"\n  [[panel.site]]\n  base_url = "https://x.example"\n  comittee_id = 4\n',
     ["[[panel]] #1 (force 'Kent')", "[[panel.site]] #1 (https://x.example)", "comittee_id"]),
    ('[[panel]\nforce = "Kent"\n', ["not valid TOML"]),
])
def test_a_bad_user_file_is_refused_naming_the_file_and_the_entry(
        tmp_path: Path, text: str, expected: list[str]) -> None:
    user = write(tmp_path, text)
    with pytest.raises(BadRegistry) as err:
        load_registry(user=user)
    message = str(err.value)
    assert message.startswith(str(user) + ": ")
    for fragment in expected:
        assert fragment in message, message


def test_a_missing_user_file_says_so() -> None:
    with pytest.raises(BadRegistry, match="registry file not found"):
        load_registry(user=Path("/nonexistent/panels.toml"))


def test_precedent_registry_in_the_environment_is_merged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    user = write(tmp_path, '[[panel]]\nforce = "Kent"\n  [[panel.site]]\n  base_url = "https://democracy.kent.gov.uk"\n'
                           '  from = 2020-01-01\n')
    monkeypatch.setenv("PRECEDENT_REGISTRY", str(user))
    kent = {p.force: p for p in registry_for(Settings())}["Kent"]
    assert kent.sites[0].start == dt.date(2020, 1, 1)
    monkeypatch.setenv("PRECEDENT_REGISTRY", "")
    assert {p.force: p for p in registry_for(Settings())}["Kent"].sites[0].start is None


# --- a merged registry pointed at a local site, through the command line -----------------------------


@pytest.fixture
def site() -> Iterator[FakeModernGov]:
    with serving(build_moderngov_site()) as fake:
        yield fake  # type: ignore[misc]


def test_crawl_with_a_merged_registry_reads_the_users_host_into_a_real_index(
        tmp_path: Path, site: FakeModernGov, monkeypatch: pytest.MonkeyPatch) -> None:
    from precedent.api.cli import app
    from precedent.ingest.store import Store

    user = write(tmp_path, f'''
[[panel]]
force = "Devon and Cornwall"
replace_sites = true
  [[panel.site]]
  base_url = "{site.base}/plymouth"
  committee_id = 1051
  from = 2023-06-01
  until = 2023-06-30
''')
    monkeypatch.setenv("PRECEDENT_CRAWL_DELAY_S", "0")
    data = tmp_path / "data"
    result = CliRunner().invoke(app, ["crawl", "Devon and Cornwall", "--registry", str(user),
                                      "--data-dir", str(data), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    # 16 June 2023 only: two items with minutes; its PDF is a 404, reported.
    assert (summary["meetings_seen"], summary["documents_new"]) == (1, 2)
    assert [f["url"] for f in summary["documents_failed"]] == [f"{site.base}/plymouth/documents/s5101/Annual%20Report.pdf"]
    asked = [h.path for h in site.requests_to("GetMeetings")]
    assert asked and all("sFromDate=01/06/2023&sToDate=30/06/2023" in p for p in asked)
    store = Store.open(Settings(data_dir=data))
    try:
        ids = sorted(d.document_id for d in store.list_documents())
    finally:
        store.close()
    assert ids == ["mg-127-0-0-1-item-30102", "mg-127-0-0-1-item-30103"]
