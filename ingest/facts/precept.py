"""Precept decisions read from minutes and reports: year, Band D, the rise in pounds and per cent, the verdict.

Rules over sentences, in three steps:

1. **Claims.** Each sentence about the police precept (it names the precept, council tax, Band D or
   the policing element, or follows one with "This is ...") yields what it states: amounts, each
   classed by the words before it as the Band D level ("taking the charge to £187.11", "a precept of
   £188", "would pay £188") or the rise ("an increase of £12", "an additional £12", "by £10 a year",
   "(£24 for a Band D property)" after a percentage); percentages tied to a rise ("by 12.75%",
   "a 5.5% increase", "£12 (7.95%)"); and the verdict, when the Panel is the one deciding
   (language.panel_acts) and the sentence is not about its powers (language.is_hypothetical).
   Amounts a week or a month, in millions, caps ("up to £12", "referendum limit") and the options of a
   consultation are not claims. A run of records each led by a financial year ("2013/14 increase of
   3.8% (£5 for Band D) supported ... 2014/15 increase of 1.99% endorsed") is a flattened table of
   earlier decisions: each record is read on its own, for its own year.
2. **Years.** A claim belongs to the year its sentence names (not one it compares with: "than in
   2013/14"); otherwise to the document's precept year, the year its precept sentences name most.
3. **Facts.** A year with a verdict becomes a fact. Verdicts rank vetoed > veto failed > supported >
   noted > other; "supported" becomes "supported with recommendations" when a resolution also asks
   something of the Commissioner. For each figure a decision's own wording wins over the proposal's,
   then the most repeated value, then the first. A year before the meeting's own is retrospective.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from precedent.ingest.facts.language import (
    claim_years,
    financial_years,
    fy_start,
    is_hypothetical,
    is_resolution,
    negated,
    panel_acts,
    records_resolution,
)
from precedent.ingest.facts.records import Cited, FactSource, PreceptFact
from precedent.ingest.facts.sentences import Sentence
from precedent.ingest.records import Document

_PRECEPT_WORDS = re.compile(r"\b(?:precepts?|council tax|band d|policing element|police element|policing charge)\b",
                            re.IGNORECASE)
_ANAPHORA = re.compile(r"^(?:this|that|it|which|the (?:increase|rise))\b", re.IGNORECASE)
_NOT_A_PROPOSAL = re.compile(
    r"\b(?:consult\w*|referendum|cap|capped|limit|alternatives?|options?|would have|could|might|if|"
    r"maximum|permitted|allowing|allowed)\b",
    re.IGNORECASE,
)
# Which precept a figure is about, where a commissioner sets two (police and fire): the nearest of these
# words, once the names of offices ("Police, Fire and Crime Commissioner") are set aside.
_OFFICE = re.compile(r"\bpolice(?:,?\s+fire(?:\s+and\s+rescue)?)?\s+and\s+crime\s+(?:commissioner|panel|plan)\w*|"
                     r"\bP(?:F)?CC\b", re.IGNORECASE)
_TOPIC = re.compile(r"\b(?:(?P<fire>fire)|(?P<police>polic(?:e|ing)))\b", re.IGNORECASE)
# A figure compared with an earlier year ("£70.83 a year more than in 2017"), and every figure after such
# a comparison in its sentence ("..., an increase of 34%"), is a cumulative change, not this year's proposal.
_COMPARED_AFTER = re.compile(r"^\s*(?:a year\s+)?(?:more|less|higher|lower)\b[^.;]{0,60}?\bthan\b", re.IGNORECASE)
_COMPARISON = re.compile(r"\b(?:more|less|higher|lower)\b[^.;]{0,60}?\bthan\s+(?:in\s+)?(?:19|20)\d\d|"
                         r"\bsince\s+(?:19|20)\d\d|\bcompared\s+(?:with|to)\s+(?:19|20)\d\d", re.IGNORECASE)
_APPOINT = re.compile(r"\bappoint", re.IGNORECASE)

_MONEY = re.compile(r"£\s?(\d{1,3}(?:\.\d{1,4})?)(?!\d|,\d{3}|\.\d|\s?(?:m\b|million|bn\b|billion|k\b))")
_PERCENT = re.compile(r"(?<![\d.])(\d{1,2}(?:\.\d{1,2})?)\s?(?:%|per\s?cent\b)")
_PERIOD_AFTER = re.compile(r"^\s*(?:a|per)\s+(?:week|month|day)\b|^\s*(?:weekly|monthly)\b", re.IGNORECASE)
_CAP_BEFORE = re.compile(r"\b(?:up to|maximum of|max\.?|limit of|cap of|capped at|no more than)\s+(?:an?\s+)?"
                         r"(?:\w+\s+(?:of|by)\s+)?$", re.IGNORECASE)
_RISE = r"(?:increase|increases|increased|increasing|rise|rises|rising|raise|raises|raising|uplift)"
_QUALIFIER = r"(?:just\s+|only\s+|about\s+|around\s+|roughly\s+|some\s+|a further\s+)?"
_PRECEPT_OBJECT = r"(?:precept|council tax|policing element|police element|charge|bill|band d)"

# Amounts: the words just before "£" say whether it is the rise or the Band D level. First match wins.
_RISE_BEFORE = [
    re.compile(r"\b(?:extra|additional|further)\s+$", re.IGNORECASE),
    re.compile(rf"\b{_RISE}\s+(?:of|by)\s+{_QUALIFIER}$", re.IGNORECASE),
    re.compile(rf"\b{_RISE}\b[^£%;]{{0,30}}\b(?:amount\w*|equat\w*|comes?|came|works? out)\s+to\s+{_QUALIFIER}$",
               re.IGNORECASE),
    re.compile(r"\b(?:add|adds|adding)\s+$", re.IGNORECASE),
    re.compile(r"\d\s?%\s*\(\s*$"),
    re.compile(r"\+\s*$"),
]
_LEVEL_BEFORE = [
    re.compile(r"\b(?:from|by)\s+£\s?[\d.]+\s+(?:a year\s+)?to\s+$", re.IGNORECASE),
    re.compile(r"\b(?:taking|takes|take|bringing|brings|bring)\b[^£%;]{0,70}\bto\s+$", re.IGNORECASE),
    re.compile(r"\bpay(?:s|ing)?\s+(?:an?\s+)?(?:annual\s+|total\s+of\s+)?$", re.IGNORECASE),
    re.compile(r"\bprecept\s+(?:for\s+\S+\s+)?(?:of|at|is|was|will be|would be|be|to be|set at)\s+$", re.IGNORECASE),
    re.compile(r"\bband\s+d\b[^£%;]{0,40}\b(?:charge|precept|bill|amount|council tax)\s+(?:of|is|was|will be|would be|at)\s+$",
               re.IGNORECASE),
    re.compile(r"\bcharge\s+(?:of|to|at)\s+$", re.IGNORECASE),
]
# Checked after the level rules: "raise the policing element of council tax by £12".
_RISE_BY = re.compile(rf"\b(?:{_RISE}|lift|put up)\b[^£%;]{{0,80}}\bby\s+{_QUALIFIER}$", re.IGNORECASE)
_RISE_AFTER = re.compile(rf"^\s*(?:\([^()]*\)\s*)?(?:a year\s+)?(?:{_RISE}|more)\b", re.IGNORECASE)

_PERCENT_BEFORE = [
    re.compile(rf"\b{_RISE}\s+(?:of|by)\s+{_QUALIFIER}$", re.IGNORECASE),
    re.compile(r"\bprecept\s+(?:\w+\s+){0,2}?of\s+$", re.IGNORECASE),  # a precept "of 4.9%" can only be a rise
    re.compile(rf"\b(?:{_RISE}|lift|put up)\b[^£%;]*\b{_PRECEPT_OBJECT}\b[^£%;]{{0,40}}\bby\s+{_QUALIFIER}$",
               re.IGNORECASE),
    re.compile(r"£\s?[\d.]+\s*(?:a year\s*)?(?:for\s+(?:an?\s+)?band\s+d[^()%£]*)?\(\s*$", re.IGNORECASE),
]
_PERCENT_AFTER = re.compile(rf"^\s*(?:{_RISE})\b", re.IGNORECASE)

# Verdicts. Each is (pattern, verdict); the pattern's first group, or the match, starts at the verb.
_SUPPORT = re.compile(
    r"\b(?:support(?:s|ed)?|endors(?:e|es|ed)|approv(?:e|es|ed)|accept(?:s|ed)?|"
    r"agree(?:s|d)?\s+to\s+(?:support|endorse|approve|accept)|"
    r"agree(?:s|d)?\s+(?:the|this)\s+(?:[\w’']+\s+){0,3}?(?:precept|proposal|increase)|"
    r"resolved\s+to\s+(?:support|endorse|approve|accept)|"
    r"g(?:ave|ive|ives)\s+(?:its\s+)?(?:\w+\s+)?support|voted\s+(?:unanimously\s+)?to\s+(?:support|approve|endorse))\b",
    re.IGNORECASE,
)
_SUPPORT_PASSIVE = re.compile(r"\b(?:be|is|was|were|been)\s+(?:unanimously\s+)?(?:approved|supported|endorsed|accepted)\b",
                              re.IGNORECASE)
_NOTE = re.compile(r"\bnot(?:es|ed)\b", re.IGNORECASE)
_NOTE_PASSIVE = re.compile(r"\b(?:be|is|was|were)\s+noted\b", re.IGNORECASE)
# A veto the Panel used: "the Panel vetoes", "voted to veto", "has been vetoed", "the majority for a veto was achieved".
_VETO_ACTIVE = re.compile(r"\b(?:vetoes|vetoed|(?:voted|decided|resolved|agreed)\s+to\s+veto|exercised\s+its\s+"
                          r"(?:power\s+of\s+)?veto)\b", re.IGNORECASE)
_VETO_PASSIVE = re.compile(r"\b(?:was|were|has been|have been|had been|be|is)\s+vetoed\b", re.IGNORECASE)
_VETO_CARRIED = re.compile(r"\bmajority\b[^.;]{0,40}\bveto\b[^.;]{0,20}\b(?:was|were|had been)\s+"
                           r"(?:achieved|reached|secured|obtained)\b", re.IGNORECASE)
# A veto attempted and lost: "fell short of the 12 needed for a veto", "not vetoed, as the two-thirds majority was not reached".
_VETO_LOST = re.compile(
    r"\b(?:fell|falls|was|were)\s+short\s+of\b[^.;]{0,60}\bveto\b|"
    r"\bveto\w*\b[^.;]{0,80}\bnot\s+(?:been\s+)?(?:reached|achieved|secured|obtained)\b|"
    r"\b(?:motion|vote|attempt|proposal)\s+to\s+veto\b[^.;]{0,60}\b(?:failed|fell|was\s+(?:lost|defeated))\b|"
    r"\bnot\s+(?:been\s+)?vetoed\b[^.;]{0,80}\b(?:majority|votes?)\b[^.;]{0,40}\bnot\b",
    re.IGNORECASE,
)
_ROW_VERDICT = re.compile(r"\b(?:(not\s+)?(supported|endorsed|approved|accepted|agreed)|(vetoed)|(noted))\b",
                          re.IGNORECASE)
_RECOMMENDATION = re.compile(
    r"\b(?:with|subject to|makes?|made|following)\s+(?:the\s+following\s+)?recommendations?\b|"
    r"\brecommends?\s+that\s+the\s+(?:police(?:,\s+fire)?\s+and\s+crime\s+)?(?:commissioner|pcc)\b|"
    r"^(?:[\w.()•\s]{0,8}?)(?:that\s+)?the\s+(?:police(?:,\s+fire)?\s+and\s+crime\s+)?(?:commissioner|pcc)\s+"
    r"(?:be\s+(?:asked|requested|invited)|provides?|considers?|reviews?|reports?|publish(?:es)?|sets?\s+out|"
    r"ensures?|keeps?|gives?|writes?|shares?|circulates?|updates?)\b",
    re.IGNORECASE,
)

VERDICT_RANK = {"vetoed": 0, "veto_failed": 1, "supported": 2, "noted": 3, "other": 4}


@dataclass
class _Claim:
    field: str
    value: float | str
    sentence: Sentence
    decision: bool  # stated in a decision (a verdict sentence), which outranks the proposal's wording


@dataclass
class _Year:
    claims: list[_Claim] = field(default_factory=list)
    year_sources: list[tuple[Sentence, bool]] = field(default_factory=list)  # (sentence, from a decision)
    from_row: bool = False


def _source(sentence: Sentence) -> FactSource:
    return FactSource(document_id=sentence.chunk.document_id, chunk_id=sentence.chunk.chunk_id,
                      locator=sentence.chunk.locator, sentence=sentence.text, start=sentence.start,
                      end=sentence.end)


def is_about_precept(sentence: Sentence, previous: Sentence | None) -> bool:
    """Names the police precept, or continues a sentence that did ("This is an increase of 4.2%")."""
    if _APPOINT.search(sentence.text):
        return False
    if _PRECEPT_WORDS.search(sentence.text):
        return True
    return bool(previous is not None and previous.chunk is sentence.chunk and _ANAPHORA.match(sentence.text)
                and _PRECEPT_WORDS.search(previous.text))


def topic(text: str, at: int | None = None) -> str | None:
    """"fire" or "police": the precept the text (or the figure at ``at``) is about, by the nearest word naming one."""
    plain = _OFFICE.sub(lambda m: " " * len(m.group(0)), text)
    mentions = [(m.start(), "fire" if m.group("fire") else "police") for m in _TOPIC.finditer(plain)]
    if not mentions:
        return None
    if at is None:
        kinds = {k for _, k in mentions}
        return "police" if "police" in kinds else "fire"
    before = [(at - pos, kind) for pos, kind in mentions if pos < at]
    if before:
        return min(before)[1]
    return min((pos - at, kind) for pos, kind in mentions)[1]


def amounts(text: str, inherited: str | None = None) -> list[tuple[str, float]]:
    """The police precept figures a piece of text states: ("band_d" | "increase_pounds" | "increase_percent", value).

    ``inherited`` is the precept the previous sentence was about, for one that names none itself.
    """
    found: list[tuple[str, float]] = []
    compared = _COMPARISON.search(text)
    cutoff = compared.start() if compared else len(text)

    def skip(at: int, after: str) -> bool:
        return at >= cutoff or (topic(text, at) or inherited) == "fire" or bool(_COMPARED_AFTER.match(after))

    for m in _MONEY.finditer(text):
        before, after = text[max(0, m.start() - 100): m.start()], text[m.end(): m.end() + 80]
        if _PERIOD_AFTER.match(after) or re.match(r"^\s*p\b", after) or _CAP_BEFORE.search(before):
            continue
        if skip(m.start(), after):
            continue
        kind = None
        if any(p.search(before) for p in _RISE_BEFORE):
            kind = "increase_pounds"
        elif any(p.search(before) for p in _LEVEL_BEFORE):
            kind = "band_d"
        elif _RISE_BY.search(before) or _RISE_AFTER.match(after):
            kind = "increase_pounds"
        if kind:
            found.append((kind, float(m.group(1))))
    for m in _PERCENT.finditer(text):
        before, after = text[max(0, m.start() - 120): m.start()], text[m.end(): m.end() + 80]
        if _CAP_BEFORE.search(before) or skip(m.start(), after):
            continue
        if any(p.search(before) for p in _PERCENT_BEFORE) or _PERCENT_AFTER.match(after):
            found.append(("increase_percent", float(m.group(1))))
    return found


def verdicts(text: str) -> list[str]:
    """The verdicts a decision sentence records on a precept (empty when it records none)."""
    if is_hypothetical(text):
        return []
    out: list[str] = []
    if _VETO_LOST.search(text):
        out.append("veto_failed")
    else:
        active = _VETO_ACTIVE.search(text)
        passive = _VETO_PASSIVE.search(text)
        if (active and panel_acts(text, active.start()) and not negated(text, active.start())) or _VETO_CARRIED.search(text) \
                or (passive and not re.search(r"\bnot\s+$", text[max(0, passive.start() - 6): passive.start() + 4])):
            out.append("vetoed")
    for m in _SUPPORT.finditer(text):
        if panel_acts(text, m.start()):
            out.append("other" if negated(text, m.start()) else "supported")
    for m in _SUPPORT_PASSIVE.finditer(text):
        if _PRECEPT_WORDS.search(text[: m.start()]) or re.search(r"\bproposals?\b", text[: m.start()], re.I):
            out.append("other" if re.search(r"\bnot\s+$", text[max(0, m.start() - 6): m.start() + 3]) else "supported")
    if not out:
        for m in list(_NOTE.finditer(text)) + list(_NOTE_PASSIVE.finditer(text)):
            if panel_acts(text, m.start()) or m.re is _NOTE_PASSIVE:
                if _PRECEPT_WORDS.search(text):
                    out.append("noted")
    return out


def _rows(text: str) -> list[tuple[int, int, str]]:
    """Records of a flattened table, each led by a financial year: (start, end, year)."""
    starts = [(s, fy) for fy, s, e in financial_years(text)
              if re.match(r"^\s*(?:\(|:|-)?\s*(?:(?:\w+\s+){0,2}?(?:increase|rise|precept|freeze|decrease)\b|\+\s?£)", text[e:], re.I)
              and (s == 0 or re.search(r"(?:^|[\s.;:)])$", text[:s]) and not re.search(
                  r"\b(?:for|in|of|to|the|and|since|from)\s+$", text[max(0, s - 8): s], re.I))]
    if not starts or (len(starts) == 1 and starts[0][0] > 3):
        return []
    bounds = [s for s, _ in starts] + [len(text)]
    return [(bounds[i], bounds[i + 1], fy) for i, (_, fy) in enumerate(starts)]


def _row_verdict(record: str) -> str | None:
    for m in _ROW_VERDICT.finditer(record):
        if m.group(3):
            return "vetoed"
        if m.group(4):
            return "noted"
        return "other" if m.group(1) else "supported"
    return None


def extract_precepts(doc: Document, sentences: Sequence[Sentence]) -> list[PreceptFact]:
    """The precept decisions recorded in one document's sentences."""
    years: dict[str, _Year] = {}
    loose: list[_Claim] = []  # claims whose sentence names no year: the document's precept year
    loose_years: list[tuple[Sentence, bool]] = []
    year_counts: Counter[str] = Counter()
    first_mention: dict[str, Sentence] = {}
    recommendations: list[Sentence] = []

    previous: Sentence | None = None
    previous_topic: str | None = None
    for sentence in sentences:
        text = sentence.text
        about = is_about_precept(sentence, previous)
        # A sentence naming neither precept continues the one before it in its paragraph.
        inherited = previous_topic if previous is not None and previous.chunk is sentence.chunk else None
        current = topic(text) or inherited
        previous, previous_topic = sentence, current
        # Not checked for modal verbs: a request's purpose clause often has one ("so that ... can be monitored").
        if _RECOMMENDATION.search(text) and records_resolution(sentence):
            recommendations.append(sentence)
        if not about:
            continue
        rows = _rows(text)
        if rows:
            for start, end, fy in rows:
                record = sentence.part(start, end)  # each record cites itself, not the whole table
                slot = years.setdefault(fy, _Year(from_row=True))
                verdict = _row_verdict(record.text)
                decided = verdict is not None
                slot.year_sources.append((record, decided))
                if verdict:
                    slot.claims.append(_Claim("verdict", verdict, record, True))
                for name, value in amounts(record.text, inherited):
                    slot.claims.append(_Claim(name, value, record, decided))
            continue
        found = verdicts(text) if current != "fire" else []
        decision = bool(found)
        claims = [_Claim("verdict", v, sentence, True) for v in found]
        if not _NOT_A_PROPOSAL.search(text) or decision:
            claims += [_Claim(name, value, sentence, decision) for name, value in amounts(text, inherited)]
        named = list(dict.fromkeys(fy for fy, _, _ in claim_years(text)))
        for fy in named:
            year_counts[fy] += 1
            first_mention.setdefault(fy, sentence)
        if len(named) == 1:
            slot = years.setdefault(named[0], _Year())
            slot.claims.extend(claims)
            slot.year_sources.append((sentence, decision))
        elif claims:
            loose.extend(claims)
            loose_years.append((sentence, decision))

    main = _main_year(doc, year_counts)
    if main is not None and (loose or main in years):
        slot = years.setdefault(main, _Year())
        slot.from_row = False
        slot.claims.extend(loose)
        if not slot.year_sources and main in first_mention:
            slot.year_sources.append((first_mention[main], False))
    facts = []
    for fy, slot in sorted(years.items()):
        fact = _fact(doc, fy, slot, recommendations, main)
        if fact is not None:
            facts.append(fact)
    return facts


def _main_year(doc: Document, counts: Counter[str]) -> str | None:
    """The year the document's precept sentences name most (the title's year breaks a tie)."""
    if not counts:
        return None
    title_years = {fy for fy, _, _ in financial_years(doc.title)}
    return max(counts, key=lambda fy: (counts[fy] + (0.5 if fy in title_years else 0), fy))


def _best(claims: Sequence[_Claim], name: str) -> _Claim | None:
    """A decision's wording first, then the most repeated value, then the first stated."""
    of_field = [c for c in claims if c.field == name]
    if not of_field:
        return None
    decided = [c for c in of_field if c.decision] or of_field
    counts = Counter(c.value for c in decided)
    top = max(counts.values())
    return next(c for c in decided if counts[c.value] == top)


def _fact(doc: Document, fy: str, slot: _Year, recommendations: Sequence[Sentence], main: str | None) -> PreceptFact | None:
    verdicts_ = [c for c in slot.claims if c.field == "verdict"]
    if not verdicts_ or not slot.year_sources:
        return None
    verdict = min(verdicts_, key=lambda c: (VERDICT_RANK[str(c.value)], not is_resolution(c.sentence),
                                            c.sentence.index))
    value = str(verdict.value)
    # A recommendation belongs to this decision when it sits in the same resolution (this chunk or the next).
    if value == "supported" and not slot.from_row and any(
        abs(r.chunk.ordinal - verdict.sentence.chunk.ordinal) <= 1
        for r in recommendations
    ):
        value = "supported_with_recommendations"
    # The year is cited from the verdict's own sentence when it names it, else from another decision, else
    # from the first sentence that does.
    year_sentence = verdict.sentence if fy in verdict.sentence.text else next(
        (s for s, decided in slot.year_sources if decided and fy in s.text), None) or next(
        (s for s, _ in slot.year_sources if fy in s.text), None)
    if year_sentence is None:
        return None

    def cited(name: str) -> Cited | None:  # type: ignore[type-arg]
        claim = _best(slot.claims, name)
        return Cited(value=claim.value, source=_source(claim.sentence)) if claim else None

    return PreceptFact(
        document_id=doc.document_id, year=Cited(value=fy, source=_source(year_sentence)),
        band_d=cited("band_d"), increase_pounds=cited("increase_pounds"), increase_percent=cited("increase_percent"),
        verdict=Cited(value=value, source=_source(verdict.sentence)),
        retrospective=_retrospective(doc.meeting_date, fy, main),
    )


def _retrospective(meeting: dt.date | None, fy: str, main: str | None) -> bool:
    """A year before the one the meeting decides (precepts are set in the winter before April)."""
    if meeting is not None:
        decided = meeting.year if meeting.month <= 8 else meeting.year + 1
        return fy_start(fy) < decided
    return main is not None and fy != main
