"""A question's content words weighed by their rarity in the index, and how much of them a passage holds.

Two stages ask the same thing of a passage: re-scoring (search/retrieve.py), where the share of the
question's rare words a candidate holds lifts it, and the relevance bar (search/relevance.py). Both use
this one rule: Porter stems as the lexical index stems them, shorthand such as "101" or "ASB" counting
when its expansion is present, and each word weighted by its inverse document frequency in the index,
so that "plan" (in every chunk) weighs nothing and "cybercrime" weighs a lot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from precedent.ingest.store import IndexReader
from precedent.search.query import EXPANSIONS, ParsedQuery, stem_sets


@dataclass(frozen=True)
class QueryTerm:
    stem: str
    weight: float
    alternatives: tuple[frozenset[str], ...]  # stems of each expansion phrase ("101" -> "non-emergency")


class QuestionWords:
    """The question's weighted stems; built once per question against one index."""

    def __init__(self, store: IndexReader, parsed: ParsedQuery) -> None:
        words = list(parsed.terms)
        expansions = [EXPANSIONS.get(w, []) for w in words]
        stemmed = stem_sets(words + [p for ps in expansions for p in ps])
        word_stems, phrase_stems = stemmed[: len(words)], iter(stemmed[len(words):])
        pending: dict[str, tuple[frozenset[str], ...]] = {}
        for stems, phrases in zip(word_stems, expansions, strict=True):
            alternatives = tuple(frozenset(next(phrase_stems)) for _ in phrases)
            for stem in sorted(stems):
                pending.setdefault(stem, alternatives)
        _, total_chunks = store.counts()
        frequencies = store.term_document_counts(
            list(pending) + [s for alts in pending.values() for alt in alts for s in alt])
        self.terms: list[QueryTerm] = []
        unused = 0.0
        for stem, alternatives in pending.items():
            df = frequencies.get(stem, 0)
            for alt in alternatives:  # shorthand is as common as its commonest spelling
                df = max(df, min((frequencies.get(s, 0) for s in alt), default=0))
            weight = max(math.log((total_chunks + 1) / (df + 0.5)), 0.0)
            self.terms.append(QueryTerm(stem, weight, alternatives))
            unused += weight if df == 0 else 0.0
        self.total = sum(t.weight for t in self.terms)
        # The share (by weight) of the question's words that the index never uses.
        self.absent = unused / self.total if self.total > 0 else 0.0

    def coverage(self, stems: set[str]) -> float:
        """The share (by weight) of the question's words among ``stems``."""
        if self.total <= 0:
            return 0.0
        found = sum(t.weight for t in self.terms
                    if t.stem in stems or any(alt and alt <= stems for alt in t.alternatives))
        return found / self.total

    def stems_in(self, texts: Sequence[str]) -> list[set[str]]:
        """Which of the question's stems (its words' and their expansions') each text holds: all that
        ``coverage`` looks at."""
        asked = {t.stem for t in self.terms} | {s for t in self.terms for alt in t.alternatives for s in alt}
        return stem_sets(texts, only=asked)

    def coverages(self, texts: Sequence[str]) -> list[float]:
        return [self.coverage(stems) for stems in self.stems_in(texts)]
