"""Filters in two shapes: ``FilterSpec`` as a user sent them (strings, from the page, the API or the
CLI), and ``Filters`` once ``build_filters`` has checked them against what the index holds, with
errors that list the valid values."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from precedent.ingest.dates import date_arg
from precedent.ingest.errors import BadQuery
from precedent.ingest.forces import force_named
from precedent.ingest.records import DOC_TYPES, Filters

MAX_QUERY_CHARS = 2000

Name = Annotated[str, Field(max_length=200)]
DateText = Annotated[str, Field(max_length=40)]


class FilterSpec(BaseModel):
    """Filters as the user gave them, before validation against the index."""

    model_config = ConfigDict(frozen=True)

    force: tuple[Name, ...] = Field(default=(), max_length=50, description="Force names (any alias)")
    since: DateText | None = Field(default=None, description="Meetings on or after, YYYY-MM-DD")
    until: DateText | None = Field(default=None, description="Meetings on or before, YYYY-MM-DD")
    doc_type: Annotated[str, Field(max_length=40)] | None = Field(default=None, description="minutes | report | other")
    document_id: tuple[Name, ...] = Field(default=(), max_length=50, description="Only these documents")

    def overridden_by(self, other: FilterSpec) -> FilterSpec:
        """This spec with every filter ``other`` sets replaced by ``other``'s value."""
        return FilterSpec(
            force=other.force or self.force, since=other.since or self.since, until=other.until or self.until,
            doc_type=other.doc_type or self.doc_type, document_id=other.document_id or self.document_id,
        )

    @classmethod
    def parse(cls, **fields: object) -> FilterSpec:
        """A spec from loose values (query parameters, CLI options), with a BadQuery naming what is wrong."""
        try:
            return cls.model_validate(fields)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise BadQuery(f"bad filter: {problems[:300]}") from None


def build_filters(known_forces: list[str], spec: FilterSpec) -> Filters:
    """``spec`` checked against the index: forces by any alias, dates parsed, type known."""
    resolved: list[str] = []
    for raw in spec.force:
        name = str(raw).strip()
        if not name:
            continue
        match = next((f for f in known_forces if f.casefold() == name.casefold()), None)
        if match is None:
            known = force_named(name)
            match = known.name if known and known.name in known_forces else None
        if match is None:
            valid = ", ".join(known_forces) or "(none: the index is empty)"
            raise BadQuery(f"unknown force '{name[:80]}': the index holds {valid}")
        if match not in resolved:
            resolved.append(match)
    doc_type = (spec.doc_type or "").strip().lower() or None
    if doc_type is not None and doc_type not in DOC_TYPES:
        raise BadQuery(f"unknown document type '{doc_type[:40]}': use one of {', '.join(DOC_TYPES)}")
    start = date_arg(spec.since, "since")
    end = date_arg(spec.until, "until")
    if start and end and start > end:
        raise BadQuery(f"since ({start}) is after until ({end})")
    return Filters(force=tuple(resolved), since=start, until=end, doc_type=doc_type,  # type: ignore[arg-type]
                   document_id=tuple(d for d in spec.document_id if d))


def check_query(query: str | None) -> str:
    if query is None or not query.strip():
        raise BadQuery("the query is empty: type a question or some words to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
    if "\x00" in query:
        query = query.replace("\x00", " ")
    return query.strip()
