"""Real documents made on the fly (PDF, DOCX, HTML, text) for the parsing and ingest tests."""

from __future__ import annotations

import io
from pathlib import Path


def make_pdf(path: Path, paragraphs: list[str], *, password: str | None = None) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for para in paragraphs:
        pdf.multi_cell(0, 6, para)
        pdf.ln(4)
    data = bytes(pdf.output())
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter()
        for page in PdfReader(io.BytesIO(data)).pages:
            writer.add_page(page)
        writer.encrypt(password)
        buf = io.BytesIO()
        writer.write(buf)
        data = buf.getvalue()
    path.write_bytes(data)
    return path


def make_docx(path: Path, heading: str, paragraphs: list[str]) -> Path:
    import docx

    document = docx.Document()
    document.add_heading(heading, 1)
    for para in paragraphs:
        document.add_paragraph(para)
    document.save(str(path))
    return path


MODERNGOV_HTML = """<!DOCTYPE html><html><head><title>Agenda item - Precept 2024/25</title></head><body>
<div class="breadcrumb">Home &gt; Your council &gt; Police and Crime Panel</div>
<h1>Agenda item</h1>
<h2>Proposed Precept 2024/25</h2>
<p class="MsoNormal">&nbsp;</p>
<h3>Minutes:</h3>
<p class="MsoNormal">The Panel considered the report of the Police and Crime Commissioner for Dorset on the proposed precept.</p>
<p class="MsoNormal">(a)&nbsp;Members questioned the 4.9% increase and the use of reserves.</p>
<p class="MsoNormal">(b)&nbsp;The Commissioner explained the pressures on 101 call handling.</p>
<p><b>RESOLVED:</b></p>
<p>(1) That the Panel supports the proposed precept.</p>
<h3>Supporting documents:</h3>
<ul><li><a href="/documents/s1234/Precept.pdf">Precept report, item 6. pdf icon PDF 103 KB</a></li></ul>
</body></html>"""
