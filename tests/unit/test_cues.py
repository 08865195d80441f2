"""Cues in a question: the forces it names, its dates and the kind of paper it asks about."""

from __future__ import annotations

import pytest

from precedent.search.cues import dates_named, read_cues, without_forces


@pytest.mark.parametrize(("question", "forces"), [
    ("What did the Dorset panel say about 101?", ("Dorset",)),
    ("How has Devon & Cornwall handled estates?", ("Devon and Cornwall",)),
    ("What did the LLR panel decide?", ("Leicestershire",)),
    ("What did Leics say about PEEL?", ("Leicestershire",)),
    ("Did Staffs or Gwent veto anything?", ("Staffordshire", "Gwent")),
    ("What did the panel in Durham say about knife crime?", ("Durham",)),
    ("What did the panel say about llr?", ()),  # an acronym only in capitals
    ("Were hospital beds discussed?", ()),
])
def test_forces_are_named_by_any_alias(question: str, forces: tuple[str, ...]) -> None:
    assert read_cues(question).forces == forces


@pytest.mark.parametrize("question", [
    "How did Dorset's precept compare with other forces?",
    "What did panels like Dorset's say about 101?",
    "Has Gwent or anyone elsewhere vetoed a precept?",
    "What do panels across England and Wales say about estates?",
])
def test_words_that_cover_every_force_keep_all_forces(question: str) -> None:
    cues = read_cues(question)
    assert cues.every_force and cues.force_filter == ()


def test_two_panels_named_together_stay_a_filter() -> None:
    cues = read_cues("What did the Gwent and Dorset panels say about vetoes?")
    assert cues.force_filter == ("Gwent", "Dorset")


@pytest.mark.parametrize(("text", "since", "until"), [
    ("only since 2020", "2020-01-01", None),
    ("from 2018 onwards", "2018-01-01", None),
    ("after 2019", "2020-01-01", None),
    ("before 2019", None, "2018-12-31"),
    ("up to 2017", None, "2017-12-31"),
    ("in 2016", "2016-01-01", "2016-12-31"),
    ("since 2020-03-01", "2020-03-01", None),
    ("from 2015 until 2017", "2015-01-01", "2017-12-31"),
    ("between 2016 and 2018", "2016-01-01", "2018-12-31"),
    ("what did Dorset decide on the 2018/19 precept?", "2017-10-01", "2019-03-31"),
    ("the 2019-20 budget", "2018-10-01", "2020-03-31"),
    ("the 2019/2020 budget", "2018-10-01", "2020-03-31"),
    ("the Police and Crime Plan 2017-2020", None, None),
    ("How did the 2020 precept compare to 2019?", None, None),
    ("What is the 101 target?", None, None),
])
def test_date_phrases_become_bounds(text: str, since: str | None, until: str | None) -> None:
    assert dates_named(text) == (since, until)


@pytest.mark.parametrize(("question", "doc_type"), [
    ("What is recorded in the minutes about Tasers?", "minutes"),
    ("Which reports mention drones?", None),
    ("What did the panel say in its reports on the precept?", "report"),
    ("What did the report of the Commissioner say?", None),
])
def test_document_types_only_when_asked_for_plainly(question: str, doc_type: str | None) -> None:
    assert read_cues(question).doc_type == doc_type


def test_a_force_that_is_a_filter_leaves_the_search_words() -> None:
    assert without_forces("What did the Dorset panel say about Devon & Cornwall?", ("Dorset",)) == \
        "What did the panel say about Devon & Cornwall?"
    assert without_forces("Dorset?", ("Dorset",)) == "Dorset?"
    assert without_forces("What did Dorset say?", ()) == "What did Dorset say?"
