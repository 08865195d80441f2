"""A report as a Word document (python-docx): real headings, footnote-style citations, numbered sources.

Each entry is a paragraph whose citations are superscript markers ("[1]"), followed by a small
paragraph giving each marker's human citation and link, so a paragraph copied into a report keeps
its source; the numbered "Sources" list at the end gives every passage in full. python-docx is
touched only here.
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

from precedent.search.citations import MARKER
from precedent.search.export.report import Report, Source, cited

if TYPE_CHECKING:
    from docx.text.paragraph import Paragraph

# XML 1.0 cannot hold most control characters: a stray one in a parsed PDF would make python-docx raise.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
LINK_COLOUR = "1F4E9A"


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def add_hyperlink(paragraph: Paragraph, url: str, label: str) -> None:
    """A clickable link (python-docx has no API for writing one): an external relationship and a w:hyperlink."""
    from docx.opc.constants import RELATIONSHIP_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    if not url.startswith(("http://", "https://")):
        paragraph.add_run(_text(label if label == url else f"{label} ({url})"))
        return
    rel_id = paragraph.part.relate_to(url, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
    link = OxmlElement("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    run = OxmlElement("w:r")
    props = OxmlElement("w:rPr")
    colour = OxmlElement("w:color")
    colour.set(qn("w:val"), LINK_COLOUR)
    underline = OxmlElement("w:u")
    underline.set(qn("w:val"), "single")
    props.extend([colour, underline])
    text = OxmlElement("w:t")
    text.text = _text(label)
    text.set(qn("xml:space"), "preserve")
    run.extend([props, text])
    link.append(run)
    paragraph._p.append(link)


def _marked(paragraph: Paragraph, text: str) -> None:
    """The text with its "[n]" markers as superscript runs."""
    last = 0
    for m in MARKER.finditer(text):
        paragraph.add_run(_text(text[last:m.start()]))
        paragraph.add_run(f"[{m.group(1)}]").font.superscript = True
        last = m.end()
    paragraph.add_run(_text(text[last:]))


def _citation(document: Any, source: Source) -> None:
    from docx.shared import Pt

    para = document.add_paragraph()
    para.paragraph_format.left_indent = Pt(18)
    marker = para.add_run(f"[{source.n}] ")
    marker.font.superscript = True
    run = para.add_run(_text(source.display) + " — ")
    run.font.size = Pt(9)
    add_hyperlink(para, source.link, "open in Precedent")
    for r in para.runs:
        r.font.size = Pt(9)


def to_docx(report: Report) -> bytes:
    # python-docx (and lxml) load on the first Word export, not with every command.
    from docx import Document as new_document
    from docx.shared import Pt

    document = new_document()
    props = document.core_properties
    props.title, props.subject, props.author = _text(report.title)[:250], _text(report.question)[:250], "Precedent"
    document.add_heading(_text(report.title), level=1)
    meta = document.add_paragraph()
    for label, value in (("Question: ", report.question), ("Filters: ", report.filters),
                         ("Exported from Precedent: ", f"{report.generated:%Y-%m-%d %H:%M} UTC")):
        meta.add_run(label).bold = True
        meta.add_run(_text(value) + "\n")
    if report.intro:
        document.add_paragraph(_text(report.intro))
    for section in report.sections:
        document.add_heading(_text(section.heading), level=2)
        if section.note:
            document.add_paragraph().add_run(_text(section.note)).italic = True
        for entry in section.entries:
            para = document.add_paragraph()
            text = entry.text if report.kind == "answer" else entry.text + "".join(f"[{n}]" for n in entry.sources)
            _marked(para, text)
            for source in cited(entry, report):
                _citation(document, source)
    if report.table is not None:
        header, rows = report.table
        document.add_heading("Timeline: passages per force per year", level=2)
        table = document.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, value in zip(table.rows[0].cells, header, strict=True):
            cell.text = _text(value)
        for row in rows:
            for cell, value in zip(table.add_row().cells, row, strict=True):
                cell.text = _text(value)
    if report.sources:
        document.add_heading("Sources", level=2)
        for source in report.sources:
            item = document.add_paragraph(style="List Number")
            item.add_run(_text(source.display) + " — ")
            add_hyperlink(item, source.link, "open in Precedent")
            if source.original and source.original.startswith(("http://", "https://")):
                item.add_run(" · ")
                add_hyperlink(item, source.original, "original paper")
            quote = document.add_paragraph(_text(" ".join(source.passage.split())), style="Quote")
            quote.paragraph_format.left_indent = Pt(18)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
