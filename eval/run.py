"""Run question sets against Precedent and the naive baselines in one go, and score them.

``build_index`` ingests (or reuses) one index over every corpus given (seeds and panels together, as a
user's archive would hold them); ``run_eval`` asks every question of every system and returns an
``EvalResult`` with metrics for all questions, per set, per question category and per force, the ``/ask``
answer metrics and the refusal of traps by kind. It prints as tables (``eval.tables``), serialises to
JSON and feeds the HTML report.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from precedent.eval.answers import answer_metrics
from precedent.eval.baselines import BM25Naive, DenseNaive, RRFNaive, SourceText, naive_chunks
from precedent.eval.matching import Passage, hits, source_is_file
from precedent.eval.metadata import CorpusMetadata
from precedent.eval.metrics import (
    CUTOFFS,
    DOC_RECALL_AT,
    NDCG_AT,
    QuestionRow,
    by_category,
    by_force,
    by_set,
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
from precedent.search.answer import retrieve
from precedent.search.retrieve import Searcher

BASELINES = ("bm25-naive", "dense-naive", "rrf-naive")
PRECEDENT = ("dense", "lexical", "hybrid")
SYSTEMS = BASELINES + PRECEDENT
PRIMARY = "hybrid"
OFFTOPIC_PATH = Path(__file__).resolve().parent / "data" / "offtopic.jsonl"
OFFTOPIC_SET = "offtopic"
METRICS = tuple(f"recall@{k}" for k in CUTOFFS) + ("mrr", f"ndcg@{NDCG_AT}", f"doc_recall@{DOC_RECALL_AT}")

__all__ = ["BASELINES", "METRICS", "PRIMARY", "SYSTEMS", "EvalResult", "SystemResult", "build_index",
           "load_offtopic", "parse_systems", "run_eval"]


class System(Protocol):
    name: str

    def retrieve(self, question: str, k: int) -> list[Passage]: ...


def parse_systems(value: str | Sequence[str] | None) -> list[str]:
    """``"a,b"`` -> checked names; None -> every system."""
    if value is None:
        return list(SYSTEMS)
    names = [n.strip() for n in (value.split(",") if isinstance(value, str) else value) if n.strip()]
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        raise PrecedentError(f"unknown system(s) {', '.join(unknown)}: choose from {', '.join(SYSTEMS)}")
    if not names:
        raise PrecedentError(f"--systems is empty: choose from {', '.join(SYSTEMS)}")
    return list(dict.fromkeys(names))


# -- the index -------------------------------------------------------------------------------------


def cache_dir_for(corpora: Sequence[Path], encoder: str) -> Path:
    """A temp data dir per set of corpus folders and encoder, reused by the next run (ingest skips unchanged
    files); one per encoder, since an index refuses another encoder's queries."""
    key = "\n".join(sorted(str(c.resolve()) for c in corpora))
    return Path(tempfile.gettempdir()) / f"precedent-eval-{hashlib.sha256(key.encode()).hexdigest()[:12]}-{encoder}"


def build_index(corpora: Path | Sequence[Path], data_dir: Path | None = None, *,
                manifest: Path | None = None) -> tuple[Settings, IngestReport]:
    """Ingest every corpus into one index in ``data_dir`` (default: a cached temp dir), adding only what changed.

    Each corpus folder's own manifest.csv says what it holds. In the cached dir, documents whose file has
    left the corpora are removed, so the index is exactly the corpora; a data dir the user names is never
    pruned.
    """
    corpora = [corpora] if isinstance(corpora, Path) else list(corpora)
    for corpus in corpora:
        if not corpus.exists():
            raise PrecedentError(f"corpus {corpus} does not exist: pass the folder of documents with --corpus")
    own = data_dir is None
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    if own:
        settings = settings.model_copy(update={"data_dir": cache_dir_for(corpora, settings.encoder)})
    report = ingest_paths(corpora, settings, manifest=manifest)
    if report.succeeded == 0:
        reasons = "; ".join(f"{f.path}: {f.error}" for f in report.failed[:5]) or "no readable documents"
        raise PrecedentError(f"could not index {', '.join(map(str, corpora))}: {reasons}")
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
    """Precedent as /ask searches: the question's cues (forces, dates) become filters first."""

    def __init__(self, name: str, searcher: Searcher, mode: str) -> None:
        self.name, self.searcher, self.mode = name, searcher, mode

    def retrieve(self, question: str, k: int) -> list[Passage]:
        hits_ = retrieve(self.searcher, question, k=min(k, 100), mode=self.mode).hits
        return [Passage(h.chunk.text, h.document.document_id, h.document.source, h.chunk.locator) for h in hits_]


def make_systems(names: Sequence[str], searcher: Searcher) -> list[System]:
    """The systems asked for; the naive ones share one chunking and one vector index."""
    chunks: list[Passage] | None = None
    bm25: BM25Naive | None = None
    dense: DenseNaive | None = None
    systems: list[System] = []
    for name in names:
        if name not in BASELINES:
            systems.append(PrecedentSystem(name, searcher, name))
            continue
        chunks = chunks if chunks is not None else naive_chunks(indexed_texts(searcher))
        if name in ("bm25-naive", "rrf-naive"):
            bm25 = bm25 or BM25Naive(chunks)
        if name in ("dense-naive", "rrf-naive"):
            dense = dense or DenseNaive(chunks, searcher.embedder)
        if name == "bm25-naive":
            systems.append(bm25)  # type: ignore[arg-type]
        elif name == "dense-naive":
            systems.append(dense)  # type: ignore[arg-type]
        else:
            assert bm25 is not None and dense is not None
            s = searcher.settings
            systems.append(RRFNaive(bm25, dense, candidates=s.candidates, rrf_k=s.rrf_k))
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
    per_set: dict[str, dict[str, float]] = field(default_factory=dict)
    per_category: dict[str, dict[str, float]] = field(default_factory=dict)

    def latency(self) -> dict[str, float]:
        return {"p50": percentile(self.latencies_ms, 50), "p95": percentile(self.latencies_ms, 95),
                "mean": sum(self.latencies_ms) / max(1, len(self.latencies_ms))}

    def metrics_for(self, scope: str | None) -> dict[str, float]:
        """All questions (``None``) or one set's."""
        return self.metrics if scope is None else self.per_set.get(scope, {})


@dataclass
class EvalResult:
    questions_files: list[str]
    corpora: list[str]
    k: int
    depth: int
    index: dict[str, Any]
    systems: dict[str, SystemResult]
    answers: dict[str, Any] = field(default_factory=dict)
    floors: dict[str, Any] | None = None
    sets: list[str] = field(default_factory=list)
    metadata: list[CorpusMetadata] = field(default_factory=list)  # read without a manifest

    def baselines(self) -> list[str]:
        return [n for n in self.systems if n in BASELINES]

    def question_sets(self) -> list[str]:
        """Sets with answerable questions (traps-only sets such as the off-topic one have none)."""
        first = next(iter(self.systems.values()), None)
        return list(first.per_set) if first else []

    def comparison(self, scope: str | None = None) -> dict[str, Any] | None:
        """Precedent hybrid divided by the best naive baseline, metric by metric (all questions, or one set)."""
        bases = self.baselines()
        if PRIMARY not in self.systems or not bases:
            return None
        ratio, best = {}, {}
        for metric in METRICS:
            name = max(bases, key=lambda n: self.systems[n].metrics_for(scope).get(metric, 0.0))
            base = self.systems[name].metrics_for(scope).get(metric, 0.0)
            best[metric] = name
            value = self.systems[PRIMARY].metrics_for(scope).get(metric)
            ratio[metric] = value / base if base and value is not None else None
        return {"system": PRIMARY, "ratio": ratio, "best_baseline": best}

    def to_dict(self) -> dict[str, Any]:
        return {
            "questions_files": self.questions_files, "corpora": self.corpora, "sets": self.sets,
            "k": self.k, "depth": self.depth, "index": self.index,
            "systems": {name: {
                "metrics": _rounded(s.metrics), "latency_ms": _rounded(s.latency(), 2),
                "recall_curve": [round(v, 4) for v in s.curve],
                "per_set": {n: _rounded(m) for n, m in s.per_set.items()},
                "per_category": {c: _rounded(m) for c, m in s.per_category.items()},
                "per_force": {f: _rounded(m) for f, m in s.per_force.items()},
                "questions": [question_dict(r) for r in s.rows],
            } for name, s in self.systems.items()},
            "comparison": _rounded_comparison(self.comparison()),
            "comparison_per_set": {n: _rounded_comparison(self.comparison(n)) for n in self.question_sets()},
            "answers": self.answers,
            "metadata": [m.to_dict() for m in self.metadata],
            "floors": self.floors,
        }


def question_dict(row: QuestionRow) -> dict[str, Any]:
    return {
        "id": row.id, "set": row.set_name, "category": row.group, "question": row.question,
        "forces": list(row.forces), "metrics": _rounded(row.metrics()),
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
                        [r.seconds * 1000 for r in rows], recall_curve(rows, depth),
                        per_set=by_set(rows), per_category=by_category(rows))


def check_unique_ids(questions: Sequence[Question]) -> None:
    seen: dict[str, str] = {}
    for q in questions:
        if q.id in seen and seen[q.id] != q.set_name:
            raise PrecedentError(f"question id '{q.id}' is in both {seen[q.id]} and {q.set_name}: "
                                 "give every question of a run its own id")
        seen[q.id] = q.set_name


def run_eval(
    questions: Sequence[Question],
    searcher: Searcher,
    *,
    systems: Sequence[str] | None = None,
    k: int = 10,
    answers: bool = True,
    traps: Sequence[Question] = (),
    offtopic: Sequence[Question] | None = None,
    questions_files: Sequence[Path] = (),
    corpora: Sequence[Path] = (),
    progress: Callable[[str], None] | None = None,
) -> EvalResult:
    """Ask every question of every system (retrieving at least 10 deep, so @10 metrics exist), and,
    with ``answers``, every question and trap of ``/ask`` (``offtopic`` None: eval/data/offtopic.jsonl)."""
    if not 1 <= k <= 100:
        raise PrecedentError(f"--k must be between 1 and 100 (got {k})")
    check_unique_ids(questions)
    names = list(systems) if systems is not None else list(SYSTEMS)
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
    refused: list[Question] = []
    if answers:
        refused = list(traps) + list(load_offtopic() if offtopic is None else offtopic)
        if progress:
            progress(f"asking /ask {len(questions)} questions and {len(refused)} traps")
        answer_report = answer_metrics(searcher, questions, refused, k)
    sets = list(dict.fromkeys([q.set_name for q in questions] + [t.set_name for t in refused]))
    return EvalResult(
        questions_files=[str(p) for p in questions_files], corpora=[str(c) for c in corpora],
        k=k, depth=depth, index={"documents": docs, "chunks": chunks, "data_dir": str(searcher.settings.data_dir),
                                 "unfindable_evidence": unfindable},
        systems=results, answers=answer_report, sets=sets,
    )


def load_offtopic(path: Path = OFFTOPIC_PATH) -> list[Question]:
    """The off-topic questions shipped beside the eval code (``eval/data/``), as traps of kind "off"."""
    if not path.is_file():
        return []
    return [replace(q, kind="off", expect_found=False)
            for q in load_questions(path, require_evidence=False, set_name=OFFTOPIC_SET)]
