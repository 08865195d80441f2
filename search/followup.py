"""Follow-up questions in a conversation: "and what about Dorset?" reuses the previous topic.

The rule, kept deliberately simple:

1. A question is a *follow-up* when there is a previous turn and nothing is left of it once its
   cue words are removed: force names ("Dorset"), dates ("2020", "2019-04-01"), date words
   ("since", "before", "after", "until", "in", "only"), focus words ("resolve", "decide",
   "agree", "recommend") and the small words every question has ("and what about them?").
   A question with a content word of its own ("what about knife crime?") is a new question.
2. A follow-up's *topic* is the previous turn's topic. Turns are resolved in order, so a chain
   ("101 response times" -> "and Dorset?" -> "only since 2020") keeps the first real question.
3. Its *filters* are the previous turn's ``filters_applied``; any filter the request itself sets
   overrides those; then what the follow-up says (its cues, read by search/cues.py as any
   question's are) overrides both: a force named replaces the force filter, a date phrase the
   bound it names.
4. A focus word asks for *resolutions*: the search adds "resolved agreed decided recommendation",
   and the answer prefers sentences that record a decision.

Filters here are plain strings, as a user sent them: ``build_filters`` validates them after.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from precedent.ingest.forces import alias_pattern
from precedent.search.cues import read_cues
from precedent.search.filters import FilterSpec
from precedent.search.query import STOPWORDS, tokens

RESOLUTIONS = "resolutions"
RESOLUTION_WORDS: tuple[str, ...] = ("resolved", "agreed", "decided", "recommendation")

_FOCUS = re.compile(r"\b(resol\w*|decid\w*|decision\w*|agree\w*|recommend\w*|conclu\w*|outcome\w*)\b", re.I)
_ANY_DATE = re.compile(r"\b(?:19|20)\d{2}(?:(?:-\d{2}-\d{2})|(?:\s*[/-]\s*(?:19|20)?\d{2}))?\b")

# Words that carry no topic of their own in a follow-up ("and what about them, only since 2020?").
_FILLER = frozenset("""
since onwards onward starting start instead also else please ok okay thanks thank just only too either
year years force forces area areas one ones same happened happen resolve resolved resolution resolutions
decide decided decision decisions agree agreed recommend recommended recommendation recommendations conclude
concluded conclusion outcome outcomes re regarding
""".split())


@dataclass(frozen=True)
class Turn:
    question: str
    filters: FilterSpec = field(default_factory=FilterSpec)


@dataclass(frozen=True)
class Resolved:
    """What to search for, once the conversation so far is taken into account."""

    question: str  # as the user typed it
    topic: str  # the question whose subject is searched for
    filters: FilterSpec
    focus: str | None = None  # RESOLUTIONS, or None
    is_followup: bool = False

    @property
    def search_text(self) -> str:
        return f"{self.topic} {' '.join(RESOLUTION_WORDS)}" if self.focus == RESOLUTIONS else self.topic

    @property
    def rewritten_question(self) -> str | None:
        if not self.is_followup:
            return None
        return f"{self.topic} (what was resolved or agreed)" if self.focus == RESOLUTIONS else self.topic


def content_words(question: str) -> list[str]:
    """The words of a question that name a topic (not a force, a date, a focus or a filler)."""
    text = _ANY_DATE.sub(" ", alias_pattern().sub(" ", question))
    words = (w.removesuffix("'s") for w in tokens(text))
    return [w for w in words if len(w) > 1 and not w.isdigit() and w not in STOPWORDS and w not in _FILLER]


def is_followup(question: str, history: Sequence[Turn]) -> bool:
    return bool(history) and bool(tokens(question)) and not content_words(question)


def resolve(question: str, history: Sequence[Turn] = (), filters: FilterSpec | None = None) -> Resolved:
    """The topic, filters and focus of ``question`` given the turns before it (oldest first)."""
    filters = filters or FilterSpec()
    previous: Resolved | None = None
    for turn in history:
        previous = _resolve_turn(turn.question, previous, turn.filters)
    if previous is None or not is_followup(question, history):
        return Resolved(question=question, topic=question, filters=filters)
    return _followup(question, previous, filters)


def _resolve_turn(question: str, previous: Resolved | None, applied: FilterSpec) -> Resolved:
    """One past turn: its topic, and the filters the server reported applying to it."""
    if previous is not None and not content_words(question) and tokens(question):
        return replace(_followup(question, previous, FilterSpec()), filters=applied)
    return Resolved(question=question, topic=question, filters=applied)


def _followup(question: str, previous: Resolved, requested: FilterSpec) -> Resolved:
    cues = read_cues(question)
    said = FilterSpec(force=cues.forces, since=cues.since, until=cues.until, doc_type=cues.doc_type)
    filters = previous.filters.overridden_by(requested).overridden_by(said)
    # "only since 2020" after "before 2018": the bound just said wins, the contradicting one goes.
    if said.since and not said.until and filters.until and filters.until < said.since:
        filters = filters.model_copy(update={"until": None})
    if said.until and not said.since and filters.since and filters.since > said.until:
        filters = filters.model_copy(update={"since": None})
    focus = RESOLUTIONS if _FOCUS.search(question) else previous.focus
    return Resolved(question=question, topic=previous.topic, filters=filters, focus=focus, is_followup=True)
