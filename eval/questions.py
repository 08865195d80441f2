"""Question sets: JSONL, one question a line, each with the quotes that answer it; and traps, questions
whose honest answer is "nothing in the archive" (``traps.jsonl``: kind near|force|off, expect_found false).

Every question carries the name of its set (by default the folder its file is in: "seeds", "panels"), so
one run over several sets can report each on its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from precedent.ingest.errors import PrecedentError


class BadQuestions(PrecedentError):
    """A question file cannot be read."""


@dataclass(frozen=True)
class Evidence:
    """A quote that answers the question, in a named file or document (``file`` matches the source's name)."""

    quote: str
    file: str | None = None
    document_id: str | None = None


TRAP_KINDS = ("near", "force", "off")  # near-topic, a force the archive lacks, off-topic


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    evidence: tuple[Evidence, ...] = ()
    forces: tuple[str, ...] = ()  # forces the question is about (for the per-force table)
    kind: str | None = None  # lookup|numeric|...; for traps near|force|off
    category: str | None = None  # single|noforce|cross|paraphrase (panels); None in the seed set
    force: str | None = None  # the force the question names, if it names one
    set_name: str = ""
    expect_found: bool = True
    extra: dict[str, object] = field(default_factory=dict, compare=False, hash=False)

    @property
    def group(self) -> str:
        """The row it belongs to in the per-category table: its category, else its set."""
        return self.category or self.set_name


def set_name_for(path: Path) -> str:
    return path.resolve().parent.name or path.stem


def load_questions(path: Path, *, require_evidence: bool = True, set_name: str | None = None) -> list[Question]:
    """Read a JSONL question set; errors name the line and the field to fix."""
    if not path.is_file():
        raise BadQuestions(f"{path}: no such question file (JSONL, one {{\"id\", \"question\", \"evidence\"}} a line)")
    questions: list[Question] = []
    seen: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadQuestions(f"{where}: not valid JSON ({exc.msg}); each line must be one JSON object") from None
        if not isinstance(row, dict):
            raise BadQuestions(f"{where}: expected a JSON object, got {type(row).__name__}")
        text = row.get("question")
        if not isinstance(text, str) or not text.strip():
            raise BadQuestions(f"{where}: field 'question' must be a non-empty string")
        qid = str(row.get("id") or f"line{number}")
        if qid in seen:
            raise BadQuestions(f"{where}: duplicate id '{qid}'; give every question its own id")
        seen.add(qid)
        evidence = tuple(_evidence(item, where, i) for i, item in enumerate(row.get("evidence") or []))
        if require_evidence and not evidence:
            raise BadQuestions(f"{where}: field 'evidence' must list at least one {{\"file\", \"quote\"}}")
        named = row.get("force") if isinstance(row.get("force"), str) and row.get("force") else None
        forces = row.get("forces") or ([named] if named else [])
        if isinstance(forces, str):
            forces = [forces]
        known = {"id", "question", "evidence", "forces", "force", "kind", "category", "expect_found"}
        questions.append(Question(
            id=qid, question=text.strip(), evidence=evidence, forces=tuple(str(f) for f in forces),
            kind=row.get("kind"), category=row.get("category") or None, force=named,
            set_name=set_name or set_name_for(path), expect_found=row.get("expect_found", True) is not False,
            extra={k: v for k, v in row.items() if k not in known},
        ))
    if not questions:
        raise BadQuestions(f"{path}: no questions in the file")
    return questions


def _evidence(item: object, where: str, index: int) -> Evidence:
    if not isinstance(item, dict) or not isinstance(item.get("quote"), str) or not item["quote"].strip():
        raise BadQuestions(f"{where}: evidence[{index}] needs a non-empty 'quote'")
    file, document_id = item.get("file"), item.get("document_id")
    if not file and not document_id:
        raise BadQuestions(f"{where}: evidence[{index}] needs 'file' (a file name) or 'document_id'")
    return Evidence(quote=item["quote"], file=file or None, document_id=document_id or None)


def load_traps(path: Path, *, set_name: str | None = None) -> list[Question]:
    """Read a traps file: questions the archive cannot answer, each of kind near, force or off."""
    traps = load_questions(path, require_evidence=False, set_name=set_name)
    for trap in traps:
        if trap.kind not in TRAP_KINDS:
            raise BadQuestions(f"{path}: trap '{trap.id}' has kind {trap.kind!r}; use one of {', '.join(TRAP_KINDS)}")
        if trap.expect_found:
            raise BadQuestions(f"{path}: trap '{trap.id}' must have \"expect_found\": false")
    return traps
