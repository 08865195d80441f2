"""Readers do not wait for writers: a server's uploads parse in another process, queue in one writer
thread, and run (parsing and embedding) at a lower CPU priority than its searches. Timings are the load
benchmark's (`precedent bench load`); these tests check the arrangements that make them."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from precedent.api.app import create_app
from precedent.ingest import pipeline
from precedent.ingest.embed import embedder_for
from precedent.ingest.priority import PER_THREAD, WriterLane, lower_thread_priority, thread_nice
from precedent.ingest.settings import Settings

KEY = "writers-admin-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}

needs_linux = pytest.mark.skipif(not PER_THREAD, reason="per-thread CPU priority is Linux's")


@pytest.fixture()
def admin(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path / "data", admin_key=KEY, rate_limit_per_minute=0, writer_nice=7)
    with TestClient(create_app(settings)) as client:
        client.app.state.warm.wait(timeout=300)
        yield client


def _upload(client: TestClient, seeds_dir: Path, n: int) -> dict[str, object]:
    path = sorted(seeds_dir.glob("*.txt"))[n]
    res = client.post("/documents", headers=AUTH, files={"file": (path.name, path.read_bytes(), "text/plain")})
    assert res.status_code == 201, res.text
    return res.json()


def test_an_upload_is_parsed_in_the_worker_process_never_in_the_server_process(
        admin: TestClient, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def parse_here(*_: object) -> None:
        raise AssertionError("the server process parsed an upload itself")

    monkeypatch.setattr(pipeline, "_parse_here", parse_here)  # what parsing in this process goes through
    body = _upload(admin, seeds_dir, 0)
    assert body["status"] == "added" and body["chunks"] > 0


@needs_linux
def test_uploads_are_written_by_one_thread_and_parsed_by_a_process_at_the_writers_lower_priority(
        admin: TestClient, seeds_dir: Path) -> None:
    for n in range(2):
        _upload(admin, seeds_dir, n)
    lane: WriterLane = admin.app.state.writer_lane
    assert lane.submit(thread_nice).result() == 7
    workers = [w for w in pipeline._WORKERS.values() if w.nice == 7]
    assert workers and workers[0].pids()
    assert all(os.getpriority(os.PRIO_PROCESS, pid) == 7 for pid in workers[0].pids())
    # the requests' own threads keep their priority: a search after the uploads runs at the process's
    assert thread_nice() == 0
    assert admin.get("/search", params={"q": "precept"}).status_code == 200


@needs_linux
def test_the_encoder_works_at_the_priority_of_the_thread_that_asks() -> None:
    embedder = embedder_for(Settings())
    texts = [f"the panel discussed item {i} of the precept report" for i in range(8)]
    out: dict[str, object] = {}

    def background() -> None:
        lower_thread_priority(5)
        out["vectors"] = embedder.encode(texts)
        out["helpers"] = embedder._backend._executor(embedder.threads).submit(thread_nice).result()

    thread = threading.Thread(target=background)
    thread.start()
    thread.join()
    assert out["helpers"] == 5
    assert np.allclose(out["vectors"], embedder.encode(texts), atol=1e-6)  # same vectors, only later
    assert embedder._backend._executor(embedder.threads).submit(thread_nice).result() == 0


@needs_linux
def test_a_writer_lane_lowers_only_its_own_thread() -> None:
    lane = WriterLane(nice=4)
    try:
        assert lane.submit(thread_nice).result() == 4
        assert thread_nice() == 0
    finally:
        lane.close()
