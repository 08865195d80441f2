"""The wording of panel decisions: who decides, whether it is only a possibility, which year.

Shared by the precept and hearing rules. Minutes record a decision as a sentence whose subject
is the Panel ("the Panel supports ..."), as a resolution with no subject ("RESOLVED - That the
Panel: 1. supports ...", "Resolved: To recommend ...") or in the passive ("That the proposed
precept be approved"). The same verbs also appear where papers explain the Panel's powers ("the
Panel could accept the proposal, make recommendations, or veto it"); those are possibilities, not
decisions, and are recognised by their modal verbs.
"""

from __future__ import annotations

import re

from precedent.ingest.facts.sentences import Sentence

# A financial year: "2019/20", "2019-20", "2019/2020".
_FY = re.compile(r"(?<![\d/£.])((?:19|20)\d{2})\s?[/–-]\s?(\d{4}|\d{2})(?![\d/%])")
# Words before a year that make it a point of comparison, not the year a sentence is about.
_COMPARISON = re.compile(
    r"\b(?:than(?: in)?|compared (?:with|to)|from|since|previous|last|current|prior to|before|at the)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_HYPOTHETICAL = re.compile(
    r"\b(?:could|may|might|can|cannot|would need|would have|must|if|whether|unless|options?|powers?|"
    r"reminded|required (?:a|the votes)|requires|guidance|would be able)\b",
    re.IGNORECASE,
)
# Who a verb belongs to: the nearest of these before it.
_AGENT = re.compile(
    r"\b(?:(?P<panel>(?:the\s+)?(?:panel|committee)|members|it)|"
    r"(?P<other>(?:deputy\s+)?(?:police(?:,\s+fire(?:\s+and\s+rescue)?)?\s+and\s+crime\s+)?commissioner|pcc|chief constable|government|treasurer|officer|minister|force|public|"
    r"respondents|residents|secretary|chair(?:man)?|he|she|they))\b",
    re.IGNORECASE,
)
_OBJECT_BEFORE = re.compile(r"\b(?:of|to|with|from|by|for|on|at|about|into|as|and)\s+(?:the\s+|its\s+|their\s+|his\s+|her\s+)?$",
                            re.IGNORECASE)
_LABEL = r"(?:[•·▪\-–]\s*)?(?:\(?[\w.]{1,6}\)|\d{1,3}(?:\.\d{1,3})*\.?)?\s*"
# A resolution's opening, after which a bare verb is the Panel's: "RESOLVED - That the Panel:", "(a) That",
# "Resolved: To recommend", "2. supports".
_RESOLUTION_LEAD = re.compile(
    rf"^{_LABEL}(?:(?:resolved|agreed|decision)\b[\s:–-]*)?(?:that\s+)?(?:to\s+)?$", re.IGNORECASE
)
_RESOLVED = re.compile(r"\b(?:resolved|agreed)\s+(?:that|to)\b", re.IGNORECASE)
_RESOLUTION_START = re.compile(rf"^{_LABEL}(?:resolved|that\b|to\s+(?:support|recommend|endorse|approve|veto|note))",
                               re.IGNORECASE)


def financial_years(text: str) -> list[tuple[str, int, int]]:
    """The financial years a sentence names, as ("2019/20", start, end)."""
    found = []
    for m in _FY.finditer(text):
        first, second = int(m.group(1)), m.group(2)
        if int(second[-2:]) != (first + 1) % 100 or (len(second) == 4 and int(second) != first + 1):
            continue
        found.append((f"{first}/{(first + 1) % 100:02d}", m.start(), m.end()))
    return found


def claim_years(text: str) -> list[tuple[str, int, int]]:
    """The financial years a sentence is about: not those it compares with ("than in 2013/14")."""
    return [(fy, s, e) for fy, s, e in financial_years(text) if not _COMPARISON.search(text[max(0, s - 30): s])]


def fy_start(year: str) -> int:
    return int(year[:4])


def is_hypothetical(text: str) -> bool:
    """Powers, options and conditions ("the Panel could veto it", "if the precept were vetoed")."""
    return bool(_HYPOTHETICAL.search(text))


def is_resolution(sentence: Sentence) -> bool:
    """A sentence of a formal resolution: "RESOLVED that ...", "(a) That ...", "To support ...", or one in a
    block the chunker labelled a resolution."""
    return bool(_RESOLUTION_START.match(sentence.text)) or "resolution" in sentence.chunk.locator


def records_resolution(sentence: Sentence) -> bool:
    """A formal resolution, or a sentence reporting one ("Members resolved to ...", "It was agreed that ...")."""
    return is_resolution(sentence) or bool(_RESOLVED.search(sentence.text))


def panel_acts(text: str, verb_start: int) -> bool:
    """Is the Panel the one doing the verb that starts at ``verb_start``?

    Yes when the nearest actor named before it is the Panel (or its members), or when nothing but a
    resolution's opening comes before it ("RESOLVED that", "(2) supports", "To recommend").
    """
    before = text[:verb_start]
    if _RESOLUTION_LEAD.match(before):
        return True
    last = None
    for m in _AGENT.finditer(before):
        # Objects are not actors: "appointment of the Deputy Commissioner", "to the PCC", "the Commissioner's proposal".
        if _OBJECT_BEFORE.search(before[max(0, m.start() - 16): m.start()]) or re.match(r"['’]s\b", before[m.end():]):
            continue
        last = m
    return last is not None and last.group("panel") is not None


def negated(text: str, verb_start: int) -> bool:
    """"does not support", "did not endorse", "declined to", "unable to" just before the verb."""
    return bool(re.search(r"\b(?:not|never|declined to|refused to|unable to|decided against)\s+(?:\w+\s+)?$",
                          text[max(0, verb_start - 30): verb_start], re.IGNORECASE))
