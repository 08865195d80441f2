"""Crawls that run themselves: `precedent crawl --all` under a lock, POST /crawl over HTTP, and kill -9.

Every crawl here reads a user registry with `bundled = false` pointing Devon and Cornwall at the local
ModernGov site (tests/fake_sites.py), so nothing ever leaves the machine.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from precedent.api.app import create_app
from precedent.api.cli import app as cli
from precedent.ingest.crawl.lock import CrawlLock
from precedent.ingest.crawl.state import STATE_FILE
from precedent.ingest.settings import Settings
from tests.fake_sites import FakeModernGov, build_moderngov_site, serving
from tests.helpers import live_server

ADMIN_KEY = "test-admin-key-0123456789"
# Devon and Cornwall, January 2023 to June 2024 on the local site: meetings 10245 (four items with
# minutes, three files), 10300 (two items with minutes; its PDF is a 404), 10350 (malformed), 10400.
EXPECTED = sorted([
    "mg-127-0-0-1-item-30001", "mg-127-0-0-1-item-30002", "mg-127-0-0-1-item-30003",
    "mg-127-0-0-1-item-30004", "mg-127-0-0-1-doc-5001", "mg-127-0-0-1-doc-5002", "mg-127-0-0-1-doc-5004",
    "mg-127-0-0-1-item-30102", "mg-127-0-0-1-item-30103",
])


@pytest.fixture
def site() -> Iterator[FakeModernGov]:
    with serving(build_moderngov_site()) as fake:
        yield fake  # type: ignore[misc]


def local_registry(tmp_path: Path, site: FakeModernGov) -> Path:
    site.rewrite["https://democracy.plymouth.gov.uk"] = f"{site.base}/plymouth"  # its absolute links too
    path = tmp_path / "panels.toml"
    path.write_text(f'''
bundled = false

[[panel]]
force = "Devon and Cornwall"
  [[panel.site]]
  base_url = "{site.base}/plymouth"
  committee_id = 1051
  from = 2023-01-01
  until = 2024-06-30
''')
    return path


def crawl_env(registry: Path) -> dict[str, str]:
    return {**os.environ, "PRECEDENT_REGISTRY": str(registry), "PRECEDENT_CRAWL_DELAY_S": "0",
            "PRECEDENT_CRAWL_RETRIES": "0", "HF_HUB_OFFLINE": "1", "DO_NOT_TRACK": "1",
            "ANONYMIZED_TELEMETRY": "False"}


def stored_ids(data: Path) -> list[str]:
    with sqlite3.connect(data / "precedent.sqlite3") as conn:
        return sorted(r[0] for r in conn.execute("SELECT document_id FROM documents"))


# --- the lock ----------------------------------------------------------------------------------------


def test_a_crawl_while_another_holds_the_lock_says_already_running_and_exits_0(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with CrawlLock(Settings(data_dir=data)):
        result = CliRunner().invoke(cli, ["crawl", "--all", "--data-dir", str(data)])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("already running:") and f"pid {os.getpid()}" in result.output
        as_json = CliRunner().invoke(cli, ["crawl", "--all", "--data-dir", str(data), "--json"])
        assert as_json.exit_code == 0 and json.loads(as_json.output)["status"] == "already running"
    assert not (data / STATE_FILE).exists()  # it did nothing at all


def test_crawl_all_takes_no_force_names(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["crawl", "--all", "Kent", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1 and "--all crawls every panel" in result.output


# --- POST /crawl over HTTP ---------------------------------------------------------------------------


@pytest.fixture
def live_app(tmp_path: Path, site: FakeModernGov) -> Iterator[str]:
    settings = Settings(data_dir=tmp_path / "data", admin_key=ADMIN_KEY, registry=local_registry(tmp_path, site),
                        crawl_delay_s=0, crawl_retries=0, rate_limit_per_minute=0)
    with live_server(create_app(settings)) as url:
        yield url


def test_post_crawl_runs_to_done_with_counts_and_the_new_text_is_searchable(
        live_app: str, site: FakeModernGov) -> None:
    url = live_app
    auth = {"Authorization": f"Bearer {ADMIN_KEY}"}
    held = site.hold("/plymouth/mgWebService.asmx/GetMeeting?lMeetingId=10400")
    with httpx.Client(base_url=url, timeout=30) as http:
        started = http.post("/crawl", headers=auth, json={"forces": ["Devon and Cornwall"]})
        assert started.status_code == 202, started.text
        job_url = started.json()["url"]
        assert held.arrived.wait(timeout=180), "the crawl never reached the last meeting"
        # While it runs, a second crawl is refused at once, whoever asks.
        again = http.post("/crawl", headers=auth, json={})
        assert again.status_code == 409 and "already running" in again.json()["detail"]
        assert http.get(job_url, headers=auth).json()["status"] == "running"
        held.release.set()
        deadline = time.monotonic() + 180
        while (job := http.get(job_url, headers=auth).json())["status"] == "running":
            assert time.monotonic() < deadline, job
            time.sleep(0.2)
        assert job["status"] == "done", job
        summary = job["summary"]
        assert (summary["meetings_seen"], summary["documents_new"], summary["restricted_skipped"]) == (3, 9, 3), json.dumps(summary, indent=1)
        assert {f["url"].rsplit("/", 1)[-1] for f in summary["documents_failed"]} == {
            "Annual%20Report.pdf", "GetMeeting?lMeetingId=10350"}
        assert job["progress"]["documents"] == 9
        hits = http.get("/search", params={"q": "Safer Streets programme in Torbay", "k": 3}).json()["results"]
        assert hits[0]["citation"]["document_id"] == "mg-127-0-0-1-item-30103"
        assert hits[0]["citation"]["url"].endswith("/plymouth/mgAi.aspx?ID=30103")
        health = http.get("/health").json()
        assert health["crawls"]["Devon and Cornwall"]["status"] == "failures"
        assert health["crawls"]["Devon and Cornwall"]["documents_new"] == 9
        # The lock went with the job: the next crawl starts.
        assert http.post("/crawl", headers=auth, json={"dry_run": True}).status_code == 202


# --- kill -9 mid-way ---------------------------------------------------------------------------------


def test_a_crawl_killed_mid_way_is_completed_by_the_next_run_with_nothing_duplicated_or_lost(
        tmp_path: Path, site: FakeModernGov) -> None:
    data = tmp_path / "data"
    registry = local_registry(tmp_path, site)
    env = crawl_env(registry)
    # The first crawl is stopped while it asks for meeting 10300: meeting 10245 is in the index by then.
    held = site.hold("/plymouth/mgWebService.asmx/GetMeeting?lMeetingId=10300")
    precedent = str(Path(sys.executable).with_name("precedent"))
    first = subprocess.Popen([precedent, "crawl", "--all", "--data-dir", str(data), "--json"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert held.arrived.wait(timeout=240), first.stderr.read().decode() if first.poll() is not None else "stuck"
        # A scheduled run starting now finds the lock taken: it says so and exits 0.
        overlap = CliRunner().invoke(cli, ["crawl", "--all", "--data-dir", str(data)], env=env)
        assert overlap.exit_code == 0 and f"already running: a crawl is already running on {data}" in overlap.output
        assert f"pid {first.pid}" in overlap.output
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
        first.stdout.close()  # type: ignore[union-attr]
        first.stderr.close()  # type: ignore[union-attr]
    assert first.returncode == -signal.SIGKILL
    del site.holds["/plymouth/mgwebservice.asmx/getmeeting?lmeetingid=10300"]
    partial = stored_ids(data)
    assert partial and set(partial) < set(EXPECTED)
    sources = CliRunner().invoke(cli, ["sources", "--json", "--data-dir", str(data)], env=env)
    devon = {r["force"]: r for r in json.loads(sources.output)}["Devon and Cornwall"]
    assert devon["last_crawl"]["status"] == "interrupted"

    second = CliRunner().invoke(cli, ["crawl", "--all", "--data-dir", str(data), "--json"], env=env)
    assert second.exit_code == 0, second.output
    summary = json.loads(second.output)
    assert summary["documents_new"] == len(EXPECTED) - len(partial)
    assert summary["documents_unchanged"] == len(partial)  # never ingested twice
    assert stored_ids(data) == EXPECTED
    with sqlite3.connect(data / "precedent.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == conn.execute(
            "SELECT sum(chunk_count) FROM documents").fetchone()[0]
    with sqlite3.connect(data / STATE_FILE) as conn:
        recorded = sorted(r[0] for r in conn.execute("SELECT document_id FROM documents"))
    assert recorded == EXPECTED
    check = CliRunner().invoke(cli, ["check", "--data-dir", str(data), "--json"], env=env)
    assert check.exit_code == 0, check.output
    report = json.loads(check.output)
    assert report["ok"] and report["documents"] == len(EXPECTED) and report["vectors"] == report["chunks"]
