"""`precedent sources`: every force, where its papers come from, how far the archive covers it."""

from __future__ import annotations

import typer

from precedent.api.cli_common import DataDir, JsonOut, emit
from precedent.api.cli_crawl import Registry, crawl_settings
from precedent.ingest.crawl.coverage import ForceSource, index_stats, sources_report


def _last(row: ForceSource) -> str:
    crawl = row.last_crawl
    if crawl is None:
        return "never"
    when = (crawl.finished or crawl.started)[:16].replace("T", " ")
    return f"{when} {crawl.status}"


def sources_command(registry: Registry = None, data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Every force: system, host(s), committee, status (crawlable, needs verification, unsupported), last crawl, counts."""
    settings = crawl_settings(data_dir, registry)
    rows = sources_report(settings, index_stats(settings))
    if json_out:
        emit([r.model_dump(mode="json", by_alias=True) for r in rows])
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
