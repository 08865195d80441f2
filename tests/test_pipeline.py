"""The ingest pipeline's speed-ups keep its results: parsing in a worker process builds the same index as
parsing inline, and nothing is encoded twice."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from precedent.ingest.pipeline import ingest_items, ingest_paths
from precedent.ingest.records import SourceItem
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from tests.helpers import documents_written, small_corpus


def _index(settings: Settings) -> dict[str, list[tuple[str, str, str]]]:
    store = Store.open(settings)
    out = {}
    for doc in store.list_documents():
        found = store.get_document(doc.document_id)
        out[doc.document_id] = [(c.chunk_id, c.locator, c.text) for c in (found.chunks if found else [])]
    return out


def test_parsing_in_the_worker_process_builds_the_same_index_as_parsing_inline(seeds_dir: Path, tmp_path: Path) -> None:
    worker = Settings(data_dir=tmp_path / "worker")
    inline = Settings(data_dir=tmp_path / "inline")
    items = [SourceItem(source=str(p), filename=p.name, data=p.read_bytes()) for p in sorted(seeds_dir.glob("*.txt"))]
    assert ingest_items(items, worker).added == 5
    for item in items:  # one item per call is parsed in this process
        assert ingest_items([item], inline).added == 1
    assert _index(worker) == _index(inline) != {}


def test_a_changed_document_encodes_only_its_changed_chunks_and_the_rest_keep_their_vectors(
    seeds_dir: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = sorted(seeds_dir.glob("*.txt"))[0]
    paper = corpus / source.name
    shutil.copy(source, paper)
    settings = Settings(data_dir=tmp_path / "data")
    first = ingest_paths([corpus], settings)
    store = Store.open(settings)
    before = {c.text: v for c, v in _chunks_and_vectors(store)}
    assert len(before) == first.chunks > 3 and first.encoded > first.chunks  # chunks and their sentences

    text = paper.read_text()
    assert "In response to questions" in text
    paper.write_text(text.replace("In response to questions", "In answer to questions", 1))  # one paragraph
    second = ingest_paths([corpus], settings)
    assert second.updated == 1
    # the changed sentence, and the one or two chunks holding it (the overlap may repeat it)
    assert 2 <= second.encoded <= 4 and second.reused >= first.encoded - 4, (first.to_dict(), second.to_dict())
    after = _chunks_and_vectors(store)
    kept = [(before[c.text], v) for c, v in after if c.text in before]
    assert len(kept) >= len(after) - 2
    assert all(np.allclose(old, new, atol=1e-6) for old, new in kept)


def test_the_same_text_twice_in_one_run_is_encoded_once(seeds_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    source = sorted(seeds_dir.glob("*.txt"))[1]
    for name in ("copy-a.txt", "copy-b.txt"):  # two documents, same words, same metadata: same chunk texts
        shutil.copy(source, corpus / name)
    report = ingest_paths([corpus], Settings(data_dir=tmp_path / "data"))
    assert report.added == 2
    assert report.encoded > 0 and report.reused >= report.encoded


def _chunks_and_vectors(store: Store) -> list[tuple[object, np.ndarray]]:
    chunks = store.chunks_of([d.document_id for d in store.list_documents()])
    vectors = store.vectors_of([c.chunk_id for c in chunks])
    return [(c, vectors[c.chunk_id]) for c in chunks]


def test_a_killed_ingest_leaves_no_parse_worker_behind(seeds_dir: Path, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "corpus", seeds_dir, 60)
    proc = subprocess.Popen(
        [sys.executable, "-m", "precedent.api.cli", "ingest", str(corpus), "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PRECEDENT_EMBED_BATCH_SIZE": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        while not documents_written(tmp_path / "data") and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        workers = _children(proc.pid)
        assert proc.poll() is None and workers, "the ingest ended before it could be killed mid-way"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    deadline = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def _children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_file_the_parser_cannot_finish_in_time_fails_alone_and_stores_nothing(seeds_dir: Path, tmp_path: Path) -> None:
    items = [SourceItem(source=str(p), filename=p.name, data=p.read_bytes()) for p in sorted(seeds_dir.glob("*.txt"))[:2]]
    hasty = Settings(data_dir=tmp_path / "data", parse_timeout_s=0.001)
    report = ingest_items(items, hasty)
    assert report.added == 0 and len(report.failed) == 2
    assert all("parsing took longer than 0.001 s" in f.error and "PRECEDENT_PARSE_TIMEOUT_S" in f.error
               for f in report.failed)
    assert Store.open(hasty).counts() == (0, 0)
    # The stopped worker is replaced: the same files parse when given the usual time.
    assert ingest_items(items, Settings(data_dir=tmp_path / "data")).added == 2
