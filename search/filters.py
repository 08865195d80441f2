"""Check the filters a user sends against what the index holds, with errors that list valid values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from precedent.ingest.errors import BadQuery
from precedent.ingest.forces import force_named
from precedent.ingest.metadata import parse_date
from precedent.ingest.records import DOC_TYPES
from precedent.search.store import Filters

MAX_QUERY_CHARS = 2000


def parse_filter_date(value: str | dt.date | None, name: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    date = parse_date(str(value))
    if date is None:
        raise BadQuery(f"{name} '{value}' is not a date: use YYYY-MM-DD, e.g. 2020-01-31")
    return date


def build_filters(
    known_forces: list[str],
    forces: Iterable[str] = (),
    since: str | dt.date | None = None,
    until: str | dt.date | None = None,
    doc_type: str | None = None,
    document_ids: Iterable[str] = (),
) -> Filters:
    resolved: list[str] = []
    for raw in forces:
        if raw is None or not str(raw).strip():
            continue
        name = str(raw).strip()
        match = next((f for f in known_forces if f.casefold() == name.casefold()), None)
        if match is None:
            known = force_named(name)
            match = known.name if known and known.name in known_forces else None
        if match is None:
            valid = ", ".join(known_forces) or "(none: the index is empty)"
            raise BadQuery(f"unknown force '{name[:80]}': the index holds {valid}")
        if match not in resolved:
            resolved.append(match)
    if doc_type is not None and doc_type != "":
        doc_type = str(doc_type).strip().lower()
        if doc_type not in DOC_TYPES:
            raise BadQuery(f"unknown document type '{doc_type[:40]}': use one of {', '.join(DOC_TYPES)}")
    else:
        doc_type = None
    start = parse_filter_date(since, "since")
    end = parse_filter_date(until, "until")
    if start and end and start > end:
        raise BadQuery(f"since ({start}) is after until ({end})")
    return Filters(tuple(resolved), start, end, doc_type, tuple(d for d in document_ids if d))


def check_query(query: str | None) -> str:
    if query is None or not query.strip():
        raise BadQuery("the query is empty: type a question or some words to search for")
    if len(query) > MAX_QUERY_CHARS:
        raise BadQuery(f"the query is {len(query)} characters; the limit is {MAX_QUERY_CHARS}")
    if "\x00" in query:
        query = query.replace("\x00", " ")
    return query.strip()
