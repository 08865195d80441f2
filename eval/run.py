"""Run a question set against Precedent and the naive baselines in one go, and score them.

``build_index`` ingests (or reuses) an index of a corpus; ``run_eval`` asks every question of every
system and returns an ``EvalResult`` that prints as a table, serialises to JSON and feeds the report.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from precedent.eval.baselines import BM25Naive, DenseNaive, SourceText, naive_chunks
from precedent.eval.matching import Passage, hits, source_is_file
from precedent.eval.metrics import (
    CUTOFFS,
    DOC_RECALL_AT,
    NDCG_AT,
    QuestionRow,
    by_force,
    mean_metrics,
    percentile,
    recall_curve,
    score_question,
)
from precedent.eval.questions import Question, load_questions
from precedent.ingest.errors import PrecedentError
from precedent.ingest.pipeline import IngestReport, ingest_paths
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from precedent.search.answer import Answer, AnswerCitation, ask
from precedent.search.citations import answer_claims, cited_numbers, strip_markers
from precedent.search.retrieve import Searcher

BASELINES = ("bm25-naive", "dense-naive")
PRECEDENT = ("dense", "lexical", "hybrid")
PRIMARY = "hybrid"
OFFTOPIC_PATH = Path(__file__).resolve().parent / "data" / "offtopic.jsonl"
METRICS = tuple(f"recall@{k}" for k in CUTOFFS) + ("mrr", f"ndcg@{NDCG_AT}", f"doc_recall@{DOC_RECALL_AT}")


class System(Protocol):
    name: str

    def retrieve(self, question: str, k: int) -> list[Passage]: ...


def available_systems() -> tuple[str, ...]:
    return BASELINES + PRECEDENT


def parse_systems(value: str | Sequence[str] | None) -> list[str]:
    """``"a,b"`` -> checked names; None -> every system available here."""
    if value is None:
        return list(available_systems())
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value) if n.strip()]
    valid = available_systems()
    unknown = [n for n in names if n not in valid]
    if unknown:
        raise PrecedentError(f"unknown system(s) {', '.join(unknown)}: choose from {', '.join(valid)}")
    if not names:
        raise PrecedentError(f"--systems is empty: choose from {', '.join(valid)}")
    return list(dict.fromkeys(names))


# -- the index -------------------------------------------------------------------------------------


def cache_dir_for(corpus: Path) -> Path:
    """A temp data dir per corpus folder, reused by the next run (ingest skips unchanged files)."""
    digest = hashlib.sha256(str(corpus.resolve()).encode()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"precedent-eval-{digest}"


def build_index(corpus: Path, data_dir: Path | None = None, *, manifest: Path | None = None) -> tuple[Settings, IngestReport]:
    """Ingest ``corpus`` into ``data_dir`` (default: a cached temp dir), adding only what changed.

    In the cached dir, documents whose file has left the corpus are removed, so the index is exactly
    the corpus; a data dir the user names is never pruned.
    """
    if not corpus.exists():
        raise PrecedentError(f"corpus {corpus} does not exist: pass the folder of documents with --corpus")
    own = data_dir is None
    settings = Settings(data_dir=data_dir or cache_dir_for(corpus))
    report = ingest_paths([corpus], settings, manifest=manifest)
    if report.succeeded == 0:
        reasons = "; ".join(f"{f.path}: {f.error}" for f in report.failed[:5]) or "no readable documents"
        raise PrecedentError(f"could not index corpus {corpus}: {reasons}")
    if own:
        current = {o.document_id for o in report.outcomes if o.status != "failed"}
        store = Store.open(settings)
        try:
            for doc in store.list_documents():
                if doc.document_id not in current:
                    store.remove_document(doc.document_id)
            report.documents, report.chunks = store.counts()
        finally:
            store.close()
    return settings, report


def indexed_texts(searcher: Searcher) -> list[SourceText]:
    """Every document's cleaned text, as Precedent stored it: the baselines' input."""
    out = []
    for doc in searcher.store.list_documents():
        got = searcher.store.get_document(doc.document_id)
        if got is not None:
            out.append(SourceText(doc.document_id, doc.source, got.text))
    return out


# -- systems ------------------------------------------------------------------------------------


class PrecedentSystem:
    def __init__(self, name: str, searcher: Searcher, mode: str) -> None:
        self.name, self.searcher, self.mode = name, searcher, mode

    def retrieve(self, question: str, k: int) -> list[Passage]:
        hits_ = self.searcher.search(question, k=min(k, 100), mode=self.mode)
        return [Passage(h.chunk.text, h.document.document_id, h.document.source, h.chunk.locator) for h in hits_]


def make_systems(names: Sequence[str], searcher: Searcher) -> list[System]:
    systems: list[System] = []
    chunks: list[Passage] | None = None
    for name in names:
        if name in BASELINES:
            chunks = chunks if chunks is not None else naive_chunks(indexed_texts(searcher))
            systems.append(BM25Naive(chunks) if name == "bm25-naive" else DenseNaive(chunks, searcher.embedder))
        else:
            systems.append(PrecedentSystem(name, searcher, name))
    return systems


# -- results ------------------------------------------------------------------------------------


@dataclass
class SystemResult:
    name: str
    rows: list[QuestionRow]
    metrics: dict[str, float]
    per_force: dict[str, dict[str, float]]
    latencies_ms: list[float]
    curve: list[float]

    def latency(self) -> dict[str, float]:
        return {"p50": percentile(self.latencies_ms, 50), "p95": percentile(self.latencies_ms, 95),
                "mean": sum(self.latencies_ms) / max(1, len(self.latencies_ms))}


@dataclass
class EvalResult:
    questions_file: str | None
    corpus: str | None
    k: int
    depth: int
    index: dict[str, Any]
    systems: dict[str, SystemResult]
    answers: dict[str, Any] = field(default_factory=dict)
    floors: dict[str, Any] | None = None

    def baselines(self) -> list[str]:
        return [n for n in self.systems if n in BASELINES]

    def comparison(self) -> dict[str, Any] | None:
        """Precedent hybrid divided by the best naive baseline, metric by metric."""
        bases = self.baselines()
        if PRIMARY not in self.systems or not bases:
            return None
        ratio, best = {}, {}
        for metric in METRICS:
            name = max(bases, key=lambda n: self.systems[n].metrics.get(metric, 0.0))
            base = self.systems[name].metrics.get(metric, 0.0)
            best[metric] = name
            ratio[metric] = self.systems[PRIMARY].metrics[metric] / base if base else None
        return {"system": PRIMARY, "ratio": ratio, "best_baseline": best}

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions_file": self.questions_file, "corpus": self.corpus, "k": self.k, "depth": self.depth,
            "index": self.index,
            "systems": {name: {
                "metrics": _rounded(s.metrics), "latency_ms": _rounded(s.latency(), 2),
                "recall_curve": [round(v, 4) for v in s.curve],
                "per_force": {f: _rounded(m) for f, m in s.per_force.items()},
                "questions": [question_dict(r) for r in s.rows],
            } for name, s in self.systems.items()},
            "comparison": _rounded_comparison(self.comparison()),
            "answers": self.answers,
            "floors": self.floors,
        }


def question_dict(row: QuestionRow) -> dict[str, Any]:
    return {
        "id": row.id, "question": row.question, "forces": list(row.forces), "metrics": _rounded(row.metrics()),
        "evidence": [{"quote": e.quote, "file": e.file, "document_id": e.document_id, "rank": r}
                     for e, r in zip(row.evidence, row.ranks, strict=True)],
        "top": [{"rank": i, "document_id": p.document_id, "source": p.source, "locator": p.locator,
                 "text": p.text[:300]} for i, p in enumerate(row.passages[:3], start=1)],
        "ms": round(row.seconds * 1000, 2),
    }


def _rounded(values: dict[str, float], digits: int = 4) -> dict[str, float]:
    return {k: (round(v, digits) if isinstance(v, float) else v) for k, v in values.items()}


def _rounded_comparison(comparison: dict[str, Any] | None) -> dict[str, Any] | None:
    if comparison is None:
        return None
    ratio = {k: (round(v, 3) if v is not None else None) for k, v in comparison["ratio"].items()}
    return {**comparison, "ratio": ratio}


# -- running ------------------------------------------------------------------------------------


def question_forces(questions: Sequence[Question], searcher: Searcher) -> dict[str, tuple[str, ...]]:
    """A question's forces: its own ``forces`` field, else the forces of the documents its evidence is in."""
    docs = searcher.store.list_documents()
    out: dict[str, tuple[str, ...]] = {}
    for q in questions:
        if q.forces:
            out[q.id] = q.forces
            continue
        forces = []
        for e in q.evidence:
            for d in docs:
                if d.force and (d.document_id == e.document_id or (e.file and source_is_file(d.source, e.file))):
                    forces.append(d.force)
        out[q.id] = tuple(dict.fromkeys(forces))
    return out


def unfindable_evidence(questions: Sequence[Question], texts: Sequence[SourceText]) -> list[dict[str, str]]:
    """Evidence no indexed document holds: a typo in the question set, or text lost in cleaning."""
    missing = []
    for q in questions:
        for e in q.evidence:
            docs = [t for t in texts if t.document_id == e.document_id or (e.file and source_is_file(t.source, e.file))]
            if not any(hits(Passage(t.text, t.document_id, t.source), e) for t in docs):
                where = e.file or e.document_id or "?"
                reason = "quote not in its text" if docs else "document not in the index"
                missing.append({"id": q.id, "quote": e.quote, "document": where, "reason": reason})
    return missing


def run_system(system: System, questions: Sequence[Question], depth: int,
               forces: dict[str, tuple[str, ...]]) -> SystemResult:
    rows = []
    for q in questions:
        started = time.perf_counter()
        passages = system.retrieve(q.question, depth)
        rows.append(score_question(q, passages, seconds=time.perf_counter() - started, forces=forces.get(q.id)))
    return SystemResult(system.name, rows, mean_metrics(rows), by_force(rows),
                        [r.seconds * 1000 for r in rows], recall_curve(rows, depth))


def run_eval(
    questions: Sequence[Question],
    searcher: Searcher,
    *,
    systems: Sequence[str] | None = None,
    k: int = 10,
    answers: bool = True,
    offtopic: Sequence[Question] | None = None,
    questions_file: Path | None = None,
    corpus: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> EvalResult:
    """Ask every question of every system (retrieving at least 10 deep, so @10 metrics exist)."""
    if not 1 <= k <= 100:
        raise PrecedentError(f"--k must be between 1 and 100 (got {k})")
    names = list(systems) if systems is not None else list(available_systems())
    depth = max(k, 10)
    forces = question_forces(questions, searcher)
    docs, chunks = searcher.store.counts()
    unfindable = unfindable_evidence(questions, indexed_texts(searcher))
    results: dict[str, SystemResult] = {}
    for system in make_systems(names, searcher):
        if progress:
            progress(f"running {system.name} on {len(questions)} questions")
        system.retrieve("warm up", depth)  # load the model and caches outside the timings
        results[system.name] = run_system(system, questions, depth, forces)
    answer_report: dict[str, Any] = {}
    if answers:
        if progress:
            progress("scoring answers")
        answer_report = answer_metrics(searcher, questions, offtopic, k)
    return EvalResult(
        questions_file=str(questions_file) if questions_file else None, corpus=str(corpus) if corpus else None,
        k=k, depth=depth, index={"documents": docs, "chunks": chunks, "data_dir": str(searcher.settings.data_dir),
               "unfindable_evidence": unfindable},
        systems=results, answers=answer_report,
    )


# -- answers ------------------------------------------------------------------------------------

def load_offtopic() -> list[Question]:
    """The off-topic questions shipped beside the eval code (``eval/data/``); empty if there are none."""
    path = OFFTOPIC_PATH
    return load_questions(path, require_evidence=False) if path.is_file() else []


def citation_passage(citation: AnswerCitation) -> Passage:
    """An answer's citation as a passage: its text and the document it comes from."""
    return Passage(citation.text, citation.citation.document_id, citation.citation.source)


def answer_sentences(answer: str) -> list[str]:
    """The claims of an answer, split by the same function that writes and verifies them; a claim
    of fewer than three words ("See [2].") says nothing to check."""
    return [s for s in answer_claims(answer) if len(strip_markers(s).split()) >= 3]


def answer_metrics(searcher: Searcher, questions: Sequence[Question], offtopic: Sequence[Question] | None,
                   k: int) -> dict[str, Any]:
    """Share of answers citing evidence, share of sentences with a valid [n], off-topic ``found`` accuracy."""
    offtopic = load_offtopic() if offtopic is None else offtopic
    cites_evidence, found, sentences, valid, rows = 0, 0, 0, 0, []
    for q in questions:
        ans: Answer = ask(searcher, q.question, k=k)
        numbers = {c.n for c in ans.citations}
        hit = any(hits(citation_passage(c), e) for c in ans.citations for e in q.evidence)
        # "Nothing found" is not a claim about the archive: only found answers' sentences must cite.
        said = answer_sentences(ans.answer) if ans.found else []
        good = [s for s in said if cited_numbers(s) and cited_numbers(s) <= numbers]
        cites_evidence += hit
        found += ans.found
        sentences += len(said)
        valid += len(good)
        rows.append({"id": q.id, "found": ans.found, "cites_evidence": hit,
                     "sentences": len(said), "cited_sentences": len(good), "answer": ans.answer[:500]})
    off_rows = []
    for q in offtopic:
        ans = ask(searcher, q.question, k=k)
        off_rows.append({"id": q.id, "question": q.question, "found": ans.found})
    n = max(1, len(questions))
    return {
        "questions": len(questions),
        "cites_evidence": cites_evidence / n,
        "found_on_topic": found / n,
        "sentences_cited": valid / sentences if sentences else None,
        "offtopic_questions": len(off_rows),
        "offtopic_not_found": (sum(not r["found"] for r in off_rows) / len(off_rows)) if off_rows else None,
        "rows": rows, "offtopic": off_rows,
    }


# -- floors ---------------------------------------------------------------------------------------


def check_floors(result: EvalResult, path: Path) -> dict[str, Any]:
    """Compare the run with the regression floors in ``path``; ``ok`` is False if any is missed."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PrecedentError(f"floors file {path} not found: pass the path of eval/floors.json") from None
    except json.JSONDecodeError as exc:
        raise PrecedentError(f"floors file {path} is not valid JSON ({exc.msg})") from None
    failures, checked = [], []
    for system, floors in (spec.get("systems") or {}).items():
        if system not in result.systems:
            failures.append(f"{system}: not run (add it to --systems)")
            continue
        got = result.systems[system].metrics
        for metric, floor in floors.items():
            value = got.get(metric)
            checked.append({"system": system, "metric": metric, "floor": floor, "value": value})
            if value is None:
                failures.append(f"{system} {metric}: unknown metric (valid: {', '.join(METRICS)})")
            elif value < floor:
                failures.append(f"{system} {metric} = {value:.3f}, below the floor {floor:.3f}")
    return {"file": str(path), "ok": not failures, "checked": checked, "failures": failures}


# -- the terminal table -----------------------------------------------------------------------------

_SHORT = {"recall@1": "R@1", "recall@3": "R@3", "recall@5": "R@5", "recall@10": "R@10", "mrr": "MRR",
          "ndcg@10": "nDCG@10", "doc_recall@10": "DocR@10"}


def format_table(result: EvalResult) -> str:
    width = max([len(n) for n in result.systems] + [24])
    head = f"{'system':<{width}}" + "".join(f"{_SHORT.get(m, m):>9}" for m in METRICS) + f"{'p50 ms':>9}"
    lines = [head, "-" * len(head)]
    for name, s in result.systems.items():
        lines.append(f"{name:<{width}}" + "".join(f"{s.metrics[m]:>9.3f}" for m in METRICS)
                     + f"{s.latency()['p50']:>9.1f}")
    comparison = result.comparison()
    if comparison:
        label = f"{PRIMARY} / best baseline"
        cells = "".join(f"{v:>9.2f}" if v is not None else f"{'-':>9}" for v in comparison["ratio"].values())
        lines += ["-" * len(head), f"{label:<{width}}" + cells]
    return "\n".join(lines)


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
    for row in rows:
        missed = [e for e, r in zip(row.evidence, row.ranks, strict=True) if r is None or r > result.k]
        if not missed:
            continue
        lines.append(f"[{row.id}] {row.question}")
        for e in missed:
            lines.append(f"   expected: \"{e.quote}\"  ({e.file or e.document_id})")
        for i, p in enumerate(row.passages[:3], start=1):
            name = Path(p.source).name if p.source else p.document_id
            text = " ".join(p.text.split())[:110]
            lines.append(f"   got #{i}: {name} {p.locator or ''}: {text}")
        if len(lines) > limit * 6:
            lines.append("   ...")
            break
    if not lines:
        return f"{system}: every evidence item found within k={result.k}."
    return f"{system} misses within k={result.k}:\n" + "\n".join(lines)


def format_answers(answers: dict[str, Any]) -> str:
    if not answers:
        return ""
    if "skipped" in answers:
        return f"answers: skipped: {answers['skipped']}"

    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.2f}"

    return (f"answers: cite evidence {pct(answers['cites_evidence'])}, sentences with a valid [n] "
            f"{pct(answers['sentences_cited'])}, found on topic {pct(answers['found_on_topic'])}, "
            f"off-topic correctly not found {pct(answers['offtopic_not_found'])} "
            f"({answers['offtopic_questions']} off-topic questions)")


def format_result(result: EvalResult) -> str:
    parts = [
        f"{len(next(iter(result.systems.values())).rows) if result.systems else 0} questions, "
        f"index {result.index['documents']} documents / {result.index['chunks']} chunks, k={result.k}",
        "", format_table(result), "", format_forces(result), "", format_failures(result),
    ]
    for item in result.index.get("unfindable_evidence", []):
        parts.append(f"warning: [{item['id']}] evidence \"{item['quote']}\" ({item['document']}): {item['reason']}")
    if result.answers:
        parts += ["", format_answers(result.answers)]
    if result.floors is not None:
        verdict = "ok" if result.floors["ok"] else "FAILED: " + "; ".join(result.floors["failures"])
        parts += ["", f"floors ({result.floors['file']}): {verdict}"]
    return "\n".join(p for p in parts if p is not None)
