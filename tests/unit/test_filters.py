"""Filters as users type them, checked against what the index holds."""

from __future__ import annotations

import datetime as dt

import pytest

from precedent.ingest.dates import date_arg, human_date, parse_date
from precedent.ingest.errors import BadQuery
from precedent.search.filters import FilterSpec, build_filters

KNOWN = ["Devon and Cornwall", "Dorset", "Leicestershire"]


def test_forces_are_matched_by_any_alias_and_in_any_case() -> None:
    spec = FilterSpec(force=("dorset", "Devon & Cornwall", "Dorset"))
    assert build_filters(KNOWN, spec).force == ("Dorset", "Devon and Cornwall")


def test_an_unknown_force_is_refused_with_the_forces_the_index_holds() -> None:
    with pytest.raises(BadQuery, match="unknown force 'Kent': the index holds Devon and Cornwall, Dorset"):
        build_filters(KNOWN, FilterSpec(force=("Kent",)))


@pytest.mark.parametrize(("since", "until", "message"), [
    ("last tuesday", None, "since 'last tuesday' is not a date"),
    ("2020-01-01", "2019-12-31", "is after until"),
])
def test_bad_dates_are_refused_with_the_fix(since: str, until: str | None, message: str) -> None:
    with pytest.raises(BadQuery, match=message):
        build_filters(KNOWN, FilterSpec(since=since, until=until))


def test_dates_and_types_are_read_as_users_write_them() -> None:
    filters = build_filters(KNOWN, FilterSpec(since="7 July 2017", until="31/12/2019", doc_type=" Minutes "))
    assert (filters.since, filters.until, filters.doc_type) == (dt.date(2017, 7, 7), dt.date(2019, 12, 31), "minutes")
    with pytest.raises(BadQuery, match="use one of minutes, report, other"):
        build_filters(KNOWN, FilterSpec(doc_type="agenda"))


def test_loose_filter_values_that_break_the_limits_are_a_bad_query() -> None:
    with pytest.raises(BadQuery, match="bad filter"):
        FilterSpec.parse(force=["x" * 500])
    assert FilterSpec.parse(force=["Dorset"], since=None).force == ("Dorset",)


@pytest.mark.parametrize(("text", "date"), [
    ("2019-02-08", dt.date(2019, 2, 8)),
    ("2019-02-08T10:30:00", dt.date(2019, 2, 8)),
    ("08/02/2019 10:30:00", dt.date(2019, 2, 8)),
    ("Monday, 16th October, 2023 10.00 am", dt.date(2023, 10, 16)),
    ("5th Feb. 2015", dt.date(2015, 2, 5)),
    ("31 February 2019, then 1 March 2019", dt.date(2019, 3, 1)),
    ("sometime soon", None),
    ("", None),
])
def test_one_date_reader_for_papers_moderngov_and_users(text: str, date: dt.date | None) -> None:
    assert parse_date(text) == date


def test_dates_print_as_a_citation_writes_them() -> None:
    assert human_date(dt.date(2017, 7, 7)) == "7 July 2017" and human_date(None) == "undated"
    assert date_arg("", "since") is None and date_arg(dt.date(2020, 1, 1), "since") == dt.date(2020, 1, 1)
