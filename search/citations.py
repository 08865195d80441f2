"""Citations as first-class objects, and the ``[n]`` markers that tie an answer's claims to them.

A citation says where a passage comes from and how a report would cite it. An answer is a list of
claims, each ending with the markers of the passages it rests on; ``claims`` and ``cited_numbers``
are the one reading of that format, shared by the answer builders and the eval that scores them.
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import quote

from pydantic import BaseModel

from precedent.ingest.dates import human_date
from precedent.ingest.records import AgendaItem, Chunk, Document
from precedent.ingest.sentences import sentences

# "[2]", and the "[1, 3]" / "[1; 3]" some LLMs write.
MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_MARKERS_AFTER_STOP = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+)")


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


def format_citation(doc: Document, locator: str) -> str:
    """"Devon and Cornwall Police and Crime Panel, 7 July 2017, Police and Crime Plan 2017-2020 Update, para 3.2"."""
    parts = [doc.panel_name, human_date(doc.meeting_date), doc.title]
    if doc.agenda_item and doc.agenda_item.title and doc.agenda_item.title != doc.title:
        parts.append(doc.agenda_item.label())
    parts.append(locator)
    return ", ".join(p for p in parts if p)


def cited_numbers(text: str) -> set[int]:
    """The passage numbers ``text``'s markers cite."""
    return {int(n) for group in MARKER.findall(text) for n in re.split(r"\s*[,;]\s*", group)}


def strip_markers(text: str) -> str:
    """``text`` without any ``[n]``: a bracketed number quoted from a paper must not pass for a citation."""
    return MARKER.sub("", text)


def claims(paragraph: str) -> list[str]:
    """A paragraph's claims: its sentences, each keeping the markers written after its full stop
    ("... calls. [2]"); a clause ending in a semicolon stays with the clause after it."""
    text = _MARKERS_AFTER_STOP.sub(lambda m: f"{m.group(2)}{m.group(1)}", paragraph.strip())
    out: list[str] = []
    for start, end in sentences(text):
        piece = text[start:end]
        if out and (out[-1].endswith(";") or not strip_markers(piece).strip(" .;,")):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def answer_claims(answer: str) -> list[str]:
    """Every claim of an answer's text. Headings and lead lines (a line ending in ":") frame claims
    rather than make them, and a bullet's dash is not part of its claim."""
    out: list[str] = []
    for line in answer.splitlines():
        line = line.strip().lstrip("-•*").strip()
        if line and not line.endswith(":"):
            out.extend(claims(line))
    return out


def passage_link(document_id: str, chunk_id: str, base_url: str = "") -> str:
    """The chat page opened at a passage: its viewer shows the document with the chunk highlighted."""
    return f"{base_url.rstrip('/')}/#doc={quote(document_id, safe='')}&chunk={quote(chunk_id, safe='')}"
