"""Parsing real files offline with unstructured, and refusing what cannot be read."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from precedent.ingest.clean import clean_text
from precedent.ingest.errors import UnreadableFile
from precedent.ingest.parse import parse_bytes
from tests.helpers import MODERNGOV_HTML, docx_bytes, pdf_bytes


def test_spacy_model_comes_from_site_packages_never_a_download() -> None:
    from unstructured.nlp import tokenize

    from precedent.ingest.nlp import use_bundled_spacy

    use_bundled_spacy()
    with pytest.raises(Exception, match="refusing to download"):
        tokenize._install_spacy_model()
    nlp = tokenize._get_nlp()
    assert "tagger" in nlp.pipe_names
    assert [t.tag_ for t in nlp("The panel approved the precept.")][2].startswith("VB")


def test_text_file_parses_offline(seeds_dir: Path) -> None:
    text = parse_bytes((seeds_dir / "000_830c896ecf0e4479.txt").read_bytes(), "x.txt")
    assert "delayed charging and diversion scheme" in text


def test_pdf_parses_with_the_fast_strategy() -> None:
    pdf = pdf_bytes("1.1 The Panel considered the precept for 2024/25.", "1.2 Members noted the 101 response times.")
    text = parse_bytes(pdf, "r.pdf")
    assert "1.2 Members noted the 101 response times." in text


def test_docx_parses() -> None:
    docx = docx_bytes("3.2 Reporting on progress will occur quarterly.",
                      heading="Report of the Police and Crime Commissioner")
    text = parse_bytes(docx, "r.docx")
    assert "Report of the Police and Crime Commissioner" in text and "3.2 Reporting on progress" in text


def test_moderngov_html_is_cleaned_of_page_furniture() -> None:
    text = clean_text(parse_bytes(MODERNGOV_HTML.encode(), "item.html"))
    assert "(a) Members questioned the 4.9% increase" in text
    assert "RESOLVED" in text and "(1) That the Panel supports the proposed precept." in text
    for junk in ("Supporting documents", "pdf icon", "\xa0", "Home > Your council"):
        assert junk not in text


def test_seed_artefacts_are_cleaned(seeds_dir: Path) -> None:
    raw = (seeds_dir / "000_830c896ecf0e4479.txt").read_text()
    text = clean_text(raw)
    assert "\xa0" not in text and "·" not in text and "Supporting documents" not in text
    assert "• Priority 1 – Connecting Communities and Policing" in text
    assert "(a) this version of the Plan was the final draft" in text  # marker joined to its paragraph
    report = clean_text((seeds_dir / "002_310633dc8ab7467d.txt").read_text())
    assert "Not Protectively Marked" not in report
    assert "\n3.2 Whilst it was never intended" in report


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"   \n\n  ", "empty file"),
        ("binary.txt", bytes(range(256)) * 40, "binary"),
        ("notes.xyz", b"hello", "unsupported file type '.xyz'"),
        ("noext", b"hello", "unsupported file type"),
        ("fake.pdf", b"this is not a pdf at all", "not a PDF"),
        ("broken.pdf", b"%PDF-1.4\n1 0 obj <</Type /Catalog>>\ntrailer\n%%EOF", "PDF"),
        ("fake.docx", b"PK\x03\x04garbage", "corrupt DOCX"),
        ("renamed.txt", b"%PDF-1.4 binary", "binary pdf content"),
    ],
)
def test_unreadable_files_raise_a_one_line_reason(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile, match=reason) as info:
        parse_bytes(data, name)
    assert "\n" not in str(info.value)


def test_encrypted_pdf_is_refused() -> None:
    pdf = pdf_bytes("Exempt information.", password="s3cret")
    with pytest.raises(UnreadableFile, match="encrypted PDF"):
        parse_bytes(pdf, "secret.pdf")


def test_docx_decompression_bomb_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", "<w:document>" + "a" * (60 * 1024 * 1024) + "</w:document>")
    with pytest.raises(UnreadableFile, match="decompression bomb"):
        parse_bytes(path.read_bytes(), "bomb.docx")


def test_invalid_utf8_text_is_decoded_leniently() -> None:
    text = parse_bytes("The Panel noted the café’s CCTV.".encode("cp1252"), "legacy.txt")
    assert "café" in text
