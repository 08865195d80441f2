"""Hybrid retrieval: dense and lexical candidates, re-scored (search/rerank.py), deduplicated, cut to k,
with citations.

Each stage is its own function so it can be measured alone (see eval/).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import BaseModel

from precedent.ingest.embed import Encoder, embedder_for
from precedent.ingest.errors import BadQuery
from precedent.ingest.records import Chunk, Document, Filters
from precedent.ingest.settings import Settings
from precedent.ingest.store import IndexReader, Store
from precedent.search.citations import Citation
from precedent.search.filters import FilterSpec, build_filters, check_query
from precedent.search.query import ParsedQuery, parse_query, stem_sets
from precedent.search.coverage import QuestionWords
from precedent.search.rerank import Scored, rescore, with_coverage
from precedent.search.snippet import make_snippet

Mode = Literal["dense", "lexical", "hybrid"]
MODES: tuple[str, ...] = ("dense", "lexical", "hybrid")
Ranked = list[tuple[str, float]]
# Lexical query planning (see Searcher.lexical_plan), only where posting lists get long: words in more
# than COMMON_TERM_SHARE of the chunks are dropped, and the rest, rarest first, while FTS5 scores at most
# LEXICAL_BUDGET postings for them.
PRUNE_FROM_CHUNKS = 20_000
COMMON_TERM_SHARE = 0.10
LEXICAL_BUDGET = 40_000
QUERY_VECTORS_KEPT = 256  # recent questions' vectors (Searcher.query_vector)


@dataclass(frozen=True)
class LexicalPlan:
    """The lexical query to run, and whether only its newest ``newest`` matches are scored."""

    query: ParsedQuery
    newest: int | None = None


@dataclass
class SearchHit:
    rank: int
    score: float
    chunk: Chunk
    document: Document
    terms: Sequence[str]  # the query's words, marked in the snippet
    dense_score: float | None = None  # cosine similarity of question and passage, when it was computed
    sentence_score: float | None = None  # ... and of question and the passage's best sentence

    @property
    def citation(self) -> Citation:
        return Citation.of(self.chunk, self.document)

    @cached_property
    def snippet(self) -> str:
        """The passage's best sentences, the query's words in <mark>: made when first shown, since a
        comparison ranks a hundred passages per force to show three."""
        return make_snippet(self.chunk.text, list(self.terms))

    def result(self) -> SearchResult:
        return SearchResult(rank=self.rank, score=round(self.score, 6), text=self.chunk.text,
                            snippet=self.snippet, citation=self.citation)


class SearchResult(BaseModel):
    """One ranked passage as the API and the CLI show it."""

    rank: int
    score: float
    text: str
    snippet: str  # the passage's best sentences, the query's words in <mark>
    citation: Citation


class AppliedSearch(Filters):
    """The filters a search ran with, and its mode."""

    mode: str


class SearchResponse(BaseModel):
    query: str
    filters: AppliedSearch
    results: list[SearchResult]


def rrf(rankings: Sequence[Ranked], k: int = 60, weights: Sequence[float] | None = None) -> Ranked:
    """Reciprocal rank fusion: robust to the two sides' scores living on different scales."""
    scores: dict[str, float] = {}
    weights = weights or [1.0] * len(rankings)
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def dedupe(ranked: Ranked, chunks: dict[str, Chunk]) -> Ranked:
    """Drop a hit whose span overlaps a better hit from the same document (split paragraphs)."""
    kept: Ranked = []
    spans: dict[str, list[tuple[int, int]]] = {}
    for chunk_id, score in ranked:
        chunk = chunks.get(chunk_id)
        if chunk is None:
            continue  # vector without a committed row: a write in flight
        seen = spans.setdefault(chunk.document_id, [])
        if any(chunk.start < e and s < chunk.end and _overlap(chunk, s, e) > 0.2 for s, e in seen):
            continue
        seen.append((chunk.start, chunk.end))
        kept.append((chunk_id, score))
    return kept


def _overlap(chunk: Chunk, start: int, end: int) -> float:
    inter = min(chunk.end, end) - max(chunk.start, start)
    return inter / max(1, min(chunk.end - chunk.start, end - start))


class Searcher:
    """Owns a store and the model; one per process (the API keeps one)."""

    def __init__(self, settings: Settings, store: IndexReader | None = None, embedder: Encoder | None = None) -> None:
        self.settings = settings
        self.store: IndexReader = store or Store.open(settings)
        self._embedder = embedder
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lexical")
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    @property
    def model_loaded(self) -> bool:
        return self._embedder is not None

    @property
    def embedder(self) -> Encoder:
        if self._embedder is None:
            embedder = embedder_for(self.settings)
            # Checked before it is kept, so a mismatched store is refused on every call, not just the first.
            self.store.check_compatible(self.settings.model, embedder.dimension, embedder.encoder, embedder.build)
            self._embedder = embedder
        return self._embedder

    def query_vector(self, text: str) -> np.ndarray:
        """The question's vector, encoded once however many searches ask it (/compare searches every
        force with one question; /ask may search twice, and its relevance bar needs the vector too)."""
        with self._vectors_lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector
        vector = self.embedder.encode_query(text)
        with self._vectors_lock:
            self._vectors[text] = vector
            while len(self._vectors) > QUERY_VECTORS_KEPT:
                self._vectors.popitem(last=False)
        return vector

    def dense(self, query: ParsedQuery, n: int, filters: Filters) -> Ranked:
        return self.store.dense_query(self.query_vector(query.text), n, filters)

    def lexical(self, query: ParsedQuery, n: int, filters: Filters) -> Ranked:
        plan = self.lexical_plan(query)
        match = plan.query.fts()
        if match is None:
            return []
        return self.store.lexical_query(match, n, filters, newest=plan.newest)

    def lexical_plan(self, query: ParsedQuery) -> LexicalPlan:
        """What FTS5 is asked, so that no question makes it score more than ``LEXICAL_BUDGET`` postings.

        FTS5 computes BM25 for every chunk that holds any word of an OR query before it can sort, so a
        query costs about the sum of its words' posting lists. On a large index (``PRUNE_FROM_CHUNKS``)
        this keeps the query's words and phrases rarest first, skipping any in more than
        ``COMMON_TERM_SHARE`` of the chunks, while their postings fit the budget: the words it drops are
        the ones BM25 weighs least. A phrase costs its commonest word's list (FTS5 walks each word's list
        to match it). If even the rarest word is over the budget, FTS5 scores only its newest
        ``LEXICAL_BUDGET`` matches (an early cut-off in posting order) instead of all of them.
        """
        total = self.store.approximate_chunk_count()
        clauses = list(query.terms) + list(query.phrases)
        if total < PRUNE_FROM_CHUNKS or not clauses:
            return LexicalPlan(query)
        stems = stem_sets(clauses)
        counts = self.store.term_document_counts(sorted({s for group in stems for s in group}))
        cost = {clause: max((counts.get(s, 0) for s in group), default=0)
                for clause, group in zip(clauses, stems, strict=True)}
        kept: list[str] = []
        spent = 0
        for clause in sorted(clauses, key=lambda c: (cost[c], clauses.index(c))):
            if kept and (spent + cost[clause] > LEXICAL_BUDGET or cost[clause] > COMMON_TERM_SHARE * total):
                continue
            kept.append(clause)
            spent += cost[clause]
        planned = ParsedQuery(tuple(t for t in query.terms if t in kept), tuple(p for p in query.phrases if p in kept),
                              query.text)
        return LexicalPlan(planned, newest=LEXICAL_BUDGET if spent > LEXICAL_BUDGET else None)

    def candidates(self, query: ParsedQuery, mode: str, n: int, filters: Filters) -> tuple[Ranked, dict[str, Scored]]:
        """Ranked candidates, and for hybrid each one's scores (the relevance gate uses them)."""
        if mode not in MODES:
            raise BadQuery(f"unknown mode '{mode}': use one of {', '.join(MODES)}")
        if mode == "dense":
            dense = self.dense(query, n, filters)
            return dense, {cid: Scored(cid, sim, sim, sim, 0.0) for cid, sim in dense}
        if mode == "lexical":
            return self.lexical(query, n, filters), {}
        # Both sides at once: the model, Chroma and SQLite all release the GIL while they work.
        lexical_future = self._pool.submit(self.lexical, query, n, filters)
        vector = self.query_vector(query.text)
        dense = self.store.dense_query(vector, n, filters)
        lexical = lexical_future.result()
        ids = list(dict.fromkeys([cid for cid, _ in dense] + [cid for cid, _ in lexical]))
        scored = rescore(vector, ids, dict(lexical), self.store.chunk_vectors(ids), dict(dense))
        return [(s.chunk_id, s.score) for s in scored], {s.chunk_id: s for s in scored}

    def search(self, query: str, *, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[SearchHit]:
        query = check_query(query)
        if not 1 <= k <= 100:
            raise BadQuery(f"k must be between 1 and 100 (got {k})")
        filters = filters or Filters()
        parsed = parse_query(query)
        pool = max(self.settings.candidates, k * 3)
        ranked, scores = self.candidates(parsed, mode, pool, filters)
        stored = self.store.get_chunks([cid for cid, _ in ranked])
        if mode == "hybrid" and stored:
            ids = [cid for cid, _ in ranked if cid in stored]
            coverage = QuestionWords(self.store, parsed).coverages(
                [f"{stored[cid].chunk.header}\n{stored[cid].chunk.text}" for cid in ids])
            ranked = with_coverage(ranked, dict(zip(ids, coverage, strict=True)))
        ranked = dedupe(ranked, {cid: s.chunk for cid, s in stored.items()})[:k]
        terms = parsed.highlight_terms()
        hits = []
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            sc = stored[chunk_id]
            seen = scores.get(chunk_id)
            hits.append(SearchHit(rank, score, sc.chunk, sc.document, terms,
                                  seen.dense if seen else None, seen.sentence if seen else None))
        return hits


def search_response(searcher: Searcher, query: str, spec: FilterSpec, *, k: int = 10,
                    mode: str = "hybrid") -> SearchResponse:
    """A search with filters as the user gave them: what GET /search and `precedent search` return."""
    filters = build_filters(searcher.store.known_forces(), spec)
    hits = searcher.search(query, k=k, filters=filters, mode=mode)
    return SearchResponse(query=query, filters=AppliedSearch(**filters.model_dump(), mode=mode),
                          results=[h.result() for h in hits])
