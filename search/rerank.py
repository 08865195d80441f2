"""Re-scoring the fused candidates: the passage's best sentence, its own vector, and its words.

Reciprocal rank fusion throws the two sides' scores away and keeps their ranks, so a passage the
lexical side barely found counts as much as one it found on every word. And a chunk's one vector
averages seven or eight sentences, while a question is usually answered by one of them. So every
candidate either side found gets three numbers:

- ``sentence``: the best cosine between the question and one of the passage's sentences (late
  interaction, "max-sim", over sentence vectors the ingest stored: no model call at query time);
- ``dense``: the cosine between the question and the whole passage (header and text);
- ``lexical``: its BM25 score over the best BM25 score among the candidates (0 when the lexical
  side did not find it), so it is on the same 0..1 scale for every question;

and the passage's score is ``WEIGHTS.sentence * sentence + WEIGHTS.dense * dense + WEIGHTS.lexical * lexical``.
Once the candidates' texts are fetched, ``WEIGHTS.coverage`` times the share of the question's words each
holds, weighted by their rarity in the index (search/coverage.py, the relevance bar's rule), is added
(``with_coverage``): BM25 rewards a passage that repeats one word, coverage one that holds the several
rare words a question is about.

The weights were chosen by a grid search on one development set and reported on the other, in
both directions (README, "Evaluation"): chosen on the panels corpus (70 questions, 15 forces),
(1.0, 0.5, 0.5) gives hybrid nDCG@10 .764 there and .858 on the seed questions; chosen on the seeds,
(1.0, 0.0, 0.5) gives .879 there but .741 on panels. Searched again after the lexical header weight
rose to 3 (ingest/store.py), the panels' choice still stands (.802; seeds .857).

The coverage weight, the other three fixed (0 to 1.5): chosen on panels, 0.75 gives nDCG@10 / R@3 / R@10
.806 / .814 / .936 there (from .802 / .791 / .919) and .865 / .867 / .925 on the seeds (from .857 / .850 /
.925). Chosen on the seeds, whose nDCG@10 is .865 from 0.6 to 1.0, the smallest, 0.6, gives panels .798 /
.810 / .922. By halves of the panels questions, 0.75 lifts the odd ids (.757 -> .779 nDCG@10, R@10 .910 ->
.944) and lowers the even ones (.848 -> .832, R@10 unchanged): it finds more evidence in the top 3 and 10
everywhere, and orders the top 10 no better on every set.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Weights:
    sentence: float
    dense: float
    lexical: float
    coverage: float = 0.0


WEIGHTS = Weights(sentence=1.0, dense=0.5, lexical=0.5, coverage=0.75)


@dataclass(frozen=True)
class Scored:
    chunk_id: str
    score: float
    dense: float
    sentence: float
    lexical: float


def rescore(query: np.ndarray, candidates: Sequence[str], lexical: dict[str, float],
            vectors: dict[str, np.ndarray], fallback: dict[str, float], weights: Weights = WEIGHTS) -> list[Scored]:
    """The candidates best first. ``vectors`` holds each chunk's stored rows (its own vector, then its
    sentences'); a chunk without them (a store from before sentence vectors) scores by ``fallback``,
    its dense similarity, on both dense terms."""
    top = max(lexical.values(), default=0.0)
    scored: list[Scored] = []
    for chunk_id in candidates:
        rows = vectors.get(chunk_id)
        if rows is not None and len(rows):
            sims = rows @ query
            dense = float(sims[0])
            sentence = float(sims[1:].max()) if len(rows) > 1 else dense
        else:
            dense = sentence = fallback.get(chunk_id, 0.0)
        words = lexical.get(chunk_id, 0.0) / top if top > 0 else 0.0
        score = weights.sentence * sentence + weights.dense * dense + weights.lexical * words
        scored.append(Scored(chunk_id, score, dense, sentence, words))
    scored.sort(key=lambda s: (-s.score, s.chunk_id))
    return scored


def with_coverage(ranked: Sequence[tuple[str, float]], coverage: dict[str, float],
                  weight: float = WEIGHTS.coverage) -> list[tuple[str, float]]:
    """The candidates re-sorted with ``weight`` times the share of the question's rare words each holds
    (search/coverage.py), read once the candidates' texts are fetched."""
    lifted = [(cid, score + weight * coverage.get(cid, 0.0)) for cid, score in ranked]
    return sorted(lifted, key=lambda cs: (-cs[1], cs[0]))
