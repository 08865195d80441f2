"""The lexical side weighs a passage's heading above its text (ingest/store.py, BM25_HEADER_WEIGHT)."""

from __future__ import annotations

from pathlib import Path

from precedent.ingest.pipeline import ingest_items
from precedent.ingest.records import DocumentMeta, Filters, SourceItem
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from tests.helpers import FakeEmbedder

FILLER = ("Members received the report and asked questions of the Commissioner's officers, who answered each in "
          "turn and undertook to write to the Panel with the figures that were not to hand at the meeting.")


def _paper(name: str, title: str, body: str) -> SourceItem:
    meta = DocumentMeta(title=title, force="Dorset", doc_type="minutes")
    return SourceItem(source=f"/papers/{name}.txt", filename=f"{name}.txt", data=body.encode(), meta=meta)


def test_a_word_in_a_passage_heading_outweighs_the_same_word_once_in_another_passage_text(tmp_path: Path) -> None:
    embedder = FakeEmbedder()
    settings = Settings(data_dir=tmp_path / "data", model=embedder.name)
    papers = [
        _paper("titled", "Custody Suites", f"{FILLER}\n\nThe new building would open in the spring."),
        _paper("mentioned", "Estates Update", f"{FILLER}\n\nThe new building would hold custody in the spring."),
    ]
    assert ingest_items(papers, settings, embedder=embedder).added == 2
    store = Store.open(settings)
    try:
        ranked = store.lexical_query('"custody"', 10, Filters())
        titles = {d.document_id: d.title for d in store.list_documents()}
        chunks = store.get_chunks([cid for cid, _ in ranked])
        assert [titles[chunks[cid].chunk.document_id] for cid, _ in ranked] == ["Custody Suites", "Estates Update"]
    finally:
        store.close()
