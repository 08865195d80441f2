"""The benchmarks' synthetic indexes: built correctly and reused, with composed vectors close to real ones.

Times are never asserted here; the benchmarks print them.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from precedent.eval.bench.load import new_papers, parse_clients
from precedent.eval.bench.query import BLOCK, ComposedVectors, build_synthetic_index, synthetic_block
from precedent.eval.bench.scale import parse_sizes, vectors_for
from precedent.eval.bench.synthetic import SentencePool, seed_sentences
from precedent.ingest.embed import embedder_for
from precedent.ingest.errors import PrecedentError
from precedent.ingest.forces import all_forces
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store


@pytest.fixture(scope="module")
def sentences(seeds_dir: Path) -> SentencePool:
    return SentencePool("recombined", seed_sentences(seeds_dir))


def test_picks_are_the_sentences_the_chunk_text_is_made_of(sentences: SentencePool) -> None:
    # force names and numbers are rewritten in the chunk text; the other words of its first sentence survive
    force_words = {w for force in all_forces() for alias in force.aliases for w in alias.split()}
    block = synthetic_block(3, sentences)
    _, _, chunks = block[7]
    checked = 0
    for chunk in chunks[:20]:
        number = 3 * BLOCK + 7 * len(chunks) + chunk.ordinal
        first = sentences.sentences[sentences.picks(number)[0]]
        words = [w for w in first.split() if w.isalpha() and w not in force_words]
        assert all(w in chunk.text for w in words), (number, chunk.text[:80], first[:80])
        checked += bool(words)
    assert checked >= 15


def test_composed_vectors_are_nearest_to_their_own_chunks(sentences: SentencePool) -> None:
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


def test_a_zipf_pool_draws_its_rth_sentence_about_one_rth_as_often_as_its_first() -> None:
    pool = SentencePool.zipf([f"sentence number {i}" for i in range(500)])
    assert sorted(pool.sentences) == sorted(f"sentence number {i}" for i in range(500))
    counts = Counter(i for n in range(20_000) for i in pool.picks(n))
    assert counts[0] > counts[1] > counts[9] > counts[99] > 0
    assert 8 <= counts[0] / counts[9] <= 12.5 and 70 <= counts[0] / counts[99] <= 140
    assert pool.picks(12345) == pool.picks(12345)  # a chunk's sentences are fixed by its number


def test_the_load_benchmark_uploads_new_papers_and_checks_its_client_counts(seeds_dir: Path) -> None:
    corpora = [seeds_dir]
    papers = new_papers(corpora, 7, seed=1)
    originals = {p.read_bytes() for p in seeds_dir.glob("*.txt")}
    assert len(papers) == len({name for name, _ in papers}) == len({data for _, data in papers}) == 7
    assert not originals & {data for _, data in papers}  # each a new document, not an unchanged one
    assert new_papers(corpora, 7, seed=1) == papers and new_papers(corpora, 7, seed=2) != papers
    assert parse_clients("8,32") == [8, 32]
    for bad in ("eight", "0", "8,-1"):
        with pytest.raises(PrecedentError):
            parse_clients(bad)


def test_an_unknown_benchmark_names_every_one_including_all() -> None:
    from typer.testing import CliRunner

    from precedent.api.cli import app

    result = CliRunner().invoke(app, ["bench", "speed"])
    assert result.exit_code != 0
    message = result.output + str(result.exception or "")
    assert "unknown benchmark 'speed'" in message and "or all" in message


def test_the_report_of_bench_all_has_each_benchmarks_section() -> None:
    from precedent.eval.report import render

    html = render(bench={"benches": {
        "ingest": {"end_to_end_chunks_per_s": 31.7, "ratio": 2.39},
        "query": {"latencies_ms": {"hybrid": [12.0, 14.0]}, "summary": {"hybrid": {"p50": 13.0, "p95": 14.0, "n": 2}},
                  "chunks": 100_000, "server_rss_mb": 445, "server_peak_rss_mb": 450},
    }})
    assert "Ingest benchmark" in html and "31.7" in html
    assert "Query benchmark (100000 chunks)" in html and "445" in html
