"""A report as CSV: one row per entry, each with its citations, links and passages.

Written for spreadsheets: UTF-8 with a byte-order mark (so Excel reads "£" right), every field
quoted (commas, quotes and line breaks inside passages stay in their cell), and any cell that a
spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return)
neutralised with a leading apostrophe, which spreadsheets show as text and do not evaluate.
"""

from __future__ import annotations

import csv
import io

from precedent.search.export.report import Report, cited

COLUMNS = ("section", "item", "text", "sources", "citation", "link", "original", "force", "meeting_date",
           "title", "locator", "passage")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell's text, with a formula-like start defused: "=HYPERLINK(...)" becomes "'=HYPERLINK(...)"."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: Report) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for section in report.sections:
        if not section.entries:
            writer.writerow([safe_cell(c) for c in (section.heading, "", section.note or "", "", "", "", "", "", "",
                                                    "", "", "")])
        for entry in section.entries:
            sources = cited(entry, report)

            def joined(values: list[str]) -> str:
                return "\n".join(v for v in values if v)

            writer.writerow([safe_cell(c) for c in (
                section.heading, entry.label, entry.text, " ".join(f"[{s.n}]" for s in sources),
                joined([s.display for s in sources]), joined([s.link for s in sources]),
                joined([s.original or "" for s in sources]), joined([s.citation.force or "" for s in sources]),
                joined([s.citation.meeting_date.isoformat() if s.citation.meeting_date else "" for s in sources]),
                joined([s.citation.title for s in sources]), joined([s.citation.locator for s in sources]),
                joined([s.passage for s in sources]),
            )])
    if report.intro and not any(s.entries for s in report.sections):
        writer.writerow([safe_cell(c) for c in ("", "", report.intro, "", "", "", "", "", "", "", "", "")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
