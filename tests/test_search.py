"""Retrieval on the seed index: modes, filters, citations, snippets and hostile queries."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from precedent.eval.matching import quote_in_text
from precedent.ingest.errors import BadQuery
from precedent.search.filters import FilterSpec, build_filters
from precedent.search.query import parse_query
from precedent.search.retrieve import rrf
from precedent.search.snippet import MARK_OPEN

CITATION_FIELDS = {"document_id", "chunk_id", "title", "force", "panel", "meeting_date", "doc_type",
                   "agenda_item", "locator", "source", "url", "display"}


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_each_mode_finds_the_101_passage(seed_searcher, mode: str) -> None:  # type: ignore[no-untyped-def]
    hits = seed_searcher.search("what did panels say about 101 response times", k=5, mode=mode)
    assert any("poor response times to 101 calls" in _fold(h.chunk.text) for h in hits)


def test_hybrid_recall_on_the_dev_questions(seed_searcher, seeds_dir: Path) -> None:  # type: ignore[no-untyped-def]
    questions = [json.loads(line) for line in (seeds_dir / "questions.jsonl").read_text().splitlines() if line]
    found = total = 0
    for q in questions:
        texts = [h.chunk.text for h in seed_searcher.search(q["question"], k=10)]
        for ev in q["evidence"]:
            total += 1
            found += any(quote_in_text(ev["quote"], t) for t in texts)  # the eval's hit rule
    # 34 of 38: the four misses are paraphrases sharing almost no words with their quote (d01, d07, d08);
    # re-scoring by best sentence lost d01's at rank 10 while nDCG@10 rose from 0.886 to 0.931.
    assert found / total >= 0.89


def test_force_filter_returns_only_that_force(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    filters = build_filters(seed_searcher.store.known_forces(), FilterSpec(force=("dorset",)))
    hits = seed_searcher.search("victims of domestic abuse", k=20, filters=filters)
    assert hits and {h.document.force for h in hits} == {"Dorset"}


def test_date_range_is_honoured_inside_retrieval(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    filters = build_filters(seed_searcher.store.known_forces(), FilterSpec(since="2016-01-01", until="2018-12-31"))
    hits = seed_searcher.search("police and crime plan", k=20, filters=filters)
    assert hits and all(dt.date(2016, 1, 1) <= h.document.meeting_date <= dt.date(2018, 12, 31) for h in hits)
    assert {h.document.title for h in hits} == {"Police and Crime Plan 2017-2020 Update"}


def test_type_and_document_filters(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    forces = seed_searcher.store.known_forces()
    hits = seed_searcher.search("plan", k=30, filters=build_filters(forces, FilterSpec(doc_type="report")))
    assert hits and {h.document.doc_type for h in hits} == {"report"}
    one = hits[0].document.document_id
    hits = seed_searcher.search("plan", k=30, filters=build_filters(forces, FilterSpec(document_id=(one,))))
    assert {h.document.document_id for h in hits} == {one}


def test_bad_filters_list_the_valid_values(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    forces = seed_searcher.store.known_forces()
    with pytest.raises(BadQuery, match="unknown force 'Kent': the index holds Devon and Cornwall, Dorset, Leicestershire"):
        build_filters(forces, FilterSpec(force=("Kent",)))
    with pytest.raises(BadQuery, match="use YYYY-MM-DD"):
        build_filters(forces, FilterSpec(since="last tuesday"))
    with pytest.raises(BadQuery, match="use one of minutes, report, other"):
        build_filters(forces, FilterSpec(doc_type="agenda"))


def test_every_result_has_a_complete_citation(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    for hit in seed_searcher.search("strategic alliance with Dorset", k=10):
        data = hit.result().model_dump(mode="json")
        assert set(data) == {"rank", "score", "text", "snippet", "citation"}
        citation = data["citation"]
        assert set(citation) == CITATION_FIELDS
        assert citation["locator"] and citation["source"] and citation["display"].endswith(citation["locator"])
        assert citation["force"] in ("Devon and Cornwall", "Dorset", "Leicestershire")


def test_citation_reads_as_a_report_would_cite_it(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    hit = seed_searcher.search("Reporting on progress will occur on a quarterly basis", k=1)[0]
    assert hit.citation.display.startswith(
        "Devon and Cornwall Police and Crime Panel, 7 July 2017, Police and Crime Plan 2017-2020 Update, paragraph"
    )


def test_snippet_is_the_best_sentence_with_terms_marked(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    hit = seed_searcher.search("cybercrime", k=1)[0]
    assert f"{MARK_OPEN}cybercrime</mark>" in hit.snippet
    assert len(hit.snippet) < len(hit.chunk.text)


def test_overlapping_chunks_are_shown_once(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    hits = seed_searcher.search("rural crime team training call handlers", k=20)
    spans = [(h.document.document_id, h.chunk.start, h.chunk.end) for h in hits]
    for i, (doc, s, e) in enumerate(spans):
        for doc2, s2, e2 in spans[i + 1:]:
            assert doc != doc2 or e <= s2 or e2 <= s or (min(e, e2) - max(s, s2)) / min(e - s, e2 - s2) <= 0.2


@pytest.mark.parametrize("query", [
    '"unbalanced quote', "precept AND", "NEAR(", "budget*", "* * *", "🚓 police 🚓", "col:umn", "^start",
    "a OR OR b", "'; DROP TABLE chunks; --", "police\x00budget", "(((", '"" ""', "-101", "x" * 1999,
    " ".join(["precept reserves council tax"] * 70)[:2000],
])
def test_odd_queries_never_error(seed_searcher, query: str) -> None:  # type: ignore[no-untyped-def]
    for mode in ("lexical", "hybrid"):
        hits = seed_searcher.search(query, k=5, mode=mode)
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1)) and len(hits) <= 5
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert all(h.chunk.text and h.citation.display for h in hits)
        if mode == "hybrid":  # the dense side always has neighbours, whatever the words
            assert len(hits) == 5


def test_shorthand_and_phrases_are_understood() -> None:
    parsed = parse_query('what did the PCP say about "visible policing" and 101?')
    assert "visible policing" in parsed.phrases and "101" in parsed.terms
    assert "police and crime plan" in parsed.phrases and "non-emergency" in parsed.phrases
    assert parse_query("AND OR NOT NEAR").fts() is not None


def test_empty_long_and_out_of_range_queries_are_refused(seed_searcher) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadQuery, match="empty"):
        seed_searcher.search("   ")
    with pytest.raises(BadQuery, match="limit is 2000"):
        seed_searcher.search("x" * 2001)
    with pytest.raises(BadQuery, match="between 1 and 100"):
        seed_searcher.search("precept", k=0)


def test_rrf_rewards_agreement() -> None:
    fused = rrf([[("a", 1.0), ("b", 0.5)], [("b", 9.0), ("c", 1.0)]])
    assert fused[0][0] == "b" and {cid for cid, _ in fused} == {"a", "b", "c"}
