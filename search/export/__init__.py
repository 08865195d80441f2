"""Exports with full citations: search results, answers and comparisons as CSV, Markdown and DOCX."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from precedent.ingest.errors import BadQuery
from precedent.search.export.report import Report, answer_report, comparison_report, search_report
from precedent.search.export.to_csv import to_csv
from precedent.search.export.to_docx import to_docx
from precedent.search.export.to_markdown import to_markdown

ExportFormat = Literal["csv", "md", "docx"]
FORMATS: dict[str, tuple[str, str]] = {  # format -> (media type, file extension)
    "csv": ("text/csv; charset=utf-8", "csv"),
    "md": ("text/markdown; charset=utf-8", "md"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
}


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    media_type: str
    filename: str


def render(report: Report, fmt: str) -> ExportFile:
    """The report in ``fmt`` (csv | md | docx), with its media type and a file name."""
    if fmt not in FORMATS:
        raise BadQuery(f"unknown export format '{fmt[:20]}': use one of {', '.join(FORMATS)}")
    if fmt == "csv":
        data = to_csv(report)
    elif fmt == "md":
        data = to_markdown(report).encode("utf-8")
    else:
        data = to_docx(report)
    media_type, extension = FORMATS[fmt]
    return ExportFile(data, media_type, report.filename(extension))


__all__ = ["FORMATS", "ExportFile", "ExportFormat", "Report", "answer_report", "comparison_report", "render",
           "search_report"]
