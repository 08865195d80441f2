"""On a large index a lexical query keeps its rarest words within a postings budget, and scores only the
newest matches of a word that is everywhere; counts read off the index follow every write."""

from __future__ import annotations

from pathlib import Path

import pytest

from precedent.ingest.pipeline import ingest_items
from precedent.ingest.records import Filters
from precedent.ingest.settings import Settings
from precedent.ingest.sources import file_items, find_files
from precedent.search import retrieve
from precedent.search.query import parse_query, stem_sets
from precedent.search.retrieve import Searcher
from tests.helpers import FakeEmbedder


@pytest.fixture()
def searcher(tmp_path: Path, seeds_dir: Path) -> Searcher:
    embedder = FakeEmbedder()
    settings = Settings(data_dir=tmp_path / "data", model=embedder.name)
    files, _ = find_files([seeds_dir])
    assert ingest_items(file_items(files), settings, embedder=embedder).added == 5
    return Searcher(settings, embedder=embedder)


def _df(searcher: Searcher, word: str) -> int:
    stems = stem_sets([word])[0]
    counts = searcher.store.term_document_counts(sorted(stems))
    return max(counts.get(s, 0) for s in stems)


@pytest.fixture()
def large(monkeypatch: pytest.MonkeyPatch) -> None:
    """Plan as on a large index: this one is small, so the thresholds come down to it."""
    monkeypatch.setattr(retrieve, "PRUNE_FROM_CHUNKS", 0)
    monkeypatch.setattr(retrieve, "COMMON_TERM_SHARE", 1.0)


def test_a_small_index_runs_every_word_of_the_query(searcher: Searcher) -> None:
    query = parse_query("precept increase consultation response")
    assert searcher.lexical_plan(query).query == query and searcher.lexical_plan(query).newest is None


def test_a_large_index_keeps_the_rarest_words_that_fit_the_postings_budget(
        searcher: Searcher, large: None, monkeypatch: pytest.MonkeyPatch) -> None:
    words = ["cybercrime", "precept", "plan"]
    df = {w: _df(searcher, w) for w in words}
    assert df["cybercrime"] < df["precept"] < df["plan"], df
    monkeypatch.setattr(retrieve, "LEXICAL_BUDGET", df["cybercrime"] + df["precept"])
    plan = searcher.lexical_plan(parse_query("plan precept cybercrime"))
    assert plan.query.terms == ("precept", "cybercrime") and plan.newest is None
    monkeypatch.setattr(retrieve, "LEXICAL_BUDGET", df["cybercrime"] + df["precept"] - 1)
    assert searcher.lexical_plan(parse_query("plan precept cybercrime")).query.terms == ("cybercrime",)


def test_words_in_most_chunks_are_dropped_but_the_rarest_is_always_kept(
        searcher: Searcher, large: None, monkeypatch: pytest.MonkeyPatch) -> None:
    total = searcher.store.approximate_chunk_count()
    monkeypatch.setattr(retrieve, "COMMON_TERM_SHARE", _df(searcher, "precept") / total)
    plan = searcher.lexical_plan(parse_query("plan precept"))
    assert plan.query.terms == ("precept",)
    monkeypatch.setattr(retrieve, "COMMON_TERM_SHARE", 0.0)
    assert searcher.lexical_plan(parse_query("plan precept")).query.terms == ("precept",)


def test_a_word_over_the_budget_alone_is_scored_on_its_newest_matches_only(
        searcher: Searcher, large: None, monkeypatch: pytest.MonkeyPatch) -> None:
    matches = _df(searcher, "plan")
    monkeypatch.setattr(retrieve, "LEXICAL_BUDGET", matches // 2)
    plan = searcher.lexical_plan(parse_query("plan"))
    assert plan.newest == matches // 2
    hits = searcher.lexical(parse_query("plan"), 100, Filters())
    assert 0 < len(hits) <= matches // 2
    conn = searcher.store._connection()
    rowids = [r[0] for r in conn.execute("SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'plan' ORDER BY rowid DESC")]
    newest = set(rowids[: matches // 2])
    found = {conn.execute("SELECT rowid FROM chunks WHERE chunk_id = ?", (cid,)).fetchone()[0] for cid, _ in hits}
    assert found <= newest
    everything = searcher.store.lexical_query('"plan"', 100, Filters())
    assert len(everything) == matches  # without the cut-off, every match is scored


def test_counts_forces_and_term_counts_follow_every_write(searcher: Searcher) -> None:
    store = searcher.store
    documents, chunks = store.counts()
    before = store.term_document_counts(["precept"])["precept"]
    by_force: dict[str | None, list[str]] = {}
    for doc in store.list_documents():
        by_force.setdefault(doc.force, []).append(doc.document_id)
    force, (victim,) = next((f, ids) for f, ids in by_force.items() if f and len(ids) == 1)
    assert force in store.known_forces()
    gone = store._connection().execute(
        "SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH 'precept' AND rowid IN "
        "(SELECT rowid FROM chunks WHERE document_id = ?)", (victim,)).fetchone()[0]
    victim_chunks = store.get_document(victim).document.chunk_count
    store.remove_document(victim)
    assert store.counts() == (documents - 1, chunks - victim_chunks)
    assert store.term_document_counts(["precept"]).get("precept", 0) == before - gone
    assert force not in store.known_forces()
