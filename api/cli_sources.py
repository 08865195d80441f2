"""`precedent sources`: every force, where its papers come from, how far the archive covers it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings


def _index_counts(settings: Settings) -> dict[str, tuple[int, int]]:
    from precedent.ingest.crawl.coverage import counts_by_force
    from precedent.search.store import Store

    try:
        store = Store.open(settings)
    except PrecedentError:
        return {}  # no index yet: every force has 0 documents
    try:
        return counts_by_force(store.stats())
    finally:
        store.close()


def _last(row) -> str:  # type: ignore[no-untyped-def]
    crawl = row.last_crawl
    if crawl is None:
        return "never"
    when = (crawl.finished or crawl.started)[:16].replace("T", " ")
    return f"{when} {crawl.status}"


def sources_command(
    registry: Annotated[Optional[Path], typer.Option("--registry", help="Your own TOML of panels, merged over the bundled registry (default: PRECEDENT_REGISTRY)")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of text")] = False,
) -> None:
    """Every force: system, host(s), committee, status (crawlable, needs verification, unsupported), last crawl, counts."""
    from precedent.ingest.crawl.coverage import sources_report

    updates: dict[str, object] = {}
    if data_dir:
        updates["data_dir"] = data_dir
    if registry:
        updates["registry"] = registry
    settings = Settings(**updates)  # type: ignore[arg-type]
    rows = sources_report(settings, _index_counts(settings))
    if json_out:
        typer.echo(json.dumps([r.model_dump(mode="json", by_alias=True) for r in rows], indent=2, ensure_ascii=False))
        return
    table = [("force", "system", "host(s)", "committee", "status", "last crawl", "docs", "chunks")]
    for r in rows:
        table.append((r.force, r.system, ", ".join(r.hosts), r.committee, r.status, _last(r),
                      str(r.documents), str(r.chunks)))
    widths = [min(max(len(row[i]) for row in table), 40) for i in range(len(table[0]))]
    for index, row in enumerate(table):
        cells = [cell if len(cell) <= widths[i] else cell[: widths[i] - 1] + "…" for i, cell in enumerate(row)]
        typer.echo("  ".join(c.rjust(widths[i]) if i >= 6 else c.ljust(widths[i]) for i, c in enumerate(cells)).rstrip())
        if index and rows[index - 1].reason and rows[index - 1].status != "crawlable":
            typer.echo(f"    {rows[index - 1].reason}")
    counts = {s: sum(1 for r in rows if r.status == s) for s in ("crawlable", "needs verification", "unsupported")}
    indexed = sum(1 for r in rows if r.documents)
    typer.echo(f"{len(rows)} forces: {counts['crawlable']} crawlable, {counts['needs verification']} need "
               f"verification, {counts['unsupported']} unsupported; {indexed} indexed")
