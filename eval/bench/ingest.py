"""Ingest benchmark: end-to-end chunks/s beside bare ``model.encode`` chunks/s on the same chunks.

The corpus is the seeds replicated with varied text (other forces, dates, numbers, reordered and
reworded paragraphs) to about 5,000 chunks. The model is loaded before the clock starts for both
measurements, so the ratio shows what parsing, chunking and storing cost on top of encoding
(target: end-to-end at least 85% of bare encode).

    python -m precedent.eval.bench.ingest [--chunks 5000] [--seeds DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from precedent.eval.bench.synthetic import find_seeds, seed_texts, write_varied_corpus
from precedent.ingest.embed import get_embedder
from precedent.ingest.pipeline import ingest_paths, prepare
from precedent.ingest.records import SourceItem
from precedent.ingest.settings import Settings, quiet_and_offline
from precedent.ingest.store import Store

TARGET_RATIO = 0.85
# Varied copies make about 7% fewer chunks than their seeds (reordered paragraphs merge differently).
VARIED_SHARE = 0.93


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def chunks_per_document(seeds: Path, settings: Settings) -> float:
    """How many chunks a seed document makes, from parsing and chunking them (no model, no store)."""

    counts = [len(prepare(SourceItem(str(seeds / n), n, t.encode()), f"probe-{n}", "probe", settings).chunks)
              for n, t in seed_texts(seeds).items()]
    return sum(counts) / len(counts)


def run_ingest_bench(chunks: int = 5000, *, seeds: Path | None = None, workdir: Path | None = None,
                     log: Any = None) -> dict[str, Any]:
    quiet_and_offline()

    seeds = find_seeds(seeds)
    say = log or (lambda msg: print(msg, file=sys.stderr))
    with tempfile.TemporaryDirectory(prefix="precedent-bench-ingest-", dir=workdir) as tmp:
        root = Path(tmp)
        settings = Settings(data_dir=root / "data")
        per_doc = chunks_per_document(seeds, settings)
        documents = math.ceil(chunks / (per_doc * VARIED_SHARE))
        say(f"writing {documents} varied documents (~{per_doc:.1f} chunks each) from {seeds}")
        files = write_varied_corpus(seeds, root / "corpus", documents)
        corpus_mb = sum(p.stat().st_size for p in files) / 1e6

        embedder = get_embedder(settings.model, settings.embed_batch_size)  # the one ingest will use
        embedder.encode(["warm up the model"] * 8)

        say("ingesting end to end")
        started = time.perf_counter()
        report = ingest_paths([root / "corpus"], settings)
        e2e_s = time.perf_counter() - started
        ingest_peak_mb = peak_rss_mb()
        if report.failed:
            say(f"warning: {len(report.failed)} files failed, e.g. {report.failed[0].path}: {report.failed[0].error}")

        store = Store.open(settings)
        texts = []
        for doc in store.list_documents():
            got = store.get_document(doc.document_id)
            texts.extend(c.embedding_text() for c in (got.chunks if got else []))
        disk_mb = sum(p.stat().st_size for p in settings.data_dir.rglob("*") if p.is_file()) / 1e6
        store.close()

        say(f"encoding the same {len(texts)} chunk texts with bare model.encode")
        started = time.perf_counter()
        embedder.encode(texts)
        bare_s = time.perf_counter() - started

        # Where the difference goes: parsing, cleaning and chunking alone, without model or store.
        started = time.perf_counter()
        for path in files:
            prepare(SourceItem(str(path), path.name, path.read_bytes()), "probe", "probe", settings)
        prepare_s = time.perf_counter() - started

    e2e_rate = report.chunks / e2e_s
    bare_rate = len(texts) / bare_s
    return {
        "documents": report.documents, "chunks": report.chunks, "corpus_mb": round(corpus_mb, 2),
        "end_to_end_s": round(e2e_s, 2), "end_to_end_chunks_per_s": round(e2e_rate, 2),
        "bare_encode_s": round(bare_s, 2), "bare_encode_chunks_per_s": round(bare_rate, 2),
        "ratio": round(e2e_rate / bare_rate, 3), "target_ratio": TARGET_RATIO,
        "parse_chunk_s": round(prepare_s, 2),
        "ingest_peak_rss_mb": round(ingest_peak_mb, 1), "peak_rss_mb": round(peak_rss_mb(), 1),
        "index_disk_mb": round(disk_mb, 1),
        "failed_files": len(report.failed),
    }


def format_ingest(result: dict[str, Any]) -> str:
    verdict = "meets" if result["ratio"] >= result["target_ratio"] else "below"
    return "\n".join([
        f"corpus: {result['documents']} documents, {result['chunks']} chunks ({result['corpus_mb']} MB of text)",
        f"{'':<24}{'seconds':>10}{'chunks/s':>10}",
        f"{'end to end (ingest)':<24}{result['end_to_end_s']:>10.1f}{result['end_to_end_chunks_per_s']:>10.1f}",
        f"{'bare model.encode':<24}{result['bare_encode_s']:>10.1f}{result['bare_encode_chunks_per_s']:>10.1f}",
        f"ratio end-to-end / bare: {result['ratio']:.3f} ({verdict} the {result['target_ratio']} target)",
        f"of the difference: parsing, cleaning and chunking alone take {result['parse_chunk_s']:.1f} s",
        f"peak RSS: {result['ingest_peak_rss_mb']:.0f} MB after ingest, {result['peak_rss_mb']:.0f} MB after the bare "
        f"encode (one call over every chunk); index on disk: {result['index_disk_mb']:.1f} MB",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=5000, help="approximate corpus size in chunks")
    parser.add_argument("--seeds", type=Path, default=None, help="folder of seed .txt files")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    result = run_ingest_bench(args.chunks, seeds=args.seeds)
    print(json.dumps(result, indent=2) if args.json else format_ingest(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
