"""Shared fixtures: the real seed corpus, ingested once per session into a real store on disk."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from precedent.ingest.settings import Settings, quiet_and_offline

quiet_and_offline()

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("PRECEDENT_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "corpus" / "seeds"
PANELS = SHARED / "corpus" / "panels"
# Panel papers with facts in every shape: a failed veto (Dorset 2014), police and fire precepts (Essex 2019),
# two hearings at one meeting (Staffordshire 2021), a veto (Gwent 2018).
SCRUTINY_PAPERS = ("e05_dorset_precept_2014.txt", "e14_essex_precept_2019.docx",
                   "e25_staffordshire_confirmation_2021.pdf", "e27_gwent_precept_2018.txt")


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


def panel_papers(folder: Path, names: tuple[str, ...] = SCRUTINY_PAPERS) -> Path:
    """A folder holding some of the panels corpus and the manifest rows for them (copied at test time)."""
    if not (PANELS / "manifest.csv").exists():
        pytest.fail(f"panels corpus not found at {PANELS}: tests need ../shared beside the repository")
    folder.mkdir(parents=True, exist_ok=True)
    lines = (PANELS / "manifest.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "manifest.csv").write_text(lines[0] + "".join(line for line in lines[1:] if line.split(",", 1)[0] in names),
                                         encoding="utf-8")
    for name in names:
        (folder / name).write_bytes((PANELS / name).read_bytes())
    return folder


@pytest.fixture(scope="session")
def scrutiny_settings(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Settings:
    """The seeds and four panel papers holding precept decisions and hearings, in one store."""
    from precedent.ingest.pipeline import ingest_paths

    papers = panel_papers(tmp_path_factory.mktemp("scrutiny-papers"))
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
        yield test_client


@pytest.fixture()
def fresh_settings(tmp_path: Path) -> Settings:
    """An empty data dir of its own, for tests that change the store."""
    return Settings(data_dir=tmp_path / "data")
