"""The follow-up rule: a question with no topic of its own reuses the previous turn's topic."""

from __future__ import annotations

from precedent.search.answer import ask
from precedent.search.filters import FilterSpec
from precedent.search.followup import RESOLUTIONS, Turn, is_followup, resolve
from precedent.search.retrieve import Searcher

TOPIC = "What did panels say about 101 response times?"


def test_a_first_question_is_its_own_topic() -> None:
    resolved = resolve(TOPIC)
    assert resolved.topic == TOPIC and not resolved.is_followup and resolved.rewritten_question is None


def test_naming_a_force_reuses_the_topic_with_that_force() -> None:
    resolved = resolve("and what about Dorset?", [Turn(TOPIC)])
    assert resolved.is_followup and resolved.topic == TOPIC
    assert resolved.filters == FilterSpec(force=("Dorset",))
    assert resolved.rewritten_question == TOPIC


def test_a_date_reuses_the_topic_and_keeps_the_previous_force() -> None:
    history = [Turn(TOPIC), Turn("and what about Dorset?", FilterSpec(force=("Dorset",)))]
    resolved = resolve("only since 2020", history)
    assert resolved.topic == TOPIC
    assert resolved.filters == FilterSpec(force=("Dorset",), since="2020-01-01")


def test_asking_what_was_resolved_focuses_on_resolutions() -> None:
    resolved = resolve("what did they resolve?", [Turn(TOPIC)])
    assert resolved.topic == TOPIC and resolved.focus == RESOLUTIONS
    assert "resolved" in resolved.search_text and "resolved" in (resolved.rewritten_question or "")


def test_a_question_with_a_topic_of_its_own_starts_afresh() -> None:
    resolved = resolve("What about knife crime in Dorset?", [Turn(TOPIC)])
    assert not resolved.is_followup and resolved.topic == "What about knife crime in Dorset?"
    assert resolved.filters == FilterSpec()


def test_without_history_nothing_is_a_followup() -> None:
    assert not is_followup("and what about Dorset?", [])
    assert resolve("what did they resolve?").topic == "what did they resolve?"


def test_filters_set_in_the_request_override_the_previous_turn_and_the_text_overrides_both() -> None:
    history = [Turn(TOPIC, FilterSpec(force=("Leicestershire",), doc_type="report"))]
    resolved = resolve("and Dorset?", history, FilterSpec(doc_type="minutes", since="2014-01-01"))
    assert resolved.filters == FilterSpec(force=("Dorset",), since="2014-01-01", doc_type="minutes")


def test_a_chain_of_followups_keeps_the_first_topic_and_the_latest_focus() -> None:
    history = [Turn(TOPIC), Turn("and Dorset?"), Turn("what did they decide?")]
    resolved = resolve("and in Leicestershire?", history)
    assert resolved.topic == TOPIC and resolved.focus == RESOLUTIONS
    assert resolved.filters.force == ("Leicestershire",)


def test_a_new_date_bound_replaces_one_it_contradicts() -> None:
    history = [Turn(TOPIC, FilterSpec(until="2017-12-31"))]
    assert resolve("only since 2020", history).filters == FilterSpec(since="2020-01-01")


def test_followups_on_the_seed_index_apply_the_new_filter(seed_searcher: Searcher) -> None:
    question = "What support is there for victims of domestic abuse?"
    first = ask(seed_searcher, question)
    assert first.found and len({c.citation.force for c in first.citations}) >= 2
    dorset = ask(seed_searcher, "and what about Dorset?", history=[Turn(question)])
    assert dorset.found and dorset.rewritten_question == question
    assert {c.citation.force for c in dorset.citations} == {"Dorset"}
    history = [Turn(question), Turn("and what about Dorset?", FilterSpec(force=("Dorset",)))]
    later = ask(seed_searcher, "only since 2016", history=history)
    assert later.filters_applied.force == ("Dorset",) and str(later.filters_applied.since) == "2016-01-01"
    assert not later.found  # the Dorset paper is from February 2015


def test_resolution_focus_on_the_seed_index_prefers_recorded_decisions(seed_searcher: Searcher) -> None:
    question = "How is rural and agricultural crime being policed?"
    answer = ask(seed_searcher, "what did they resolve?", history=[Turn(question)])
    assert answer.found and answer.rewritten_question and question in answer.rewritten_question
    claims = [line for line in answer.answer.splitlines() if line.startswith("- ")]
    assert claims
    recorded = any(w in answer.answer.lower() for w in ("resolved", "agreed", "decided", "recommend"))
    assert recorded or "None of these passages records a resolution" in answer.answer
