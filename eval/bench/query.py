"""Query benchmark: p50/p95 of ``GET /search`` (dense, lexical, hybrid) and ``POST /ask`` against a
running server on a large synthetic index, plus the server's RSS.

The index holds recombined seed sentences, 100 chunks a document spread over every force, with
vectors from the real model (or, with ``--vectors composed``, built from its sentence vectors);
chunks are written straight through ``Store.write_documents``.
Encoding is the slow part (tens of chunks/s on 2 cores), so vectors are cached in blocks and a
built index is reused: ``--chunks 10000`` after ``--chunks 100000`` costs nothing new.

    python -m precedent.eval.bench.query [--chunks 100000] [--cache-dir DIR] [--repeats 2] [--json]

Targets on a 2-core machine: hybrid p50 <= 50 ms, p95 <= 150 ms, server RSS <= 1.5 GiB.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from precedent.eval.bench.synthetic import (
    CHUNKS_PER_DOCUMENT,
    TEXTS,
    SentencePool,
    find_seeds,
    seed_sentences,
    synthetic_chunks,
    synthetic_document,
)
from precedent.eval.metrics import percentile
from precedent.eval.report import write_report
from precedent.eval.run import build_index
from precedent.ingest.embed import embedder_for
from precedent.ingest.errors import PrecedentError
from precedent.ingest.records import Chunk, Document, ParsedDocument
from precedent.ingest.sentences import sentences
from precedent.ingest.settings import Settings, quiet_and_offline
from precedent.ingest.store import EmbeddedDocument, Store

BLOCK = 5000  # chunks per cached vector block (a multiple of CHUNKS_PER_DOCUMENT)
INDEX_VERSION = 1
TARGETS = {"hybrid_p50_ms": 50.0, "hybrid_p95_ms": 150.0, "server_rss_mb": 1536.0}

# What panel users type: keywords, shorthand, questions, phrases, odd input and pasted text.
QUERIES = (
    "101 response times", "what did panels say about 101 response times", "precept increase",
    "has the panel ever challenged the precept", "how long do callers wait on the non-emergency number",
    "PCP", "police and crime plan refresh", "\"strategic alliance\"", "rural crime", "domestic abuse victims",
    "special constables recruitment target", "cybercrime", "CCTV investment strategy", "mental health street triage",
    "restorative justice coordinator", "road safety", "visible policing", "lack of targets in the plan",
    "violence reduction network funding", "complaints measured IPCC indicators", "school liaison officer",
    "mini-police scheme", "late papers", "quarterly performance reports", "delayed charging and diversion",
    "ASB", "anti-social behaviour in town centres", "body worn video", "neighbourhood policing teams",
    "chief constable confirmation hearing", "estates strategy", "medium term financial strategy",
    "victims code compliance", "drug and alcohol services", "knife crime", "county lines",
    "fraud against older people", "hate crime reporting", "Leicestershire", "Dorset", "Devon and Cornwall",
    "RESOLVED that the report be noted", "technology investment mobile data", "NEAR AND OR *", "🚓 police?",
    "the panel asked the commissioner to provide further information about the performance of the force "
    "in relation to emergency and non-emergency call handling and what steps were being taken to improve it",
)


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("precedent")) / "bench"


def disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# -- the synthetic index ---------------------------------------------------------------------------


Block = list[tuple[Document, str, list[Chunk]]]
VECTOR_KINDS = ("encoded", "composed")


def synthetic_block(block: int, pool: SentencePool) -> Block:
    """The documents, texts and chunks of chunks ``block*BLOCK .. (block+1)*BLOCK-1``."""
    first_doc = block * BLOCK // CHUNKS_PER_DOCUMENT
    out = []
    for d in range(first_doc, first_doc + BLOCK // CHUNKS_PER_DOCUMENT):
        doc = synthetic_document(d)
        out.append((doc, *synthetic_chunks(doc, d * CHUNKS_PER_DOCUMENT, CHUNKS_PER_DOCUMENT, pool)))
    return out


def sentence_pool(text: str, seeds: Path, cache: Path, say: Any) -> SentencePool:
    """``recombined``: the seed sentences, drawn evenly; ``zipf``: every sentence of the seeds and the panels
    corpus (as Precedent splits its chunks), drawn in Zipf proportions (see SentencePool)."""
    if text == "recombined":
        return SentencePool("recombined", seed_sentences(seeds))
    if text != "zipf":
        raise PrecedentError(f"--text must be one of {', '.join(TEXTS)}, not '{text}'")
    corpora = [seeds, seeds.parent / "panels"]
    say(f"reading the sentences of {', '.join(map(str, corpora))}")
    settings, _ = build_index([c for c in corpora if c.is_dir()], cache / f"sentences-index-{Settings().encoder}")
    store = Store.open(settings)
    try:
        found: dict[str, None] = {}
        for doc in store.list_documents():
            parsed = store.get_document(doc.document_id)
            for chunk in parsed.chunks if parsed else []:
                for start, end in sentences(chunk.text):
                    sentence = " ".join(chunk.text[start:end].split())
                    if 40 <= len(sentence) <= 500:
                        found[sentence] = None
    finally:
        store.close()
    return SentencePool.zipf(sorted(found))


class EncodedVectors:
    """The real model on every chunk, encoded once per block and kept in ``cache``."""

    def __init__(self, embedder: Any, cache: Path, say: Any) -> None:
        self.embedder, self.cache, self.say = embedder, cache, say

    def vectors(self, block: int, docs: Block) -> np.ndarray:
        # torch vectors keep the name they had before encoders were recorded, so old caches stay valid
        encoder = "" if self.embedder.encoder == "torch" else f"-{self.embedder.encoder}"
        path = self.cache / f"vectors-{self.embedder.name}{encoder}-{block:05d}.npy"
        if path.exists():
            return np.load(path)
        texts = [c.embedding_text() for _, _, chunks in docs for c in chunks]
        started = time.perf_counter()
        vectors = self.embedder.encode(texts)
        self.say(f"  encoded block {block} ({len(texts)} chunks, {len(texts) / (time.perf_counter() - started):.0f}/s)")
        self.cache.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
        return vectors


class ComposedVectors:
    """Vectors built from the model's vectors of the parts, for sizes where encoding would take hours.

    A chunk's vector is the normalised sum of the mean of its seed sentences' vectors and its header's
    vector. On 10,000 encoded chunks (blocks 0 and 7) its cosine with the real encoding averages 0.89
    (5th percentile 0.84; two unrelated real chunks: 0.64). The vectors are spread and clustered like
    real ones, which is what HNSW latency and disk depend on; they are for timing, never for quality.
    """

    def __init__(self, embedder: Any, pool: SentencePool) -> None:
        self.embedder, self.pool = embedder, pool
        self.sentences = _unit(np.asarray(embedder.encode(pool.sentences), dtype=np.float32))

    def vectors(self, block: int, docs: Block) -> np.ndarray:
        headers = [chunks[0].header for _, _, chunks in docs]
        header_vectors = _unit(np.asarray(self.embedder.encode(headers), dtype=np.float32))
        rows = []
        number = block * BLOCK  # chunks are numbered consecutively through the blocks
        for (_, _, chunks), header in zip(docs, header_vectors, strict=True):
            for _ in chunks:
                picks = self.pool.picks(number)
                rows.append(_unit(self.sentences[picks].mean(axis=0)) + header)
                number += 1
        return _unit(np.stack(rows))


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def build_synthetic_index(chunks: int, *, cache: Path | None = None, seeds: Path | None = None,
                          vectors: str = "encoded", text: str = "recombined", log: Any = None) -> dict[str, Any]:
    """Build (or reuse) an index of ``chunks`` synthetic chunks under ``cache``; returns its facts.

    ``vectors`` is ``encoded`` (the model on every chunk) or ``composed`` (see ComposedVectors); ``text``
    is ``recombined`` (seed sentences drawn evenly) or ``zipf`` (see SentencePool).
    """
    quiet_and_offline()

    if vectors not in VECTOR_KINDS:
        raise PrecedentError(f"--vectors must be one of {', '.join(VECTOR_KINDS)}, not '{vectors}'")
    if text not in TEXTS:
        raise PrecedentError(f"--text must be one of {', '.join(TEXTS)}, not '{text}'")
    if text != "recombined" and vectors == "encoded":
        raise PrecedentError("--text zipf goes with --vectors composed (its encodings are not cached)")
    say = log or (lambda msg: print(msg, file=sys.stderr))
    chunks = max(BLOCK, (chunks + BLOCK - 1) // BLOCK * BLOCK)
    cache = cache or default_cache_dir()
    name = f"index-{chunks}" + ("" if vectors == "encoded" else f"-{vectors}") + ("" if text == "recombined" else f"-{text}")
    index_dir = cache / name
    marker = index_dir / "synthetic.json"
    if marker.exists():
        facts = json.loads(marker.read_text())
        if facts.get("chunks") == chunks and facts.get("version") == INDEX_VERSION:
            say(f"reusing the {chunks}-chunk index in {index_dir} (built in {facts['build_s']:.0f} s)")
            # measured again: opening an index of an older schema migrates it
            return {"vectors": "encoded", "text": "recombined", **facts, "disk_mb": round(disk_mb(index_dir), 1),
                    "reused": True}
    shutil.rmtree(index_dir, ignore_errors=True)
    settings = Settings(data_dir=index_dir)
    pool = sentence_pool(text, find_seeds(seeds), cache, say)
    embedder = embedder_for(settings)
    source: EncodedVectors | ComposedVectors = (
        EncodedVectors(embedder, cache / "vectors", say) if vectors == "encoded" else ComposedVectors(embedder, pool))
    store = Store.open(settings, create=True)
    store.ensure_model(settings.model, embedder.dimension, embedder.encoder, embedder.build)
    say(f"building a {chunks}-chunk synthetic index ({vectors} vectors) in {index_dir} "
        f"from {len(pool.sentences)} sentences ({text})")
    started = time.perf_counter()
    encode_s = 0.0
    blocks = chunks // BLOCK
    for block in range(blocks):
        docs = synthetic_block(block, pool)
        t = time.perf_counter()
        rows = source.vectors(block, docs)
        encode_s += time.perf_counter() - t
        store.write_documents([
            EmbeddedDocument(ParsedDocument(doc, text, doc_chunks),
                             rows[i * CHUNKS_PER_DOCUMENT: (i + 1) * CHUNKS_PER_DOCUMENT])
            for i, (doc, text, doc_chunks) in enumerate(docs)])
        if blocks >= 20 and (block + 1) % (blocks // 20) == 0:
            say(f"  {(block + 1) * BLOCK:,} chunks written, {time.perf_counter() - started:.0f} s")
    build_s = time.perf_counter() - started
    documents, stored = store.counts()
    store.close()
    facts = {"chunks": stored, "documents": documents, "version": INDEX_VERSION, "vectors": vectors, "text": text,
             "index_dir": str(index_dir), "build_s": round(build_s, 1), "encode_s": round(encode_s, 1),
             "write_s": round(build_s - encode_s, 1), "disk_mb": round(disk_mb(index_dir), 1)}
    marker.write_text(json.dumps(facts, indent=2))
    return {**facts, "reused": False}


# -- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def index_encoder(data_dir: Path) -> str:
    store = Store.open(Settings(data_dir=data_dir))
    try:
        return store.encoder().encoder
    finally:
        store.close()


class Server:
    """``precedent serve`` as a subprocess: uvicorn with the app factory, reading PRECEDENT_DATA_DIR."""

    def __init__(self, data_dir: Path, *, timeout: float = 180.0, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = tempfile.TemporaryFile()
        # the server queries with the encoder that made the index's vectors (it refuses any other); one
        # client sends every request, so the per-client rate limit is off
        env = {**os.environ, "PRECEDENT_DATA_DIR": str(data_dir), "PRECEDENT_ENCODER": index_encoder(data_dir),
               "PRECEDENT_RATE_LIMIT_PER_MINUTE": "0", **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "precedent.api.app:create_app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait(timeout)

    def _wait(self, timeout: float) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(self.url + "/health", timeout=5).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        self._log.seek(0)

        raise PrecedentError(f"the server did not start on port {self.port}: "
                             f"{self._log.read().decode(errors='replace')[-800:]}")

    def rss_mb(self) -> tuple[float, float]:
        """Current and peak resident set size of the server process."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) / 1024
        return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- timing --------------------------------------------------------------------------------------

SEARCH_MODES = {
    "dense": {"mode": "dense"},
    "lexical": {"mode": "lexical"},
    "hybrid": {"mode": "hybrid"},
    "hybrid+force": {"mode": "hybrid", "force": "Dorset"},
}


# /compare over five forces (every force holds papers in a synthetic index).
COMPARE_FORCES = ("Devon and Cornwall", "Dorset", "Essex", "Kent", "Leicestershire")


def time_requests(server: Server, *, repeats: int = 2, queries: tuple[str, ...] = QUERIES,
                  ask: bool = True, compare: bool = False, log: Any = None) -> dict[str, Any]:
    import httpx

    say = log or (lambda msg: print(msg, file=sys.stderr))
    latencies: dict[str, list[float]] = {}
    errors: dict[str, list[str]] = {}
    with httpx.Client(base_url=server.url, timeout=120) as client:
        for params in SEARCH_MODES.values():  # load the model and warm caches outside the timings
            client.get("/search", params={"q": "warm up the index", "k": 10, **params})
        for name, params in SEARCH_MODES.items():
            say(f"  timing GET /search {name}: {len(queries) * repeats} requests")
            for _ in range(repeats):
                for q in queries:
                    started = time.perf_counter()
                    response = client.get("/search", params={"q": q, "k": 10, **params})
                    elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code == 200:
                        latencies.setdefault(name, []).append(elapsed)
                    else:
                        errors.setdefault(name, []).append(f"{response.status_code}: {response.text[:120]}")
        if ask:
            say(f"  timing POST /ask: {len(queries)} requests")
            for q in queries:
                started = time.perf_counter()
                response = client.post("/ask", json={"question": q, "k": 5})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code == 200:
                    latencies.setdefault("ask", []).append(elapsed)
                else:
                    errors.setdefault("ask", []).append(f"{response.status_code}: {response.text[:120]}")
        if compare:
            say(f"  timing POST /compare over {len(COMPARE_FORCES)} forces: {len(queries)} requests")
            for q in queries:
                started = time.perf_counter()
                response = client.post("/compare", json={"question": q, "forces": list(COMPARE_FORCES)})
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code == 200:
                    latencies.setdefault("compare", []).append(elapsed)
                else:
                    errors.setdefault("compare", []).append(f"{response.status_code}: {response.text[:120]}")
    rss, peak = server.rss_mb()
    summary = {name: {"p50": round(percentile(v, 50), 2), "p95": round(percentile(v, 95), 2),
                      "mean": round(sum(v) / len(v), 2), "n": len(v), "errors": len(errors.get(name, []))}
               for name, v in latencies.items()}
    return {"summary": summary, "latencies_ms": {k: [round(x, 3) for x in v] for k, v in latencies.items()},
            "errors": {k: v[:5] for k, v in errors.items()},
            "server_rss_mb": round(rss, 1), "server_peak_rss_mb": round(peak, 1)}


def run_query_bench(chunks: int = 100_000, *, cache: Path | None = None, seeds: Path | None = None,
                    repeats: int = 2, ask: bool = True, vectors: str = "encoded", log: Any = None) -> dict[str, Any]:
    say = log or (lambda msg: print(msg, file=sys.stderr))
    index = build_synthetic_index(chunks, cache=cache, seeds=seeds, vectors=vectors, log=say)
    say(f"starting the server on the {index['chunks']}-chunk index")
    with Server(Path(index["index_dir"])) as server:
        timings = time_requests(server, repeats=repeats, ask=ask, log=say)
    hybrid = timings["summary"].get("hybrid", {})
    verdicts = {
        "hybrid_p50_ms": hybrid.get("p50", float("inf")) <= TARGETS["hybrid_p50_ms"],
        "hybrid_p95_ms": hybrid.get("p95", float("inf")) <= TARGETS["hybrid_p95_ms"],
        "server_rss_mb": timings["server_peak_rss_mb"] <= TARGETS["server_rss_mb"],
    }
    return {"chunks": index["chunks"], "index": index, **timings, "targets": TARGETS, "meets": verdicts}


def format_query(result: dict[str, Any]) -> str:
    index = result["index"]
    built = "reused" if index.get("reused") else "built"
    lines = [f"index: {result['chunks']} chunks in {index['documents']} documents, {index['disk_mb']} MB on disk, "
             f"{index['vectors']} vectors "
             f"({built}; building took {index['build_s']:.0f} s, of which vectors {index['encode_s']:.0f} s)",
             f"{'endpoint':<28}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}{'n':>6}{'errors':>8}"]
    for name, s in result["summary"].items():
        label = "POST /ask" if name == "ask" else f"GET /search {name}"
        lines.append(f"{label:<28}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['mean']:>9.1f}{s['n']:>6}{s['errors']:>8}")
    lines.append(f"server RSS {result['server_rss_mb']:.0f} MB (peak {result['server_peak_rss_mb']:.0f} MB)")
    t = result["targets"]
    meets = result["meets"]
    lines.append("targets: " + ", ".join(
        f"{name} <= {t[name]:g} {'ok' if ok else 'MISSED'}" for name, ok in meets.items()))
    for name, errs in result.get("errors", {}).items():
        lines.append(f"errors in {name}: {errs[0]}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="index size (rounded up to 5,000)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where indexes and vectors are kept")
    parser.add_argument("--seeds", type=Path, default=None, help="folder of seed .txt files")
    parser.add_argument("--repeats", type=int, default=2, help="passes over the query list per mode")
    parser.add_argument("--vectors", choices=VECTOR_KINDS, default="encoded",
                        help="encoded: the model on every chunk; composed: built from sentence vectors (fast)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--report", type=Path, default=None, help="write an HTML report here")
    args = parser.parse_args(argv)
    result = run_query_bench(args.chunks, cache=args.cache_dir, seeds=args.seeds, repeats=args.repeats,
                             vectors=args.vectors)
    if args.report:

        write_report(args.report, bench=result, title="Precedent query benchmark")
    print(json.dumps(result, indent=2) if args.json else format_query(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
