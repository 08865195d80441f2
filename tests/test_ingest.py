"""Ingest into a real store: incremental, replace-on-change, remove, bad files, interruption."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from precedent.api.cli import app
from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.records import Filters
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from tests.helpers import documents_written

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_seeds_ingest_with_manifest_metadata_and_locators(seed_settings: Settings, seeds_dir: Path) -> None:
    store = Store.open(seed_settings)
    docs = {Path(d.source).name: d for d in store.list_documents()}
    assert set(docs) == {p.name for p in seeds_dir.glob("*.txt")}
    report = docs["001_3afe6019e11fd42c.txt"]
    assert (report.force, report.doc_type, str(report.meeting_date)) == ("Devon and Cornwall", "report", "2017-07-07")
    assert report.panel == "Devon and Cornwall Police and Crime Panel"
    assert len(report.content_hash) == 64 and report.ingested_at is not None
    for doc in docs.values():
        stored = store.get_document(doc.document_id)
        text, chunks = stored.text, stored.chunks
        assert doc.chunk_count == len(chunks) > 0
        assert all(c.locator and text[c.start:c.end] == c.text for c in chunks)
    assert store.check().ok


def test_reingesting_unchanged_files_adds_nothing(seed_settings: Settings, seeds_dir: Path) -> None:
    before = Store.open(seed_settings).counts()
    report = ingest_paths([seeds_dir], seed_settings)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert Store.open(seed_settings).counts() == before


def test_a_changed_file_replaces_its_chunks_everywhere(fresh_settings: Settings, seeds_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    target = corpus / "004.txt"
    shutil.copy(seeds_dir / "004_588db7d1a32d76d6.txt", target)
    ingest_paths([corpus], fresh_settings)
    store = Store.open(fresh_settings)
    (doc,) = store.list_documents()
    old_ids = {c.chunk_id for c in store.get_document(doc.document_id).chunks}

    text = target.read_text()
    target.write_text(text.replace("(x)", "(xi) Members asked about body-worn video in custody suites.\n\n(x)", 1))
    report = ingest_paths([corpus], fresh_settings)
    assert (report.added, report.updated) == (0, 1)
    (doc2,) = store.list_documents()
    assert doc2.document_id == doc.document_id
    chunks = store.get_document(doc.document_id).chunks
    assert not old_ids & {c.chunk_id for c in chunks}
    assert any("body-worn video in custody" in c.text for c in chunks)
    check = store.check()
    assert check.ok and check.vectors == check.chunks == len(chunks)


def test_remove_deletes_a_document_everywhere(fresh_settings: Settings, seeds_dir: Path) -> None:
    ingest_paths([seeds_dir], fresh_settings)
    store = Store.open(fresh_settings)
    victim = store.list_documents()[0]
    code, out = _cli("remove", victim.document_id, "--data-dir", str(fresh_settings.data_dir))
    assert code == 0, out
    assert victim.document_id not in {d.document_id for d in store.list_documents()}
    assert not store.lexical_query('"plan"', 100, _only(victim.document_id))
    assert store.collection.get(where={"document_id": victim.document_id})["ids"] == []
    assert store.check().ok
    code, out = _cli("remove", "no-such-doc", "--data-dir", str(fresh_settings.data_dir))
    assert code == 1 and "no document 'no-such-doc'" in out


def _only(document_id: str) -> Filters:
    return Filters(document_id=(document_id,))


def test_bad_files_are_reported_and_nothing_else_is_lost(fresh_settings: Settings, seeds_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "mixed"
    corpus.mkdir()
    shutil.copy(seeds_dir / "002_310633dc8ab7467d.txt", corpus / "good.txt")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(os.urandom(4096))
    (corpus / "corrupt.pdf").write_bytes(b"%PDF-1.7\n%garbage that is not a pdf")
    (corpus / "notes.odt").write_bytes(b"whatever")
    code, out = _cli("ingest", str(corpus), "--json", "--data-dir", str(fresh_settings.data_dir))
    assert code == 0, out
    summary = json.loads(out)
    assert set(summary) >= {"added", "updated", "unchanged", "failed", "documents", "chunks", "seconds"}
    assert summary["added"] == 1 and summary["documents"] == 1
    failed = {Path(f["path"]).name: f["error"] for f in summary["failed"]}
    assert set(failed) == {"empty.txt", "binary.txt", "corrupt.pdf"}
    assert failed["empty.txt"] == "empty file"
    assert [Path(s["path"]).name for s in summary["skipped"]] == ["notes.odt"]

    # A second run with only bad files fails (exit 1) but loses nothing.
    code, out = _cli("ingest", str(corpus / "empty.txt"), str(corpus / "binary.txt"),
                     "--data-dir", str(fresh_settings.data_dir))
    assert code == 1 and "empty file" in out
    assert Store.open(fresh_settings).counts()[0] == 1 and Store.open(fresh_settings).check().ok


def test_cli_errors_are_one_clear_line(tmp_path: Path) -> None:
    code, out = _cli("ingest", str(tmp_path / "missing"), "--data-dir", str(tmp_path / "d"))
    assert code == 1 and "no such file or folder" in out and "Traceback" not in out
    code, out = _cli("documents", "--data-dir", str(tmp_path / "nothing-here"))
    assert code == 1 and "run `precedent ingest PATH` first" in out
    bad = tmp_path / "m.csv"
    bad.write_text("file,force,body,meeting_date,doc_type,title\nx.txt,Dorset,P,not-a-date,minutes,T\n")
    code, out = _cli("ingest", str(tmp_path), "--manifest", str(bad), "--data-dir", str(tmp_path / "d"))
    assert code == 1 and "line 2 (x.txt)" in out


def test_stats_and_documents_commands(seed_settings: Settings) -> None:
    code, out = _cli("stats", "--json", "--data-dir", str(seed_settings.data_dir))
    stats = json.loads(out)
    assert code == 0 and stats["documents"] == 5
    assert stats["by_force"]["Dorset"]["documents"] == 1 and stats["by_type"]["minutes"]["documents"] == 3
    code, out = _cli("documents", "--json", "--data-dir", str(seed_settings.data_dir))
    rows = json.loads(out)
    assert code == 0 and len(rows) == 5 and all(r["chunk_count"] > 0 for r in rows)


def make_corpus(folder: Path, seeds_dir: Path, copies: int) -> Path:
    """Many distinct documents made from the seeds (each copy's text differs, so each is new)."""
    folder.mkdir(parents=True, exist_ok=True)
    seeds = sorted(seeds_dir.glob("*.txt"))
    for i in range(copies):
        seed = seeds[i % len(seeds)]
        (folder / f"copy{i:03d}_{seed.name}").write_text(seed.read_text() + f"\n\nCopy note {i}: meeting {i}.\n")
    return folder


def _ingest_process(corpus: Path, data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "precedent.api.cli", "ingest", str(corpus), "--json", "--data-dir", str(data_dir)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def kill_mid_ingest(corpus: Path, data_dir: Path, after_documents: int, timeout: float = 240) -> bool:
    """Start an ingest, SIGKILL it once it has written some documents; False if it finished first."""
    proc = _ingest_process(corpus, data_dir)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if documents_written(data_dir) >= after_documents:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.05)
    proc.wait(timeout=30)
    return False


def test_a_killed_ingest_leaves_a_consistent_store_and_a_rerun_completes(
    seeds_dir: Path, tmp_path: Path
) -> None:
    corpus = make_corpus(tmp_path / "corpus", seeds_dir, 40)
    data_dir = tmp_path / "data"
    assert kill_mid_ingest(corpus, data_dir, after_documents=3), "ingest finished before it could be killed"
    code, out = _cli("check", "--data-dir", str(data_dir))
    assert code == 0, out
    code, out = _cli("ingest", str(corpus), "--json", "--data-dir", str(data_dir))
    assert code == 0, out
    summary = json.loads(out)
    assert summary["documents"] == 40 and summary["unchanged"] >= 3 and not summary["failed"]
    check = Store.open(Settings(data_dir=data_dir)).check()
    assert check.ok and check.vectors == check.chunks == check.fts_rows


def _manifest(path: Path, *names: str) -> Path:
    rows = "".join(f"{n},Dorset,Dorset Police and Crime Panel,2015-02-05,report,Paper {n}\n" for n in names)
    path.write_text("file,force,body,meeting_date,doc_type,title\n" + rows)
    return path


def _ingest_json(*args: str) -> dict:  # type: ignore[type-arg]
    code, out = _cli("ingest", *args, "--json")
    assert code == 0, out
    return json.loads(out)


def test_a_folder_manifest_leaves_out_the_files_it_does_not_list(seeds_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(seeds_dir / "002_310633dc8ab7467d.txt", corpus / "listed.txt")
    shutil.copy(seeds_dir / "004_588db7d1a32d76d6.txt", corpus / "unlisted.txt")
    (corpus / "README.md").write_text("# About this corpus\n\nDorset papers, collected for testing.\n")
    _manifest(corpus / "manifest.csv", "listed.txt")
    summary = _ingest_json(str(corpus), "--data-dir", str(tmp_path / "d"))
    assert summary["added"] == 1 and summary["documents"] == 1
    skipped = {Path(s["path"]).name: s["error"] for s in summary["skipped"]}
    assert set(skipped) == {"unlisted.txt", "README.md"}
    assert all(reason.startswith("not in manifest") for reason in skipped.values())
    (doc,) = Store.open(Settings(data_dir=tmp_path / "d")).list_documents()
    assert doc.title == "Paper listed.txt"


def test_an_explicit_manifest_governs_the_folders_given_and_named_files_are_always_read(
        seeds_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(seeds_dir / "002_310633dc8ab7467d.txt", corpus / "a.txt")
    shutil.copy(seeds_dir / "004_588db7d1a32d76d6.txt", corpus / "b.txt")
    manifest = _manifest(tmp_path / "elsewhere.csv", "a.txt")
    summary = _ingest_json(str(corpus), "--manifest", str(manifest), "--data-dir", str(tmp_path / "d"))
    assert summary["added"] == 1
    assert [(Path(s["path"]).name, s["error"]) for s in summary["skipped"]] == [
        ("b.txt", f"not in manifest ({manifest})")]
    summary = _ingest_json(str(corpus / "b.txt"), "--manifest", str(manifest), "--data-dir", str(tmp_path / "d"))
    assert summary["added"] == 1 and summary["documents"] == 2


def test_markdown_is_not_a_paper_format_unless_asked_for(seeds_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(seeds_dir / "002_310633dc8ab7467d.txt", corpus / "paper.txt")
    notes = corpus / "notes.md"
    notes.write_text("# Notes\n\nThe Dorset panel scrutinised the Police and Crime Plan refresh in 2015.\n")
    summary = _ingest_json(str(corpus), "--data-dir", str(tmp_path / "d"))
    assert summary["added"] == 1
    assert [Path(s["path"]).name for s in summary["skipped"]] == ["notes.md"]
    assert "--include-md" in summary["skipped"][0]["error"]
    assert _ingest_json(str(corpus), "--include-md", "--data-dir", str(tmp_path / "d2"))["added"] == 2
    assert _ingest_json(str(notes), "--data-dir", str(tmp_path / "d3"))["added"] == 1
