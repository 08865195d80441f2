"""One question across forces: the best passages per force, and how often each force's panel raised it.

A column holds the passages of one force that clear the relevance bar (search/relevance.py), best
first; a force with none says "Nothing found for this force." The timeline counts, per force and
per year of meeting date, the passages among the force's top ``TIMELINE_POOL`` that clear the bar.
Undated papers cannot sit on a timeline: they are counted apart, in each series' ``undated``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from pydantic import BaseModel, Field

from precedent.search.filters import FilterSpec, build_filters
from precedent.search.relevance import RelevanceJudge
from precedent.search.retrieve import Searcher, SearchResult

DEFAULT_PER_FORCE = 3
TIMELINE_POOL = 100  # passages per force judged for the timeline (the search's own upper bound)
NOTHING_FOUND = "Nothing found for this force."
NO_PAPERS = "The archive holds no papers from this force for these filters."


class ForceColumn(BaseModel):
    force: str
    found: bool
    message: str | None = None
    results: list[SearchResult] = Field(default_factory=list)


class Series(BaseModel):
    force: str
    counts: list[int]
    undated: int = 0


class Timeline(BaseModel):
    years: list[int] = Field(default_factory=list)
    series: list[Series] = Field(default_factory=list)


class Comparison(BaseModel):
    question: str
    forces: list[ForceColumn]
    timeline: Timeline


def compare(searcher: Searcher, question: str, *, filters: FilterSpec | None = None,
            k: int = DEFAULT_PER_FORCE) -> Comparison:
    """Columns for the filters' forces (every force in the index when none) and the per-year timeline."""
    known = searcher.store.known_forces()
    shared = build_filters(known, filters or FilterSpec())
    chosen = list(shared.force) or known
    judge = RelevanceJudge(searcher, question)
    columns: list[ForceColumn] = []
    per_year: dict[str, Counter[int]] = {}
    undated: dict[str, int] = {}
    for force in chosen:
        hits = searcher.search(question, k=max(k, TIMELINE_POOL), filters=shared.model_copy(update={"force": (force,)}))
        relevant = judge.relevant(hits)
        top = relevant[:k]
        for rank, hit in enumerate(top, start=1):
            hit.rank = rank
        message = None if top else (NOTHING_FOUND if hits else NO_PAPERS)
        columns.append(ForceColumn(force=force, found=bool(top), message=message,
                                   results=[h.result() for h in top]))
        years = Counter(h.document.meeting_date.year for h in relevant if h.document.meeting_date)
        per_year[force] = years
        undated[force] = sum(1 for h in relevant if not h.document.meeting_date)
    return Comparison(question=question, forces=columns, timeline=timeline(chosen, per_year, undated))


def timeline(forces: Sequence[str], per_year: dict[str, Counter[int]], undated: dict[str, int]) -> Timeline:
    """Counts on one continuous year axis (gap years are zeros), one series per force."""
    seen = [y for counts in per_year.values() for y in counts]
    if not seen:
        return Timeline(years=[], series=[Series(force=f, counts=[], undated=undated.get(f, 0))
                                          for f in forces])
    years = list(range(min(seen), max(seen) + 1))
    return Timeline(years=years, series=[
        Series(force=f, counts=[per_year.get(f, Counter())[y] for y in years], undated=undated.get(f, 0))
        for f in forces
    ])


def timeline_table(comparison: Comparison) -> str:
    """The timeline as a compact text table, for the CLI."""
    tl = comparison.timeline
    width = max([len(s.force) for s in tl.series] + [5])
    head = f"{'force':<{width}} " + " ".join(f"{y:>4}" for y in tl.years) + "  undated"
    rows = [f"{s.force:<{width}} " + " ".join(f"{c:>4}" for c in s.counts) + f"  {s.undated:>7}"
            for s in tl.series]
    return "\n".join([head, *rows])
