"""What a question says about where to look: the forces it names, the dates and the kind of paper.

"What did the Dorset panel say about 101 in 2019?" names a force and a year: searching every force
and every year for it would answer from other panels' papers. So a question's cues become its
filters, shown to the user (``filters_applied``) so they can take them off again:

- **Forces**, by any alias in ``ingest/data/forces.toml`` ("Devon & Cornwall", "LLR", "Leics",
  "the Dorset panel"). Words that cover every force ("across forces", "other panels", "elsewhere",
  "compare", "nationally", and "panels" when at most one force is named) keep all forces.
- **Dates**: "in 2019" (that year), "since / from 2020", "after 2020", "before 2019", "until 2019",
  and a financial year ("the 2018/19 precept", "2018-19"): a precept for 2018/19 is set in the
  winter before the year starts and reported on during it, so its meetings fall between October
  2017 and March 2019. A bare year with no such word ("the 2017-2020 plan") is a topic, not a filter.
- **Document types**, only when asked for plainly: "in the minutes", "in (the) reports".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from precedent.ingest.forces import alias_pattern, force_named

_YEAR = r"((?:19|20)\d{2})"
_ISO = r"((?:19|20)\d{2}-\d{2}-\d{2})"
_WHEN = rf"(?:{_ISO}|{_YEAR})(?![\d/-])"
_SINCE = re.compile(rf"\b(?:since|from|between|starting(?: in)?|as of)\s+(?:(?:the\s+)?(?:start|beginning)\s+of\s+)?{_WHEN}", re.I)
_AFTER = re.compile(rf"\bafter\s+{_WHEN}", re.I)
_BEFORE = re.compile(rf"\bbefore\s+{_WHEN}", re.I)
_UNTIL = re.compile(rf"\b(?:until|till|up\s+to|through|(?:(?:from|since|between)\s+{_WHEN}\s+(?:to|and)))\s+{_WHEN}", re.I)
_IN = re.compile(rf"\b(?:in|during|for|of)\s+(?:the\s+year\s+)?{_YEAR}(?![\d/-])", re.I)
# "2018/19", "2018-19", "2018/2019": a financial year (April to March).
_FINANCIAL_YEAR = re.compile(r"\b((?:19|20)\d{2})\s*[/-]\s*((?:19|20)?\d{2})\b")
_MINUTES = re.compile(r"\b(?:in|from)\s+(?:the\s+)?minutes\b", re.I)
_REPORTS = re.compile(r"\b(?:in|from)\s+(?:the\s+|any\s+|its\s+|their\s+)?(?:panel\s+)?reports?\b(?!\s+(?:of|by|from)\b)", re.I)
_EVERY_FORCE = re.compile(
    r"\b(?:across|among|between)\s+(?:the\s+|all\s+)?(?:forces|panels|areas|regions)\b|"
    r"\b(?:other|different|all|every|each|any\s+other)\s+(?:police\s+)?(?:forces?|panels?|areas?|constabular(?:y|ies))\b|"
    r"\belsewhere\b|\bcompar(?:e|ed|es|ing|ison)\b|\bnationally\b|\bnation-?wide\b|\bin\s+england\s+and\s+wales\b",
    re.I,
)
_PANELS = re.compile(r"\bpanels\b", re.I)


@dataclass(frozen=True)
class Cues:
    """The filters a question implies, as strings a ``FilterSpec`` takes."""

    forces: tuple[str, ...] = ()  # canonical names, in order of mention
    since: str | None = None
    until: str | None = None
    doc_type: str | None = None
    every_force: bool = False  # the question asks about all forces, whatever it names

    @property
    def force_filter(self) -> tuple[str, ...]:
        return () if self.every_force else self.forces


def forces_named(text: str) -> list[str]:
    """Canonical names of the forces a text mentions, in order of mention."""
    names: list[str] = []
    for m in alias_pattern().finditer(text):
        force = force_named(m.group(1))
        if force and force.name not in names:
            names.append(force.name)
    return names


def without_forces(text: str, forces: tuple[str, ...] | list[str]) -> str:
    """``text`` without the names of ``forces``: once they are a filter, every passage searched is
    theirs, and their names would only pull up the papers' front pages (title, panel, venue)."""
    if not forces:
        return text

    def drop(m: re.Match[str]) -> str:
        force = force_named(m.group(1))
        return " " if force and force.name in forces else m.group(0)

    stripped = " ".join(alias_pattern().sub(drop, text).split())
    return stripped if re.search(r"\w", stripped) else text  # "Dorset?" alone stays a search for Dorset


def _year_start(value: str) -> str:
    return value if len(value) > 4 else f"{value}-01-01"


def _year_end(value: str) -> str:
    return value if len(value) > 4 else f"{value}-12-31"


def _financial_year(text: str) -> tuple[str, str] | None:
    for m in _FINANCIAL_YEAR.finditer(text):
        first, second = int(m.group(1)), m.group(2)
        last = int(second) if len(second) == 4 else (first // 100) * 100 + int(second)
        if last == first + 1:
            return f"{first - 1}-10-01", f"{last}-03-31"
    return None


def dates_named(text: str) -> tuple[str | None, str | None]:
    """The (since, until) a question's date words ask for, as ISO strings."""
    since = until = None
    if m := _AFTER.search(text):
        value = m.group(1) or m.group(2)
        since = value if len(value) > 4 else f"{int(value) + 1}-01-01"
    elif m := _SINCE.search(text):
        since = _year_start(m.group(1) or m.group(2))
    if m := _BEFORE.search(text):
        value = m.group(1) or m.group(2)
        until = (dt.date.fromisoformat(value) - dt.timedelta(days=1)).isoformat() if len(value) > 4 \
            else f"{int(value) - 1}-12-31"
    elif m := _UNTIL.search(text):
        until = _year_end(next(g for g in reversed(m.groups()) if g))
    if since is None and until is None:
        if window := _financial_year(text):
            return window
        if m := _IN.search(text):
            return _year_start(m.group(1)), _year_end(m.group(1))
    return since, until


def doc_type_named(text: str) -> str | None:
    if _MINUTES.search(text):
        return "minutes"
    if _REPORTS.search(text):
        return "report"
    return None


def read_cues(question: str) -> Cues:
    forces = tuple(forces_named(question))
    every = bool(_EVERY_FORCE.search(question)) or (len(forces) <= 1 and bool(_PANELS.search(question)))
    since, until = dates_named(question)
    return Cues(forces=forces, since=since, until=until, doc_type=doc_type_named(question), every_force=every)
