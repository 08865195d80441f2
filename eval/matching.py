"""Does a retrieved passage hold a piece of evidence? Whitespace folded, case ignored.

A quote cut by a chunk boundary still counts when at least 60% of its characters appear in the
passage as one contiguous run, so a system is not punished for where its chunks happen to end.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from precedent.eval.questions import Evidence

PARTIAL_SHARE = 0.6

_SPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower case with every run of whitespace (newlines, NBSP ...) made one space."""
    return _SPACE.sub(" ", text).strip().lower()


@dataclass(frozen=True)
class Passage:
    """What a system returned at one rank: the displayed text and where it came from."""

    text: str
    document_id: str | None = None
    source: str | None = None
    locator: str | None = None


def source_is_file(source: str | None, file: str) -> bool:
    """``file`` names the source when the source path (or URL) ends with that file name."""
    if not source:
        return False
    source = source.replace("\\", "/")
    file = file.replace("\\", "/").lstrip("/")
    return source == file or source.endswith("/" + file)


def same_document(passage: Passage, evidence: Evidence) -> bool:
    if evidence.document_id is not None and passage.document_id == evidence.document_id:
        return True
    return evidence.file is not None and source_is_file(passage.source, evidence.file)


def quote_in_text(quote: str, text: str, *, partial: float = PARTIAL_SHARE) -> bool:
    """The quote in full, or (a chunk boundary cut it) ``partial`` of its characters contiguously."""
    quote, text = fold(quote), fold(text)
    if not quote:
        return False
    if quote in text:
        return True
    need = math.ceil(partial * len(quote))
    return any(quote[i: i + need] in text for i in range(len(quote) - need + 1))


def hits(passage: Passage, evidence: Evidence) -> bool:
    return same_document(passage, evidence) and quote_in_text(evidence.quote, passage.text)


def evidence_ranks(passages: list[Passage], evidence: tuple[Evidence, ...]) -> list[int | None]:
    """For each evidence item, the 1-based rank of the first passage holding it (None: never)."""
    ranks: list[int | None] = []
    for item in evidence:
        rank = next((r for r, p in enumerate(passages, start=1) if hits(p, item)), None)
        ranks.append(rank)
    return ranks
