"""Fusing the dense and lexical rankings, and showing each passage once."""

from __future__ import annotations

import pytest

from precedent.ingest.records import Chunk
from precedent.search.retrieve import dedupe, rrf


def _chunk(chunk_id: str, document_id: str, start: int, end: int) -> Chunk:
    return Chunk(chunk_id, document_id, 0, "text", "header", "para 1", start, end)


def test_rrf_rewards_agreement_between_the_two_sides() -> None:
    dense = [("a", 0.9), ("b", 0.8), ("c", 0.7)]
    lexical = [("b", 12.0), ("d", 11.0), ("e", 3.0)]
    fused = rrf([dense, lexical], k=60)
    assert [cid for cid, _ in fused][:2] == ["b", "a"]  # second in both beats first in one
    assert fused[0][1] == pytest.approx(1 / 62 + 1 / 61)


def test_rrf_weights_scale_each_side() -> None:
    fused = rrf([[("a", 1.0)], [("b", 1.0)]], k=60, weights=[1.0, 2.0])
    assert [cid for cid, _ in fused] == ["b", "a"]


def test_dedupe_keeps_the_better_of_two_overlapping_pieces_of_one_document() -> None:
    chunks = {
        "x1": _chunk("x1", "x", 0, 1000), "x2": _chunk("x2", "x", 850, 1800),  # 150 chars shared: kept
        "x3": _chunk("x3", "x", 100, 900),  # inside x1: dropped
        "y1": _chunk("y1", "y", 0, 1000),  # same span, other document: kept
    }
    ranked = [("x1", 3.0), ("x3", 2.5), ("x2", 2.0), ("gone", 1.5), ("y1", 1.0)]
    assert [cid for cid, _ in dedupe(ranked, chunks)] == ["x1", "x2", "y1"]
