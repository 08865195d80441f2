"""Load benchmark: do readers keep their latency while the server takes uploads?

Against a running server (``precedent serve`` as a subprocess) on an index of the seeds and the panels
corpus: N clients send mixed ``GET /search`` and ``POST /ask`` requests (the questions of both sets, in
turn), first with nothing else running ("idle"), then while U admin uploads (new papers: varied copies
of the corpus's text papers) run alongside; at 8 clients and again at 32. It prints p50/p95 idle and
during uploads, their ratio (target: within 2x), errors (target 0), whether every upload is in the index
afterwards ("nothing lost"), and ``precedent check`` on the index the server wrote. It also times the
first ``/ask`` after ``/health`` first says ready.

    precedent bench load [--clients 8,32] [--requests 320] [--uploads 12] [--json]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from precedent.eval.bench.query import Server
from precedent.eval.bench.synthetic import find_seeds, vary_document
from precedent.eval.metrics import percentile
from precedent.eval.questions import load_questions
from precedent.eval.run import build_index
from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store

TARGET_RATIO = 2.0  # p95 during uploads within 2x of idle
ADMIN_KEY = "bench-load-admin-key"


def default_corpora() -> list[Path]:
    """The seeds and, beside them, the panels corpus (found as the other benchmarks find the seeds)."""
    seeds = find_seeds()
    return [seeds, seeds.parent / "panels"]


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("precedent")) / "bench"


@dataclass
class Phase:
    """One run of the clients: their latencies by endpoint, errors, and the uploads beside them."""

    name: str
    clients: int
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    uploads: list[dict[str, Any]] = field(default_factory=list)
    overlap: float = 0.0  # share of the requests answered while uploads were still running

    def summary(self) -> dict[str, Any]:
        every = [x for v in self.latencies.values() for x in v]
        out: dict[str, Any] = {"clients": self.clients, "requests": len(every) + len(self.errors),
                               "errors": len(self.errors), "seconds": round(self.seconds, 1),
                               "p50": round(percentile(every, 50), 1), "p95": round(percentile(every, 95), 1)}
        for kind, values in self.latencies.items():
            out[kind] = {"p50": round(percentile(values, 50), 1), "p95": round(percentile(values, 95), 1),
                         "n": len(values)}
        if self.uploads:
            out["uploads"] = {"sent": len(self.uploads),
                              "added": sum(1 for u in self.uploads if u["status"] == 201),
                              "seconds": round(max(u["finished"] for u in self.uploads), 1),
                              "overlap": round(self.overlap, 2)}
        return out


def load_index(corpora: list[Path], cache: Path, say: Any) -> Path:
    """The seeds + panels index, built once under ``cache``; returns a copy the run may change."""
    base = cache / f"load-index-{Settings().encoder}"
    say(f"indexing {', '.join(map(str, corpora))} into {base} (unchanged papers are skipped)")
    build_index(corpora, base)
    work = Path(tempfile.mkdtemp(prefix="precedent-load-"))
    shutil.copytree(base, work / "data")
    return work / "data"


def new_papers(corpora: list[Path], count: int, seed: int) -> list[tuple[str, bytes]]:
    """``count`` papers the index does not hold: varied copies of the corpora's text papers."""
    texts = sorted(p for c in corpora for p in c.glob("*.txt"))
    rng = random.Random(seed)
    out = []
    for n in range(count):
        path = texts[n % len(texts)]
        body = vary_document(path.read_text(encoding="utf-8", errors="replace"), rng)
        out.append((f"load-{seed}-{n:02d}-{path.name}", body.encode()))
    return out


def _requests(questions: list[str], count: int) -> list[tuple[str, str]]:
    """Alternating searches and questions, cycling through the question sets."""
    return [("search" if i % 2 == 0 else "ask", questions[i % len(questions)]) for i in range(count)]


def run_clients(server: Server, phase: Phase, work: list[tuple[str, str]],
                uploads: Sequence[tuple[str, bytes]] = ()) -> Phase:
    """Send ``work`` from ``phase.clients`` threads (and ``uploads`` from threads of their own, all at once)."""
    import httpx

    lock = threading.Lock()
    done_at: list[float] = []
    started = time.perf_counter()

    def client(share: list[tuple[str, str]]) -> None:
        with httpx.Client(base_url=server.url, timeout=300) as http:
            for kind, question in share:
                t = time.perf_counter()
                try:
                    if kind == "search":
                        res = http.get("/search", params={"q": question, "k": 10})
                    else:
                        res = http.post("/ask", json={"question": question})
                    ok = res.status_code == 200 and res.json().get("results" if kind == "search" else "answer") is not None
                    problem = None if ok else f"{kind} {res.status_code}: {res.text[:120]}"
                except (httpx.HTTPError, ValueError) as exc:
                    problem = f"{kind}: {type(exc).__name__}: {exc}"
                now = time.perf_counter()
                with lock:
                    if problem:
                        phase.errors.append(problem)
                    else:
                        phase.latencies.setdefault(kind, []).append((now - t) * 1000)
                    done_at.append(now - started)

    def upload(name: str, data: bytes) -> None:
        t = time.perf_counter()
        try:
            with httpx.Client(base_url=server.url, timeout=900) as http:
                res = http.post("/documents", headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                                files={"file": (name, data, "text/plain")})
            status, body = res.status_code, res.json()
        except (httpx.HTTPError, ValueError) as exc:
            status, body = 0, {"detail": str(exc)}
        with lock:
            phase.uploads.append({"name": name, "status": status, "finished": time.perf_counter() - started,
                                  "seconds": round(time.perf_counter() - t, 2),
                                  "document_id": (body.get("document") or {}).get("document_id")})

    threads = [threading.Thread(target=upload, args=u) for u in uploads]
    threads += [threading.Thread(target=client, args=(work[i::phase.clients],)) for i in range(phase.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.perf_counter() - started
    if phase.uploads:
        last = max(u["finished"] for u in phase.uploads)
        phase.overlap = sum(1 for d in done_at if d <= last) / max(1, len(done_at))
    return phase


def first_ask(server: Server) -> float:
    import httpx

    t = time.perf_counter()
    res = httpx.post(server.url + "/ask", json={"question": "What did the panel say about the precept?"}, timeout=300)
    if res.status_code != 200:
        raise PrecedentError(f"the first /ask failed: {res.status_code} {res.text[:200]}")
    return (time.perf_counter() - t) * 1000


def run_load_bench(clients: list[int], *, requests: int = 320, uploads: int = 12, corpora: list[Path] | None = None,
                   cache: Path | None = None, log: Any = None) -> dict[str, Any]:
    say = log or (lambda msg: print(msg, file=sys.stderr))
    corpora = corpora or default_corpora()
    questions = [q.question for c in corpora if (c / "questions.jsonl").is_file()
                 for q in load_questions(c / "questions.jsonl")]
    if not questions:
        raise PrecedentError(f"no questions.jsonl in {', '.join(map(str, corpora))}: the load needs questions to ask")
    data_dir = load_index(corpora, cache or default_cache_dir(), say)
    work = _requests(questions, requests)
    phases: list[Phase] = []
    try:
        say("starting the server; requests begin when /health says ready")
        env = {"PRECEDENT_ADMIN_KEY": ADMIN_KEY}
        with Server(data_dir, env=env) as server:
            first = first_ask(server)
            before = _documents(server)
            say(f"  warming up: the {requests} requests once, untimed, so every phase finds the same warm caches")
            run_clients(server, Phase("warm-up", clients[0]), work)
            for n, count in enumerate(clients):
                say(f"  {count} clients, {requests} requests, idle")
                phases.append(run_clients(server, Phase(f"idle-{count}", count), work))
                say(f"  {count} clients, {requests} requests, {uploads} uploads alongside")
                papers = new_papers(corpora, uploads, seed=n)
                phases.append(run_clients(server, Phase(f"uploads-{count}", count), work, papers))
            after = _documents(server)
            rss, peak = server.rss_mb()
        uploaded = {u["document_id"] for p in phases for u in p.uploads if u["status"] == 201}
        sent = sum(len(p.uploads) for p in phases)
        store = Store.open(Settings(data_dir=data_dir))
        try:
            report = store.check()
        finally:
            store.close()
    finally:
        shutil.rmtree(data_dir.parent, ignore_errors=True)
    rows = []
    for count in clients:
        idle = next(p for p in phases if p.name == f"idle-{count}").summary()
        busy = next(p for p in phases if p.name == f"uploads-{count}").summary()
        ratio = busy["p95"] / idle["p95"] if idle["p95"] else float("inf")
        rows.append({"clients": count, "idle": idle, "uploads": busy, "p95_ratio": round(ratio, 2),
                     "meets": ratio <= TARGET_RATIO and idle["errors"] == busy["errors"] == 0})
    return {
        "first_ask_ms": round(first, 1), "rows": rows, "target_ratio": TARGET_RATIO,
        "uploads": {"sent": sent, "added": len(uploaded), "in_index": len(uploaded & after),
                    "documents_before": len(before), "documents_after": len(after)},
        "lost": sent - len(uploaded & after),
        "check": {"ok": report.ok, "problems": report.problems, "documents": report.documents,
                  "chunks": report.chunks, "vectors": report.vectors},
        "server_rss_mb": round(rss, 1), "server_peak_rss_mb": round(peak, 1),
        "errors": [e for p in phases for e in p.errors][:10],
    }


def _documents(server: Server) -> set[str]:
    import httpx

    res = httpx.get(server.url + "/documents", timeout=120)
    res.raise_for_status()
    return {d["document_id"] for d in res.json()["documents"]}


def format_load(result: dict[str, Any]) -> str:
    lines = [f"first /ask after /health said ready: {result['first_ask_ms']:.0f} ms",
             f"{'clients':>7}  {'phase':<8}{'requests':>9}{'errors':>7}{'p50 ms':>8}{'p95 ms':>8}"
             f"{'search p95':>11}{'ask p95':>9}  uploads"]
    for row in result["rows"]:
        for name in ("idle", "uploads"):
            s = row[name]
            up = s.get("uploads")
            upload = (f"{up['added']}/{up['sent']} added in {up['seconds']:.0f} s, {up['overlap']:.0%} of requests "
                      "answered while they ran") if up else ""
            lines.append(f"{row['clients']:>7}  {name:<8}{s['requests']:>9}{s['errors']:>7}{s['p50']:>8.0f}{s['p95']:>8.0f}"
                         f"{s.get('search', {}).get('p95', 0):>11.0f}{s.get('ask', {}).get('p95', 0):>9.0f}  {upload}")
        verdict = "ok" if row["meets"] else "MISSED"
        lines.append(f"{'':>7}  p95 during uploads / idle: {row['p95_ratio']:.2f} (target <= {result['target_ratio']:g}, "
                     f"0 errors) {verdict}")
    up = result["uploads"]
    lines.append(f"uploads: {up['added']}/{up['sent']} added, {up['in_index']} in the index afterwards "
                 f"({up['documents_before']} -> {up['documents_after']} documents); lost: {result['lost']} (target 0)")
    check = result["check"]
    lines.append(f"precedent check: {'ok' if check['ok'] else 'PROBLEMS ' + '; '.join(check['problems'])} "
                 f"({check['documents']} documents, {check['chunks']} chunks, {check['vectors']} vectors)")
    lines.append(f"server RSS {result['server_rss_mb']:.0f} MB (peak {result['server_peak_rss_mb']:.0f} MB)")
    for error in result["errors"]:
        lines.append(f"error: {error}")
    return "\n".join(lines)


def parse_clients(value: str | None) -> list[int]:
    try:
        counts = [int(v) for v in (value or "8,32").split(",") if v.strip()]
    except ValueError:
        raise PrecedentError(f"--clients '{value}' is not a list of client counts, e.g. 8,32") from None
    if not counts or min(counts) < 1:
        raise PrecedentError("--clients needs positive client counts, e.g. 8,32")
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="8,32", help="client counts, comma-separated")
    parser.add_argument("--requests", type=int, default=320, help="requests per phase")
    parser.add_argument("--uploads", type=int, default=12, help="uploads alongside each busy phase")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run_load_bench(parse_clients(args.clients), requests=args.requests, uploads=args.uploads,
                            cache=args.cache_dir)
    print(json.dumps(result, indent=2) if args.json else format_load(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
