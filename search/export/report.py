"""What an export holds, whatever its format: sections of entries, each citing numbered sources.

Search results, an answer and a comparison are each turned into a ``Report``: a title, what was
asked and with which filters, sections of entries (a result, an answer sentence, a force's
passage) whose ``[n]`` markers point into one numbered list of sources, each source with its human
citation, a link to the page at that place and the original paper. The formats (CSV, Markdown,
DOCX) only lay a report out, so all three say the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from precedent.search.answer import Answer
from precedent.search.citations import Citation, cited_numbers, claims, passage_link
from precedent.search.compare import Comparison
from precedent.search.filters import FilterSpec
from precedent.search.retrieve import SearchResponse
from precedent.search.snippet import plain

ReportKind = Literal["search", "answer", "comparison"]


@dataclass(frozen=True)
class Source:
    n: int
    citation: Citation
    passage: str
    link: str  # the chat page at this passage
    original: str | None  # the paper itself: its URL, else where it was ingested from

    @property
    def display(self) -> str:
        return self.citation.display


@dataclass(frozen=True)
class Entry:
    """A result, an answer sentence or a compared passage: its text and the sources it cites."""

    text: str  # plain text; an answer sentence keeps its "[n]" markers
    sources: tuple[int, ...]
    label: str = ""  # rank or sentence number, as the reader counts


@dataclass
class Section:
    heading: str
    entries: list[Entry] = field(default_factory=list)
    note: str | None = None  # "Nothing found for this force."


@dataclass
class Report:
    kind: ReportKind
    title: str
    question: str
    filters: str
    sections: list[Section]
    sources: list[Source]
    intro: str | None = None  # an answer's lead line, or why nothing was found
    table: tuple[list[str], list[list[str]]] | None = None  # a comparison's timeline
    generated: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))

    def source(self, n: int) -> Source:
        return self.sources[n - 1]

    def filename(self, extension: str) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.question.lower()).strip("-")[:60] or "export"
        return f"precedent-{self.kind}-{slug}.{extension}"


def _source(n: int, citation: Citation, passage: str, base_url: str) -> Source:
    return Source(n=n, citation=citation, passage=passage,
                  link=passage_link(citation.document_id, citation.chunk_id, base_url),
                  original=citation.url or citation.source)


def _describe_filters(filters: Mapping[str, Any]) -> str:
    parts = []
    if filters.get("force"):
        parts.append("forces: " + ", ".join(filters["force"]))
    for key, label in (("since", "from"), ("until", "to"), ("doc_type", "type")):
        if filters.get(key):
            parts.append(f"{label} {filters[key]}")
    return "; ".join(parts) or "none"


def search_report(response: SearchResponse, base_url: str = "") -> Report:
    """A search's results as a report: one entry per result, in rank order."""
    sources, entries = [], []
    for n, result in enumerate(response.results, start=1):
        sources.append(_source(n, result.citation, result.text, base_url))
        entries.append(Entry(plain(result.snippet), (n,), str(result.rank)))
    section = Section("Results", entries, None if entries else "No passages match.")
    return Report("search", f"Search: {response.query}", response.query,
                  _describe_filters(response.filters.model_dump(mode="json")), [section], sources)


def answer_report(answer: Answer, base_url: str = "") -> Report:
    """An answer as a report: its sentences, each with its ``[n]``, under the meeting they come from."""
    sources = [_source(c.n, c.citation, c.text, base_url) for c in answer.citations]
    sections: list[Section] = []
    intro: str | None = None
    current: Section | None = None
    for line in answer.answer.splitlines():
        line = line.strip()
        if not line:
            continue
        if not line.startswith("- ") and line.endswith(":") and not cited_numbers(line):
            if intro is None and not sections:
                intro = line  # the lead line: "Three panels discussed ...:"
                continue
            current = Section(line[:-1])
            sections.append(current)
            continue
        if not cited_numbers(line) and not sections:
            intro = f"{intro} {line}" if intro else line  # the lead, or why nothing was found
            continue
        if current is None:
            current = Section("Answer")
            sections.append(current)
        for sentence in claims(line.removeprefix("- ")):
            numbers = tuple(sorted(n for n in cited_numbers(sentence) if 1 <= n <= len(sources)))
            current.entries.append(Entry(sentence.strip(), numbers))
    count = 0
    for section in sections:
        for i, entry in enumerate(section.entries):
            count += 1
            section.entries[i] = Entry(entry.text, entry.sources, str(count))
    return Report("answer", f"Answer: {answer.question}", answer.question,
                  _describe_filters(answer.filters_applied.model_dump(mode="json")), sections, sources, intro=intro)


def comparison_report(comparison: Comparison, filters: FilterSpec | None = None, base_url: str = "") -> Report:
    """A comparison as a report: a section per force, its passages best first, and the timeline as a table."""
    sources: list[Source] = []
    sections: list[Section] = []
    for column in comparison.forces:
        section = Section(column.force, note=None if column.found else column.message)
        for result in column.results:
            n = len(sources) + 1
            sources.append(_source(n, result.citation, result.text, base_url))
            section.entries.append(Entry(plain(result.snippet), (n,), str(result.rank)))
        sections.append(section)
    timeline = comparison.timeline
    table = None
    if timeline.years or timeline.series:
        header = ["Force", *(str(y) for y in timeline.years), "Undated"]
        rows = [[s.force, *(str(c) for c in s.counts), str(s.undated)] for s in timeline.series]
        table = (header, rows)
    return Report("comparison", f"Comparison: {comparison.question}", comparison.question,
                  _describe_filters(filters.model_dump(mode="json") if filters else {}), sections, sources, table=table)


def cited(entry: Entry, report: Report) -> Sequence[Source]:
    return [report.source(n) for n in entry.sources]
