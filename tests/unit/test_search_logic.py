"""Retrieval logic with the fake model: filters apply inside retrieval, modes, ranks and citations."""

from __future__ import annotations

import pytest

from precedent.ingest.errors import BadQuery
from precedent.search.filters import FilterSpec, build_filters
from precedent.search.retrieve import Searcher, search_response


def test_a_force_filter_applies_to_both_sides_before_the_cut(fake_searcher: Searcher) -> None:
    for mode in ("dense", "lexical", "hybrid"):
        response = search_response(fake_searcher, "police and crime plan", FilterSpec(force=("Dorset",)), k=10,
                                   mode=mode)
        assert response.results and {r.citation.force for r in response.results} == {"Dorset"}
        assert response.filters.force == ("Dorset",) and response.filters.mode == mode


def test_date_filters_leave_out_undated_papers(fake_searcher: Searcher) -> None:
    filters = build_filters(fake_searcher.store.known_forces(), FilterSpec(since="2016-01-01"))
    hits = fake_searcher.search("plan", k=30, filters=filters)
    assert hits and all(h.document.meeting_date and h.document.meeting_date.year >= 2016 for h in hits)


def test_an_unknown_mode_or_k_is_a_bad_query(fake_searcher: Searcher) -> None:
    with pytest.raises(BadQuery, match="unknown mode"):
        fake_searcher.search("plan", mode="magic")
    with pytest.raises(BadQuery, match="k must be between 1 and 100"):
        fake_searcher.search("plan", k=0)
