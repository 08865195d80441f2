"""Cited answers without an LLM: the best sentences of the passages that clear the relevance bar.

``ask`` runs the whole path: follow-up resolution, filtered hybrid search, the relevance bar,
then ``compose_answer``, which groups the passages by force and meeting, orders the groups by
meeting date (undated papers last), and writes a lead line followed by one line per passage whose
every sentence ends with the passage's ``[n]``. Nothing is written that is not a quoted sentence
of a cited passage, apart from the lead line and the meeting headings that frame them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, Field

from precedent.ingest.dates import human_date
from precedent.ingest.records import UNKNOWN_PANEL, Filters
from precedent.ingest.sentences import sentences
from precedent.search.citations import Citation, strip_markers
from precedent.search.cues import read_cues, without_forces
from precedent.search.filters import FilterSpec, build_filters
from precedent.search.followup import RESOLUTION_WORDS, RESOLUTIONS, Resolved, Turn, resolve
from precedent.search.query import parse_query, stem_sets
from precedent.search.relevance import RelevanceJudge
from precedent.search.retrieve import Searcher, SearchHit

DEFAULT_K = 8
MAX_SENTENCE_CHARS = 320
SENTENCES_PER_PASSAGE = 2
# Below the bar but this close: worth naming as "the nearest topics the archive covers". On the seed
# index, general questions (the weather, recipes) score under 0.2 and policing topics the papers never
# discuss 0.35-1.2, against a bar of 1.22 (see search/relevance.py).
NEAREST_TOPIC_FLOOR = 0.5

_NUMBERS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


class AnswerCitation(BaseModel):
    n: int
    text: str  # the whole passage
    snippet: str  # its best sentences with the question's words in <mark>
    citation: Citation


def describe_filters(filters: Filters) -> str:
    """"Dorset, since 1 January 2020, minutes only": the scope a "nothing found" searched."""
    parts = []
    if filters.force:
        parts.append(" or ".join(filters.force))
    if filters.since:
        parts.append(f"since {human_date(filters.since)}")
    if filters.until:
        parts.append(f"until {human_date(filters.until)}")
    if filters.doc_type:
        parts.append(f"{filters.doc_type} only")
    return ", ".join(parts)


class Answer(BaseModel):
    """An answer whose claims each end with ``[n]``, ``n`` being a citation's number."""

    question: str
    answer: str
    found: bool
    citations: list[AnswerCitation] = Field(default_factory=list)
    filters_applied: Filters = Field(default_factory=Filters)
    # Which of filters_applied the question itself implied ("force", "since", "until", "doc_type"):
    # the page shows them as chips the user can remove (then it asks again with use_cues false).
    cues: list[str] = Field(default_factory=list)
    rewritten_question: str | None = None
    mode: str = "extractive"  # or "llm"
    dropped: list[str] = Field(default_factory=list)  # LLM sentences removed for lacking a valid citation


@dataclass
class Retrieved:
    """What an answer is written from: the passages that cleared the bar, and the nearest others."""

    question: str
    resolved: Resolved
    filters: Filters
    hits: list[SearchHit]  # everything retrieved, in rank order
    relevant: list[SearchHit]
    nearest: list[tuple[SearchHit, float]]  # best hits below the bar, with their relevance scores
    unknown_forces: list[str]
    covered_forces: list[str]
    judge: RelevanceJudge
    cues: list[str]  # the filters the question implied
    relaxed: str | None = None  # the cued scope that held nothing, when the search looked beyond it


def with_cues(question: str, requested: FilterSpec) -> tuple[FilterSpec, list[str]]:
    """The request's filters, with what the question itself says (search/cues.py) filling the ones the
    request leaves open; and which filters came from the question."""
    cues = read_cues(question)
    said = {"force": cues.force_filter, "since": cues.since, "until": cues.until, "doc_type": cues.doc_type}
    taken = {name: value for name, value in said.items() if value and not getattr(requested, name)}
    return requested.model_copy(update=taken), list(taken)


def retrieve(searcher: Searcher, question: str, *, k: int = DEFAULT_K, filters: FilterSpec | None = None,
             history: Sequence[Turn] = (), use_cues: bool = True, mode: str = "hybrid") -> Retrieved:
    """Resolve a follow-up, read the question's cues, search with the filters, and split the hits at
    the relevance bar."""
    resolved = resolve(question, history, filters)
    spec, cued = resolved.filters, []
    if use_cues and not resolved.is_followup:  # a follow-up's cues are part of resolving it
        spec, cued = with_cues(question, spec)
    known = searcher.store.known_forces()
    unknown: list[str] = []
    if resolved.is_followup or "force" in cued:
        # A force the question names but the index lacks is an answer ("no papers"), not a 422.
        unknown = [f for f in spec.force if f not in known]
    forces = tuple(f for f in spec.force if f not in unknown)
    built = build_filters(known, spec.model_copy(update={"force": forces}))
    judge = RelevanceJudge(searcher, without_forces(resolved.topic, forces))
    if unknown and not forces:
        return Retrieved(question, resolved, built, [], [], [], unknown, known, judge, cued)
    text = without_forces(resolved.search_text, forces)
    hits, relevant, nearest = _search(searcher, text, k, built, mode, judge)
    loose = [name for name in ("since", "until", "doc_type") if name in cued]
    if loose and not relevant:
        # "HMIC's findings in 2016" were heard in 2017: a year or a kind of paper in the question may be
        # what it is about rather than when or where it was said. Nothing there: look beyond it, and say so.
        wider = build_filters(known, spec.model_copy(update={"force": forces, **dict.fromkeys(loose)}))
        wider_hits, wider_relevant, wider_nearest = _search(searcher, text, k, wider, mode, judge)
        if wider_relevant or not hits:
            return Retrieved(question, resolved, wider, wider_hits, wider_relevant, wider_nearest, unknown, known,
                             judge, [c for c in cued if c not in loose],
                             relaxed=describe_filters(Filters(**{name: getattr(built, name) for name in loose})))
    return Retrieved(question, resolved, built, hits, relevant, nearest, unknown, known, judge, cued)


def _search(searcher: Searcher, text: str, k: int, filters: Filters, mode: str,
            judge: RelevanceJudge) -> tuple[list[SearchHit], list[SearchHit], list[tuple[SearchHit, float]]]:
    """The hits, those that clear the relevance bar, and the rest with their scores (best first)."""
    hits = searcher.search(text, k=k, filters=filters, mode=mode)
    scored = list(zip(hits, judge.judge(hits), strict=True))
    relevant = [h for h, r in scored if r.clears_bar]
    nearest = sorted(((h, r.score) for h, r in scored if not r.clears_bar), key=lambda hr: -hr[1])
    return hits, relevant, nearest


def ask(searcher: Searcher, question: str, *, k: int = DEFAULT_K, filters: FilterSpec | None = None,
        history: Sequence[Turn] = (), use_cues: bool = True) -> Answer:
    """The extractive answer to ``question``: no LLM, no network."""
    return compose_answer(retrieve(searcher, question, k=k, filters=filters, history=history, use_cues=use_cues))


# -- composing -------------------------------------------------------------------------------


def compose_answer(retrieved: Retrieved) -> Answer:
    if not retrieved.relevant:
        return nothing_found(retrieved)
    focus = parse_query(" ".join(RESOLUTION_WORDS)).terms if retrieved.resolved.focus == RESOLUTIONS else ()
    groups = group_by_meeting(retrieved.relevant)
    lines = [lead_line(retrieved.resolved.topic, groups)]
    citations: list[AnswerCitation] = []
    any_resolution = False
    for group in groups:
        lines.append("")
        lines.append(group_heading(group) + ":")
        for hit in group:
            n = len(citations) + 1
            picked = pick_sentences(hit.chunk.text, retrieved.judge, focus)
            any_resolution |= bool(focus) and any(_mentions(s, focus) for s in picked)
            lines.append("- " + " ".join(cite(s, n) for s in picked))
            citations.append(AnswerCitation(n=n, text=hit.chunk.text, snippet=hit.snippet,
                                            citation=hit.citation))
    if focus and not any_resolution:
        lines.insert(1, "None of these passages records a resolution; this is what was said:")
    if retrieved.unknown_forces:
        lines.insert(1, f"{no_papers_from(retrieved.unknown_forces)} These passages are from "
                        f"{' and '.join(retrieved.filters.force)}:")
    if retrieved.relaxed:
        lines.insert(1, f"Nothing in the papers the question points to ({retrieved.relaxed}) answers it; "
                        "these passages are from other dates or papers:")
    return Answer(
        question=retrieved.question, answer="\n".join(lines), found=True, citations=citations,
        filters_applied=retrieved.filters, cues=retrieved.cues,
        rewritten_question=retrieved.resolved.rewritten_question,
    )


def nothing_found(retrieved: Retrieved) -> Answer:
    applied = retrieved.filters
    if retrieved.unknown_forces and not retrieved.filters.force:
        text = (f"{no_papers_from(retrieved.unknown_forces)} It covers "
                f"{', '.join(retrieved.covered_forces) or 'no force yet'}.")
    else:
        scope = f" (searching {describe_filters(applied)})" if describe_filters(applied) else ""
        text = f"The archive holds nothing that answers this question{scope}."
        topics = nearest_topics(retrieved.nearest)
        if topics:
            text += " The nearest topics it does cover: " + "; ".join(topics) + "."
    return Answer(question=retrieved.question, answer=text, found=False, filters_applied=applied,
                  cues=retrieved.cues, rewritten_question=retrieved.resolved.rewritten_question)


def no_papers_from(forces: Sequence[str]) -> str:
    """"The archive holds no papers from Durham's panel." """
    names = " or ".join(f"{force}'s panel" for force in forces)
    return f"The archive holds no papers from {names}."


def nearest_topics(nearest: Sequence[tuple[SearchHit, float]], limit: int = 3) -> list[str]:
    topics: list[str] = []
    for hit, score in nearest:
        if score < NEAREST_TOPIC_FLOOR:
            break
        section, title = section_title(hit), hit.document.title
        section = section.capitalize() if section.isupper() else section
        label = title if section.casefold() == title.casefold() else f"{section}, in {title}"
        label += f" ({hit.document.force or 'unknown force'})"
        if label not in topics:
            topics.append(label)
        if len(topics) == limit:
            break
    return topics


def section_title(hit: SearchHit) -> str:
    """The agenda item or section a passage sits in (the last part of its context header)."""
    parts = [p.strip() for p in hit.chunk.header.split(" | ")]
    if hit.document.doc_type in parts:
        tail = parts[parts.index(hit.document.doc_type) + 1:]
        if tail:
            return tail[-1]
    return hit.document.title


def group_by_meeting(hits: Sequence[SearchHit]) -> list[list[SearchHit]]:
    """Passages grouped by force and meeting (an undated paper is its own group), oldest first."""
    groups: dict[tuple[str, str], list[SearchHit]] = {}
    for hit in hits:
        doc = hit.document
        meeting = doc.meeting_date.isoformat() if doc.meeting_date else f"undated:{doc.document_id}"
        groups.setdefault((doc.panel_name, meeting), []).append(hit)

    def order(item: tuple[tuple[str, str], list[SearchHit]]) -> tuple[int, str, str]:
        (panel, meeting), _ = item
        return (1 if meeting.startswith("undated:") else 0, meeting, panel)

    return [sorted(group, key=lambda h: (h.document.title, h.chunk.ordinal))
            for _, group in sorted(groups.items(), key=order)]


def group_heading(group: Sequence[SearchHit]) -> str:
    doc = group[0].document
    titles = list(dict.fromkeys(h.document.title for h in group))
    return f"{doc.panel_name}, {human_date(doc.meeting_date)} ({'; '.join(titles)})"


def lead_line(topic: str, groups: Sequence[Sequence[SearchHit]]) -> str:
    """"Three panels discussed 101 response times:" (or a plainer line when the topic is not "about X")."""
    panels = list(dict.fromkeys(g[0].document.panel_name for g in groups))
    if len(panels) > 1:
        who = f"{_number(len(panels))} panels"
    else:
        who = "an unidentified panel" if panels[0] == UNKNOWN_PANEL else f"the {panels[0]}"
    subject = topic_phrase(topic)
    line = f"{who} discussed {subject}:" if subject else f"papers from {who} bear on this question:"
    return line[0].upper() + line[1:]


def topic_phrase(question: str) -> str | None:
    m = re.search(r"\babout\s+(.+?)[\s?.!]*$", question.strip(), flags=re.I)
    if not m or len(m.group(1)) > 80:
        return None
    return m.group(1)


def _number(n: int) -> str:
    return _NUMBERS[n] if n < len(_NUMBERS) else str(n)


def _mentions(sentence: str, words: Sequence[str]) -> bool:
    low = sentence.lower()
    return any(w[:5] in low for w in words)


def pick_sentences(text: str, judge: RelevanceJudge, focus: Sequence[str] = (),
                   limit: int = SENTENCES_PER_PASSAGE) -> list[str]:
    """The passage's sentences that best match the question, in reading order, cleaned for display.

    A sentence scores the IDF-weighted share of the question's words it holds (the relevance
    bar's coverage), plus one if it records a decision when the focus is on resolutions.
    """
    spans = sentences(text)
    if not spans:
        return [_clean(text)] if text.strip() else []
    pieces = [text[s:e] for s, e in spans]
    scores = [judge.coverage(stems) + (1.0 if focus and _mentions(piece, focus) else 0.0)
              for piece, stems in zip(pieces, stem_sets(pieces), strict=True)]
    ranked = sorted(range(len(spans)), key=lambda i: (-scores[i], i))
    chosen = [ranked[0]]
    for i in ranked[1:limit]:
        if scores[i] >= 0.25 and len(_clean(pieces[i])) > 40:
            chosen.append(i)
    # A lead-in such as "this included -" says little alone: take the line after it too.
    if len(chosen) < limit and pieces[chosen[0]].rstrip().endswith(("-", "–", ":")):
        if chosen[0] + 1 < len(spans) and chosen[0] + 1 not in chosen:
            chosen.append(chosen[0] + 1)
    return [_clean(pieces[i]) for i in sorted(chosen)]


def _clean(sentence: str) -> str:
    text = " ".join(sentence.split())
    text = re.sub(r"^[•·\-–—*]+\s*", "", text)
    # Paragraph labels ("(ix) Members ...", "4 This section ...") belong to the locator, not the claim.
    text = re.sub(r"^(?:\([a-zA-Z]{1,5}\)|\(?\d+(?:\.\d+)*\)?(?=\s+[A-Z]))\s+", "", text)
    text = text[:1].upper() + text[1:]
    text = strip_markers(text)  # a bracketed number in the source must not pass for a citation
    if len(text) > MAX_SENTENCE_CHARS:
        text = text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"
    return text


def cite(sentence: str, n: int) -> str:
    """The sentence with its citation before the closing punctuation: "… to 101 calls [1]."."""
    body = sentence.rstrip(" .;:,-–—?!")
    end = "?" if sentence.endswith("?") else "!" if sentence.endswith("!") else "."
    return f"{body} [{n}]{end}"

