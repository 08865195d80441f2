"""Client/server mode: several API processes can share one Chroma server (`chroma run`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from precedent.api.app import create_app
from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from tests.helpers import free_port, start_chroma


@pytest.fixture()
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_chroma(tmp_path / "chroma-server", port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.kill()
        proc.wait()


def test_two_apps_share_one_chroma_server(chroma_server: str, seeds_dir: Path, tmp_path: Path) -> None:
    # The registry and lexical index live in a shared data dir; vectors live in the server.
    settings = Settings(data_dir=tmp_path / "shared-data", chroma_url=chroma_server)
    report = ingest_paths([seeds_dir], settings)
    assert report.added == 5
    assert Store.open(settings).check().ok
    assert not (settings.data_dir / "chroma").exists()  # nothing embedded: the server holds the vectors

    for _ in range(2):  # two independent app instances, as two API processes would be
        with TestClient(create_app(Settings(data_dir=settings.data_dir, chroma_url=chroma_server))) as client:
            res = client.get("/search", params={"q": "cybercrime regional and national", "mode": "dense", "k": 3})
            assert res.status_code == 200
            assert "cybercrime" in res.json()["results"][0]["text"]
