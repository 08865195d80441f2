"""Confirmation hearings read from minutes: the role, the candidate and the Panel's outcome.

An outcome is a decision sentence (language.panel_acts, not language.is_hypothetical) that
recommends, supports, endorses, confirms or vetoes an appointment: "the Panel recommends ... that
Mr Scott Chilton be appointed as Chief Constable", "supports the proposed appointment of Chris Noble
as Chief Constable", "To recommend ... that Kier Pritchard be appointed". A negative ("not be
appointed", "does not support") is ``other``; conditions ("subject to", "on condition that") make it
``endorsed_with_conditions``. The role is a statutory post named in that sentence, else in the
nearest sentence before it that names the post being filled ("appointment to the post of Chief
Constable"); the candidate is the name the sentence gives (titles dropped), else the name given for
that post earlier in the paper, and none when the paper says only "his preferred candidate".
One fact per role and document; posts such as independent members are not confirmation hearings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from precedent.ingest.facts.language import is_hypothetical, is_resolution, negated, panel_acts
from precedent.ingest.facts.records import Cited, FactSource, HearingFact
from precedent.ingest.facts.sentences import Sentence
from precedent.ingest.records import Document

_ROLES = (r"Chief Constable|Chief Fire Officer|Chief Executive(?: Officer)?|Chief Financ(?:e|ial) Officer|"
          r"Deputy (?:Police(?:, Fire)? and Crime Commissioner|PCC|Commissioner|Mayor for Policing and Crime)")
ROLE = re.compile(rf"\b({_ROLES})\b")
_NOT_THE_POST = re.compile(r"\b(?:Deputy|Assistant|Temporary|Acting|former|retired)\s+$", re.IGNORECASE)
_TITLE = r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Sir|Dame|Professor)\.?\s+)"
_NAME = r"([A-Z][a-z'’\-]+(?:\s+[A-Z][a-z'’\-]+){1,3})"
_CANDIDATE = [
    re.compile(rf"\bappoint(?:ment)?\s+(?:of\s+)?{_TITLE}?{_NAME}\s*,?\s+(?:as|to)\b"),
    re.compile(rf"\bthat\s+{_TITLE}?{_NAME}\s+(?:be|is|should be)\s+(?:appointed|confirmed)\b"),
    re.compile(rf"\bpreferred candidate,?\s+(?:was\s+)?{_TITLE}?{_NAME}\b"),
    re.compile(rf"\b{_TITLE}?{_NAME}(?:,\s+[^.;,]{{1,80}},)?\s+as\s+(?:his|her|their)\s+preferred candidate\b"),
    re.compile(rf"\b(?:{_ROLES}),\s+{_TITLE}{_NAME}\b"),  # "the Deputy Commissioner, Mr Paul Bone,"
]
_UNNAMED = re.compile(r"\b(?:his|her|their|the) preferred candidate\b(?!,?\s+(?:was\s+)?(?:Mr|Mrs|Ms|Dr|[A-Z][a-z]+\s+[A-Z]))")
_ENDORSE = re.compile(
    r"\b(?:recommend(?:s|ed)?\b[^.;]{0,120}?\b(?:be|is|should be)\s+(?:appointed|confirmed)|"
    r"recommend(?:s|ed)?\b[^.;]{0,80}?\bconfirms?\s+the\s+appointment|"
    r"(?:support(?:s|ed)?|endors(?:e|es|ed)|approv(?:e|es|ed)|confirm(?:s|ed)?)\s+the\s+(?:[\w’']+\s+)?"
    r"(?:proposed\s+)?appointment|"
    r"agree(?:s|d)?\s+to\s+(?:support|endorse|approve|confirm)\s+the\s+(?:proposed\s+)?appointment)",
    re.IGNORECASE,
)
_VETO = re.compile(r"\b(?:veto(?:es|ed)?|voted to veto)\b[^.;]{0,60}\bappointment|\bappointment\b[^.;]{0,40}\bvetoed\b",
                   re.IGNORECASE)
_NEGATIVE = re.compile(r"\b(?:not\s+be\s+appointed|recommends?\s+against|declined?\s+to\s+recommend)\b", re.IGNORECASE)
_CONDITIONS = re.compile(r"\b(?:subject to|on condition|conditional on|provided that|with the following conditions?)\b",
                         re.IGNORECASE)
_POST = re.compile(r"\b(?:post|role|office|position)\s+of\s+$|\bappoint(?:ment|ed)?\b[^.;]{0,80}\bas\s+$",
                   re.IGNORECASE)


def outcome_of(text: str) -> str | None:
    """The outcome a sentence records for an appointment, or None when it records none."""
    if is_hypothetical(text) or not re.search(r"\bappoint", text, re.IGNORECASE):
        return None
    veto = _VETO.search(text)
    if veto and panel_acts(text, veto.start()) and not negated(text, veto.start()):
        return "vetoed"
    endorse = _ENDORSE.search(text)
    if endorse is None or not panel_acts(text, endorse.start()):
        return None
    if negated(text, endorse.start()) or _NEGATIVE.search(text):
        return "other"
    return "endorsed_with_conditions" if _CONDITIONS.search(text) else "endorsed"


def roles_in(text: str) -> list[str]:
    """The posts a sentence names as being filled (not "Deputy Chief Constable of South Yorkshire")."""
    found = []
    for m in ROLE.finditer(text):
        if _NOT_THE_POST.search(text[max(0, m.start() - 12): m.start()]):
            continue
        role = "Chief Executive" if m.group(1) == "Chief Executive Officer" else m.group(1)
        if role not in found:
            found.append(role)
    return found


def candidate_in(text: str) -> str | None:
    """The person a sentence names for a post (without title), or None."""
    for pattern in _CANDIDATE:
        for m in pattern.finditer(text):
            if not ROLE.fullmatch(m.group(1)) and not m.group(1).startswith(("The ", "His ", "Her ")):
                return m.group(1)
    return None


def _source(sentence: Sentence) -> FactSource:
    return FactSource(document_id=sentence.chunk.document_id, chunk_id=sentence.chunk.chunk_id,
                      locator=sentence.chunk.locator, sentence=sentence.text, start=sentence.start,
                      end=sentence.end)


def _role_before(sentences: Sequence[Sentence], at: int) -> tuple[str, Sentence] | None:
    """The post the nearest earlier sentence says is being filled ("the post of Chief Constable")."""
    for sentence in reversed(sentences[max(0, at - 12): at]):
        for m in ROLE.finditer(sentence.text):
            if _POST.search(sentence.text[max(0, m.start() - 120): m.start()]):
                return m.group(1), sentence
    return None


def _named_before(sentences: Sequence[Sentence], at: int, role: str) -> Sentence | None:
    """An earlier sentence naming the candidate for ``role``."""
    for sentence in reversed(sentences[:at]):
        if candidate_in(sentence.text) and (role in sentence.text or "preferred candidate" in sentence.text):
            return sentence
    return None


def extract_hearings(doc: Document, sentences: Sequence[Sentence]) -> list[HearingFact]:
    """The confirmation hearings recorded in one document's sentences."""
    by_role: dict[str, tuple[tuple[bool, bool, bool, int], HearingFact]] = {}
    for i, sentence in enumerate(sentences):
        outcome = outcome_of(sentence.text)
        if outcome is None:
            continue
        roles = roles_in(sentence.text)
        role_source = sentence
        if not roles:
            found = _role_before(sentences, i)
            if found is None:
                continue
            roles, role_source = [found[0]], found[1]
        role = roles[0]
        name = candidate_in(sentence.text)
        name_source: Sentence | None = sentence if name else None
        if name is None and not _UNNAMED.search(sentence.text):
            earlier = _named_before(sentences, i, role)
            if earlier is not None:
                name, name_source = candidate_in(earlier.text), earlier
        fact = HearingFact(
            document_id=doc.document_id, role=Cited(value=role, source=_source(role_source)),
            candidate=Cited(value=name, source=_source(name_source)) if name and name_source else None,
            outcome=Cited(value=outcome, source=_source(sentence)),
        )
        # Several sentences may record one outcome: keep the one naming the post and the candidate
        # itself, preferring a resolution, then the later wording.
        rank = (role_source is sentence, name_source is sentence, is_resolution(sentence), i)
        if role not in by_role or rank > by_role[role][0]:
            by_role[role] = (rank, fact)
    return [fact for _, fact in by_role.values()]
