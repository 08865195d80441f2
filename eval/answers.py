"""Score ``/ask`` answers: found on answerable questions, citing an evidence passage, citing only the
force a single-force question names, every claim carrying a valid ``[n]``; and traps refused by kind.

Answers are split into claims by ``search.citations.answer_claims``, the one reading of the ``[n]`` format
that the answer builders and the LLM verifier use, over ``ingest.sentences``, the one sentence splitter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from precedent.eval.matching import Passage, hits
from precedent.eval.questions import TRAP_KINDS, Question
from precedent.ingest.forces import force_named
from precedent.search.answer import ask
from precedent.search.citations import answer_claims, cited_numbers, strip_markers
from precedent.search.retrieve import Searcher


def answer_sentences(answer: str) -> list[str]:
    """The claims of an answer, split by the same function that writes and verifies them; a claim
    of fewer than three words ("See [2].") says nothing to check."""
    return [s for s in answer_claims(answer) if len(strip_markers(s).split()) >= 3]


def same_force(a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    known_a, known_b = force_named(a), force_named(b)
    return (known_a.name if known_a else a).casefold() == (known_b.name if known_b else b).casefold()


@dataclass
class AnswerRow:
    """One answerable question as ``/ask`` answered it."""

    id: str
    set_name: str
    group: str
    force: str | None  # the force the question names
    found: bool
    cites_evidence: bool
    cited_forces: tuple[str | None, ...]
    sentences: int
    cited_sentences: int
    answer: str

    @property
    def single_force(self) -> bool:
        """A single-force question: its answer should cite that force's papers only."""
        return self.group == "single" and self.force is not None

    @property
    def only_named_force(self) -> bool:
        return self.found and bool(self.cited_forces) and all(same_force(f, self.force) for f in self.cited_forces)


@dataclass
class TrapRow:
    """A question whose honest answer is "nothing in the archive"."""

    id: str
    set_name: str
    kind: str
    question: str
    found: bool
    answer: str


def score_answer(searcher: Searcher, question: Question, k: int) -> AnswerRow:
    ans = ask(searcher, question.question, k=k)
    passages = [Passage(c.text, c.citation.document_id, c.citation.source) for c in ans.citations]
    numbers = {c.n for c in ans.citations}
    # "Nothing found" is not a claim about the archive: only found answers' sentences must cite.
    said = answer_sentences(ans.answer) if ans.found else []
    good = [s for s in said if cited_numbers(s) and cited_numbers(s) <= numbers]
    return AnswerRow(
        id=question.id, set_name=question.set_name, group=question.group, force=question.force, found=ans.found,
        cites_evidence=any(hits(p, e) for p in passages for e in question.evidence),
        cited_forces=tuple(dict.fromkeys(c.citation.force for c in ans.citations)),
        sentences=len(said), cited_sentences=len(good), answer=ans.answer[:500],
    )


def score_trap(searcher: Searcher, trap: Question, k: int) -> TrapRow:
    ans = ask(searcher, trap.question, k=k)
    return TrapRow(trap.id, trap.set_name, trap.kind or "off", trap.question, ans.found, ans.answer[:300])


def _share(n: int, total: int) -> float | None:
    return n / total if total else None


def summarise_answers(rows: Sequence[AnswerRow]) -> dict[str, Any]:
    single = [r for r in rows if r.single_force]
    sentences_ = sum(r.sentences for r in rows)
    return {
        "questions": len(rows),
        "found": _share(sum(r.found for r in rows), len(rows)),
        "found_n": sum(r.found for r in rows),
        "cites_evidence": _share(sum(r.cites_evidence for r in rows), len(rows)),
        "cites_evidence_n": sum(r.cites_evidence for r in rows),
        "single_force_questions": len(single),
        "single_force_only": _share(sum(r.only_named_force for r in single), len(single)),
        "single_force_only_n": sum(r.only_named_force for r in single),
        "sentences_cited": _share(sum(r.cited_sentences for r in rows), sentences_),
    }


def summarise_traps(rows: Sequence[TrapRow]) -> dict[str, dict[str, dict[str, Any]]]:
    """Per set, per kind: how many traps were answered found:false."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        cell = out.setdefault(row.set_name, {}).setdefault(row.kind, {"questions": 0, "refused": 0})
        cell["questions"] += 1
        cell["refused"] += not row.found
    for kinds in out.values():
        for cell in kinds.values():
            cell["share"] = cell["refused"] / cell["questions"]
        ordered = {k: kinds[k] for k in TRAP_KINDS if k in kinds}
        kinds.clear()
        kinds.update(ordered)
    return out


def answer_metrics(searcher: Searcher, questions: Sequence[Question], traps: Sequence[Question],
                   k: int) -> dict[str, Any]:
    """Every answerable question and every trap through ``/ask``'s own function, summarised per set."""
    rows = [score_answer(searcher, q, k) for q in questions]
    trap_rows = [score_trap(searcher, t, k) for t in traps]
    by_set: dict[str, list[AnswerRow]] = {}
    for row in rows:
        by_set.setdefault(row.set_name, []).append(row)
    overall = summarise_answers(rows)
    offtopic = [t for t in trap_rows if t.kind == "off"]
    return {
        **overall,
        # The names earlier reports used, kept for their readers.
        "found_on_topic": overall["found"],
        "offtopic_questions": len(offtopic),
        "offtopic_not_found": _share(sum(not t.found for t in offtopic), len(offtopic)),
        "by_set": {name: summarise_answers(group) for name, group in by_set.items()},
        "refusal": summarise_traps(trap_rows),
        "rows": [{**asdict(r), "single_force": r.single_force, "only_named_force": r.only_named_force} for r in rows],
        "traps": [asdict(t) for t in trap_rows],
    }
