"""Scale curve: query latency, server RSS and index size on disk at growing index sizes.

Sizes share one vector cache (the first 10k chunks of the 100k index are the 10k index), so each
size only encodes what the smaller ones have not. Encoding runs at about 40 chunks/s on 2 cores, so
1M real encodings would take about 7 hours: with ``--vectors auto`` (the default) sizes above
100k use composed vectors (see ``query.ComposedVectors``), which are built in minutes and behave
like real ones for latency and disk. The table says which kind each row used.

    python -m precedent.eval.bench.scale [--sizes 10k,100k,1m] [--vectors auto|encoded|composed] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from precedent.eval.bench.query import QUERIES, VECTOR_KINDS, Server, build_synthetic_index, time_requests
from precedent.eval.report import write_report
from precedent.ingest.errors import PrecedentError

DEFAULT_SIZES = (10_000, 100_000)
ENCODED_UP_TO = 100_000  # --vectors auto: larger sizes get composed vectors


def parse_sizes(value: str | None) -> list[int]:

    if not value:
        return list(DEFAULT_SIZES)
    try:
        sizes = sorted({int(float(v.strip().lower().replace("k", "e3").replace("m", "e6")))
                        for v in value.split(",") if v.strip()})
    except ValueError:
        raise PrecedentError(f"--sizes '{value}' is not a list of chunk counts, e.g. 10000,100000 or 10k,100k") from None
    if not sizes or min(sizes) <= 0:
        raise PrecedentError("--sizes needs positive chunk counts, e.g. 10k,100k")
    return sizes


def vectors_for(size: int, vectors: str) -> str:

    if vectors == "auto":
        return "encoded" if size <= ENCODED_UP_TO else "composed"
    if vectors not in VECTOR_KINDS:
        raise PrecedentError(f"--vectors must be auto, {' or '.join(VECTOR_KINDS)}, not '{vectors}'")
    return vectors


def run_scale_bench(sizes: list[int], *, cache: Path | None = None, seeds: Path | None = None,
                    repeats: int = 1, vectors: str = "auto", log: Any = None) -> dict[str, Any]:
    say = log or (lambda msg: print(msg, file=sys.stderr))
    rows = []
    for size in sizes:
        index = build_synthetic_index(size, cache=cache, seeds=seeds, vectors=vectors_for(size, vectors), log=say)
        say(f"timing queries at {index['chunks']} chunks")
        with Server(Path(index["index_dir"])) as server:
            timings = time_requests(server, repeats=repeats, queries=QUERIES, ask=False, log=say)
        rows.append({
            "chunks": index["chunks"], "documents": index["documents"], "disk_mb": index["disk_mb"],
            "vectors": index["vectors"],
            "build_s": index["build_s"], "encode_s": index["encode_s"], "reused": index.get("reused", False),
            "latency_ms": {m: {"p50": s["p50"], "p95": s["p95"]} for m, s in timings["summary"].items()},
            "server_rss_mb": timings["server_peak_rss_mb"],
        })
    return {"scale": rows}


def format_scale(result: dict[str, Any]) -> str:
    modes = ("dense", "lexical", "hybrid")
    head = f"{'chunks':>9}{'vectors':>10}{'disk MB':>9}{'build s':>9}{'vector s':>9}" + "".join(f"{m + ' p50/p95':>20}" for m in modes) + f"{'RSS MB':>8}"
    lines = [head]
    for r in result["scale"]:
        cells = "".join(
            f"{r['latency_ms'].get(m, {}).get('p50', 0):>11.1f}/{r['latency_ms'].get(m, {}).get('p95', 0):<8.1f}"
            for m in modes)
        build = f"{r['build_s']:.0f}" + ("*" if r["reused"] else "")
        lines.append(f"{r['chunks']:>9}{r['vectors']:>10}{r['disk_mb']:>9.1f}{build:>9}"
                     f"{r['encode_s']:>9.0f}{cells}"
                     f"{r['server_rss_mb']:>8.0f}")
    lines.append("(* index reused from the cache, times from when it was built; vector s 0: vectors came from the "
                 "cache of a larger or earlier run; composed: vectors built from sentence vectors, not encoded "
                 "one by one; latencies are GET /search in ms)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="comma-separated chunk counts (default 10000,100000)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--seeds", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--vectors", choices=("auto", *VECTOR_KINDS), default="auto",
                        help=f"auto: encoded up to {ENCODED_UP_TO:,} chunks, composed above")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run_scale_bench(parse_sizes(args.sizes), cache=args.cache_dir, seeds=args.seeds, repeats=args.repeats,
                             vectors=args.vectors)
    if args.report:

        write_report(args.report, bench=result, title="Precedent scale curve")
    print(json.dumps(result, indent=2) if args.json else format_scale(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
