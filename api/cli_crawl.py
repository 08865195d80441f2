"""`precedent crawl`: keep the panels' published papers in the index, politely and incrementally.

`precedent crawl --all` is the form for cron or a systemd timer: when another crawl holds the index's
lock it says "already running" and exits 0, so overlapping runs are harmless.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from precedent.api.cli_common import DataDir, JsonOut, emit, settings_for
from precedent.api.cli_watch import check_after_ingest_cli
from precedent.ingest.crawl import CrawlAlreadyRunning, crawl_forces
from precedent.ingest.dates import date_arg
from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings

Registry = Annotated[Optional[Path], typer.Option(
    "--registry", help="Your own TOML of panels, merged over the bundled registry (default: PRECEDENT_REGISTRY)")]


def crawl_settings(data_dir: Path | None, registry: Path | None) -> Settings:
    settings = settings_for(data_dir)
    return settings.model_copy(update={"registry": registry.expanduser()}) if registry else settings


def crawl_command(
    forces: Annotated[Optional[list[str]], typer.Argument(help="Forces to crawl (default: every crawlable panel)")] = None,
    all_panels: Annotated[bool, typer.Option("--all", help="Every crawlable panel: the form for cron and systemd timers")] = False,
    since: Annotated[Optional[str], typer.Option(help="Meetings on or after YYYY-MM-DD")] = None,
    until: Annotated[Optional[str], typer.Option(help="Meetings on or before YYYY-MM-DD")] = None,
    registry: Registry = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would be ingested; change nothing")] = False,
    data_dir: DataDir = None,
    json_out: JsonOut = False,
) -> None:
    """Crawl the panels' ModernGov, CMIS and listing-page sites for new and changed minutes and reports."""
    if all_panels and forces:
        raise PrecedentError("--all crawls every panel: drop the force names, or drop --all")
    settings = crawl_settings(data_dir, registry)
    try:
        summary = crawl_forces(forces or [], settings, since=date_arg(since, "--since"),
                               until=date_arg(until, "--until"), dry_run=dry_run, progress=not json_out)
    except CrawlAlreadyRunning as busy:
        if json_out:
            emit({"status": "already running", "detail": str(busy)})
        else:
            typer.echo(f"already running: {busy}")
        return
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
    for found in summary.committees_found:
        typer.echo(f"  {found.force}: committee '{found.title}' is id {found.committee_id} on {found.host} "
                   f"(found through {found.via})")
    for failure in summary.documents_failed:
        typer.secho(f"  failed {failure.url}: {failure.error}", err=True, fg=typer.colors.YELLOW)
    if summary.stopped:
        typer.secho(f"stopped early: {summary.stopped}", err=True)
