"""Encoder benchmark: chunks/s of each encoder on the same chunk texts, and how close int8 vectors are to torch's.

The texts are Precedent's own chunks (header + text) of the seeds and panels papers; each model is loaded
and warmed before its clock starts. Cosine is per text, int8 against torch fp32.

    python -m precedent.eval.bench.encoders [--chunks 600] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from precedent.eval.bench.synthetic import find_seeds
from precedent.ingest.embed import Embedder, user_encoder_cache
from precedent.ingest.errors import UnreadableFile
from precedent.ingest.pipeline import prepare
from precedent.ingest.records import SourceItem
from precedent.ingest.settings import ENCODERS, Settings, quiet_and_offline


def chunk_texts(sources: list[Path], limit: int) -> list[str]:
    """Embedding texts of the sources' .txt/.html papers, as the pipeline chunks them (repeated up to ``limit``)."""
    settings = Settings()
    texts: list[str] = []
    for path in sorted(p for folder in sources for p in folder.iterdir() if p.suffix in (".txt", ".html")):
        try:
            parsed = prepare(SourceItem(str(path), path.name, path.read_bytes()), path.stem, "bench", settings)
        except UnreadableFile:
            continue
        texts += [c.embedding_text() for c in parsed.chunks]
    return (texts * (limit // max(1, len(texts)) + 1))[:limit]


def run_encoder_bench(chunks: int = 600, *, seeds: Path | None = None, log: Any = None) -> dict[str, Any]:
    quiet_and_offline()
    say = log or (lambda msg: print(msg, file=sys.stderr))
    seeds = find_seeds(seeds)
    sources = [seeds] + ([seeds.parent / "panels"] if (seeds.parent / "panels").is_dir() else [])
    texts = chunk_texts(sources, chunks)
    cache = Settings().encoder_cache or user_encoder_cache()
    rows: dict[str, dict[str, Any]] = {}
    vectors: dict[str, np.ndarray] = {}
    for encoder in ENCODERS:
        started = time.perf_counter()
        embedder = Embedder(encoder=encoder, cache_dir=cache)
        load_s = time.perf_counter() - started
        embedder.encode(texts[:8])
        say(f"encoding {len(texts)} chunks with {encoder}")
        started = time.perf_counter()
        vectors[encoder] = embedder.encode(texts)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        for text in texts[:50]:
            embedder.encode_query(text[:60])
        query_ms = (time.perf_counter() - started) / 50 * 1000
        rows[encoder] = {"load_s": round(load_s, 2), "seconds": round(seconds, 2),
                         "chunks_per_s": round(len(texts) / seconds, 1), "query_ms": round(query_ms, 1)}
    cosine = (vectors["onnx-int8"] * vectors["torch"]).sum(axis=1)
    return {"chunks": len(texts), "encoders": rows,
            "speedup": round(rows["onnx-int8"]["chunks_per_s"] / rows["torch"]["chunks_per_s"], 2),
            "cosine": {"min": round(float(cosine.min()), 4), "p5": round(float(np.percentile(cosine, 5)), 4),
                       "mean": round(float(cosine.mean()), 4)}}


def format_encoders(result: dict[str, Any]) -> str:
    lines = [f"{result['chunks']} chunk texts of the seeds and panels papers",
             f"{'encoder':<12}{'load s':>8}{'encode s':>10}{'chunks/s':>10}{'query ms':>10}"]
    for name, row in result["encoders"].items():
        lines.append(f"{name:<12}{row['load_s']:>8.1f}{row['seconds']:>10.1f}{row['chunks_per_s']:>10.1f}{row['query_ms']:>10.1f}")
    c = result["cosine"]
    lines.append(f"onnx-int8 / torch: {result['speedup']:.2f}x chunks/s; cosine to torch per text "
                 f"min {c['min']:.4f}, 5th percentile {c['p5']:.4f}, mean {c['mean']:.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--chunks", type=int, default=600)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run_encoder_bench(args.chunks)
    print(json.dumps(result, indent=2) if args.json else format_encoders(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
