"""Facts of a document, read at ingest from its chunks: precept decisions and confirmation hearings."""

from __future__ import annotations

from collections.abc import Sequence

from precedent.ingest.facts.hearing import extract_hearings
from precedent.ingest.facts.precept import extract_precepts
from precedent.ingest.facts.records import HearingFact, PreceptFact
from precedent.ingest.facts.sentences import document_sentences
from precedent.ingest.records import Chunk, Document

# Bump when the rules change, so stored facts are read again from the stored chunks.
FACTS_VERSION = "1"


def extract_facts(doc: Document, chunks: Sequence[Chunk]) -> list[PreceptFact | HearingFact]:
    """Every precept decision and confirmation hearing the document records, each field citing its sentence."""
    sentences = document_sentences(chunks)
    return [*extract_precepts(doc, sentences), *extract_hearings(doc, sentences)]
