"""The fast tier (`make test-fast`): the real pipeline, store and search code with a fake model.

The seeds are ingested once per session into a real store on disk, embedded by ``FakeEmbedder``
(hashed words, no torch), so the logic around the model is tested in seconds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from precedent.ingest.pipeline import ingest_items
from precedent.ingest.settings import Settings
from precedent.ingest.sources import file_items, find_files
from precedent.search.retrieve import Searcher
from tests.helpers import FakeEmbedder


@pytest.fixture(scope="session")
def fake_searcher(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Searcher:
    embedder = FakeEmbedder()
    settings = Settings(data_dir=tmp_path_factory.mktemp("fake-seed-index"), model=embedder.name)
    files, _ = find_files([seeds_dir])
    report = ingest_items(file_items(files), settings, embedder=embedder)  # the folder's manifest rides on each file
    assert report.added == 5, report.to_dict()
    return Searcher(settings, embedder=embedder)
