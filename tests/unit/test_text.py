"""Sentences, snippets, citations and the [n] markers: the text rules every answer rests on."""

from __future__ import annotations

import datetime as dt

from precedent.ingest.records import Document
from precedent.ingest.sentences import sentences
from precedent.search.citations import answer_claims, cited_numbers, claims, format_citation, strip_markers
from precedent.search.snippet import MARK_OPEN, make_snippet, plain


def _pieces(text: str) -> list[str]:
    return [text[s:e] for s, e in sentences(text)]


def test_sentences_end_at_stops_and_semicolons_but_not_at_abbreviations_or_decimals() -> None:
    text = "Spend rose by 3.5% e.g. on estates; Cllr. Smith asked why. The PCC replied!\n• A bullet line"
    assert _pieces(text) == ["Spend rose by 3.5% e.g. on estates;", "Cllr. Smith asked why.", "The PCC replied!",
                             "• A bullet line"]


def test_claims_keep_markers_written_after_the_stop_and_clauses_before_a_semicolon() -> None:
    assert claims("Calls rose. [2] Staff fell [1].") == ["Calls rose [2].", "Staff fell [1]."]
    assert claims("Reserves fell; the precept rose [3].") == ["Reserves fell; the precept rose [3]."]


def test_answer_claims_skip_headings_and_bullet_dashes() -> None:
    answer = "Two panels discussed 101:\n\nDorset Police and Crime Panel, 1 May 2019:\n- Calls rose [1]. Waits fell [2]."
    assert answer_claims(answer) == ["Calls rose [1].", "Waits fell [2]."]


def test_markers_name_their_passages_in_any_grouping() -> None:
    assert cited_numbers("A [1]. B [2, 3]; C [4;5] [1]") == {1, 2, 3, 4, 5}
    assert strip_markers("see [12] and [1, 2]") == "see  and "


def test_snippets_mark_the_query_words_by_stem() -> None:
    text = "The panel discussed budgets. Members asked about response times to 101 calls. Nothing else."
    snippet = make_snippet(text, ["responses", "call"])
    assert f"{MARK_OPEN}response</mark>" in snippet and f"{MARK_OPEN}calls</mark>" in snippet
    assert plain(snippet).startswith("… ") and "budgets" not in plain(snippet).split("…")[1]


def _doc(**fields: object) -> Document:
    base = dict(document_id="d", title="Precept 2019/20", force=None, panel=None, meeting_date=dt.date(2019, 2, 8),
                doc_type="minutes", source="x.txt", content_hash="h", ingested_at=dt.datetime(2020, 1, 1))
    return Document(**{**base, **fields})


def test_a_citation_names_the_panel_as_the_paper_did_else_by_its_force() -> None:
    assert format_citation(_doc(panel="Police and Crime Panel for Devon, Cornwall and the Isles of Scilly"),
                           "para 3") == ("Police and Crime Panel for Devon, Cornwall and the Isles of Scilly, "
                                         "8 February 2019, Precept 2019/20, para 3")
    assert format_citation(_doc(force="Dorset"), "para 3").startswith("Dorset Police and Crime Panel, 8 February 2019")
    assert format_citation(_doc(meeting_date=None), "para 3") == "Unknown panel, undated, Precept 2019/20, para 3"
