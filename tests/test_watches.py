"""Saved searches (watches): checked against new and changed papers after every ingest, read as Atom feeds
with a real feed parser, managed from the CLI and over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from precedent.api.cli import app
from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from precedent.search.retrieve import Searcher
from precedent.search.watches import WatchStore, add_watch, check_after_ingest, check_watches
from precedent.search.watches.check import check_watch
from tests.helpers import panel_papers

CALLS = "101 non-emergency calls answered"
DORSET = "e05_dorset_precept_2014.txt"
CONTACT = "e04_devon_cornwall_contact_estates_2025.txt"
HEARING = "e17_wiltshire_confirmation_2018.txt"
ADMIN = "watch-admin-key"
runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _feed(settings: Settings, watch_id: str):  # type: ignore[no-untyped-def]
    from precedent.api.app import create_app

    with TestClient(create_app(settings)) as client:
        response = client.get(f"/watches/{watch_id}/feed.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory, panels_dir: Path) -> tuple[Settings, dict[str, str], Path]:
    """A store that held the Dorset paper when three watches were saved, then took two more papers."""
    root = tmp_path_factory.mktemp("watched")
    settings = Settings(data_dir=root / "data", rate_limit_per_minute=0)
    papers = panel_papers(root / "papers", panels_dir, (DORSET,))
    ingest_paths([papers], settings)
    store = Store.open(settings)
    with WatchStore.open(settings) as watches:
        ids = {
            "calls": add_watch(watches, store, CALLS).watch_id,
            "calls in Dorset": add_watch(watches, store, CALLS, ["dorset"]).watch_id,
            "precept": add_watch(watches, store, "police precept increase for a Band D property").watch_id,
            "drones": add_watch(watches, store, "licensing of hobby drone pilots").watch_id,
        }
    papers = panel_papers(root / "papers", panels_dir, (DORSET, CONTACT, HEARING))
    ingest_paths([papers], settings)  # no check here: the queue must wait for one
    report = check_after_ingest(Searcher(settings, store=store), store)
    assert report.chunks > 0 and report.watches == 4
    return settings, ids, papers


def test_a_watch_reports_passages_of_papers_that_arrive_after_it_and_clear_the_gate(
    watched: tuple[Settings, dict[str, str], Path],
) -> None:
    settings, ids, _ = watched
    with WatchStore.open(settings) as watches:
        calls = watches.entries(ids["calls"])
        assert calls, "the contact services paper discusses 101 calls"
        assert {e.citation.force for e in calls} == {"Devon and Cornwall"}
        assert any("101" in e.passage for e in calls)
        # The Dorset precept paper was in the index before any watch was saved: it is not news.
        assert watches.entries(ids["precept"]) == []
        # Filters hold, and a search with hits that do not clear the relevance gate records nothing.
        assert watches.entries(ids["calls in Dorset"]) == []
        assert watches.entries(ids["drones"]) == []


def test_the_feed_is_valid_atom_with_citation_titles_passages_links_and_meeting_dates(
    watched: tuple[Settings, dict[str, str], Path],
) -> None:
    settings, ids, _ = watched
    parsed = _feed(settings, ids["calls"])
    assert parsed.version == "atom10"
    assert parsed.feed.title == f"Precedent watch: {CALLS}"
    with WatchStore.open(settings) as watches:
        stored = {e.entry_id: e for e in watches.entries(ids["calls"])}
    assert len(parsed.entries) == len(stored)
    for entry in parsed.entries:
        kept = stored[entry.id]
        assert entry.title == kept.citation.display
        assert entry.title.startswith("Devon and Cornwall Police and Crime Panel, 12 September 2025")
        assert entry.content[0].value == " ".join(kept.passage.split())
        assert entry.link.startswith("http://testserver/#doc=") and "chunk=" in entry.link
        assert entry.published_parsed[:3] == (2025, 9, 12)  # the meeting date
        assert entry.id.startswith("urn:uuid:")


def test_ingesting_unchanged_or_partly_changed_papers_never_repeats_an_entry(
    watched: tuple[Settings, dict[str, str], Path],
) -> None:
    settings, ids, papers = watched
    before = [e.id for e in _feed(settings, ids["calls"]).entries]
    code, out = _cli("ingest", str(papers), "--json", "--data-dir", str(settings.data_dir))
    assert code == 0 and json.loads(out)["unchanged"] == 3
    # A paper corrected in one place: only its changed passage is checked again.
    paper = papers / CONTACT
    paper.write_text(paper.read_text() + "\nAddendum: the Chair thanked officers for the estates report.\n")
    code, out = _cli("ingest", str(papers), "--json", "--data-dir", str(settings.data_dir))
    result = json.loads(out)
    assert code == 0 and result["updated"] == 1 and result["watches"]["chunks"] <= 2
    after = [e.id for e in _feed(settings, ids["calls"]).entries]
    assert sorted(after) == sorted(before), "the same passages keep the same ids, and none is repeated"


def test_a_check_interrupted_after_recording_matches_repeats_nothing_when_run_again(
    tmp_path: Path, panels_dir: Path,
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    with WatchStore.open(settings) as watches:
        watch = add_watch(watches, None, CALLS)
    ingest_paths([panel_papers(tmp_path / "papers", panels_dir, (CONTACT,))], settings)
    store = Store.open(settings)
    searcher = Searcher(settings, store=store)
    fresh = store.fresh_chunks()
    with WatchStore.open(settings) as watches:
        # The first run records its matches, then dies before it lets the queue go.
        first = watches.add_entries(watch, [(h.citation, h.chunk.text, s) for h, s in check_watch(searcher, watch, fresh)])
        assert first > 0
        rerun = check_watches(searcher, store, watches)
        assert rerun.new_entries.get(watch.watch_id, 0) == 0 and watches.count(watch.watch_id) == first
    assert store.fresh_chunks() == []


# -- the command line and HTTP ---------------------------------------------------------------------


def test_watch_commands_add_list_and_remove(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    code, out = _cli("watch", "add", CALLS, "--force", "devon and cornwall", "--since", "2020-01-01", "--json",
                     "--data-dir", data_dir)
    assert code == 0, out
    watch = json.loads(out)
    assert watch["forces"] == ["Devon and Cornwall"] and watch["since"] == "2020-01-01"
    code, out = _cli("watch", "list", "--json", "--data-dir", data_dir)
    assert [w["watch_id"] for w in json.loads(out)] == [watch["watch_id"]]
    assert _cli("watch", "remove", watch["watch_id"], "--data-dir", data_dir)[0] == 0
    code, out = _cli("watch", "remove", watch["watch_id"], "--data-dir", data_dir)
    assert code == 1 and "no watch" in out
    code, out = _cli("watch", "add", CALLS, "--force", "Atlantis", "--data-dir", data_dir)
    assert code == 1 and "unknown force 'Atlantis'" in out
    code, out = _cli("watch", "add", CALLS, "--since", "next week", "--data-dir", data_dir)
    assert code == 1 and "is not a date" in out


@pytest.fixture()
def admin_client(tmp_path: Path) -> Iterator[TestClient]:
    from precedent.api.app import create_app

    settings = Settings(data_dir=tmp_path / "data", admin_key=ADMIN, rate_limit_per_minute=0)
    with TestClient(create_app(settings)) as client:
        yield client


def test_watches_over_http_need_the_admin_key_to_change_and_an_upload_fills_their_feeds(
    admin_client: TestClient, panels_dir: Path,
) -> None:
    admin = {"Authorization": f"Bearer {ADMIN}"}
    assert admin_client.post("/watches", json={"query": CALLS}).status_code == 401
    assert admin_client.post("/watches", json={"query": CALLS}, headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert admin_client.post("/watches", json={"query": " "}, headers=admin).status_code == 422
    created = admin_client.post("/watches", json={"query": CALLS}, headers=admin)
    assert created.status_code == 201, created.text
    watch = created.json()
    assert watch["feed"].endswith(f"/watches/{watch['watch_id']}/feed.xml")

    paper = panels_dir / CONTACT
    uploaded = admin_client.post("/documents", headers=admin, files={"file": (CONTACT, paper.read_bytes())},
                                 data={"force": "Devon and Cornwall", "meeting_date": "2025-09-12"})
    assert uploaded.status_code == 201, uploaded.text

    listing = admin_client.get("/watches").json()
    assert listing["writable"] is True and listing["count"] == 1
    (item,) = listing["watches"]
    assert item["entries"] >= 1 and 1 <= len(item["latest"]) <= 3
    assert item["latest"][0]["citation"]["display"].startswith("Devon and Cornwall Police and Crime Panel")
    parsed = feedparser.parse(admin_client.get(f"/watches/{watch['watch_id']}/feed.xml").content)
    assert not parsed.bozo and len(parsed.entries) == item["entries"]

    assert admin_client.delete(f"/watches/{watch['watch_id']}").status_code == 401
    assert admin_client.delete(f"/watches/{watch['watch_id']}", headers=admin).json() == {"deleted": watch["watch_id"]}
    assert admin_client.delete(f"/watches/{watch['watch_id']}", headers=admin).status_code == 404
    assert admin_client.get(f"/watches/{watch['watch_id']}/feed.xml").status_code == 404


def test_without_an_admin_key_watches_can_be_read_but_not_saved(client: TestClient, seed_settings: Settings) -> None:
    listing = client.get("/watches").json()
    assert listing == {"watches": [], "count": 0, "writable": False}
    assert client.post("/watches", json={"query": CALLS}).status_code == 403
    assert client.get("/watches/abc/feed.xml").status_code == 404
    assert not (seed_settings.data_dir / "watches.sqlite3").exists(), "reading must not create the watch store"
