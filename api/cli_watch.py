"""`precedent watch add|list|remove`: saved searches, checked after every ingest or crawl (registered by api/cli.py)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from precedent.api.cli_common import DataDir, Force, JsonOut, emit, friendly, settings_for
from precedent.ingest.errors import StoreMissing
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from precedent.search.retrieve import Searcher
from precedent.search.watches import WatchStore, add_watch, check_after_ingest, describe, remove_watch

watch_app = typer.Typer(no_args_is_help=True, help="Saved searches, checked against every new and changed paper.")


@watch_app.command("add")
@friendly
def add_command(
    query: Annotated[str, typer.Argument(help="What to watch for, in plain words")],
    force: Force = None,
    since: Annotated[Optional[str], typer.Option(help="Only meetings on or after YYYY-MM-DD")] = None,
    data_dir: DataDir = None,
    json_out: JsonOut = False,
) -> None:
    """Save a search: papers ingested or crawled from now on that match it go into its feed."""
    settings = settings_for(data_dir)
    try:
        store: Store | None = Store.open(settings)
    except StoreMissing:
        store = None  # nothing ingested yet: every chunk to come is new
    with WatchStore.open(settings) as watches:
        watch = add_watch(watches, store, query, force or [], since)
    if json_out:
        emit(watch)
        return
    typer.echo(f"watching {describe(watch)} as {watch.watch_id}")
    typer.echo(f"  feed: {(settings.public_url or '')}/watches/{watch.watch_id}/feed.xml (served by `precedent serve`)")


@watch_app.command("list")
@friendly
def list_command(data_dir: DataDir = None, json_out: JsonOut = False,
                 latest: Annotated[int, typer.Option(help="Newest entries to show per watch")] = 3) -> None:
    """Saved searches with their newest matches."""
    settings = settings_for(data_dir)
    rows = []
    if WatchStore.exists(settings):
        with WatchStore.open(settings) as watches:
            rows = [(w, watches.count(w.watch_id), watches.entries(w.watch_id, latest)) for w in watches.watches()]
    if json_out:
        emit([{**w.model_dump(mode="json"), "entries": n, "latest": [e.model_dump(mode="json") for e in found]}
              for w, n, found in rows])
        return
    if not rows:
        typer.echo('No saved searches. Add one with `precedent watch add "QUERY"`.')
    for watch, count, found in rows:
        typer.echo(f"{watch.watch_id}  {describe(watch)}  ({count} match{'es' if count != 1 else ''})")
        for entry in found:
            typer.echo(f"    {entry.citation.display}")


@watch_app.command("remove")
@friendly
def remove_command(watch_id: Annotated[str, typer.Argument(help="The watch's id (see `precedent watch list`)")],
                   data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Delete a saved search and its feed."""
    with WatchStore.open(settings_for(data_dir)) as watches:
        remove_watch(watches, watch_id)
    if json_out:
        emit({"watch_id": watch_id, "removed": True})
    else:
        typer.echo(f"removed {watch_id}")


def check_after_ingest_cli(settings: Settings) -> dict[str, Any] | None:
    """After `precedent ingest` or `crawl`: check the watches, say what was new (nothing when no index exists)."""
    try:
        store = Store.open(settings)
    except StoreMissing:
        return None
    try:
        return check_after_ingest(Searcher(settings, store=store), store).to_dict()
    finally:
        store.close()
