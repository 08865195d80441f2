"""Re-scoring candidates by best sentence, whole passage and words."""

from __future__ import annotations

import numpy as np
import pytest

from precedent.search.rerank import Weights, rescore, with_coverage


def _unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_a_passage_whose_one_sentence_answers_beats_one_that_is_vaguely_about_it() -> None:
    query = _unit(1, 0, 0)
    vectors = {
        "answers": np.vstack([_unit(0.6, 0.8, 0), _unit(1, 0.05, 0), _unit(0, 0, 1)]),  # passage, then sentences
        "vague": np.vstack([_unit(0.7, 0.7, 0), _unit(0.7, 0.7, 0.1), _unit(0.7, 0.1, 0.7)]),
    }
    scored = rescore(query, ["vague", "answers"], {}, vectors, {}, Weights(sentence=1.0, dense=0.5, lexical=0.5))
    assert [s.chunk_id for s in scored] == ["answers", "vague"]
    assert scored[0].sentence == pytest.approx(float(vectors["answers"][1] @ query), abs=1e-6)


def test_words_count_relative_to_the_best_lexical_match_among_the_candidates() -> None:
    query = _unit(1, 0)
    same = np.vstack([_unit(1, 1), _unit(1, 1)])
    scored = rescore(query, ["a", "b", "c"], {"a": 12.0, "b": 6.0}, {"a": same, "b": same, "c": same}, {},
                     Weights(sentence=0.0, dense=0.0, lexical=1.0))
    assert [(s.chunk_id, s.lexical) for s in scored] == [("a", 1.0), ("b", 0.5), ("c", 0.0)]


def test_a_chunk_without_stored_vectors_falls_back_to_its_dense_similarity() -> None:
    scored = rescore(_unit(1, 0), ["old"], {}, {}, {"old": 0.42}, Weights(sentence=1.0, dense=1.0, lexical=1.0))
    assert scored[0].dense == scored[0].sentence == 0.42 and scored[0].score == pytest.approx(0.84)


def test_holding_the_questions_rare_words_lifts_a_candidate_by_the_coverage_weight() -> None:
    ranked = [("close-but-off", 1.20), ("holds-the-words", 1.05), ("neither", 1.00)]
    lifted = with_coverage(ranked, {"close-but-off": 0.1, "holds-the-words": 0.9}, weight=0.75)
    assert [cid for cid, _ in lifted] == ["holds-the-words", "close-but-off", "neither"]
    assert dict(lifted)["holds-the-words"] == pytest.approx(1.05 + 0.75 * 0.9)
    assert dict(lifted)["neither"] == pytest.approx(1.00)  # a candidate without a coverage keeps its score
    assert with_coverage(ranked, {}, weight=0.75) == ranked
