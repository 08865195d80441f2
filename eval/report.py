"""A self-contained HTML report (tables plus matplotlib plots as base64 PNG), readable offline."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from precedent.eval.run import METRICS, PRIMARY, EvalResult

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:72em;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;vertical-align:top}
th{background:#f4f4f4;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.best td{font-weight:600}.miss{color:#a40000}.hit{color:#06602b}.small{font-size:.85em;color:#555}
img{max-width:100%}
"""


def _esc(value: object) -> str:
    return html.escape(str(value))


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "<td class=n>-</td>"
    if isinstance(value, float):
        return f"<td class=n>{value:.{digits}f}</td>"
    return f"<td class=n>{_esc(value)}</td>"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], classes: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        f"<tr class='{classes[i] if classes else ''}'>{''.join(r)}</tr>" for i, r in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"<img alt='plot' src='data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}'>"


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")  # no display: render straight to PNG
    import matplotlib.pyplot as plt

    return plt


def recall_plot(result: EvalResult) -> str:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, s in result.systems.items():
        ks = list(range(1, len(s.curve) + 1))
        ax.plot(ks, s.curve, marker="o", markersize=3, label=name, linewidth=2.2 if name == PRIMARY else 1.2)
    ax.set_xlabel("k")
    ax.set_ylabel("evidence recall@k")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title("Evidence recall@k per system")
    return _png(fig)


def latency_plot(latencies: dict[str, Sequence[float]], title: str) -> str:
    plt = _pyplot()
    names = [n for n, v in latencies.items() if v]
    if not names:
        return ""
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(names) + 1.5))
    ax.boxplot([list(latencies[n]) for n in names], orientation="horizontal", showfliers=True)
    ax.set_yticks(range(1, len(names) + 1), names)
    ax.set_xlabel("milliseconds")
    ax.set_xscale("log")
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(title)
    return _png(fig)


def scale_plot(rows: Sequence[dict[str, Any]]) -> str:
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    chunks = [r["chunks"] for r in rows]
    modes = sorted({m for r in rows for m in r.get("latency_ms", {})})
    for mode in modes:
        left.plot(chunks, [r["latency_ms"].get(mode, {}).get("p50") for r in rows], marker="o", label=f"{mode} p50")
        left.plot(chunks, [r["latency_ms"].get(mode, {}).get("p95") for r in rows], marker="x", linestyle="--",
                  label=f"{mode} p95")
    left.set_xscale("log")
    left.set_xlabel("chunks")
    left.set_ylabel("ms")
    left.legend(fontsize=7)
    left.grid(alpha=0.3)
    left.set_title("Query latency")
    right.plot(chunks, [r["disk_mb"] for r in rows], marker="o")
    right.set_xscale("log")
    right.set_xlabel("chunks")
    right.set_ylabel("MB on disk")
    right.grid(alpha=0.3)
    right.set_title("Index size")
    return _png(fig)


def eval_section(result: EvalResult) -> str:
    parts = [f"<p>{len(next(iter(result.systems.values())).rows) if result.systems else 0} questions; index "
             f"{result.index['documents']} documents / {result.index['chunks']} chunks; k = {result.k}. "
             f"<span class=small>questions: {_esc(result.questions_file)}; corpus: {_esc(result.corpus)}</span></p>"]
    rows, classes = [], []
    for name, s in result.systems.items():
        rows.append([f"<td>{_esc(name)}</td>"] + [_num(s.metrics[m]) for m in METRICS]
                    + [_num(s.latency()["p50"], 1)])
        classes.append("best" if name == PRIMARY else "")
    comparison = result.comparison()
    if comparison:
        rows.append([f"<td>{PRIMARY} / best baseline</td>"] + [_num(v, 2) for v in comparison["ratio"].values()]
                    + ["<td></td>"])
        classes.append("")
    parts.append("<h2>Retrieval</h2>" + _table(["system", *METRICS, "p50 ms"], rows, classes))
    parts.append(recall_plot(result))
    parts.append(latency_plot({n: s.latencies_ms for n, s in result.systems.items()},
                              "In-process retrieval latency per question"))

    primary = PRIMARY if PRIMARY in result.systems else next(iter(result.systems), None)
    if primary:
        s = result.systems[primary]
        force_rows = [[f"<td>{_esc(f)}</td>", _num(int(m["questions"]))] + [_num(m[x]) for x in METRICS]
                      for f, m in s.per_force.items()]
        parts.append(f"<h2>{_esc(primary)} by force</h2>" + _table(["force", "questions", *METRICS], force_rows))
        q_rows = []
        for row in s.rows:
            evidence = "<br>".join(
                f"<span class={'hit' if r is not None and r <= result.k else 'miss'}>"
                f"{'#' + str(r) if r else 'missed'}</span> “{_esc(e.quote)}” <span class=small>{_esc(e.file or e.document_id)}</span>"
                for e, r in zip(row.evidence, row.ranks, strict=True))
            top = "<br>".join(
                f"#{i} <span class=small>{_esc(Path(p.source).name if p.source else p.document_id)} "
                f"{_esc(p.locator or '')}</span> {_esc(' '.join(p.text.split())[:140])}"
                for i, p in enumerate(row.passages[:3], start=1))
            m = row.metrics()
            q_rows.append([f"<td>{_esc(row.id)}</td>", f"<td>{_esc(row.question)}</td>", f"<td>{evidence}</td>",
                           _num(m["recall@10"]), _num(m["ndcg@10"]), f"<td>{top}</td>"])
        parts.append(f"<h2>Per question ({_esc(primary)})</h2>"
                     + _table(["id", "question", "evidence (first rank)", "R@10", "nDCG@10", "ranks 1-3"], q_rows))
    if result.answers:
        parts.append("<h2>Answers</h2>" + answers_html(result.answers))
    if result.floors is not None:
        verdict = "passed" if result.floors["ok"] else "FAILED: " + "; ".join(result.floors["failures"])
        parts.append(f"<h2>Regression floors</h2><p>{_esc(result.floors['file'])}: {_esc(verdict)}</p>")
    return "\n".join(parts)


def answers_html(answers: dict[str, Any]) -> str:
    if "skipped" in answers:
        return f"<p>Skipped: {_esc(answers['skipped'])}</p>"
    rows = [[f"<td>{_esc(label)}</td>", _num(answers.get(key), 3)] for key, label in (
        ("cites_evidence", "answers citing an evidence passage"),
        ("sentences_cited", "answer sentences with a valid [n] citation"),
        ("found_on_topic", "dev questions answered (found)"),
        ("offtopic_not_found", "off-topic questions correctly not found"),
    )]
    return _table(["measure", "share"], rows)


def bench_section(bench: dict[str, Any]) -> str:
    parts = []
    if "latencies_ms" in bench:
        summary = bench.get("summary", {})
        rows = [[f"<td>{_esc(mode)}</td>", _num(v.get("p50"), 1), _num(v.get("p95"), 1), _num(v.get("n"))]
                for mode, v in summary.items()]
        parts.append(f"<h2>Query benchmark ({_esc(bench.get('chunks'))} chunks)</h2>"
                     + _table(["endpoint", "p50 ms", "p95 ms", "requests"], rows)
                     + f"<p>Server RSS: {_esc(bench.get('server_rss_mb'))} MB (peak {_esc(bench.get('server_peak_rss_mb'))} MB)</p>")
        parts.append(latency_plot(bench["latencies_ms"], "Latency against a running server"))
    if "scale" in bench:
        rows = []
        for r in bench["scale"]:
            hybrid = r["latency_ms"].get("hybrid", {})
            rows.append([_num(r["chunks"]), _num(hybrid.get("p50"), 1), _num(hybrid.get("p95"), 1),
                         _num(r["disk_mb"], 1), _num(r.get("build_s"), 1), _num(r.get("server_rss_mb"), 0)])
        parts.append("<h2>Scale curve</h2>" + _table(
            ["chunks", "hybrid p50 ms", "hybrid p95 ms", "disk MB", "build s", "server RSS MB"], rows))
        parts.append(scale_plot(bench["scale"]))
    if "end_to_end_chunks_per_s" in bench:
        rows = [[f"<td>{_esc(k)}</td>", _num(v)] for k, v in bench.items() if isinstance(v, (int, float))]
        parts.append("<h2>Ingest benchmark</h2>" + _table(["measure", "value"], rows))
    return "\n".join(parts)


def render(result: EvalResult | None = None, bench: dict[str, Any] | None = None, *, title: str = "Precedent evaluation") -> str:
    body = []
    if result is not None:
        body.append(eval_section(result))
    if bench:
        body.append(bench_section(bench))
    stamp = dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{_esc(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{_esc(title)}</h1><p class=small>generated {stamp}</p>"
            + "\n".join(body) + "</body></html>")


def write_report(path: Path, result: EvalResult | None = None, bench: dict[str, Any] | None = None, *,
                 title: str = "Precedent evaluation") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(result, bench, title=title), encoding="utf-8")
    return path
