"""`--format csv|md|docx` and `--output FILE` for `precedent search`, `ask` and `compare`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from precedent.ingest.errors import PrecedentError
from precedent.search.export import FORMATS, ExportFile, Report, render

Format = Annotated[Optional[str], typer.Option(
    "--format", help="Export with full citations: csv | md | docx (links use PRECEDENT_PUBLIC_URL)")]
Output = Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the export to this file")]


def check_format(fmt: str | None, output: Path | None) -> None:
    """Refuse a bad format, or a DOCX bound for a terminal, before any searching is done."""
    if fmt is None:
        if output is not None:
            raise PrecedentError("--output needs --format: choose csv, md or docx")
        return
    if fmt not in FORMATS:
        raise PrecedentError(f"unknown --format '{fmt}': choose csv, md or docx")
    if fmt == "docx" and output is None and sys.stdout.isatty():
        raise PrecedentError("a DOCX file is binary: give --output FILE.docx (or redirect the output)")


def write_export(report: Report, fmt: str, output: Path | None) -> ExportFile:
    exported = render(report, fmt)
    if output is not None:
        try:
            output.write_bytes(exported.data)
        except OSError as exc:
            raise PrecedentError(f"cannot write {output}: {exc.strerror}; choose another --output") from exc
        typer.echo(f"wrote {output} ({len(exported.data):,} bytes)", err=True)
    elif fmt == "docx":
        sys.stdout.buffer.write(exported.data)
        sys.stdout.buffer.flush()
    else:
        typer.echo(exported.data.decode("utf-8-sig"), nl=False)
    return exported
