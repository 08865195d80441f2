"""Naive baselines, the recipes a search product must beat: fixed-size chunks with no structure.

``bm25-naive``: rank-bm25 over 1,000/200 recursive character chunks of the cleaned text.
``dense-naive``: the LangChain quick-start — MiniLM over the same chunks in an in-memory chromadb.
``rrf-naive``: the two fused by reciprocal rank, with Precedent's own fusion function and candidate depth.
All read the same cleaned document text Precedent indexed, so only retrieval differs.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from precedent.eval.matching import Passage
from precedent.ingest.embed import Encoder
from precedent.search.retrieve import rrf

NAIVE_CHUNK_SIZE = 1000
NAIVE_CHUNK_OVERLAP = 200

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class SourceText:
    """A document's cleaned text with the identity a passage needs for matching."""

    document_id: str
    source: str
    text: str


def naive_chunks(documents: Sequence[SourceText], chunk_size: int = NAIVE_CHUNK_SIZE,
                 overlap: int = NAIVE_CHUNK_OVERLAP) -> list[Passage]:
    """RecursiveCharacterTextSplitter with its default separators: no paragraphs, no headers."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=overlap)
    return [
        Passage(text=piece, document_id=doc.document_id, source=doc.source, locator=f"chunk {n}")
        for doc in documents
        for n, piece in enumerate(splitter.split_text(doc.text))
    ]


def bm25_tokens(text: str) -> list[str]:
    """Plain BM25 tokens: lower-case words, no stemming, no stop list."""
    return _WORD.findall(text.lower())


class BM25Naive:
    name = "bm25-naive"

    def __init__(self, chunks: list[Passage]) -> None:
        from rank_bm25 import BM25Okapi

        self.chunks = chunks
        self._bm25 = BM25Okapi([bm25_tokens(c.text) for c in chunks])

    def rank(self, question: str, k: int) -> list[int]:
        scores = self._bm25.get_scores(bm25_tokens(question))
        return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return [self.chunks[i] for i in self.rank(question, k)]


class DenseNaive:
    """MiniLM vectors in chromadb's in-memory client; our own vectors, never Chroma's embedder."""

    name = "dense-naive"

    def __init__(self, chunks: list[Passage], embedder: Encoder) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.chunks = chunks
        self.embedder = embedder
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        # embedding_function=None: Chroma's default embedder downloads a model; we always pass vectors.
        self._collection = client.create_collection(f"naive-{uuid.uuid4().hex[:12]}", embedding_function=None)
        vectors = embedder.encode([c.text for c in chunks])
        ids = [str(i) for i in range(len(chunks))]
        for start in range(0, len(chunks), 2000):
            self._collection.add(ids=ids[start: start + 2000], embeddings=vectors[start: start + 2000])

    def rank(self, question: str, k: int) -> list[int]:
        if not self.chunks:
            return []
        vector = self.embedder.encode_query(question)
        result = self._collection.query(query_embeddings=[vector.tolist()], n_results=min(k, len(self.chunks)),
                                        include=[])
        return [int(i) for i in result["ids"][0]]

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return [self.chunks[i] for i in self.rank(question, k)]


class RRFNaive:
    """BM25 and dense over the naive chunks, fused as Precedent fuses its own two sides."""

    name = "rrf-naive"

    def __init__(self, bm25: BM25Naive, dense: DenseNaive, *, candidates: int = 50, rrf_k: int = 60) -> None:
        self.bm25, self.dense, self.candidates, self.rrf_k = bm25, dense, candidates, rrf_k

    def retrieve(self, question: str, k: int) -> list[Passage]:
        depth = max(self.candidates, k * 3)
        sides = [[(str(i), 0.0) for i in side.rank(question, depth)] for side in (self.dense, self.bm25)]
        return [self.bm25.chunks[int(i)] for i, _ in rrf(sides, k=self.rrf_k)[:k]]
