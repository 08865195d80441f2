"""Precept decisions and confirmation hearings across forces, each value with its human citation.

The facts themselves are read at ingest (ingest/facts/) and stored with their documents; this turns
them into rows for the CLI, the API and the page: the document's force, panel and meeting, and for
each field its value, the sentence it came from, the citation a report would print and a link to
the page at that place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel

from precedent.ingest.errors import BadQuery
from precedent.ingest.facts import FACT_KINDS, Cited, HearingFact, PreceptFact, fact_fields
from precedent.ingest.pipeline import refresh_facts
from precedent.ingest.records import Document
from precedent.ingest.store import Store
from precedent.search.citations import Citation, passage_link
from precedent.search.filters import FilterSpec, build_filters


class FactValue(BaseModel):
    value: str | float
    sentence: str
    citation: Citation
    link: str


class FactRow(BaseModel):
    """One fact as a table row: where it was decided and each field with its citation."""

    kind: Literal["precept", "hearing"]
    document_id: str
    force: str | None
    panel: str | None
    meeting_date: dt.date | None  # None for a decision recalled from an earlier year
    title: str
    retrospective: bool = False
    fields: dict[str, FactValue]

    def value(self, name: str) -> str | float | None:
        found = self.fields.get(name)
        return found.value if found else None


def _value(cited: Cited, doc: Document, base_url: str) -> FactValue:  # type: ignore[type-arg]
    source = cited.source
    return FactValue(value=cited.value, sentence=source.sentence, citation=Citation.at(doc, source.chunk_id, source.locator),
                     link=passage_link(source.document_id, source.chunk_id, base_url))


def fact_row(fact: PreceptFact | HearingFact, doc: Document, base_url: str = "") -> FactRow:
    retrospective = isinstance(fact, PreceptFact) and fact.retrospective
    return FactRow(
        kind=fact.kind, document_id=doc.document_id, force=doc.force, panel=doc.panel,
        meeting_date=None if retrospective else doc.meeting_date, title=doc.title, retrospective=retrospective,
        fields={name: _value(cited, doc, base_url) for name, cited in fact_fields(fact).items()},
    )


def list_facts(store: Store, kind: str, forces: Sequence[str] = (), base_url: str = "") -> list[FactRow]:
    """The facts of one kind, by force then financial year (precepts) or meeting date (hearings)."""
    if kind not in FACT_KINDS:
        raise BadQuery(f"unknown kind of fact '{kind[:40]}': use one of {', '.join(FACT_KINDS)}")
    filters = build_filters(store.known_forces(), FilterSpec.parse(force=tuple(forces)))
    # An index built before the rules changed (or before facts existed) is read again from its stored
    # chunks first: quick, and needs neither the files nor the model.
    refresh_facts(store)
    rows = [fact_row(fact, doc, base_url) for fact, doc in store.facts(kind, filters.force)]

    def order(row: FactRow) -> tuple[str, str, str]:
        when = str(row.value("year") or "") if kind == "precept" else (row.meeting_date or dt.date.min).isoformat()
        return (row.force or "~", when, row.title)

    return sorted(rows, key=order)
