"""`precedent ingest | documents | remove | check | stats`: building the index and looking after it."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Optional

import typer

from precedent.api.cli_common import DataDir, JsonOut, emit, settings_for
from precedent.api.cli_watch import check_after_ingest_cli
from precedent.ingest.errors import PrecedentError
from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.store import Store


def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .txt/.html/.pdf/.docx")],
    manifest: Annotated[Optional[Path], typer.Option(help="CSV of metadata (columns as the seeds' manifest.csv); inside folders only the files it lists are ingested, as with a folder's own manifest.csv")] = None,
    include_md: Annotated[bool, typer.Option("--include-md", help="Also ingest Markdown (.md) files found in folders")] = False,
    data_dir: DataDir = None,
    json_out: JsonOut = False,
) -> None:
    """Add documents to the index; unchanged files are skipped, changed ones replaced."""
    if manifest is not None and not manifest.is_file():
        raise PrecedentError(f"{manifest}: manifest not found; give the path of a CSV file")
    settings = settings_for(data_dir)
    report = ingest_paths(paths, settings, manifest=manifest, include_md=include_md, progress=not json_out)
    watched = check_after_ingest_cli(settings)
    if json_out:
        emit({**report.to_dict(), "watches": watched})
    else:
        typer.echo(
            f"added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
            f"failed {len(report.failed)}; index holds {report.documents} documents, {report.chunks} chunks "
            f"({report.seconds:.1f}s)"
        )
        for failure in report.failed:
            typer.secho(f"  failed  {failure.path}: {failure.error}", err=True, fg=typer.colors.YELLOW)
        for skip in report.skipped:
            typer.echo(f"  skipped {skip.path}: {skip.error}", err=True)
        for watch_id, added in (watched or {}).get("new_entries", {}).items():
            typer.echo(f"  watch {watch_id}: {added} new match{'es' if added != 1 else ''}")
    if report.succeeded == 0 and report.failed:
        raise typer.Exit(1)


def documents(data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """List documents with their metadata and chunk counts."""
    docs = Store.open(settings_for(data_dir)).list_documents()
    if json_out:
        emit([d.model_dump(mode="json") for d in docs])
        return
    for d in docs:
        date = d.meeting_date.isoformat() if d.meeting_date else "undated"
        typer.echo(f"{d.document_id}  {d.force or '?'} | {date} | {d.doc_type} | {d.title} ({d.chunk_count} chunks)")
    typer.echo(f"{len(docs)} documents")


def remove(document_id: str, data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Delete a document from the vector store, the lexical index and the registry."""
    removed = Store.open(settings_for(data_dir)).remove_document(document_id)
    if json_out:
        emit({"document_id": document_id, "removed": removed})
    elif removed:
        typer.echo(f"removed {document_id}")
    if not removed:
        raise PrecedentError(f"no document '{document_id}': see `precedent documents` for ids")


def check(data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Verify the vector store, lexical index and registry agree (finishing interrupted writes first)."""
    report = Store.open(settings_for(data_dir)).check()
    if json_out:
        emit(asdict(report))
    else:
        for line in report.repaired:
            typer.echo(f"repaired: {line}")
        typer.echo(f"{'ok' if report.ok else 'PROBLEMS'}: {report.documents} documents, {report.chunks} chunks, "
                   f"{report.vectors} vectors, {report.fts_rows} lexical rows")
        for problem in report.problems:
            typer.secho(f"  {problem}", fg=typer.colors.RED)
    if not report.ok:
        raise typer.Exit(1)


def stats(data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Documents and chunks by force and by type."""
    data = Store.open(settings_for(data_dir)).stats()
    if json_out:
        emit(data)
        return
    typer.echo(f"{data.documents} documents, {data.chunks} chunks (model {data.model}, encoder {data.encoder})")
    for title, groups in (("by force", data.by_force), ("by type", data.by_type)):
        typer.echo(title + ":")
        for name, row in groups.items():
            typer.echo(f"  {name:<28} {row.documents:>6} docs {row.chunks:>8} chunks")
