"""A self-contained HTML report (tables plus matplotlib plots as base64 PNG), readable offline."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from precedent.eval.metadata import SHOWN
from precedent.eval.questions import TRAP_KINDS
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


def metrics_table(result: EvalResult, scope: str | None = None) -> str:
    """Systems against metrics, for all questions or one set, with the hybrid / best-baseline ratios."""
    rows, classes = [], []
    for name, s in result.systems.items():
        got = s.metrics_for(scope)
        rows.append([f"<td>{_esc(name)}</td>"] + [_num(got.get(m)) for m in METRICS]
                    + ([_num(s.latency()["p50"], 1)] if scope is None else []))
        classes.append("best" if name == PRIMARY else "")
    comparison = result.comparison(scope)
    if comparison:
        rows.append([f"<td>{PRIMARY} / best baseline</td>"] + [_num(v, 2) for v in comparison["ratio"].values()]
                    + (["<td></td>"] if scope is None else []))
        classes.append("")
    return _table(["system", *METRICS, *(["p50 ms"] if scope is None else [])], rows, classes)


def categories_table(result: EvalResult) -> str:
    first = next(iter(result.systems.values()))
    header = ["category", "questions"] + [f"{n} R@10 / nDCG@10" for n in result.systems]
    rows = []
    for category, row in first.per_category.items():
        cells = [f"<td class=n>{s.per_category.get(category, {}).get('recall@10', 0):.3f} / "
                 f"{s.per_category.get(category, {}).get('ndcg@10', 0):.3f}</td>" for s in result.systems.values()]
        rows.append([f"<td>{_esc(category)}</td>", _num(int(row["questions"]))] + cells)
    return _table(header, rows)


def eval_section(result: EvalResult) -> str:
    total = len(next(iter(result.systems.values())).rows) if result.systems else 0
    parts = [f"<p>{total} questions in {_esc(', '.join(result.question_sets()))}; one index of "
             f"{result.index['documents']} documents / {result.index['chunks']} chunks; k = {result.k}. "
             f"<span class=small>questions: {_esc('; '.join(result.questions_files))}; corpora: "
             f"{_esc('; '.join(result.corpora))}</span></p>"]
    parts.append("<h2>Retrieval, all questions</h2>" + metrics_table(result))
    if len(result.question_sets()) > 1:
        for name in result.question_sets():
            parts.append(f"<h2>Retrieval, {_esc(name)}</h2>" + metrics_table(result, name))
    if result.systems:
        parts.append("<h2>By question category</h2>" + categories_table(result))
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
    if result.metadata:
        parts.append("<h2>Metadata read without a manifest</h2>" + metadata_html(result))
    if result.floors is not None:
        verdict = "passed" if result.floors["ok"] else "FAILED: " + "; ".join(result.floors["failures"])
        parts.append(f"<h2>Regression floors</h2><p>{_esc(result.floors['file'])}: {_esc(verdict)}</p>")
    return "\n".join(parts)


def _count(n: int | None, total: int | None) -> str:
    return "<td class=n>-</td>" if not total else f"<td class=n>{n}/{total}</td>"


def answers_html(answers: dict[str, Any]) -> str:
    if "skipped" in answers:
        return f"<p>Skipped: {_esc(answers['skipped'])}</p>"
    rows = []
    for name, a in (answers.get("by_set") or {}).items():
        rows.append([f"<td>{_esc(name)}</td>", _count(a["found_n"], a["questions"]),
                     _count(a["cites_evidence_n"], a["questions"]),
                     _count(a["single_force_only_n"], a["single_force_questions"]), _num(a["sentences_cited"])])
    parts = [_table(["set", "found (answerable)", "cites an evidence passage", "single-force: cites only that force",
                     "sentences with a valid [n]"], rows)]
    refusal = answers.get("refusal") or {}
    if refusal:
        trap_rows = [[f"<td>{_esc(name)}</td>"] + [_count(kinds[k]["refused"], kinds[k]["questions"]) if k in kinds
                                                   else "<td></td>" for k in TRAP_KINDS]
                     for name, kinds in refusal.items()]
        parts.append("<p>Traps answered found:false, by kind:</p>" + _table(["set", *TRAP_KINDS], trap_rows))
    return "\n".join(parts)


def metadata_html(result: EvalResult) -> str:
    rows = []
    for m in result.metadata:
        acc, counts = m.accuracy(), m.counts()
        rows.append([f"<td>{_esc(m.name)}</td>", _num(counts["papers"])] + [_num(acc[f]) for f in SHOWN]
                    + [_count(counts["dated_right"], counts["dated_papers"]),
                       _count(counts["titles_exact"], counts["papers"])])
    misses = [f"<li>{_esc(m.name)} {_esc(r.file)} {_esc(f)}: read {_esc(r.inferred.get(f))}, manifest "
              f"{_esc(r.expected.get(f))}</li>" for m in result.metadata for r in m.rows for f in SHOWN if not r.right(f)]
    return (_table(["corpus", "papers", *SHOWN, "dated papers", "exact titles"], rows)
            + (f"<ul class=small>{''.join(misses)}</ul>" if misses else ""))


def bench_section(bench: dict[str, Any]) -> str:
    if "benches" in bench:  # `bench all`: each benchmark's own section
        return "".join(bench_section(b) for b in bench["benches"].values() if isinstance(b, dict))
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
