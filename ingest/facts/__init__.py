"""Precept decisions and confirmation hearings as cited facts, read by rules at ingest (no LLM)."""

from precedent.ingest.facts.extract import FACTS_VERSION, extract_facts
from precedent.ingest.facts.records import (
    FACT_KINDS,
    Cited,
    Fact,
    FactSource,
    HearingFact,
    PreceptFact,
    fact_fields,
)

__all__ = ["FACTS_VERSION", "FACT_KINDS", "Cited", "Fact", "FactSource", "HearingFact", "PreceptFact",
           "extract_facts", "fact_fields"]
