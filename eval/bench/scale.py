"""Scale curve: query latency, server RSS and index size on disk at growing index sizes, each figure
beside its target.

At every size, against a running server: ``GET /search`` dense, lexical, hybrid and hybrid with a force
filter, ``POST /ask`` and ``POST /compare`` over five forces (p50/p95), and the server's peak RSS. The
targets (issue 16): at 1M chunks hybrid, lexical p95 <= 150 ms, hybrid with a force filter <= 200 ms,
/ask <= 300 ms, /compare over 5 forces <= 1 s, RSS <= 3 GiB; at 100k hybrid p50 <= 20 ms, p95 <= 50 ms.

Sizes share one vector cache (the first 10k chunks of the 100k index are the 10k index), so each
size only encodes what the smaller ones have not. Encoding runs at about 40 chunks/s on 2 cores, so
1M real encodings would take about 7 hours: with ``--vectors auto`` (the default) sizes above
100k use composed vectors (see ``query.ComposedVectors``), which are built in minutes and behave
like real ones for latency and disk. ``--text zipf`` draws the chunks' sentences from the seeds and the
panels corpus in Zipf proportions, for a term distribution like real papers' (see ``SentencePool``).
The table says which vectors and text each row used.

    python -m precedent.eval.bench.scale [--sizes 10k,100k,1m] [--vectors auto|encoded|composed]
                                         [--text recombined|zipf] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from precedent.eval.bench.query import QUERIES, VECTOR_KINDS, Server, build_synthetic_index, time_requests
from precedent.eval.bench.synthetic import TEXTS
from precedent.eval.report import write_report
from precedent.ingest.errors import PrecedentError

DEFAULT_SIZES = (10_000, 100_000)
ENCODED_UP_TO = 100_000  # --vectors auto: larger sizes get composed vectors
# (endpoint, percentile) -> ceiling in ms (server_rss: MB), by index size.
TARGETS: dict[int, dict[tuple[str, str], float]] = {
    100_000: {("hybrid", "p50"): 20, ("hybrid", "p95"): 50},
    1_000_000: {("hybrid", "p95"): 150, ("lexical", "p95"): 150, ("hybrid+force", "p95"): 200,
                ("ask", "p95"): 300, ("compare", "p95"): 1000, ("server_rss", "peak"): 3072},
}
ENDPOINTS = ("dense", "lexical", "hybrid", "hybrid+force", "ask", "compare")


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


def verdicts(size: int, latency: dict[str, dict[str, float]], rss_mb: float) -> list[dict[str, Any]]:
    """Each target of this size with the figure measured against it."""
    out = []
    for (endpoint, stat), ceiling in TARGETS.get(size, {}).items():
        value = rss_mb if endpoint == "server_rss" else latency.get(endpoint, {}).get(stat)
        out.append({"figure": f"{endpoint} {stat}", "value": value, "target": ceiling,
                    "ok": value is not None and value <= ceiling})
    return out


def load_average() -> str:
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def run_scale_bench(sizes: list[int], *, cache: Path | None = None, seeds: Path | None = None,
                    repeats: int = 1, vectors: str = "auto", text: str = "recombined", log: Any = None) -> dict[str, Any]:
    say = log or (lambda msg: print(msg, file=sys.stderr))
    if text not in TEXTS:
        raise PrecedentError(f"--text must be one of {', '.join(TEXTS)}, not '{text}'")
    rows = []
    for size in sizes:
        kind = "composed" if text != "recombined" else vectors_for(size, vectors)
        index = build_synthetic_index(size, cache=cache, seeds=seeds, vectors=kind, text=text, log=say)
        say(f"timing queries at {index['chunks']} chunks (load average {load_average()})")
        with Server(Path(index["index_dir"])) as server:
            timings = time_requests(server, repeats=repeats, queries=QUERIES, ask=True, compare=True, log=say)
        latency = {m: {"p50": s["p50"], "p95": s["p95"]} for m, s in timings["summary"].items()}
        rows.append({
            "chunks": index["chunks"], "documents": index["documents"], "disk_mb": index["disk_mb"],
            "vectors": index["vectors"], "text": index.get("text", "recombined"),
            "build_s": index["build_s"], "encode_s": index["encode_s"], "reused": index.get("reused", False),
            "latency_ms": latency, "errors": {m: s["errors"] for m, s in timings["summary"].items() if s["errors"]},
            "server_rss_mb": timings["server_peak_rss_mb"], "load_average": load_average(),
            "targets": verdicts(index["chunks"], latency, timings["server_peak_rss_mb"]),
        })
    return {"scale": rows}


def format_scale(result: dict[str, Any]) -> str:
    head = (f"{'chunks':>9}{'vectors':>10}{'text':>11}{'disk MB':>9}{'build s':>9}"
            + "".join(f"{m + ' p50/p95':>22}" for m in ENDPOINTS) + f"{'RSS MB':>8}")
    lines = [head]
    for r in result["scale"]:
        cells = "".join(
            f"{r['latency_ms'].get(m, {}).get('p50', 0):>13.1f}/{r['latency_ms'].get(m, {}).get('p95', 0):<8.1f}"
            for m in ENDPOINTS)
        build = f"{r['build_s']:.0f}" + ("*" if r["reused"] else "")
        lines.append(f"{r['chunks']:>9}{r['vectors']:>10}{r.get('text', 'recombined'):>11}{r['disk_mb']:>9.1f}{build:>9}"
                     f"{cells}{r['server_rss_mb']:>8.0f}")
    lines.append("(* index reused from the cache, times from when it was built; composed: vectors built from "
                 "sentence vectors, not encoded one by one; zipf: sentences of the seeds and panels drawn in Zipf "
                 "proportions; latencies in ms: GET /search by mode, POST /ask, POST /compare over 5 forces)")
    for r in result["scale"]:
        if not r["targets"] and not r["errors"]:
            continue
        lines.append(f"targets at {r['chunks']:,} chunks ({r['vectors']} vectors, {r.get('text', 'recombined')} text; "
                     f"load average {r['load_average']}):")
        for v in r["targets"]:
            value = "none" if v["value"] is None else f"{v['value']:.0f}"
            unit = "MB" if v["figure"].startswith("server_rss") else "ms"
            lines.append(f"  {v['figure']:<20} {value:>7} {unit}  target <= {v['target']:g} {unit}  "
                         f"{'ok' if v['ok'] else 'MISSED'}")
        for endpoint, count in r["errors"].items():
            lines.append(f"  errors in {endpoint}: {count}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=None, help="comma-separated chunk counts (default 10000,100000)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--seeds", type=Path, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--vectors", choices=("auto", *VECTOR_KINDS), default="auto",
                        help=f"auto: encoded up to {ENCODED_UP_TO:,} chunks, composed above")
    parser.add_argument("--text", choices=TEXTS, default="recombined",
                        help="recombined: seed sentences drawn evenly; zipf: seeds and panels sentences in Zipf proportions")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--report", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run_scale_bench(parse_sizes(args.sizes), cache=args.cache_dir, seeds=args.seeds, repeats=args.repeats,
                             vectors=args.vectors, text=args.text)
    if args.report:

        write_report(args.report, bench=result, title="Precedent scale curve")
    print(json.dumps(result, indent=2) if args.json else format_scale(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
