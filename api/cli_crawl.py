"""`precedent crawl`: keep the panels' ModernGov archives in the index, politely and incrementally."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from precedent.api.cli_common import DataDir, JsonOut, emit, settings_for
from precedent.api.cli_watch import check_after_ingest_cli
from precedent.ingest.dates import date_arg
from precedent.ingest.moderngov import crawl_forces


def crawl_command(
    forces: Annotated[Optional[list[str]], typer.Argument(help="Forces to crawl (default: every registered panel)")] = None,
    since: Annotated[Optional[str], typer.Option(help="Meetings on or after YYYY-MM-DD")] = None,
    until: Annotated[Optional[str], typer.Option(help="Meetings on or before YYYY-MM-DD")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be ingested; change nothing")] = False,
    data_dir: DataDir = None,
    json_out: JsonOut = False,
) -> None:
    """Crawl ModernGov sites for new and changed minutes and reports."""
    settings = settings_for(data_dir)
    summary = crawl_forces(forces or [], settings, since=date_arg(since, "--since"),
                           until=date_arg(until, "--until"), dry_run=dry_run, progress=not json_out)
    if not dry_run:
        check_after_ingest_cli(settings)
    if json_out:
        emit(summary.to_dict())
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
