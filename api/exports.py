"""Export responses: a report rendered as CSV, Markdown or DOCX, sent as a download."""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

from fastapi import Request, Response

from precedent.search.export import Report, render

OutputFormat = Literal["json", "csv", "md", "docx"]


def base_url(request: Request) -> str:
    """This server's address as the client sees it, so links in exports and feeds work outside the page."""
    return str(request.base_url).rstrip("/")


def export_response(report: Report, fmt: str) -> Response:
    exported = render(report, fmt)
    disposition = f"attachment; filename=\"{exported.filename}\"; filename*=UTF-8''{quote(exported.filename)}"
    return Response(exported.data, media_type=exported.media_type, headers={"Content-Disposition": disposition})
