"""Finding a panel's committee by its title, where the registry never saw the id.

Titles vary ('Police and Crime Panel', 'Dorset Council - Police and Crime Panel'), and a panel's
complaints sub-committee shares most of its words, so the match is careful: an exact title (ignoring
case, 'the' and '&') wins; otherwise one title containing the other, never a sub-committee unless the
registry asked for one. Anything but exactly one committee is refused with the candidates named.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from precedent.ingest.crawl.http import MalformedResponse

_SUB = re.compile(r"\bsub[\s-]?(committee|panel|group)\b|\bworking group\b|\btask and finish\b", re.IGNORECASE)


@dataclass(frozen=True)
class Committee:
    id: int
    title: str
    deleted: bool = False
    expired: bool = False


def normalise_title(title: str) -> str:
    text = title.casefold().replace("&", " and ")
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(w for w in text.split() if w != "the")


def _contains(a: str, b: str) -> bool:
    """One title holds the other as whole words ('panel' is not inside 'panelling')."""
    return f" {b} " in f" {a} " or (len(a.split()) >= 3 and f" {a} " in f" {b} ")


def find_committee(committees: Iterable[Committee], wanted: str, where: str) -> Committee:
    """The one committee titled like ``wanted``; MalformedResponse names the candidates otherwise."""
    pool = {c.id: c for c in committees}.values()
    key = normalise_title(wanted)
    exact = [c for c in pool if normalise_title(c.title) == key]
    if len(exact) == 1:
        return exact[0]
    candidates = exact
    if not exact:
        allow_sub = bool(_SUB.search(wanted))
        candidates = [c for c in pool
                      if _contains(normalise_title(c.title), key) and (allow_sub or not _SUB.search(c.title))]
        if len(candidates) == 1:
            return candidates[0]
    found = ", ".join(f"{c.id} '{c.title}'" for c in candidates) or "none"
    raise MalformedResponse(
        f"{where}: {len(candidates)} committees titled like '{wanted}' ({found}); "
        "set committee_id for this site in your registry (precedent crawl --registry FILE)")
