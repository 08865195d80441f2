"""`precedent crawl`: keep the panels' ModernGov archives in the index, politely and incrementally."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from precedent.ingest.errors import PrecedentError
from precedent.ingest.metadata import parse_date
from precedent.ingest.settings import Settings


def _date(value: str | None, name: str):  # type: ignore[no-untyped-def]
    if not value:
        return None
    date = parse_date(value)
    if date is None:
        raise PrecedentError(f"--{name} '{value}' is not a date: use YYYY-MM-DD")
    return date


def crawl_command(
    forces: Annotated[Optional[list[str]], typer.Argument(help="Forces to crawl (default: every registered panel)")] = None,
    since: Annotated[Optional[str], typer.Option(help="Meetings on or after YYYY-MM-DD")] = None,
    until: Annotated[Optional[str], typer.Option(help="Meetings on or before YYYY-MM-DD")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be ingested; change nothing")] = False,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the JSON summary")] = False,
) -> None:
    """Crawl ModernGov sites for new and changed minutes and reports."""
    from precedent.ingest.moderngov import crawl_forces

    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    summary = crawl_forces(forces or [], settings, since=_date(since, "since"), until=_date(until, "until"),
                           dry_run=dry_run, progress=not json_out)
    if not dry_run:
        from precedent.api.cli_watch import check_after_ingest_cli

        check_after_ingest_cli(settings)
    if json_out:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
        return
    typer.echo(
        f"{'dry run: ' if dry_run else ''}{summary.meetings_seen} meetings; documents new {summary.documents_new}, "
        f"changed {summary.documents_changed}, unchanged {summary.documents_unchanged}, "
        f"failed {len(summary.documents_failed)}; {summary.requests} requests in {summary.seconds:.1f}s"
    )
    for failure in summary.documents_failed:
        typer.secho(f"  failed {failure.url}: {failure.error}", err=True, fg=typer.colors.YELLOW)
    if summary.stopped:
        typer.secho(f"stopped early: {summary.stopped}", err=True)
