"""The typed records that pass between stages: defined once, imported everywhere."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

from precedent.ingest.sentences import chunk_sentences

DocType = Literal["minutes", "report", "other"]
DOC_TYPES: tuple[str, ...] = ("minutes", "report", "other")
UNKNOWN_PANEL = "Unknown panel"


class AgendaItem(BaseModel):
    number: str | None = None
    title: str | None = None

    def label(self) -> str:
        if self.number and self.title:
            return f"Item {self.number}: {self.title}"
        if self.number:
            return f"Item {self.number}"
        return self.title or ""


class DocumentMeta(BaseModel):
    """What a source knows about a document before parsing: every field may be missing."""

    document_id: str | None = None
    title: str | None = None
    force: str | None = None
    panel: str | None = None
    meeting_date: dt.date | None = None
    doc_type: DocType | None = None
    agenda_item: AgendaItem | None = None
    url: str | None = None


class Document(BaseModel):
    """A document as stored in the registry."""

    document_id: str
    title: str
    force: str | None
    panel: str | None
    meeting_date: dt.date | None
    doc_type: DocType
    agenda_item: AgendaItem | None = None
    source: str
    url: str | None = None
    content_hash: str
    ingested_at: dt.datetime
    chunk_count: int = 0

    @property
    def panel_name(self) -> str:
        """The panel as citations and answers name it: as the paper or source names it, else the force's."""
        if self.panel:
            return self.panel
        return f"{self.force} Police and Crime Panel" if self.force else UNKNOWN_PANEL


@dataclass(frozen=True)
class SourceItem:
    """One thing to ingest: raw bytes with their identity and whatever metadata the source knows.

    Local folders and the ModernGov crawler both produce these, so everything after this point
    is the same pipeline.
    """

    source: str  # path or URL: the identity the document_id is derived from
    filename: str  # used for the file type (extension) and as a title of last resort
    data: bytes
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    path: Path | None = None


@dataclass(frozen=True)
class Paragraph:
    """A block of cleaned text with its place in the document's structure."""

    text: str
    start: int  # character span in the cleaned document text
    end: int
    label: str | None = None  # "3.2", "(a)", "(ix)", "(1)", "RESOLVED"
    kind: str = "text"  # heading | numbered | lettered | roman | resolution | bullet | text
    section: str | None = None  # nearest heading above


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    document_id: str
    ordinal: int
    text: str  # displayed text
    header: str  # context header: embedded and indexed with the text, never displayed as it
    locator: str  # "para 3.2", "item 8, point (ix)"
    start: int
    end: int
    # Where the passage sits: its agenda item and section, else the paper's title. Each sentence is
    # embedded with it ("76. Precept Proposal for 2019/20: On being put to the vote, ..."), because a
    # sentence alone rarely says what it is about.
    context: str = ""

    def embedding_text(self) -> str:
        return f"{self.header}\n{self.text}"

    def sentence_texts(self) -> list[str]:
        """The texts whose vectors stand for the passage's sentences (see search/rerank.py)."""
        return [f"{self.context}: {s}" if self.context else s for s in chunk_sentences(self.text)]


@dataclass
class ParsedDocument:
    document: Document
    text: str  # cleaned full text
    chunks: list[Chunk]


class Filters(BaseModel):
    """Filters once checked against the index (``search.filters.build_filters`` makes them from what a
    user typed): applied inside retrieval, before the cut to k."""

    model_config = ConfigDict(frozen=True)

    force: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    doc_type: DocType | None = None
    document_id: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.force or self.since or self.until or self.doc_type or self.document_id)
