"""Shared fixtures: the real seed corpus, ingested once per session into a real store on disk."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from precedent.ingest.settings import Settings, quiet_and_offline
from tests.helpers import SCRUTINY_PAPERS, panel_papers

quiet_and_offline()
# Every test's data dir shares one built int8 encoder (keyed by the weights' hash, so never stale),
# instead of building it again in each temporary data dir.
os.environ.setdefault("PRECEDENT_ENCODER_CACHE", str(Path(tempfile.gettempdir()) / "precedent-test-encoders"))

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PRECEDENT_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "corpus" / "seeds"
PANELS = SHARED / "corpus" / "panels"



@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not (SEEDS / "manifest.csv").exists():
        pytest.fail(f"seed corpus not found at {SEEDS}: tests need ../shared beside the repository")
    return SEEDS


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Settings:
    """A data dir holding the five seed documents, ingested with their manifest."""
    from precedent.ingest.pipeline import ingest_paths

    # Rate limiting is tested on its own (test_security.py); the shared client makes many calls.
    settings = Settings(data_dir=tmp_path_factory.mktemp("seed-index"), rate_limit_per_minute=0)
    report = ingest_paths([seeds_dir], settings)
    assert report.added == 5, report.to_dict()
    return settings


@pytest.fixture(scope="session")
def panels_dir() -> Path:
    if not (PANELS / "manifest.csv").exists():
        pytest.fail(f"panels corpus not found at {PANELS}: tests need ../shared beside the repository")
    return PANELS


@pytest.fixture(scope="session")
def scrutiny_settings(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path, panels_dir: Path) -> Settings:
    """The seeds and four panel papers holding precept decisions and hearings, in one store."""
    from precedent.ingest.pipeline import ingest_paths

    papers = panel_papers(tmp_path_factory.mktemp("scrutiny-papers"), panels_dir)
    settings = Settings(data_dir=tmp_path_factory.mktemp("scrutiny-index"), rate_limit_per_minute=0)
    report = ingest_paths([seeds_dir, papers], settings)
    assert report.added == 5 + len(SCRUTINY_PAPERS), report.to_dict()
    return settings


@pytest.fixture(scope="session")
def seed_searcher(seed_settings: Settings):  # type: ignore[no-untyped-def]
    from precedent.search.retrieve import Searcher

    return Searcher(seed_settings)


@pytest.fixture(scope="session")
def client(seed_settings: Settings) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from precedent.api.app import create_app

    with TestClient(create_app(seed_settings)) as test_client:
        test_client.app.state.warm.wait(timeout=300)  # /health says "warming" until then
        yield test_client


@pytest.fixture()
def fresh_settings(tmp_path: Path) -> Settings:
    """An empty data dir of its own, for tests that change the store."""
    return Settings(data_dir=tmp_path / "data")
