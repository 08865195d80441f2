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


# -- header dates, titles and panels read off papers without a manifest ---------------------------------


@pytest.mark.parametrize(("heading", "date"), [
    ("Devon and Cornwall Police and Crime Panel\n\nFriday 8 February 2019, 10.30 am\nWarspite Room, Council House, Plymouth",
     dt.date(2019, 2, 8)),
    ("Minutes of the Dorset Police and Crime Panel, 12 March 2024.", dt.date(2024, 3, 12)),
    ("GLOUCESTERSHIRE POLICE AND CRIME PANEL\n\nMinutes of the meeting held on Friday, 8 November 2019 at 10.30 am",
     dt.date(2019, 11, 8)),
    ("Meeting of Devon and Cornwall Police and Crime Panel, Friday, 2nd February, 2018 10.30 am (Item 39.)",
     dt.date(2018, 2, 2)),
    ("GWENT POLICE AND CRIME PANEL\n\nMINUTES OF THE MEETING HELD ON FRIDAY 26TH JANUARY 2018 AT 10.00 AM",
     dt.date(2018, 1, 26)),
    ("CHESHIRE POLICE AND CRIME PANEL\n\nConfirmation Hearing\nFriday, 12th March, 2021 - afternoon", dt.date(2021, 3, 12)),
])
def test_the_meeting_date_is_read_from_the_heading_in_the_forms_clerks_write(heading: str, date: dt.date) -> None:
    body = "\n\n1. Minutes\n\nThe Panel agreed the record of its meeting held on 5 October 2018.\n"
    assert infer_meta(heading + body).meeting_date == date


def test_a_body_date_never_stands_in_for_the_heading_date() -> None:
    text = ("Dorset Police and Crime Panel\n\nMinutes of the meeting held at County Hall\n\n"
            "The Panel observed a silence for the victims of the attack on 22 March 2017, which members "
            "remembered.\n\nThe Panel met again on Thursday 6 April 2017.\n")
    assert infer_meta(text).meeting_date is None
    dated = text.replace("County Hall", "County Hall on Wednesday, 29 March 2017")
    assert infer_meta(dated).meeting_date == dt.date(2017, 3, 29)


MINUTES = """DEVON AND CORNWALL POLICE AND CRIME PANEL

Friday 12 September 2025
Council Chamber, Council House, Plymouth

Minutes

30. MINUTES

30.1 Members confirmed the minutes of the meeting of 25 July 2025 as an accurate record.

31. DECLARATIONS OF INTEREST

31.1 None were declared.

32. CONTACT SERVICES UPDATE

32.1 The Panel received a report on 101 call handling. Members asked about waiting times and the Panel noted it.

33. ESTATES STRATEGY

33.1 The Commissioner set out the estates strategy. Members asked about the sale of stations.

RESOLVED that the report be noted.

1. That the Commissioner reports again in March.
"""


def test_minutes_of_a_meeting_are_titled_by_their_business_not_their_heading_lines() -> None:
    meta = infer_meta(MINUTES)
    assert meta.title == "Contact Services Update; Estates Strategy"
    assert meta.meeting_date == dt.date(2025, 9, 12)
    assert meta.doc_type == "minutes"


def test_an_agenda_item_page_is_titled_by_its_item_without_the_clerks_parentheses() -> None:
    text = ("Skip to content\n\nCouncil | Committees\n\n• Meetings calendar\n\nYou are here: Committees > Agenda item\n\n"
            "Agenda item\n\nMeeting of Informal, Police and Crime Panel, Thursday, 12th August, 2021 2.00 pm (Item 13.)\n\n"
            "Confirmation Hearing - Appointment of Chief Constable (Public) (07:20 on recording)\n\n"
            "To notify the Panel of the preferred candidate for the post of Chief Constable of Dorset Police.\n\n"
            "Minutes:\n\nThe Dorset Police and Crime Panel met virtually; the Dorset Police and Crime Commissioner attended.\n")
    meta = infer_meta(text)
    assert meta.title == "Confirmation Hearing - Appointment of Chief Constable"
    assert meta.meeting_date == dt.date(2021, 8, 12)
    assert meta.agenda_item is not None and meta.agenda_item.number == "13"
    assert meta.force == "Dorset" and meta.panel == "Dorset Police and Crime Panel"  # not "Informal, ..."


def test_a_report_is_titled_by_its_report_title_not_its_author_or_panel() -> None:
    text = ("NORFOLK POLICE AND CRIME PANEL\n\n6 February 2018, 10am, Edwards Room, County Hall, Norwich\n\nItem 5\n\n"
            "• POLICE AND CRIME COMMISSIONER'S PROPOSED PRECEPT 2018/19\n\n"
            "Report by the Police and Crime Commissioner for Norfolk\n\nSummary\n\nThe Commissioner proposes a rise.\n")
    meta = infer_meta(text)
    assert meta.title == "Police and Crime Commissioner's Proposed Precept 2018/19"
    assert "•" not in meta.title
    assert (meta.doc_type, meta.meeting_date) == ("report", dt.date(2018, 2, 6))
    assert meta.agenda_item is not None and meta.agenda_item.number == "5"


def test_list_items_lose_their_bullet_and_number_in_a_title() -> None:
    text = "A Panel\n\nMinutes\n\n• 11. Apologies\n\nNone.\n\n• 12. Precept\n\nThe Panel considered the precept at length.\n"
    assert infer_meta(text).title == "Precept"


def test_the_panel_named_in_the_paper_is_kept() -> None:
    essex_2017 = "Essex Police and Crime Panel\n\n26 Jan 2017 - 14:30 to 17:00\n\nMINUTES\n\n5 Proposed Police Precept 2017/18\n\nThe Panel met.\n"
    assert infer_meta(essex_2017).panel == "Essex Police and Crime Panel"  # forces.toml has the later PFCP name
    unknown = "Minutes of the BORSETSHIRE POLICE AND CRIME PANEL\n\n3 March 2023\n\nMINUTES\n\n4 Budget\n\nThe Panel met.\n"
    meta = infer_meta(unknown)
    assert meta.force is None
    assert meta.panel == "Borsetshire Police and Crime Panel"
    wight = infer_meta("ISLE OF WIGHT POLICE AND CRIME PANEL\n\n3 March 2023\n\nThe Panel met at Newport.\n")
    assert (wight.force, wight.panel) == ("Hampshire", "Isle of Wight Police and Crime Panel")


def test_titles_naming_the_same_item_are_judged_the_same() -> None:
    from precedent.eval.metadata import exact_title, same_title

    assert same_title("Confirmation Hearing - Chief Constable of Devon and Cornwall Police",
                      "Confirmation Hearing for the Role of Chief Constable of Devon and Cornwall Police")
    assert exact_title("Police and Crime Commissioner's proposed precept 2014/15",
                       "Police and Crime Commissioner's Proposed Precept 2014/15")
    assert not same_title("Friday 8 February 2019, 10.30 am Warspite Room, Council House, Plymouth",
                          "Precept Proposal for 2019/20, Budget and Medium Term Financial Plan Update")
    assert not same_title("Police and Crime Plan", "Proposed Policing Precept 2022/23")


def test_panels_metadata_without_its_manifest_meets_the_target_on_every_field(seeds_dir: Path) -> None:
    from precedent.eval.metadata import FIELDS, TARGET, measure_corpus

    for corpus in (seeds_dir, seeds_dir.parent / "panels"):
        result = measure_corpus(corpus)
        assert len(result.rows) == {"seeds": 5, "panels": 30}[corpus.name]
        accuracy = result.accuracy()
        assert all(accuracy[f] >= TARGET for f in FIELDS), (corpus.name, accuracy)
