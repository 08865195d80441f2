"""Retrieval metrics from ranked passages: evidence recall@k, MRR, nDCG@10, document recall@10.

Every metric is computed per question from the rank at which each evidence item was first hit,
then averaged; the per-question rows and a per-force breakdown come from the same numbers.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from precedent.eval.matching import Passage, evidence_ranks, same_document
from precedent.eval.questions import Evidence, Question

CUTOFFS = (1, 3, 5, 10)
NDCG_AT = 10
DOC_RECALL_AT = 10


@dataclass
class QuestionRow:
    """One question as one system answered it."""

    id: str
    question: str
    evidence: tuple[Evidence, ...]
    ranks: list[int | None]  # first rank holding each evidence item
    doc_ranks: list[int | None]  # first rank from each evidence document
    passages: list[Passage] = field(default_factory=list)
    forces: tuple[str, ...] = ()
    seconds: float = 0.0
    set_name: str = ""
    group: str = ""  # the question's category, else its set (see Question.group)

    def recall_at(self, k: int) -> float:
        return evidence_recall(self.ranks, k)

    def metrics(self) -> dict[str, float]:
        row = {f"recall@{k}": self.recall_at(k) for k in CUTOFFS}
        row["mrr"] = reciprocal_rank(self.ranks)
        row[f"ndcg@{NDCG_AT}"] = ndcg(self.ranks, NDCG_AT)
        row[f"doc_recall@{DOC_RECALL_AT}"] = evidence_recall(self.doc_ranks, DOC_RECALL_AT)
        return row


def evidence_recall(ranks: Sequence[int | None], k: int) -> float:
    """Share of evidence items found within the first k passages."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """1 / the rank of the first passage holding any evidence item (0 when none does)."""
    found = [r for r in ranks if r is not None]
    return 1.0 / min(found) if found else 0.0


def ndcg(ranks: Sequence[int | None], k: int = NDCG_AT) -> float:
    """nDCG@k graded by evidence hits: a passage gains one per evidence item it is the first to hold.

    Repeats of an item already shown gain nothing, so redundant passages are not rewarded. The
    ideal ranking shows one new item per rank; a passage holding two items can beat that, so the
    score is capped at 1.
    """
    if not ranks:
        return 0.0
    dcg = sum(1.0 / math.log2(r + 1) for r in ranks if r is not None and r <= k)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(ranks), k) + 1))
    return min(1.0, dcg / ideal)


def document_groups(evidence: Sequence[Evidence]) -> list[Evidence]:
    """One representative evidence item per distinct document the evidence points at."""
    seen: dict[tuple[str | None, str | None], Evidence] = {}
    for item in evidence:
        seen.setdefault((item.file, item.document_id), item)
    return list(seen.values())


def score_question(question: Question, passages: list[Passage], *, seconds: float = 0.0,
                   forces: tuple[str, ...] | None = None) -> QuestionRow:
    docs = document_groups(question.evidence)
    doc_ranks = [next((r for r, p in enumerate(passages, start=1) if same_document(p, d)), None) for d in docs]
    return QuestionRow(
        id=question.id, question=question.question, evidence=question.evidence,
        ranks=evidence_ranks(passages, question.evidence), doc_ranks=doc_ranks, passages=passages,
        forces=forces if forces is not None else question.forces, seconds=seconds,
        set_name=question.set_name, group=question.group,
    )


def mean_metrics(rows: Sequence[QuestionRow]) -> dict[str, float]:
    if not rows:
        return {}
    per = [r.metrics() for r in rows]
    return {name: sum(p[name] for p in per) / len(per) for name in per[0]}


def recall_curve(rows: Sequence[QuestionRow], depth: int) -> list[float]:
    """Mean evidence recall at k = 1..depth (for the report's plot)."""
    if not rows:
        return []
    return [sum(r.recall_at(k) for r in rows) / len(rows) for k in range(1, depth + 1)]


def by_key(rows: Sequence[QuestionRow], key: Callable[[QuestionRow], str]) -> dict[str, dict[str, float]]:
    """Mean metrics per value of ``key`` (a set, a category), in order of first appearance."""
    groups: dict[str, list[QuestionRow]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return {name: {**mean_metrics(group), "questions": len(group)} for name, group in groups.items()}


def by_set(rows: Sequence[QuestionRow]) -> dict[str, dict[str, float]]:
    return by_key(rows, lambda r: r.set_name)


def by_category(rows: Sequence[QuestionRow]) -> dict[str, dict[str, float]]:
    """Per question category (single, noforce, cross, paraphrase); a set without categories is one row."""
    return by_key(rows, lambda r: r.group or r.set_name)


def by_force(rows: Sequence[QuestionRow]) -> dict[str, dict[str, float]]:
    """Mean metrics per force; a question about several forces counts in each."""
    groups: dict[str, list[QuestionRow]] = {}
    for row in rows:
        for force in row.forces or ("(unknown)",):
            groups.setdefault(force, []).append(row)
    return {force: {**mean_metrics(group), "questions": len(group)} for force, group in sorted(groups.items())}


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) without numpy's import cost."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)
