"""Metadata read off the seeds' own text must agree with their manifest, field by field."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from precedent.ingest.dates import parse_date
from precedent.ingest.errors import BadManifest
from precedent.ingest.metadata import (
    document_id_for,
    infer_meta,
    read_manifest,
    smart_title,
)

FIELDS = ("title", "force", "panel", "meeting_date", "doc_type")


def test_inference_matches_the_manifest_for_every_seed_field(seeds_dir: Path) -> None:
    manifest = read_manifest(seeds_dir / "manifest.csv")
    assert len(manifest) == 5
    for name, expected in manifest.items():
        inferred = infer_meta((seeds_dir / name).read_text(encoding="utf-8"))
        for field in FIELDS:
            assert getattr(inferred, field) == getattr(expected, field), (name, field)


def test_agenda_number_is_read_from_the_report_header(seeds_dir: Path) -> None:
    meta = infer_meta((seeds_dir / "002_310633dc8ab7467d.txt").read_text())
    assert meta.agenda_item is not None and meta.agenda_item.number == "8"


@pytest.mark.parametrize(("text", "date"), [
    ("7 July 2017", dt.date(2017, 7, 7)), ("5th February 2015", dt.date(2015, 2, 5)),
    ("2020-03-31", dt.date(2020, 3, 31)), ("31 Sept 2019", None), ("soon", None),
])
def test_dates_as_panels_write_them(text: str, date: dt.date | None) -> None:
    assert parse_date(text) == date


def test_capitals_become_a_clerks_title_case() -> None:
    assert smart_title("DORSET POLICE AND CRIME PLAN 2013/17 – ANNUAL REFRESH") == \
        "Dorset Police and Crime Plan 2013/17 - Annual Refresh"
    assert smart_title("PCC UPDATE ON CCTV") == "PCC Update on CCTV"


def test_body_dates_are_not_mistaken_for_the_meeting_date() -> None:
    text = "Agenda item\n\nBudget\n\nMinutes:\n\nThe report would come to the meeting on 3 February 2017."
    assert infer_meta(text).meeting_date is None


def test_document_ids_are_stable_and_derived_from_the_source() -> None:
    a = document_id_for("/archive/dorset/2015/report.pdf")
    assert a == document_id_for("/archive/dorset/2015/report.pdf")
    assert a != document_id_for("/archive/dorset/2016/report.pdf")
    assert a.startswith("report-")


@pytest.mark.parametrize(("row", "message"), [
    ("a.txt,Dorset,Dorset Police and Crime Panel,31/31/2020,minutes,T", "meeting_date '31/31/2020' is not a date"),
    ("a.txt,Dorset,Dorset Police and Crime Panel,2020-01-01,agenda,T", "doc_type 'agenda' must be one of"),
    (",Dorset,Dorset Police and Crime Panel,2020-01-01,minutes,T", "empty 'file' value"),
])
def test_bad_manifest_rows_name_the_line_and_the_fix(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "manifest.csv"
    path.write_text("file,force,body,meeting_date,doc_type,title\n" + row + "\n")
    with pytest.raises(BadManifest, match=message) as info:
        read_manifest(path)
    assert "line 2" in str(info.value)
