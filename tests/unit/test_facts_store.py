"""Facts and the fresh-chunk queue in the store (schema version 3), with a fake model: quick to run."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from precedent.ingest.pipeline import ingest_items
from precedent.ingest.settings import Settings
from precedent.ingest.sources import file_items, find_files
from precedent.ingest.store import SCHEMA_VERSION, Store
from precedent.search.facts import list_facts
from tests.helpers import FakeEmbedder, panel_papers

GWENT = "e27_gwent_precept_2018.txt"


def _gwent_store(tmp_path: Path, panels_dir: Path) -> Settings:
    embedder = FakeEmbedder()
    settings = Settings(data_dir=tmp_path / "data", model=embedder.name)
    files, _ = find_files([panel_papers(tmp_path / "papers", panels_dir, (GWENT,))])
    assert ingest_items(file_items(files), settings, embedder=embedder).added == 1
    return settings


def test_ingest_stores_the_facts_and_queues_every_chunk_of_a_new_paper(tmp_path: Path, panels_dir: Path) -> None:
    store = Store.open(_gwent_store(tmp_path, panels_dir))
    ((fact, doc),) = store.facts("precept")
    assert fact.verdict.value == "vetoed" and doc.force == "Gwent"
    queued = store.fresh_chunks()
    assert len(queued) == doc.chunk_count and store.fresh_watermark() == max(seq for seq, _, _ in queued)
    store.consume_fresh(store.fresh_watermark())
    assert store.fresh_chunks() == []
    store.remove_document(doc.document_id)
    assert store.facts() == []


def test_a_version_2_store_gains_facts_and_the_queue_when_opened(tmp_path: Path, panels_dir: Path) -> None:
    settings = _gwent_store(tmp_path, panels_dir)
    with sqlite3.connect(settings.sqlite_path) as conn:  # make it look like a store from before facts
        conn.executescript("DROP TRIGGER chunks_fresh_ad; DROP TABLE fresh_chunks; DROP TABLE facts;"
                           "UPDATE meta SET value = '2' WHERE key = 'schema_version';"
                           "DELETE FROM meta WHERE key = 'facts_version';")
    store = Store.open(settings)
    assert store.meta()["schema_version"] == str(SCHEMA_VERSION) == "4"
    rows = list_facts(store, "precept")  # read again from the stored chunks, no model needed
    assert [r.value("verdict") for r in rows] == ["vetoed"] and rows[0].value("increase_percent") == 4.49
    assert store.fresh_chunks() == [] and store.fresh_watermark() == 0
