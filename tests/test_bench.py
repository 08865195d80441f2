"""The benchmarks' synthetic indexes: built correctly and reused, with composed vectors close to real ones.

Times are never asserted here; the benchmarks print them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from precedent.eval.bench.query import BLOCK, ComposedVectors, build_synthetic_index, synthetic_block
from precedent.eval.bench.scale import parse_sizes, vectors_for
from precedent.eval.bench.synthetic import seed_sentences, synthetic_chunk_picks
from precedent.ingest.embed import embedder_for
from precedent.ingest.errors import PrecedentError
from precedent.ingest.forces import all_forces
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store


@pytest.fixture(scope="module")
def sentences(seeds_dir: Path) -> list[str]:
    return seed_sentences(seeds_dir)


def test_picks_are_the_sentences_the_chunk_text_is_made_of(sentences: list[str]) -> None:
    # force names and numbers are rewritten in the chunk text; the other words of its first sentence survive
    force_words = {w for force in all_forces() for alias in force.aliases for w in alias.split()}
    block = synthetic_block(3, sentences)
    _, _, chunks = block[7]
    checked = 0
    for chunk in chunks[:20]:
        number = 3 * BLOCK + 7 * len(chunks) + chunk.ordinal
        first = sentences[synthetic_chunk_picks(number, len(sentences))[0]]
        words = [w for w in first.split() if w.isalpha() and w not in force_words]
        assert all(w in chunk.text for w in words), (number, chunk.text[:80], first[:80])
        checked += bool(words)
    assert checked >= 15


def test_composed_vectors_are_nearest_to_their_own_chunks(sentences: list[str]) -> None:
    settings = Settings()
    embedder = embedder_for(settings)
    block = synthetic_block(0, sentences)
    composed = ComposedVectors(embedder, sentences).vectors(0, block)
    assert composed.shape == (BLOCK, embedder.dimension)
    assert np.allclose(np.linalg.norm(composed, axis=1), 1.0, atol=1e-4)

    chunks = [c for _, _, doc_chunks in block for c in doc_chunks]
    sample = list(range(0, BLOCK, 125))  # 40 chunks across 40 documents
    real = np.asarray(embedder.encode([chunks[i].embedding_text() for i in sample]))
    similarity = composed[sample] @ real.T  # composed chunk i against real chunk j
    own = np.diag(similarity)
    assert own.mean() > 0.85, own.mean()
    # each composed vector is closer to its own chunk's encoding than to nearly every other chunk's
    ranks = (similarity > own[:, None]).sum(axis=1)
    assert np.mean(ranks == 0) >= 0.8, ranks


def test_a_composed_index_is_built_complete_and_then_reused(tmp_path: Path, seeds_dir: Path) -> None:
    built = build_synthetic_index(4000, cache=tmp_path, seeds=seeds_dir, vectors="composed", log=lambda _: None)
    assert built["chunks"] == BLOCK and built["vectors"] == "composed" and not built["reused"]
    assert Path(built["index_dir"]).name == f"index-{BLOCK}-composed"
    store = Store.open(Settings(data_dir=Path(built["index_dir"])))
    report = store.check(repair=False)
    store.close()
    assert report.ok and report.chunks == report.vectors == report.fts_rows == BLOCK, report
    again = build_synthetic_index(BLOCK, cache=tmp_path, seeds=seeds_dir, vectors="composed", log=lambda _: None)
    assert again["reused"] and again["build_s"] == built["build_s"]
    assert not (tmp_path / "vectors").exists()  # composed vectors are never cached as encodings


def test_vector_kinds_and_sizes_are_checked(tmp_path: Path) -> None:
    with pytest.raises(PrecedentError, match="--vectors"):
        build_synthetic_index(BLOCK, cache=tmp_path, vectors="random")
    assert parse_sizes("10k,100k,1m") == [10_000, 100_000, 1_000_000]
    assert [vectors_for(n, "auto") for n in (10_000, 100_000, 1_000_000)] == ["encoded", "encoded", "composed"]
    assert vectors_for(1_000_000, "encoded") == "encoded"
    with pytest.raises(PrecedentError, match="auto"):
        vectors_for(10_000, "random")
    with pytest.raises(PrecedentError):
        parse_sizes("ten")
