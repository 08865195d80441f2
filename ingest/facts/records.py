"""Precept decisions and confirmation hearings as typed records, every field citing its sentence.

A fact is only as good as the sentence behind it: each field carries a ``FactSource`` (document,
chunk, locator, the sentence and its span in the cleaned text), so a reader can check the value
where it was read, and nothing is stored that no sentence states.
"""

from __future__ import annotations

from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, Field

Verdict = Literal["supported", "supported_with_recommendations", "vetoed", "veto_failed", "noted", "other"]
Outcome = Literal["endorsed", "endorsed_with_conditions", "vetoed", "other"]
FactKind = Literal["precept", "hearing"]
FACT_KINDS: tuple[str, ...] = ("precept", "hearing")
VERDICTS: tuple[str, ...] = ("supported", "supported_with_recommendations", "vetoed", "veto_failed", "noted", "other")
OUTCOMES: tuple[str, ...] = ("endorsed", "endorsed_with_conditions", "vetoed", "other")

T = TypeVar("T")


class FactSource(BaseModel):
    """The sentence a value was read from, and where it sits."""

    document_id: str
    chunk_id: str
    locator: str
    sentence: str  # whitespace folded, as a reader would quote it
    start: int  # the sentence's span in the document's cleaned text
    end: int


class Cited(BaseModel, Generic[T]):
    value: T
    source: FactSource


class PreceptFact(BaseModel):
    """A panel's decision on a proposed police precept for one financial year.

    ``retrospective`` marks a decision the paper recalls from an earlier year (a table of past
    precepts), which was not taken at this meeting.
    """

    kind: Literal["precept"] = "precept"
    document_id: str
    year: Cited[str]  # financial year, "2019/20"
    band_d: Cited[float] | None = None  # the proposed Band D police precept, in pounds
    increase_pounds: Cited[float] | None = None
    increase_percent: Cited[float] | None = None
    verdict: Cited[Verdict]
    retrospective: bool = False


class HearingFact(BaseModel):
    """A panel's confirmation hearing on one proposed appointment."""

    kind: Literal["hearing"] = "hearing"
    document_id: str
    role: Cited[str]  # as stated: "Chief Constable", "Chief Fire Officer"
    candidate: Cited[str] | None = None  # the name without title; None when the paper names nobody
    outcome: Cited[Outcome]


Fact = Annotated[PreceptFact | HearingFact, Field(discriminator="kind")]

PRECEPT_FIELDS: tuple[str, ...] = ("year", "band_d", "increase_pounds", "increase_percent", "verdict")
HEARING_FIELDS: tuple[str, ...] = ("role", "candidate", "outcome")


def fact_fields(fact: PreceptFact | HearingFact) -> dict[str, Cited]:  # type: ignore[type-arg]
    """The fact's cited fields that hold a value, by name."""
    names = PRECEPT_FIELDS if fact.kind == "precept" else HEARING_FIELDS
    return {name: value for name in names if (value := getattr(fact, name)) is not None}
