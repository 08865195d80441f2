"""The eval run as terminal tables: all questions, each set, each question category, each force; the
``/ask`` answers and trap refusals per set; metadata read without a manifest; the floors verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from precedent.eval.metadata import format_metadata
from precedent.eval.questions import TRAP_KINDS
from precedent.eval.run import METRICS, PRIMARY, EvalResult

_SHORT = {"recall@1": "R@1", "recall@3": "R@3", "recall@5": "R@5", "recall@10": "R@10", "mrr": "MRR",
          "ndcg@10": "nDCG@10", "doc_recall@10": "DocR@10"}


def format_table(result: EvalResult, scope: str | None = None) -> str:
    """One row per system, one column per metric; the hybrid / best-baseline ratios beneath."""
    width = max([len(n) for n in result.systems] + [24])
    head = f"{'system':<{width}}" + "".join(f"{_SHORT.get(m, m):>9}" for m in METRICS) + f"{'p50 ms':>9}"
    lines = [head, "-" * len(head)]
    for name, s in result.systems.items():
        got = s.metrics_for(scope)
        lines.append(f"{name:<{width}}" + "".join(f"{got.get(m, 0.0):>9.3f}" for m in METRICS)
                     + (f"{s.latency()['p50']:>9.1f}" if scope is None else ""))
    comparison = result.comparison(scope)
    if comparison:
        label = f"{PRIMARY} / best baseline"
        cells = "".join(f"{v:>9.2f}" if v is not None else f"{'-':>9}" for v in comparison["ratio"].values())
        lines += ["-" * len(head), f"{label:<{width}}" + cells]
    return "\n".join(lines)


def format_categories(result: EvalResult, metrics: tuple[str, ...] = ("recall@10", "ndcg@10")) -> str:
    """A matrix per metric: question categories (a set without them is one row) against systems."""
    if not result.systems:
        return ""
    first = next(iter(result.systems.values()))
    names = list(result.systems)
    width = max(len(n) for n in names) + 2
    out = []
    for metric in metrics:
        lines = [f"{_SHORT.get(metric, metric)} by question category:",
                 f"  {'category':<12}{'questions':>10}" + "".join(f"{n:>{width}}" for n in names)]
        for category, row in first.per_category.items():
            cells = "".join(f"{result.systems[n].per_category.get(category, {}).get(metric, 0.0):>{width}.3f}"
                            for n in names)
            lines.append(f"  {category:<12}{int(row['questions']):>10}" + cells)
        out.append("\n".join(lines))
    return "\n\n".join(out)


def format_forces(result: EvalResult, system: str = PRIMARY) -> str:
    if system not in result.systems:
        return ""
    s = result.systems[system]
    lines = [f"{system} by force:", f"  {'force':<28}{'questions':>10}{'R@5':>8}{'R@10':>8}{'nDCG@10':>9}"]
    for force, m in s.per_force.items():
        lines.append(f"  {force:<28}{int(m['questions']):>10}{m['recall@5']:>8.3f}{m['recall@10']:>8.3f}"
                     f"{m['ndcg@10']:>9.3f}")
    return "\n".join(lines)


def format_failures(result: EvalResult, system: str | None = None, limit: int = 30) -> str:
    """Evidence the system missed within k, with what it returned at ranks 1-3 instead."""
    system = system or (PRIMARY if PRIMARY in result.systems else next(iter(result.systems)))
    rows = result.systems[system].rows
    lines: list[str] = []
    shown = 0
    for row in rows:
        missed = [e for e, r in zip(row.evidence, row.ranks, strict=True) if r is None or r > result.k]
        if not missed:
            continue
        if shown == limit:
            lines.append("   ... (the JSON output lists every question)")
            break
        shown += 1
        lines.append(f"[{row.id}] {row.question}")
        for e in missed:
            lines.append(f"   expected: \"{e.quote}\"  ({e.file or e.document_id})")
        for i, p in enumerate(row.passages[:3], start=1):
            name = Path(p.source).name if p.source else p.document_id
            text = " ".join(p.text.split())[:110]
            lines.append(f"   got #{i}: {name} {p.locator or ''}: {text}")
    if not lines:
        return f"{system}: every evidence item found within k={result.k}."
    return f"{system} misses within k={result.k}:\n" + "\n".join(lines)


def _count(n: int | None, total: int | None) -> str:
    return "-" if not total else f"{n}/{total}"


def format_answers(answers: dict[str, Any]) -> str:
    """Per set: found, cites an evidence passage, single-force answers citing only that force, cited
    sentences; then traps answered found:false, by kind."""
    if not answers:
        return ""
    if "skipped" in answers:
        return f"answers: skipped: {answers['skipped']}"
    lines = ["/ask answers on answerable questions:",
             f"  {'set':<10}{'questions':>10}{'found':>10}{'cites evidence':>16}{'single force only':>19}"
             f"{'sentences with [n]':>20}"]
    for name, a in (answers.get("by_set") or {}).items():
        sentences = "-" if a["sentences_cited"] is None else f"{a['sentences_cited']:.3f}"
        lines.append(f"  {name:<10}{a['questions']:>10}{_count(a['found_n'], a['questions']):>10}"
                     f"{_count(a['cites_evidence_n'], a['questions']):>16}"
                     f"{_count(a['single_force_only_n'], a['single_force_questions']):>19}{sentences:>20}")
    refusal = answers.get("refusal") or {}
    if refusal:
        lines += ["", "traps answered found:false (nothing in the archive):",
                  f"  {'set':<10}" + "".join(f"{k:>10}" for k in TRAP_KINDS)]
        for name, kinds in refusal.items():
            cells = "".join(f"{_count(kinds[k]['refused'], kinds[k]['questions']) if k in kinds else '':>10}"
                            for k in TRAP_KINDS)
            lines.append(f"  {name:<10}" + cells)
    return "\n".join(lines)


def format_result(result: EvalResult) -> str:
    question_sets = result.question_sets()
    first = next(iter(result.systems.values()), None)
    counts = ", ".join(f"{n} ({int(first.per_set[n]['questions'])})" for n in question_sets) if first else ""
    total = len(first.rows) if first else 0
    parts = [f"{total} questions ({counts}); index {result.index['documents']} documents / "
             f"{result.index['chunks']} chunks; k={result.k}", ""]
    if len(question_sets) > 1:
        parts += ["all questions:", format_table(result), ""]
        for name in question_sets:
            parts += [f"{name}:", format_table(result, name), ""]
    else:
        parts += [format_table(result), ""]
    parts += [format_categories(result), "", format_forces(result), "", format_failures(result)]
    for item in result.index.get("unfindable_evidence", []):
        parts.append(f"warning: [{item['id']}] evidence \"{item['quote']}\" ({item['document']}): {item['reason']}")
    if result.answers:
        parts += ["", format_answers(result.answers)]
    if result.metadata:
        parts += ["", format_metadata(result.metadata)]
    if result.floors is not None:
        verdict = "ok" if result.floors["ok"] else "FAILED: " + "; ".join(result.floors["failures"])
        parts += ["", f"floors ({result.floors['file']}): {verdict}"]
    return "\n".join(p for p in parts if p is not None)

