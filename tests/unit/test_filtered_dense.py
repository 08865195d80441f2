"""Search inside a filter finds what a search of everything, then filtered, finds: dense search by whichever
path the filter's size picks (exact over the filter's documents, or an over-fetched HNSW search), lexical
search with the filter's force and type as facet terms; and a store from before both gains them on open."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from precedent.ingest import store as store_module
from precedent.ingest.pipeline import ingest_items
from precedent.ingest.records import Filters
from precedent.ingest.settings import Settings
from precedent.ingest.sources import file_items, find_files
from precedent.ingest.store import SCHEMA_VERSION, Store
from precedent.search.retrieve import Searcher
from tests.helpers import FakeEmbedder

QUESTIONS = ("quarterly performance reports", "precept increase", "rural crime", "101 call handling")


def _ids(hits: list[tuple[str, float]]) -> list[str]:
    return [chunk_id for chunk_id, _ in hits]


def _filters(store: Store) -> list[Filters]:
    forces = store.known_forces()
    return [Filters(force=(forces[0],)), Filters(force=tuple(forces[:2]), doc_type="minutes"),
            Filters(since=dt.date(2017, 1, 1)), Filters(document_id=(store.list_documents()[0].document_id,))]


def test_exact_search_inside_a_filter_finds_what_chromas_filtered_search_finds(fake_searcher: Searcher) -> None:
    store = fake_searcher.store
    for question in QUESTIONS:
        vector = fake_searcher.embedder.encode_query(question)
        for filters in _filters(store):
            chroma = store._chroma_query(vector, 10, store._chroma_where(filters))
            exact = store.dense_query(vector, 10, filters)
            assert _ids(exact) == _ids(chroma), (question, filters)
            assert all(abs(a[1] - b[1]) < 5e-3 for a, b in zip(exact, chroma, strict=True))


def test_a_large_filter_over_fetches_from_the_whole_index_then_filters(
        fake_searcher: Searcher, monkeypatch: pytest.MonkeyPatch) -> None:
    store = fake_searcher.store
    monkeypatch.setattr(store_module, "EXACT_DENSE_MAX", 0)
    for question in QUESTIONS:
        vector = fake_searcher.embedder.encode_query(question)
        for filters in _filters(store):
            chroma = store._chroma_query(vector, 5, store._chroma_where(filters))
            assert _ids(store.dense_query(vector, 5, filters)) == _ids(chroma), (question, filters)
    monkeypatch.setattr(store_module, "OVERFETCH_MAX", 0)  # too rare to over-fetch: Chroma's filter answers
    vector = fake_searcher.embedder.encode_query(QUESTIONS[0])
    filters = _filters(store)[3]
    assert _ids(store.dense_query(vector, 5, filters)) == _ids(store._chroma_query(vector, 5, store._chroma_where(filters)))


def test_a_filter_that_holds_nothing_finds_nothing(fake_searcher: Searcher) -> None:
    vector = fake_searcher.embedder.encode_query("precept")
    assert fake_searcher.store.dense_query(vector, 10, Filters(since=dt.date(2090, 1, 1))) == []


def test_lexical_search_inside_a_filter_is_the_filtered_ranking_of_everything(fake_searcher: Searcher) -> None:
    store = fake_searcher.store
    checked = 0
    for match in ('"precept"', '"plan" OR "performance"', '"police and crime plan"'):
        everything = store.lexical_query(match, 1000, Filters())
        documents = {cid: s.document for cid, s in store.get_chunks([cid for cid, _ in everything]).items()}
        for filters in _filters(store):
            def allowed(chunk_id: str, filters: Filters = filters, documents: dict = documents) -> bool:  # type: ignore[type-arg]
                doc = documents[chunk_id]
                return ((not filters.force or doc.force in filters.force)
                        and (not filters.doc_type or doc.doc_type == filters.doc_type)
                        and (not filters.document_id or doc.document_id in filters.document_id)
                        and (not filters.since or (doc.meeting_date is not None and doc.meeting_date >= filters.since)))
            expected = [(cid, score) for cid, score in everything if allowed(cid)][:10]
            assert store.lexical_query(match, 10, filters) == expected, (match, filters)
            checked += bool(expected)
    assert checked >= 8


_VERSION_3_LEXICAL = """
DROP TRIGGER documents_vectors_ad; DROP TABLE document_vectors;
DROP TRIGGER chunks_ai; DROP TRIGGER chunks_ad; DROP TABLE chunks_vocab; DROP TABLE chunks_fts;
CREATE VIRTUAL TABLE chunks_fts USING fts5(text, header, content='chunks', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE chunks_vocab USING fts5vocab(chunks_fts, 'row');
CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, text, header) VALUES (new.rowid, new.text, new.header);
END;
CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, text, header) VALUES ('delete', old.rowid, old.text, old.header);
END;
INSERT INTO chunks_fts(chunks_fts) VALUES ('rebuild');
ALTER TABLE chunks DROP COLUMN facets;
UPDATE meta SET value = '3' WHERE key = 'schema_version';
"""


def test_a_store_from_before_document_vectors_and_facets_gains_them_when_opened(tmp_path: Path, seeds_dir: Path) -> None:
    embedder = FakeEmbedder()
    settings = Settings(data_dir=tmp_path / "data", model=embedder.name)
    files, _ = find_files([seeds_dir])
    assert ingest_items(file_items(files), settings, embedder=embedder).added == 5
    store = Store.open(settings)
    vector = embedder.encode_query("precept increase")
    first = store.get_chunks([store.lexical_query('"precept"', 1, Filters())[0][0]])
    document = next(iter(first.values())).document
    filters = Filters(force=(document.force,), doc_type=document.doc_type)
    before = store.dense_query(vector, 10, filters), store.lexical_query('"precept"', 10, filters)
    assert before[0] and before[1]
    store.close()
    with sqlite3.connect(settings.sqlite_path) as conn:  # make it look like a version 3 store
        conn.executescript(_VERSION_3_LEXICAL)
    store = Store.open(settings)
    assert store.meta()["schema_version"] == str(SCHEMA_VERSION)
    assert (store.dense_query(vector, 10, filters), store.lexical_query('"precept"', 10, filters)) == before
    assert store.check(repair=False).ok


def test_check_rebuilds_a_documents_filtered_search_vectors_that_do_not_match_its_chunks(
        tmp_path: Path, seeds_dir: Path) -> None:
    embedder = FakeEmbedder()
    settings = Settings(data_dir=tmp_path / "data", model=embedder.name)
    files, _ = find_files([seeds_dir])
    assert ingest_items(file_items(files), settings, embedder=embedder).added == 5
    store = Store.open(settings)
    first, second = [d.document_id for d in store.list_documents()[:2]]
    vector = embedder.encode_query("precept increase")
    before = store.dense_query(vector, 10, Filters(document_id=(first, second)))
    with store._transaction() as tx:
        tx.execute("DELETE FROM document_vectors WHERE document_id = ?", (first,))
        tx.execute("UPDATE document_vectors SET chunk_ids = 'x' WHERE document_id = ?", (second,))
    report = store.check(repair=False)
    assert not report.ok and "2 documents' vectors for filtered search" in report.problems[0]
    repaired = store.check()
    assert repaired.ok and len(repaired.repaired) == 2
    assert store.dense_query(vector, 10, Filters(document_id=(first, second))) == before
