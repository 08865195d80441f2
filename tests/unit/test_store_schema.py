"""The store records sentence vectors with each chunk, and opens an older store by migrating it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from precedent.ingest.pipeline import ingest_items
from precedent.ingest.settings import Settings
from precedent.ingest.sources import file_items, find_files
from precedent.ingest.store import SCHEMA_VERSION, Store
from precedent.search.retrieve import Searcher
from tests.helpers import FakeEmbedder


def _one_seed_store(tmp_path: Path, seeds_dir: Path) -> Settings:
    embedder = FakeEmbedder()
    settings = Settings(data_dir=tmp_path / "data", model=embedder.name)
    files, _ = find_files([seeds_dir / "001_3afe6019e11fd42c.txt"])
    assert ingest_items(file_items(files), settings, embedder=embedder).added == 1
    return settings


def test_each_chunk_keeps_its_vector_and_its_sentences_vectors(tmp_path: Path, seeds_dir: Path) -> None:
    store = Store.open(_one_seed_store(tmp_path, seeds_dir))
    doc = store.list_documents()[0]
    chunks = store.get_document(doc.document_id).chunks
    vectors = store.chunk_vectors([c.chunk_id for c in chunks])
    assert set(vectors) == {c.chunk_id for c in chunks}
    assert all(v.shape[0] >= 2 and v.shape[1] == FakeEmbedder.dimension for v in vectors.values())
    store.remove_document(doc.document_id)
    assert store.chunk_vectors([c.chunk_id for c in chunks]) == {}  # they go with their chunks


def test_a_store_from_before_sentence_vectors_is_migrated_and_still_searchable(tmp_path: Path, seeds_dir: Path) -> None:
    settings = _one_seed_store(tmp_path, seeds_dir)
    with sqlite3.connect(settings.sqlite_path) as conn:  # make it look like a version 1 store
        conn.executescript("DROP TRIGGER chunks_vectors_ad; DROP TABLE chunk_vectors; ALTER TABLE chunks DROP COLUMN "
                           "context; UPDATE meta SET value = '1' WHERE key = 'schema_version';")
    store = Store.open(settings)
    assert store.meta()["schema_version"] == str(SCHEMA_VERSION)
    store.check_compatible(settings.model)
    hits = Searcher(settings, store=store, embedder=FakeEmbedder()).search("quarterly performance reports", k=3)
    assert hits and all(h.dense_score is not None for h in hits)  # scored by their Chroma vectors instead
