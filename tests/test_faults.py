"""Faults the archive must survive: kill -9 mid-ingest, concurrent reads, a foreign store, Chroma going away,
hostile files."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from precedent.api.app import create_app
from precedent.ingest.errors import StoreMismatch
from precedent.ingest.pipeline import ingest_items, ingest_paths
from precedent.ingest.records import DocumentMeta, SourceItem
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from precedent.search.retrieve import Searcher
from tests.helpers import documents_written, free_port, small_corpus, start_chroma


def store_contents(data_dir: Path) -> tuple[dict[str, int], set[str]]:
    """(document id -> chunk count, chunk ids) straight from the registry."""
    with sqlite3.connect(data_dir / "precedent.sqlite3") as conn:
        docs = dict(conn.execute("SELECT document_id, chunk_count FROM documents").fetchall())
        chunks = {r[0] for r in conn.execute("SELECT chunk_id FROM chunks")}
    return docs, chunks


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "precedent.api.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


# -- kill -9 ------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(600)
def test_repeated_kill_9_during_ingest_loses_nothing_and_a_rerun_matches_a_clean_run(
    seeds_dir: Path, tmp_path: Path
) -> None:
    corpus = small_corpus(tmp_path / "corpus", seeds_dir, 48)
    clean_dir, data_dir = tmp_path / "clean", tmp_path / "killed"
    clean = ingest_paths([corpus], Settings(data_dir=clean_dir))
    assert clean.added == 48 and not clean.failed
    # Batch size 1 makes the child write a document or two at a time, so kills land between and inside writes.
    env = {**os.environ, "PRECEDENT_EMBED_BATCH_SIZE": "1"}
    rng = random.Random(8)
    kills = 0
    for _ in range(25):
        proc = subprocess.Popen(
            [sys.executable, "-m", "precedent.api.cli", "ingest", str(corpus), "--json", "--data-dir", str(data_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        target = documents_written(data_dir) + rng.randint(1, 3)
        while proc.poll() is None and documents_written(data_dir) < target:
            time.sleep(0.02)
        time.sleep(rng.uniform(0, 0.4))  # somewhere inside the next write, or between two
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        checked = cli("check", "--json", "--data-dir", str(data_dir))
        report = json.loads(checked.stdout)
        assert checked.returncode == 0 and report["ok"], checked.stdout + checked.stderr
        assert report["chunks"] == report["vectors"] == report["fts_rows"]
        if kills >= 10:
            break
    assert kills >= 10, f"only {kills} ingests could be killed before the corpus was done"
    rerun = cli("ingest", str(corpus), "--json", "--data-dir", str(data_dir))
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["documents"] == 48
    assert cli("check", "--data-dir", str(data_dir)).returncode == 0
    assert store_contents(data_dir) == store_contents(clean_dir)


# -- concurrent use -----------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.timeout(600)
def test_searches_keep_succeeding_and_never_see_half_a_document_while_an_ingest_runs(
    seed_settings: Settings, seeds_dir: Path, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = Store.open(settings, create=True)
    searcher = Searcher(settings, store=store)
    ingest_paths([seeds_dir], settings)  # something to find from the first search on
    corpus = small_corpus(tmp_path / "corpus", seeds_dir, 240, size=900)
    items = [SourceItem(source=str(p), filename=p.name, data=p.read_bytes(), meta=DocumentMeta())
             for p in sorted(corpus.iterdir())]
    done = threading.Event()
    errors: list[str] = []
    searches = [0]
    outcome: dict[str, object] = {}

    def ingest() -> None:
        try:
            outcome["report"] = ingest_items(items, settings, store=store, embedder=searcher.embedder)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(f"ingest: {type(exc).__name__}: {exc}")
        finally:
            done.set()

    def search(query: str, mode: str) -> None:
        while not done.is_set():
            try:
                for hit in searcher.search(query, k=20, mode=mode):
                    doc_id = hit.document.document_id
                    found = store.get_document(doc_id)
                    if found is None or len(found.chunks) != found.document.chunk_count:
                        errors.append(f"half a document visible: {doc_id}")
                searches[0] += 1
            except Exception as exc:  # noqa: BLE001
                errors.append(f"search: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=ingest)] + [
        threading.Thread(target=search, args=(q, m))
        for q, m in [("meeting number", "hybrid"), ("police and crime plan", "dense"), ("panel paper", "lexical")]
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    report = outcome["report"]
    assert report.added == 240 and not report.failed  # type: ignore[attr-defined]
    assert searches[0] >= 10
    assert store.check().ok


# -- a store from another version or model ------------------------------------------------------

@pytest.mark.parametrize(("key", "value", "message"), [
    ("model", "some-other-model", "built with model 'some-other-model'"),
    ("schema_version", "0", "schema version 0"),
    ("dimension", "768", "768-dimensional"),
])
def test_a_store_from_another_model_or_schema_is_refused_at_open_with_a_clear_message(
    seed_settings: Settings, tmp_path: Path, key: str, value: str, message: str
) -> None:
    import shutil

    data_dir = tmp_path / "copy"
    shutil.copytree(seed_settings.data_dir, data_dir)
    with sqlite3.connect(data_dir / "precedent.sqlite3") as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    settings = Settings(data_dir=data_dir)
    with pytest.raises(StoreMismatch, match=message):
        ingest_items([], settings)
    with TestClient(create_app(settings)) as api:
        res = api.get("/search", params={"q": "plan"})
        assert res.status_code == 503 and message in res.json()["detail"]
        assert "re-ingest" in res.json()["detail"] or "PRECEDENT_MODEL" in res.json()["detail"]


# -- Chroma server going away ---------------------------------------------------------------------

@pytest.mark.timeout(300)
def test_a_chroma_server_going_away_is_a_clear_503_and_search_recovers_when_it_returns(
    seeds_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    server = start_chroma(tmp_path / "chroma-server", port)
    try:
        settings = Settings(data_dir=tmp_path / "data", chroma_url=f"http://127.0.0.1:{port}")
        assert ingest_paths([seeds_dir], settings).added == 5
        with TestClient(create_app(settings)) as api:
            assert api.get("/search", params={"q": "police and crime plan"}).status_code == 200
            server.kill()
            server.wait()
            down = api.get("/search", params={"q": "police and crime plan"})
            assert down.status_code == 503
            assert "Chroma server" in down.json()["detail"] and str(port) in down.json()["detail"]
            assert api.get("/health").status_code == 503
            server = start_chroma(tmp_path / "chroma-server", port)
            back = api.get("/search", params={"q": "police and crime plan"})
            assert back.status_code == 200 and back.json()["results"]
    finally:
        server.kill()
        server.wait()


# -- hostile files --------------------------------------------------------------------------------

def _docx_bomb(path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w") as member:
            block = b"\x00" * (1 << 20)
            for _ in range(300):  # 300 MB of zeros, about 300 KB zipped
                member.write(block)


def _empty_pdf(path: Path, pages: int) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    with path.open("wb") as fh:
        writer.write(fh)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_hostile_files_are_refused_with_a_clear_reason_while_the_rest_of_the_batch_ingests(
    seeds_dir: Path, tmp_path: Path
) -> None:
    batch = tmp_path / "batch"
    batch.mkdir()
    good = sorted(seeds_dir.glob("*.txt"))[:2]
    for p in good:
        (batch / p.name).write_bytes(p.read_bytes())
    _docx_bomb(batch / "bomb.docx")
    _empty_pdf(batch / "ten-thousand-pages.pdf", 10_000)
    (batch / "nested.html").write_text("<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000 + "</body></html>")
    with (batch / "huge.txt").open("wb") as fh:
        line = b"All work and no play makes a very large file. " * 20 + b"\n"
        for _ in range(200 * 1024 * 1024 // len(line) + 1):
            fh.write(line)
    (batch / "random-bytes.txt").write_bytes(bytes(random.Random(1).randrange(128, 256) for _ in range(50_000)))
    mixed = sorted(seeds_dir.glob("*.txt"))[2].read_bytes().replace(b"e", b"\xff\xfe", 40)
    (batch / "bad-utf8.txt").write_bytes(mixed)

    report = ingest_paths([batch], Settings(data_dir=tmp_path / "data"))
    failed = {Path(f.path).name: f.error for f in report.failed}
    assert "decompression bomb" in failed["bomb.docx"]
    assert "10000 pages, over the 2000 page limit" in failed["ten-thousand-pages.pdf"]
    assert "nested too deeply" in failed["nested.html"]
    assert "over the 100 MB limit" in failed["huge.txt"]
    assert "random-bytes.txt" not in failed or "not text" in failed["random-bytes.txt"]
    assert "bad-utf8.txt" not in failed  # mostly-valid text with stray bytes is decoded leniently
    assert report.added == 3 + ("random-bytes.txt" not in failed)
    store = Store.open(Settings(data_dir=tmp_path / "data"))
    assert store.check().ok
    titles = {d.source.rsplit("/", 1)[-1] for d in store.list_documents()}
    assert {p.name for p in good} | {"bad-utf8.txt"} <= titles


def test_hostile_uploads_get_a_clear_4xx_and_leave_the_archive_as_it_was(
    seeds_dir: Path, tmp_path: Path
) -> None:
    key = "k" * 24
    settings = Settings(data_dir=tmp_path / "data", admin_key=key, max_upload_mb=5)
    auth = {"Authorization": f"Bearer {key}"}
    bomb = tmp_path / "bomb.docx"
    _docx_bomb(bomb)
    with TestClient(create_app(settings)) as api:
        ok = api.post("/documents", headers=auth, files={"file": ("ok.txt", sorted(seeds_dir.glob("*.txt"))[0].read_bytes())})
        assert ok.status_code == 201
        cases = {
            "bomb.docx": bomb.read_bytes(),
            "nested.html": b"<html><body>" + b"<div>" * 100_000 + b"x" + b"</div>" * 100_000 + b"</body></html>",
            "random.txt": bytes(random.Random(2).randrange(128, 256) for _ in range(20_000)),
            "big.txt": b"x" * (6 * 1024 * 1024),
        }
        codes = {name: api.post("/documents", headers=auth, files={"file": (name, io.BytesIO(data))})
                 for name, data in cases.items()}
        assert codes["bomb.docx"].status_code == 422 and "bomb" in codes["bomb.docx"].json()["detail"]
        assert codes["nested.html"].status_code == 422 and "nested" in codes["nested.html"].json()["detail"]
        assert codes["random.txt"].status_code in (201, 422)
        assert codes["big.txt"].status_code == 413
        assert api.get("/documents").json()["count"] == 1 + (codes["random.txt"].status_code == 201)
