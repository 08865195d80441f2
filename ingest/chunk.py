"""Structure-aware chunking: paragraphs as the documents number them, packed into chunks.

The documents' own structure decides the boundaries (numbered paragraphs, lettered and roman
points, resolutions, agenda items, headings); langchain's recursive splitter only cuts a single
paragraph that is too long on its own. Every chunk keeps a locator a person can follow and its
exact character span in the cleaned text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from precedent.ingest.dates import human_date
from precedent.ingest.records import Chunk, Document, Paragraph

_NUMBERED = re.compile(r"^(\d{1,3}(?:\.\d{1,3})+)\.?\s+(?=\S)")
_NUMBER_DOT = re.compile(r"^(\d{1,3})[.)]\s+(?=\S)")
_PAREN = re.compile(r"^\(([a-zA-Z]{1,6}|\d{1,3})\)\s*(?=\S)")
_ROMAN = re.compile(r"^(?=[ivxlc]+$)(c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$")
_RESOLUTION = re.compile(
    r"^(resolved|agreed|decision|the panel (agreed|resolved)|it was (agreed|resolved)|"
    r"the committee (agreed|resolved))\b",
    re.IGNORECASE,
)
_AGENDA_ITEM = re.compile(r"^(?:agenda\s+)?(?:item|minute)\s+(?:no\.?\s*)?(\d{1,3}[a-z]?)\b", re.IGNORECASE)
# In printed minutes, a numbered heading ("48. POLICE AND CRIME PLAN", "76. Precept Proposal for
# 2019/20") opens agenda item 48; in reports the same shape is a section.
_NUMBERED_HEADING = re.compile(r"^(\d{1,3})\.?\s+(?=[A-Z])")


def split_paragraphs(text: str) -> list[Paragraph]:  # noqa: C901 - one pass over the blocks
    """Blocks separated by blank lines, each with its span, label and kind."""
    paragraphs: list[Paragraph] = []
    section: str | None = None
    in_resolution = False
    last_letter: str | None = None
    for start, end in _block_spans(text):
        block = text[start:end]
        first_line = block.split("\n", 1)[0]
        label: str | None = None
        kind = "text"
        if block.startswith("• "):
            kind = "bullet"
        elif mm := _NUMBERED.match(block):
            label, kind = mm.group(1), "numbered"
        elif mm := _PAREN.match(block):
            raw = mm.group(1)
            if raw.isdigit():
                label, kind = f"({raw})", "resolution" if in_resolution else "numbered"
            elif _ROMAN.match(raw.lower()) and not (len(raw) == 1 and last_letter == chr(ord(raw.lower()) - 1)):
                label, kind = f"({raw.lower()})", "roman"
            else:
                label, kind = f"({raw.lower()})", "lettered"
                last_letter = raw.lower()
        elif mm := _NUMBER_DOT.match(block):
            # A numbered item title can run long ("76. Precept Proposal for 2019/20, Budget and ...").
            if _looks_like_heading(block[mm.end():], max_chars=160, max_words=25):
                kind = "heading"
                section = block
                in_resolution = False
            else:
                label, kind = f"{mm.group(1)}", "resolution" if in_resolution else "numbered"
        elif _RESOLUTION.match(block):
            kind, label, in_resolution = "resolution", "RESOLVED", True
        elif _looks_like_heading(first_line) and "\n" not in block:
            kind = "heading"
            section = block
            in_resolution = False
        if label and kind in ("lettered", "numbered", "roman") and (
            in_resolution or re.match(r"^\S+\s+that\b", block, re.IGNORECASE)
        ) and not _NUMBERED.match(block):
            kind = "resolution"
        paragraphs.append(Paragraph(block, start, end, label, kind, section if kind != "heading" else None))
        if kind == "heading":
            last_letter = None
    return paragraphs


_LINE_OPENS_BLOCK = re.compile(r"(\d{1,3}(\.\d{1,3})+\s|\(([a-zA-Z]{1,6}|\d{1,3})\)\s|• )")


def _block_spans(text: str) -> list[tuple[int, int]]:
    """Blocks end at blank lines, and a line that opens a numbered paragraph, point or bullet starts one."""
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    pos = 0
    for line in text.split("\n"):
        line_start, line_end = pos, pos + len(line)
        pos = line_end + 1
        if not line.strip():
            if start is not None:
                spans.append((start, end))
                start = None
            continue
        if start is not None and _LINE_OPENS_BLOCK.match(line):
            spans.append((start, end))
            start = None
        if start is None:
            start = line_start
        end = line_end
    if start is not None:
        spans.append((start, end))
    return spans


def _looks_like_heading(line: str, *, max_chars: int = 90, max_words: int = 14) -> bool:
    line = line.strip()
    if not line or len(line) > max_chars or line.endswith((".", ";", ",")) or line.startswith("• ") or "\n" in line:
        return False
    words = line.split()
    if len(words) > max_words:
        return False
    letters = [c for c in line if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        return True
    capitalised = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return capitalised / len(words) >= 0.5 and not line.endswith(":")


@dataclass
class _Unit:
    """One labelled paragraph with the bullets and headings that belong to it."""

    start: int
    end: int
    label: str | None
    kind: str
    ordinal: int  # 1-based position among the document's paragraphs
    section: str | None
    agenda: str | None
    heading_only: bool = False
    labels: list[str] = field(default_factory=list)


def _units(paragraphs: list[Paragraph], default_agenda: str | None, minutes: bool) -> list[_Unit]:
    units: list[_Unit] = []
    pending_heading: Paragraph | None = None
    agenda = default_agenda
    i = 0
    for p in paragraphs:
        if p.kind != "bullet":
            i += 1  # paragraph numbers a reader can count: bullets belong to their paragraph
        if p.kind == "heading":
            m = _AGENDA_ITEM.match(p.text) or (_NUMBERED_HEADING.match(p.text) if minutes else None)
            if m:
                agenda = m.group(1)
            if pending_heading is not None:
                units.append(_Unit(pending_heading.start, pending_heading.end, None, "heading", i - 1,
                                   pending_heading.text, agenda, heading_only=True))
            pending_heading = p
            continue
        attach = (
            p.kind == "bullet" and units and not units[-1].heading_only and pending_heading is None
            and units[-1].agenda == agenda
        )
        if attach:
            units[-1].end = p.end
            continue
        start = pending_heading.start if pending_heading else p.start
        section = pending_heading.text if pending_heading else p.section
        units.append(_Unit(start, p.end, p.label, p.kind, i, section, agenda))
        pending_heading = None
    if pending_heading is not None:
        units.append(_Unit(pending_heading.start, pending_heading.end, None, "heading", i,
                           pending_heading.text, agenda, heading_only=True))
    return units


def _describe(units: list[_Unit]) -> str:
    """A human locator for a run of units: "para 3.2", "points (a)-(c)", "paragraphs 4-6"."""
    labelled = [u for u in units if u.label and u.label != "RESOLVED"]
    if any(u.kind == "resolution" for u in units) and not labelled:
        return "resolution"
    if labelled:
        first, last = labelled[0], labelled[-1]
        noun = {"numbered": "para", "lettered": "point", "roman": "point", "resolution": "resolution"}[first.kind]
        if first.kind != last.kind and "resolution" in (first.kind, last.kind):
            last = [u for u in labelled if u.kind == first.kind][-1]
        span = first.label if first is last else f"{first.label}-{last.label}"
        text = f"{noun}{'' if first is last else 's'} {span}"
        before = [u for u in units if u.ordinal < first.ordinal and not u.label]
        if before and not first.kind == "numbered":
            text = f"paragraph {before[0].ordinal}, {text}"
        return text
    first, last = units[0].ordinal, units[-1].ordinal
    return f"paragraph {first}" if first == last else f"paragraphs {first}-{last}"


def _header(doc: Document, agenda: str | None, section: str | None) -> str:
    parts = [doc.title]
    if doc.force:
        parts.append(doc.panel or doc.force)
    if doc.meeting_date:
        parts.append(human_date(doc.meeting_date))
    parts.append(doc.doc_type)
    return " | ".join(p for p in [*parts, *_place(doc, agenda, section)] if p)


def _place(doc: Document, agenda: str | None, section: str | None) -> list[str]:
    """The agenda item and section a passage sits in (those that say more than the title)."""
    item = doc.agenda_item.label() if doc.agenda_item else (f"Item {agenda}" if agenda else "")
    return [p for p in (item, section) if p and p != doc.title]


def _context(doc: Document, agenda: str | None, section: str | None) -> str:
    place = _place(doc, agenda, section)
    # "Item 76 | 76. Precept Proposal ...": the section already names the item.
    if len(place) == 2 and agenda and place[1].startswith(f"{agenda}."):
        place = place[1:]
    return " | ".join(place) or doc.title


def chunk_document(
    doc: Document, text: str, *, chunk_size: int = 1000, overlap: int = 150, min_size: int = 250
) -> list[Chunk]:
    """Pack the document's units into chunks; split a unit only when it alone is too long."""
    default_agenda = doc.agenda_item.number if doc.agenda_item else None
    units = _units(split_paragraphs(text), default_agenda, doc.doc_type == "minutes")
    groups: list[list[_Unit]] = []
    for unit in units:
        current = groups[-1] if groups else None
        if current is not None and current[-1].agenda == unit.agenda:
            total = unit.end - current[0].start
            current_size = current[-1].end - current[0].start
            boundary = unit.section != current[-1].section or (
                unit.kind == "resolution" and current[-1].kind != "resolution"
            )
            if total <= chunk_size and (not boundary or current_size < min_size):
                current.append(unit)
                continue
        groups.append([unit])

    # Imported here: langchain takes 0.15 s to import, and every command imports this module.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    # Lines before sentences: a long paragraph with bullets is cut between bullets first.
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=overlap, add_start_index=True,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
    )
    chunks: list[Chunk] = []
    prefix = doc.content_hash[:8]

    def add(start: int, end: int, locator: str, agenda: str | None, section: str | None) -> None:
        if agenda:
            locator = f"item {agenda}, {locator}"
        chunks.append(Chunk(
            chunk_id=f"{doc.document_id}:{prefix}:{len(chunks):04d}", document_id=doc.document_id,
            ordinal=len(chunks), text=text[start:end], header=_header(doc, agenda, section),
            locator=locator, start=start, end=end, context=_context(doc, agenda, section),
        ))

    for group in groups:
        start, end = group[0].start, group[-1].end
        locator = _describe(group)
        agenda, section = group[0].agenda, group[0].section
        if end - start <= chunk_size * 1.25:
            add(start, end, locator, agenda, section)
            continue
        pieces = _merge_small(splitter.create_documents([text[start:end]]), chunk_size, min_size)
        for n, (p_start, p_end) in enumerate(pieces, start=1):
            add(start + p_start, start + p_end, f"{locator} (part {n})", agenda, section)
    return chunks


def _merge_small(pieces: list, chunk_size: int, min_size: int) -> list[tuple[int, int]]:  # type: ignore[type-arg]
    """Spans of the splitter's pieces, with a too-small piece folded into its neighbour."""
    spans = [(p.metadata["start_index"], p.metadata["start_index"] + len(p.page_content)) for p in pieces]
    merged: list[tuple[int, int]] = []
    for span in spans:
        if merged and (span[1] - span[0] < min_size or merged[-1][1] - merged[-1][0] < min_size) and (
            span[1] - merged[-1][0] <= chunk_size * 1.3
        ):
            merged[-1] = (merged[-1][0], span[1])
        else:
            merged.append(span)
    return merged
