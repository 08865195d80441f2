"""Chunks follow the documents' structure and carry locators a person can follow."""

from __future__ import annotations

import datetime as dt

from precedent.ingest.chunk import chunk_document, split_paragraphs
from precedent.ingest.clean import clean_text
from precedent.ingest.records import AgendaItem, Document


def _doc(doc_type: str = "minutes", agenda: AgendaItem | None = None) -> Document:
    return Document(document_id="doc", title="T", force="Dorset", panel="Dorset Police and Crime Panel",
                    meeting_date=dt.date(2020, 1, 1), doc_type=doc_type, agenda_item=agenda, source="x",
                    content_hash="0123456789abcdef", ingested_at=dt.datetime(2020, 1, 1))


def test_labels_are_recognised() -> None:
    text = ("1. BACKGROUND\n\n1.1 First para.\n1.2 Second para.\n\n(a) a point;\n\n(b) b point;\n\n"
            "(ix) a roman point.\n\nRESOLVED:\n\n(1) That the report be noted.")
    kinds = [(p.label, p.kind) for p in split_paragraphs(text)]
    assert ("1.1", "numbered") in kinds and ("1.2", "numbered") in kinds
    assert ("(a)", "lettered") in kinds and ("(ix)", "roman") in kinds
    assert ("(1)", "resolution") in kinds


def test_letter_i_after_h_is_a_letter_not_a_roman_numeral() -> None:
    text = "(h) eighth point;\n\n(i) ninth point;"
    assert [p.kind for p in split_paragraphs(text)] == ["lettered", "lettered"]


def test_seed_locators_name_paragraphs_and_points(seed_settings) -> None:  # type: ignore[no-untyped-def]
    from precedent.ingest.store import Store

    store = Store.open(seed_settings)
    locators = {d.title: [c.locator for c in store.get_document(d.document_id).chunks] for d in store.list_documents()}
    assert "item 8, paras 3.12-3.14" in locators["Dorset Police and Crime Plan 2013/17 - Annual Refresh"]
    assert any(loc.startswith("point (v)") for loc in locators["Draft Police and Crime Plan"])
    assert any("resolution" in loc for loc in locators["Police and Crime Plan"])


def test_spans_point_into_the_cleaned_text(seeds_dir) -> None:  # type: ignore[no-untyped-def]
    text = clean_text((seeds_dir / "002_310633dc8ab7467d.txt").read_text())
    chunks = chunk_document(_doc("report"), text)
    assert chunks and all(text[c.start:c.end] == c.text for c in chunks)
    assert all(c.header.startswith("T | Dorset Police and Crime Panel | 1 January 2020") for c in chunks)
    assert all(c.header not in c.text for c in chunks)


def test_a_long_paragraph_is_split_with_overlap_and_tiny_ones_are_merged() -> None:
    long = "3.1 " + " ".join(f"Sentence number {i} about the precept and reserves." for i in range(80))
    tiny = "\n\n".join(f"({chr(97 + i)}) short point {i};" for i in range(6))
    text = tiny + "\n\n" + long
    chunks = chunk_document(_doc(), text, chunk_size=600, overlap=100, min_size=150)
    assert chunks[0].locator == "points (a)-(f)"
    parts = [c for c in chunks if c.locator.startswith("para 3.1 (part")]
    assert len(parts) >= 4 and all(len(c.text) <= 600 for c in parts)
    assert parts[0].end > parts[1].start  # overlap between consecutive parts


def test_a_chunk_never_mixes_two_agenda_items() -> None:
    text = ("47. APOLOGIES\n\nApologies were received.\n\n48. POLICE AND CRIME PLAN\n\n"
            "(a) The Panel discussed the plan.\n\n(ix) Members asked about 101.")
    chunks = chunk_document(_doc("minutes"), text, chunk_size=2000)
    assert [c.locator.split(",")[0] for c in chunks] == ["item 47", "item 48"]
    assert "APOLOGIES" not in chunks[1].text and "item 48, points (a)-(ix)" == chunks[1].locator
