"""`precedent eval FACTS.jsonl --facts`: the stored precept and hearing facts against ground truth.

The corpus (the facts file's folder, plus a sibling ``seeds`` folder when there is one: the ground
truth says the seeds hold no decisions, so any fact read from them is a false one) is indexed once
into a cached temp dir; the facts are then read again from the stored chunks, so the run always
measures the rules as they are, and scored field by field:

- A fact is matched to a ground-truth row of the same file and kind, by financial year (precepts)
  or role (hearings). Each field of a matched pair is a true positive when both values agree
  (numbers to within half a penny), a false positive when the fact states a value the row does not
  (or another one), a false negative when the row states one the fact lacks. Every stated field of
  an unmatched fact is a false positive; every stated field of an unmatched row a false negative.
- ``meeting_date`` is scored too: the document's date, or none for a decision a paper recalls
  from an earlier year (``retrospective``).
- Evidence: a matched fact is backed when every passage it cites holds one of its row's evidence
  quotes (the question sets' hit rule); and every fact's cited sentence must lie in its passage.

Figures are given for all documents and apart for the design half (eval/data/facts_design.txt),
the held-out half and the documents with no ground-truth rows outside the facts folder (seeds).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from precedent.eval.matching import fold, quote_in_text, source_is_file
from precedent.eval.run import build_index
from precedent.ingest.errors import PrecedentError
from precedent.ingest.facts import FACT_KINDS, HearingFact, PreceptFact, fact_fields
from precedent.ingest.pipeline import refresh_facts
from precedent.ingest.records import Document
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store

DESIGN_LIST = Path(__file__).resolve().parent / "data" / "facts_design.txt"
NEGATIVE_SIBLING = "seeds"
FIELDS = {
    "precept": ("year", "band_d", "increase_pounds", "increase_percent", "verdict", "meeting_date"),
    "hearing": ("role", "candidate", "outcome", "meeting_date"),
}
KEY = {"precept": "year", "hearing": "role"}
SPLITS = ("all", "design", "held-out", "negatives")
NUMBER_TOLERANCE = 0.005


class BadFacts(PrecedentError):
    """A ground-truth facts file cannot be read."""


@dataclass(frozen=True)
class TruthRow:
    line: int
    kind: str
    file: str
    values: dict[str, Any]
    evidence: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.file, _norm(self.values.get(KEY[self.kind])))


def load_truth(path: Path) -> list[TruthRow]:
    """Read facts.jsonl; errors name the line and the field to fix."""
    if not path.is_file():
        raise BadFacts(f"{path}: no such facts file (JSONL, one {{\"kind\", \"file\", ...}} a line)")
    rows: list[TruthRow] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadFacts(f"{where}: not valid JSON ({exc.msg})") from None
        kind = raw.get("kind") if isinstance(raw, dict) else None
        if kind not in FACT_KINDS:
            raise BadFacts(f"{where}: field 'kind' must be one of {', '.join(FACT_KINDS)}")
        if not isinstance(raw.get("file"), str) or not raw["file"]:
            raise BadFacts(f"{where}: field 'file' must name a document file")
        if raw.get(KEY[kind]) in (None, ""):
            raise BadFacts(f"{where}: a {kind} row needs '{KEY[kind]}'")
        quotes = tuple(e["quote"] for e in raw.get("evidence") or [] if isinstance(e, dict) and e.get("quote"))
        if not quotes:
            raise BadFacts(f"{where}: field 'evidence' must list at least one {{\"quote\"}}")
        values = {name: raw.get(name) for name in FIELDS[kind]}
        rows.append(TruthRow(number, kind, raw["file"], values, quotes))
    if not rows:
        raise BadFacts(f"{path}: no facts in the file")
    return rows


def _norm(value: Any) -> str:
    return fold(str(value)) if value is not None else ""


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), abs_tol=NUMBER_TOLERANCE)
    return _norm(a) == _norm(b)


# -- the index ------------------------------------------------------------------------------------


def default_corpora(facts_path: Path) -> list[Path]:
    """The facts file's folder, and a sibling ``seeds`` folder when there is one."""
    folder = facts_path.resolve().parent
    corpora = [folder]
    negatives = folder.parent / NEGATIVE_SIBLING
    if negatives.is_dir() and negatives != folder:
        corpora.append(negatives)
    return corpora


def build_fact_index(corpora: Sequence[Path], data_dir: Path | None = None) -> Settings:
    """The corpora's index (eval.run.build_index: cached per corpora and encoder, only changes ingested), with
    every document's facts read again from its stored chunks."""
    settings, _ = build_index(list(corpora), data_dir)
    store = Store.open(settings)
    try:
        refresh_facts(store, force=True)
    finally:
        store.close()
    return settings


# -- scoring --------------------------------------------------------------------------------------


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_dict(self) -> dict[str, Any]:
        return {"precision": _round(self.precision), "recall": _round(self.recall),
                "tp": self.tp, "fp": self.fp, "fn": self.fn}


def _round(value: float | None) -> float | None:
    return round(value, 4) if value is not None else None


@dataclass
class FactsResult:
    facts_file: str
    corpora: list[str]
    documents: int
    facts: int
    tallies: dict[str, dict[str, dict[str, Tally]]]  # split -> kind -> field -> tally
    backed: int = 0  # matched facts whose every cited passage holds an evidence quote
    matched: int = 0
    integrity_failures: list[str] = field(default_factory=list)
    false_facts: dict[str, int] = field(default_factory=dict)  # split -> facts matching no row
    mistakes: list[str] = field(default_factory=list)
    floors: dict[str, Any] | None = None

    def field_tally(self, kind: str, name: str, split: str = "all") -> Tally:
        return self.tallies[split][kind][name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "facts_file": self.facts_file, "corpora": self.corpora, "documents": self.documents,
            "facts": self.facts,
            "fields": {split: {kind: {name: t.to_dict() for name, t in fields.items()}
                               for kind, fields in kinds.items()} for split, kinds in self.tallies.items()},
            "evidence": {"matched": self.matched, "backed": self.backed,
                         "share": _round(self.backed / self.matched) if self.matched else None},
            "citation_integrity_failures": self.integrity_failures,
            "false_facts": self.false_facts, "mistakes": self.mistakes, "floors": self.floors,
        }


def _values(fact: PreceptFact | HearingFact, doc: Document) -> dict[str, Any]:
    out: dict[str, Any] = {name: cited.value for name, cited in fact_fields(fact).items()}
    retrospective = isinstance(fact, PreceptFact) and fact.retrospective
    out["meeting_date"] = doc.meeting_date.isoformat() if doc.meeting_date and not retrospective else None
    return out


def _split_of(file: str, design: set[str], truth_files: set[str], truth_folder_files: set[str]) -> str:
    if file in design:
        return "design"
    if file in truth_files or file in truth_folder_files:
        return "held-out"
    return "negatives"


def score(truth: Sequence[TruthRow], found: Sequence[tuple[PreceptFact | HearingFact, Document]],
          passages: dict[str, str], *, design: set[str], truth_folder_files: set[str]) -> FactsResult:
    """Field-level tallies of ``found`` (facts with their documents) against ``truth``.

    ``passages`` maps chunk ids to their text, for the evidence and citation checks.
    """
    truth_files = {r.file for r in truth}
    tallies = {s: {k: {f: Tally() for f in FIELDS[k]} for k in FACT_KINDS} for s in SPLITS}
    result = FactsResult("", [], 0, len(found), tallies, false_facts={s: 0 for s in SPLITS})
    by_key = {r.key: r for r in truth}
    used: set[tuple[str, str, str]] = set()

    def count(split: str, kind: str, name: str, outcome: str) -> None:
        for s in ("all", split):
            setattr(tallies[s][kind][name], outcome, getattr(tallies[s][kind][name], outcome) + 1)

    for fact, doc in found:
        file = next((r.file for r in truth if source_is_file(doc.source, r.file)), Path(doc.source).name)
        split = _split_of(file, design, truth_files, truth_folder_files)
        got = _values(fact, doc)
        for name, cited in fact_fields(fact).items():
            chunk_text = passages.get(cited.source.chunk_id)
            if chunk_text is None or fold(cited.source.sentence) not in fold(chunk_text):
                result.integrity_failures.append(f"{file} {fact.kind} {name}: the cited sentence is not in chunk "
                                                 f"{cited.source.chunk_id}")
        key = (fact.kind, file, _norm(got.get(KEY[fact.kind])))
        row = by_key.get(key)
        if row is None or key in used:
            for s in ("all", split):
                result.false_facts[s] += 1
            for name in FIELDS[fact.kind]:
                if got.get(name) is not None:
                    count(split, fact.kind, name, "fp")
            result.mistakes.append(f"{file}: false {fact.kind} fact {_describe(got)}")
            continue
        used.add(key)
        result.matched += 1
        if all(any(quote_in_text(q, passages.get(c.source.chunk_id, "")) for q in row.evidence)
               for c in fact_fields(fact).values()):
            result.backed += 1
        else:
            result.mistakes.append(f"{file}: {fact.kind} {key[2]} cites a passage holding none of its evidence")
        for name in FIELDS[fact.kind]:
            mine, theirs = got.get(name), row.values.get(name)
            if mine is None and theirs is None:
                continue
            if mine is not None and theirs is not None and _same(mine, theirs):
                count(split, fact.kind, name, "tp")
                continue
            if mine is not None:
                count(split, fact.kind, name, "fp")
            if theirs is not None:
                count(split, fact.kind, name, "fn")
            result.mistakes.append(f"{file}: {fact.kind} {key[2]} {name} is {mine!r}, ground truth {theirs!r}")
    for row in truth:
        if row.key in used:
            continue
        split = _split_of(row.file, design, truth_files, truth_folder_files)
        for name in FIELDS[row.kind]:
            if row.values.get(name) is not None:
                count(split, row.kind, name, "fn")
        result.mistakes.append(f"{row.file}: missed {row.kind} fact {_describe(row.values)} (line {row.line})")
    return result


def _describe(values: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in values.items() if v is not None) + "}"


def design_files(path: Path = DESIGN_LIST) -> set[str]:
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")}


def run_facts_eval(facts_path: Path, corpora: Sequence[Path] | None = None,
                   data_dir: Path | None = None) -> FactsResult:
    """Index the corpora, read their facts and score them against ``facts_path``."""
    truth = load_truth(facts_path)
    corpora = list(corpora) if corpora else default_corpora(facts_path)
    settings = build_fact_index(corpora, data_dir)
    store = Store.open(settings)
    try:
        found = store.facts()
        chunk_ids = [c.source.chunk_id for fact, _ in found for c in fact_fields(fact).values()]
        passages = {cid: stored.chunk.text for cid, stored in store.get_chunks(chunk_ids).items()}
        documents, _ = store.counts()
    finally:
        store.close()
    folder_files = {p.name for p in facts_path.resolve().parent.iterdir() if p.is_file()}
    result = score(truth, found, passages, design=design_files(), truth_folder_files=folder_files)
    result.facts_file, result.corpora, result.documents = str(facts_path), [str(c) for c in corpora], documents
    return result


# -- floors and the table -------------------------------------------------------------------------


def check_facts_floors(result: FactsResult, path: Path) -> dict[str, Any]:
    """Compare with eval/floors_facts.json: per-field precision and recall, the evidence share, false facts."""
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PrecedentError(f"floors file {path} not found: pass the path of eval/floors_facts.json") from None
    except json.JSONDecodeError as exc:
        raise PrecedentError(f"floors file {path} is not valid JSON ({exc.msg})") from None
    failures: list[str] = []
    for kind, fields in (spec.get("fields") or {}).items():
        for name, floors in fields.items():
            if kind not in FIELDS or name not in FIELDS[kind]:
                failures.append(f"{kind}.{name}: unknown field (valid: {', '.join(FIELDS.get(kind, ()))})")
                continue
            tally = result.field_tally(kind, name)
            for metric, floor in floors.items():
                value = getattr(tally, metric, None)
                if value is None or value < floor:
                    failures.append(f"{kind} {name} {metric} = {value if value is None else round(value, 3)}, "
                                    f"below the floor {floor}")
    evidence_floor = spec.get("evidence")
    share = result.backed / result.matched if result.matched else 0.0
    if evidence_floor is not None and share < evidence_floor:
        failures.append(f"evidence share = {share:.3f}, below the floor {evidence_floor}")
    limit = spec.get("max_false_facts_in_negatives")
    if limit is not None and result.false_facts.get("negatives", 0) > limit:
        failures.append(f"{result.false_facts['negatives']} false facts in documents with no decisions "
                        f"(at most {limit})")
    if result.integrity_failures:
        failures.append(f"{len(result.integrity_failures)} cited sentences are not in their passages")
    return {"file": str(path), "ok": not failures, "failures": failures}


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def format_facts(result: FactsResult) -> str:
    lines = [f"facts: {result.facts} read from {result.documents} documents ({', '.join(result.corpora)})", ""]
    header = f"{'kind':<8} {'field':<17}" + "".join(f" {s + ' P':>12} {s + ' R':>12}" for s in SPLITS[:3])
    lines.append(header)
    for kind in FACT_KINDS:
        for name in FIELDS[kind]:
            cells = []
            for split in SPLITS[:3]:
                t = result.field_tally(kind, name, split)
                cells.append(f" {_pct(t.precision):>12} {_pct(t.recall):>12}")
            lines.append(f"{kind:<8} {name:<17}" + "".join(cells))
    lines.append("")
    lines.append(f"evidence: {result.backed}/{result.matched} matched facts cite only passages holding their evidence")
    lines.append(f"false facts: {result.false_facts['all']} in all, {result.false_facts['negatives']} in documents "
                 "with no ground truth outside the facts folder (seeds)")
    lines.append(f"citations: {len(result.integrity_failures)} cited sentences missing from their passages")
    for mistake in result.mistakes:
        lines.append(f"  miss: {mistake}")
    if result.floors is not None:
        verdict = "ok" if result.floors["ok"] else "FAILED: " + "; ".join(result.floors["failures"])
        lines += ["", f"floors ({result.floors['file']}): {verdict}"]
    return "\n".join(lines)


def facts_command(facts_path: Path, corpora: Sequence[Path] | None, data_dir: Path | None,
                  floors: Path | None) -> FactsResult:
    """What `precedent eval FACTS.jsonl --facts` runs; the caller prints and sets the exit code."""
    result = run_facts_eval(facts_path, corpora, data_dir)
    if floors is not None:
        result.floors = check_facts_floors(result, floors)
    return result
