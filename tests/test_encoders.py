"""The two encoders (onnx-int8, torch): close vectors, one build of the int8 model, and no mixed vectors in
an index: another encoder is refused with a message naming `precedent reindex`, which re-embeds in place and
survives kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from precedent.ingest.embed import Embedder, embedder_for
from precedent.ingest.errors import StoreMismatch
from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.reindex import reindex
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from precedent.search.retrieve import Searcher
from tests.helpers import small_corpus


def _chunk_texts(seeds_dir: Path, count: int = 120) -> list[str]:
    """Chunk-sized pieces of the seeds, plus the short and odd texts queries are made of."""
    texts = []
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text()
        texts += [text[i: i + 1000] for i in range(0, len(text), 900)]
    return texts[:count] + ["rural crime", "101", "", "precept " * 400]


def test_int8_vectors_point_the_same_way_as_torch_vectors_for_every_text(seeds_dir: Path) -> None:
    texts = _chunk_texts(seeds_dir)
    int8 = embedder_for(Settings(encoder="onnx-int8")).encode(texts)
    fp32 = embedder_for(Settings(encoder="torch")).encode(texts)
    assert int8.shape == fp32.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    cosine = (int8 * fp32).sum(axis=1)
    assert cosine.min() > 0.96 and cosine.mean() > 0.985, (cosine.min(), cosine.mean())


@pytest.mark.parametrize("encoder", ["onnx-int8", "torch"])
def test_a_text_gets_the_same_vector_alone_as_among_longer_and_shorter_texts(seeds_dir: Path, encoder: str) -> None:
    embedder = embedder_for(Settings(encoder=encoder))
    texts = _chunk_texts(seeds_dir, 40)
    together = embedder.encode(texts)
    alone = np.stack([embedder.encode([t])[0] for t in texts[::7]])
    assert np.allclose(together[::7], alone, atol=2e-3 if encoder == "torch" else 1e-5)


def test_the_int8_model_is_built_once_into_a_folder_named_by_the_weights_hash(tmp_path: Path) -> None:
    cache = tmp_path / "encoders"
    first = Embedder(encoder="onnx-int8", cache_dir=cache)
    built = [p for p in cache.iterdir() if p.is_dir()]
    assert len(built) == 1 and (built[0] / "model.onnx").is_file() and first.build[3:] in built[0].name
    stamp = (built[0] / "model.onnx").stat().st_mtime_ns
    second = Embedder(encoder="onnx-int8", cache_dir=cache)
    assert (built[0] / "model.onnx").stat().st_mtime_ns == stamp and second.build == first.build
    assert np.allclose(first.encode(["the precept"]), second.encode(["the precept"]))


@pytest.mark.timeout(120)
def test_a_query_is_encoded_while_an_ingest_batch_holds_the_torch_model() -> None:
    embedder = embedder_for(Settings(encoder="torch"))
    expected = embedder.encode(["rural crime"])[0]
    with embedder._lock:  # what a batch holds for its whole run; a query taking it too would hang here
        query = embedder.encode_query("rural crime")
    assert np.allclose(query, expected, atol=2e-3)


def test_a_model_folder_saved_by_the_installed_sentence_transformers_runs_on_the_int8_encoder(tmp_path: Path) -> None:
    """sentence-transformers 6 writes its pooling config in a new form ("pooling_mode": "mean"): a model a user
    saved or fine-tuned with it is still a mean-pooled, normalised MiniLM the int8 encoder can build."""
    from sentence_transformers import SentenceTransformer

    from precedent.ingest.embed import resolve_model_path

    folder = tmp_path / "saved-minilm"
    SentenceTransformer(str(resolve_model_path("all-MiniLM-L6-v2")), device="cpu").save(str(folder))
    assert "pooling_mode" in json.loads((folder / "1_Pooling" / "config.json").read_text())
    cache = tmp_path / "encoders"
    saved = Embedder(model=str(folder), encoder="onnx-int8", cache_dir=cache)
    bundled = Embedder(encoder="onnx-int8", cache_dir=cache)
    texts = ["the precept for 2019/20", "101 call answering times"]
    assert saved.dimension == 384
    assert (saved.encode(texts) * bundled.encode(texts)).sum(axis=1).min() > 0.99

# -- no mixed vectors ---------------------------------------------------------------------------

@pytest.fixture()
def torch_index(seeds_dir: Path, tmp_path: Path) -> Settings:
    """A dozen short documents embedded by the torch encoder."""
    settings = Settings(data_dir=tmp_path / "data", encoder="torch")
    report = ingest_paths([small_corpus(tmp_path / "corpus", seeds_dir, 12)], settings)
    assert report.added == 12
    return settings


def test_a_store_records_the_encoder_and_build_that_made_its_vectors(torch_index: Settings) -> None:
    record = Store.open(torch_index).encoder()
    assert record.encoder == "torch" and record.build == embedder_for(torch_index).build


def test_searching_with_another_encoder_is_refused_with_a_message_naming_reindex(torch_index: Settings) -> None:
    searcher = Searcher(torch_index.model_copy(update={"encoder": "onnx-int8"}))
    with pytest.raises(StoreMismatch, match=r"torch encoder.*`precedent reindex`.*PRECEDENT_ENCODER=torch"):
        searcher.search("precept", k=3)
    result = _cli("search", "precept", "--data-dir", str(torch_index.data_dir), encoder="onnx-int8")
    assert result.returncode == 1 and "precedent reindex" in result.stderr and "Traceback" not in result.stderr


def test_ingesting_with_another_encoder_is_refused_before_anything_is_written(
    torch_index: Settings, seeds_dir: Path
) -> None:
    before = Store.open(torch_index).counts()
    with pytest.raises(StoreMismatch, match="precedent reindex"):
        ingest_paths([seeds_dir], torch_index.model_copy(update={"encoder": "onnx-int8"}))
    assert Store.open(torch_index).counts() == before


def test_reindex_re_embeds_every_chunk_in_place_and_the_index_then_answers_the_new_encoder_only(
    torch_index: Settings,
) -> None:
    int8 = torch_index.model_copy(update={"encoder": "onnx-int8"})
    before = Store.open(torch_index).counts()
    with sqlite3.connect(torch_index.sqlite_path) as conn:  # as a store from before sentence vectors were kept
        conn.execute("DELETE FROM chunk_vectors")
    report = reindex(int8, documents_per_batch=5)
    assert (report.previous, report.encoder, report.documents) == ("torch", "onnx-int8", 12)
    store = Store.open(int8)
    assert store.counts() == before and store.check().ok
    _assert_vectors_are(int8, store)
    assert Searcher(int8).search("precept", k=3)
    with pytest.raises(StoreMismatch, match="precedent reindex"):
        Searcher(torch_index).search("precept", k=3)
    assert reindex(int8).documents == 0  # nothing left to do


def test_a_reindex_killed_mid_way_refuses_every_search_and_resumes_where_it_stopped(torch_index: Settings) -> None:
    data_dir = torch_index.data_dir
    third = sorted(d.document_id for d in Store.open(torch_index).list_documents())[2]
    proc = subprocess.Popen(
        [sys.executable, "-m", "precedent.api.cli", "reindex", "--documents-per-batch", "1", "--data-dir", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PRECEDENT_ENCODER": "onnx-int8"},
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and _reindexed_through(data_dir) < third and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the reindex finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    for encoder in ("torch", "onnx-int8"):  # half the vectors are each encoder's: nobody may query them
        with pytest.raises(StoreMismatch, match="part way through.*run `precedent reindex` to finish"):
            Searcher(torch_index.model_copy(update={"encoder": encoder})).search("precept", k=3)

    resumed = _cli("reindex", "--json", "--data-dir", str(data_dir), encoder="onnx-int8")
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["resumed"] and 0 < report["documents"] < 12
    int8 = torch_index.model_copy(update={"encoder": "onnx-int8"})
    store = Store.open(int8)
    assert store.check().ok and store.reindex_state() is None
    _assert_vectors_are(int8, store)


def _assert_vectors_are(settings: Settings, store: Store) -> None:
    """Every stored vector (each chunk's, in Chroma and SQLite, and its sentences') is the one ``settings``'
    encoder makes for its text."""
    embedder = embedder_for(settings)
    chunks = store.chunks_of([d.document_id for d in store.list_documents()])
    dense = store.vectors_of([c.chunk_id for c in chunks])
    stacked = store.chunk_vectors([c.chunk_id for c in chunks])
    similarity = []
    for chunk in chunks:
        texts = [chunk.embedding_text(), *chunk.sentence_texts()]
        fresh = embedder.encode(texts)
        rows = stacked[chunk.chunk_id]
        assert len(rows) == len(texts)
        similarity += [float(dense[chunk.chunk_id] @ fresh[0])]
        similarity += list((rows * fresh).sum(axis=1) / np.linalg.norm(rows, axis=1))  # stored as float16
    assert min(similarity) > 0.999, min(similarity)


def _reindexed_through(data_dir: Path) -> str:
    try:
        with sqlite3.connect(data_dir / "precedent.sqlite3", timeout=5) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'reindex_after'").fetchone()
    except sqlite3.Error:
        return ""
    return row[0] if row else ""


def _cli(*args: str, encoder: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "precedent.api.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PRECEDENT_ENCODER": encoder}, timeout=300)
