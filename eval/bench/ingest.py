"""Ingest benchmark: Precedent's whole pipeline against the naive LangChain quick-start, same documents, one run.

The documents are the seeds and the panels corpus (.txt and .html), each written ``--ways`` times with its
paragraphs shuffled (8 ways: 240 papers). Each side runs as a whole process of its own, model loading and
imports included, as a user would run it:

- **Precedent**: ``ingest_paths`` with the default settings (parsing with unstructured in a worker process,
  cleaning, structure-aware chunking, the configured encoder, Chroma and SQLite/FTS5 written journaled);
- **naive**: read each file as text, ``RecursiveCharacterTextSplitter(1000, 200)``, MiniLM through
  sentence-transformers (fp32, batches of 32, LangChain's ``HuggingFaceEmbeddings`` defaults), one
  ``chroma add`` into a persistent collection.

Chunks/s is each side's own chunks over its process's wall time (target: Precedent >= 1.5x naive). The
int8 encoder is built before the clock starts (once per machine; later runs load it).

    python -m precedent.eval.bench.ingest [--ways 8] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from precedent.eval.bench.synthetic import find_seeds
from precedent.ingest.embed import resolve_model_path, user_encoder_cache
from precedent.ingest.errors import PrecedentError
from precedent.ingest.onnx_int8 import built_model
from precedent.ingest.pipeline import ingest_paths, parse_worker
from precedent.ingest.settings import Settings, quiet_and_offline

TARGET_RATIO = 1.5
_PARAGRAPH = re.compile(r"<p\b.*?</p>", re.DOTALL | re.IGNORECASE)


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def children_peak_rss_mb() -> float:
    """The largest peak RSS among this process's finished children (the parse worker)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def shuffled(text: str, suffix: str, rng: random.Random) -> str:
    """The same paper with its body paragraphs in another order (the first three blocks of a text file,
    which metadata inference reads, stay in place)."""
    if suffix == ".html":
        paragraphs = _PARAGRAPH.findall(text)
        rng.shuffle(paragraphs)
        replacement = iter(paragraphs)
        return _PARAGRAPH.sub(lambda _: next(replacement), text)
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    head, body = blocks[:3], blocks[3:]
    rng.shuffle(body)
    return "\n\n".join(head + body) + "\n"


def write_shuffled_corpus(sources: list[Path], out: Path, ways: int, seed: int = 0) -> list[Path]:
    """Each .txt/.html paper of ``sources``, ``ways`` times with shuffled paragraphs, as files in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    papers = sorted(p for folder in sources for p in folder.iterdir() if p.suffix in (".txt", ".html"))
    written = []
    for way in range(ways):
        for paper in papers:
            path = out / f"{way}_{paper.parent.name}_{paper.name}"
            path.write_text(shuffled(paper.read_text(encoding="utf-8", errors="replace"), paper.suffix, rng),
                            encoding="utf-8")
            written.append(path)
    return written


# -- the two sides, each run in a process of its own ----------------------------------------------------


def precedent_side(corpus: Path, data_dir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    settings = Settings(data_dir=data_dir)
    report = ingest_paths([corpus], settings)
    seconds = time.perf_counter() - started
    parse_worker().close()  # reaped, so its peak RSS shows in RUSAGE_CHILDREN
    return {"chunks": report.chunks, "documents": report.documents, "failed": len(report.failed),
            "encoded": report.encoded, "reused": report.reused, "in_process_s": round(seconds, 2),
            "encoder": settings.encoder, "peak_rss_mb": round(peak_rss_mb(), 1),
            "worker_peak_rss_mb": round(children_peak_rss_mb(), 1)}


def naive_side(corpus: Path, data_dir: Path) -> dict[str, Any]:
    """The LangChain quick-start: read, split 1000/200, encode with MiniLM, chroma add."""
    quiet_and_offline()
    started = time.perf_counter()
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from sentence_transformers import SentenceTransformer

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks = [c for p in sorted(corpus.iterdir())
              for c in splitter.split_text(p.read_text(encoding="utf-8", errors="replace"))]
    model = SentenceTransformer(str(resolve_model_path(Settings().model)), device="cpu")
    vectors = model.encode(chunks, batch_size=32, convert_to_numpy=True, show_progress_bar=False)
    client = chromadb.PersistentClient(path=str(data_dir), settings=ChromaSettings(anonymized_telemetry=False))
    collection = client.create_collection("naive", embedding_function=None)
    step = client.get_max_batch_size()
    for i in range(0, len(chunks), step):
        collection.add(ids=[str(n) for n in range(i, min(i + step, len(chunks)))], embeddings=vectors[i: i + step],
                       documents=chunks[i: i + step])
    return {"chunks": len(chunks), "in_process_s": round(time.perf_counter() - started, 2),
            "encoder": "torch", "peak_rss_mb": round(peak_rss_mb(), 1), "worker_peak_rss_mb": 0.0}


def run_side(side: str, corpus: Path, data_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """Run one side as ``python -m precedent.eval.bench.ingest --side ...``: its figures plus its wall time."""
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "precedent.eval.bench.ingest", "--side", side, "--corpus", str(corpus),
         "--data-dir", str(data_dir)], capture_output=True, text=True, env=env,
    )
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        raise PrecedentError(f"the {side} ingest failed: {proc.stderr[-800:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_s"] = round(wall, 2)
    result["chunks_per_s"] = round(result["chunks"] / wall, 2)
    return result


def run_ingest_bench(ways: int = 8, *, seeds: Path | None = None, panels: Path | None = None,
                     workdir: Path | None = None, log: Any = None) -> dict[str, Any]:
    quiet_and_offline()
    say = log or (lambda msg: print(msg, file=sys.stderr))
    seeds = find_seeds(seeds)
    panels = panels or seeds.parent / "panels"
    sources = [seeds] + ([panels] if panels.is_dir() else [])
    with tempfile.TemporaryDirectory(prefix="precedent-bench-ingest-", dir=workdir) as tmp:
        root = Path(tmp)
        files = write_shuffled_corpus(sources, root / "corpus", ways)
        corpus_mb = sum(p.stat().st_size for p in files) / 1e6
        settings = Settings(data_dir=root / "precedent")
        cache = settings.encoder_cache or user_encoder_cache()
        env = {**os.environ, "PRECEDENT_ENCODER_CACHE": str(cache)}
        if settings.encoder == "onnx-int8":  # built before the clock starts, as every run after the first finds it
            built_model(resolve_model_path(settings.model), cache)
        say(f"{len(files)} papers ({corpus_mb:.1f} MB) from {', '.join(str(s) for s in sources)}, shuffled {ways} ways")
        say("Precedent ingest ...")
        precedent = run_side("precedent", root / "corpus", root / "precedent", env)
        say(f"  {precedent['chunks']} chunks in {precedent['wall_s']:.1f} s")
        say("naive quick-start ...")
        naive = run_side("naive", root / "corpus", root / "naive", env)
        say(f"  {naive['chunks']} chunks in {naive['wall_s']:.1f} s")
    ratio = precedent["chunks_per_s"] / naive["chunks_per_s"]
    return {"papers": len(files), "ways": ways, "corpus_mb": round(corpus_mb, 2), "precedent": precedent,
            "naive": naive, "ratio": round(ratio, 3), "target_ratio": TARGET_RATIO, "cpus": os.cpu_count()}


def format_ingest(result: dict[str, Any]) -> str:
    verdict = "meets" if result["ratio"] >= result["target_ratio"] else "below"
    p, n = result["precedent"], result["naive"]
    rows = [("Precedent ingest (" + p["encoder"] + ")", p), ("naive quick-start (torch)", n)]
    lines = [
        f"corpus: {result['papers']} papers ({result['corpus_mb']} MB), seeds and panels shuffled {result['ways']} ways; "
        f"each side a whole process on {result['cpus']} cores",
        f"{'':<32}{'chunks':>8}{'wall s':>9}{'chunks/s':>10}{'peak RSS MB':>14}",
    ]
    for label, side in rows:
        rss = f"{side['peak_rss_mb']:.0f}" + (f" + {side['worker_peak_rss_mb']:.0f}" if side["worker_peak_rss_mb"] else "")
        lines.append(f"{label:<32}{side['chunks']:>8}{side['wall_s']:>9.1f}{side['chunks_per_s']:>10.1f}{rss:>14}")
    lines.append(f"ratio Precedent / naive chunks/s: {result['ratio']:.2f} ({verdict} the {result['target_ratio']}x target)")
    lines.append(f"Precedent encoded {p['encoded']} texts (chunks and their sentences, for re-scoring) for "
                 f"{p['chunks']} chunks; peak RSS is the ingesting process + the parse worker")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--ways", type=int, default=8, help="shuffled copies of each paper")
    parser.add_argument("--seeds", type=Path, default=None, help="folder of seed papers")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--side", choices=("precedent", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.side:
        side = precedent_side if args.side == "precedent" else naive_side
        print(json.dumps(side(args.corpus, args.data_dir)))
        return 0
    result = run_ingest_bench(args.ways, seeds=args.seeds)
    print(json.dumps(result, indent=2) if args.json else format_ingest(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
