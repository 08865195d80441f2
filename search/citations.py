"""Citations as first-class objects: where a passage comes from, and how a report would cite it."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel

from precedent.ingest.records import AgendaItem, Chunk, Document


class Citation(BaseModel):
    document_id: str
    chunk_id: str
    title: str
    force: str | None
    panel: str | None
    meeting_date: dt.date | None
    doc_type: str
    agenda_item: AgendaItem | None
    locator: str
    source: str
    url: str | None
    display: str

    @classmethod
    def of(cls, chunk: Chunk, doc: Document) -> Citation:
        return cls.at(doc, chunk.chunk_id, chunk.locator)

    @classmethod
    def at(cls, doc: Document, chunk_id: str, locator: str) -> Citation:
        """The citation of a place in a document known by its chunk id and locator (a fact's source)."""
        return cls(
            document_id=doc.document_id, chunk_id=chunk_id, title=doc.title, force=doc.force,
            panel=doc.panel, meeting_date=doc.meeting_date, doc_type=doc.doc_type, agenda_item=doc.agenda_item,
            locator=locator, source=doc.source, url=doc.url, display=format_citation(doc, locator),
        )


def human_date(date: dt.date | None) -> str:
    return f"{date.day} {date:%B %Y}" if date else "undated"


def format_citation(doc: Document, locator: str) -> str:
    """"Devon and Cornwall Police and Crime Panel, 7 July 2017, Police and Crime Plan 2017-2020 Update, para 3.2"."""
    body = doc.panel or (f"{doc.force} Police and Crime Panel" if doc.force else "Unknown panel")
    parts = [body, human_date(doc.meeting_date), doc.title]
    if doc.agenda_item and doc.agenda_item.title and doc.agenda_item.title != doc.title:
        parts.append(doc.agenda_item.label())
    parts.append(locator)
    return ", ".join(p for p in parts if p)


def passage_link(document_id: str, chunk_id: str, base_url: str = "") -> str:
    """The chat page opened at a passage: its viewer shows the document with the chunk highlighted."""
    from urllib.parse import quote

    return f"{base_url.rstrip('/')}/#doc={quote(document_id, safe='')}&chunk={quote(chunk_id, safe='')}"
