"""The `precedent` command line: a thin skin over the library, every command with --json."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from precedent.api.cli_export import Format, Output, check_format, write_export
from precedent.api.cli_watch import check_after_ingest_cli, watch_app
from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings, quiet_and_offline

app = typer.Typer(
    name="precedent", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Search and question answering over Police and Crime Panel archives.",
)

DataDir = Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder (default: PRECEDENT_DATA_DIR or a per-user data dir)")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]


def settings_for(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


def emit(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Show PrecedentErrors as one line on stderr and exit 1: no tracebacks for users."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PrecedentError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.secho("interrupted: the store is consistent; run the command again to resume", err=True)
            raise typer.Exit(130) from None

    return wrapper


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details")] = False) -> None:
    quiet_and_offline()
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("chromadb", "unstructured", "httpx", "sentence_transformers", "transformers", "pdfminer"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)


@app.command()
@friendly
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders of .txt/.html/.pdf/.docx")],
    manifest: Annotated[Optional[Path], typer.Option(help="CSV of metadata (columns as the seeds' manifest.csv)")] = None,
    data_dir: DataDir = None,
    json_out: JsonOut = False,
) -> None:
    """Add documents to the index; unchanged files are skipped, changed ones replaced."""
    from precedent.ingest.pipeline import ingest_paths

    if manifest is not None and not manifest.is_file():
        raise PrecedentError(f"{manifest}: manifest not found; give the path of a CSV file")
    settings = settings_for(data_dir)
    report = ingest_paths(paths, settings, manifest=manifest, progress=not json_out)
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


@app.command()
@friendly
def documents(data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """List documents with their metadata and chunk counts."""
    from precedent.search.store import Store

    docs = Store.open(settings_for(data_dir)).list_documents()
    if json_out:
        emit([d.model_dump(mode="json") for d in docs])
        return
    for d in docs:
        date = d.meeting_date.isoformat() if d.meeting_date else "undated"
        typer.echo(f"{d.document_id}  {d.force or '?'} | {date} | {d.doc_type} | {d.title} ({d.chunk_count} chunks)")
    typer.echo(f"{len(docs)} documents")


@app.command()
@friendly
def remove(document_id: str, data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Delete a document from the vector store, the lexical index and the registry."""
    from precedent.search.store import Store

    removed = Store.open(settings_for(data_dir)).remove_document(document_id)
    if json_out:
        emit({"document_id": document_id, "removed": removed})
    elif removed:
        typer.echo(f"removed {document_id}")
    if not removed:
        raise PrecedentError(f"no document '{document_id}': see `precedent documents` for ids")


@app.command()
@friendly
def check(data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Verify the vector store, lexical index and registry agree (finishing interrupted writes first)."""
    from dataclasses import asdict

    from precedent.search.store import Store

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


@app.command()
@friendly
def stats(data_dir: DataDir = None, json_out: JsonOut = False) -> None:
    """Documents and chunks by force and by type."""
    from precedent.search.store import Store

    data = Store.open(settings_for(data_dir)).stats()
    if json_out:
        emit(data)
        return
    typer.echo(f"{data['documents']} documents, {data['chunks']} chunks (model {data['model']})")
    for title, key in (("by force", "by_force"), ("by type", "by_type")):
        typer.echo(title + ":")
        for name, row in data[key].items():  # type: ignore[attr-defined]
            typer.echo(f"  {name:<28} {row['documents']:>6} docs {row['chunks']:>8} chunks")


@app.command()
@friendly
def search(
    query: Annotated[str, typer.Argument(help="Plain words; \"quoted phrases\" are kept together")],
    k: Annotated[int, typer.Option("-k", "--k", help="How many results (1-100)")] = 10,
    force: Annotated[Optional[list[str]], typer.Option("--force", help="Only this force (repeatable)")] = None,
    since: Annotated[Optional[str], typer.Option(help="Meetings on or after YYYY-MM-DD")] = None,
    until: Annotated[Optional[str], typer.Option(help="Meetings on or before YYYY-MM-DD")] = None,
    doc_type: Annotated[Optional[str], typer.Option("--type", help="minutes | report | other")] = None,
    mode: Annotated[str, typer.Option(help="dense | lexical | hybrid")] = "hybrid",
    data_dir: DataDir = None,
    json_out: JsonOut = False,
    fmt: Format = None,
    output: Output = None,
) -> None:
    """Search the archive: ranked passages, each with its citation."""
    from precedent.api.app import search_payload
    from precedent.search.export import search_report
    from precedent.search.retrieve import Searcher
    from precedent.search.snippet import MARK_CLOSE, MARK_OPEN

    check_format(fmt, output)
    settings = settings_for(data_dir)
    searcher = Searcher(settings)
    payload = search_payload(searcher, query, k, force or [], since, until, doc_type, mode)
    if fmt:
        write_export(search_report(payload, settings.public_url or ""), fmt, output)
        return
    if json_out:
        emit(payload)
        return
    results = payload["results"]
    if not results:
        typer.echo("No passages match. Try other words, or fewer filters.")
    bold, reset = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    for hit in results:  # type: ignore[union-attr]
        snippet = hit["snippet"].replace(MARK_OPEN, bold).replace(MARK_CLOSE, reset)
        typer.echo(f"{hit['rank']:>2}. {hit['citation']['display']}")
        typer.echo(f"    {snippet}")
        typer.echo(f"    [{hit['citation']['document_id']}]  {hit['citation']['url'] or hit['citation']['source']}\n")


@app.command()
@friendly
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Serve the HTTP API and the chat page."""
    import uvicorn

    from precedent.api.app import create_app

    settings = settings_for(data_dir)
    typer.echo(f"Precedent on http://{host}:{port}/  (API docs at /docs; index {settings.data_dir})")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def _register_feature_commands() -> None:
    """Commands that live beside their feature (answers, crawl, eval)."""
    from precedent.api.cli_answers import ask_command, compare_command
    from precedent.api.cli_crawl import crawl_command
    from precedent.api.cli_facts import facts_command
    from precedent.eval.cli import bench_command, eval_command

    for name, command in (("ask", ask_command), ("compare", compare_command), ("crawl", crawl_command),
                          ("eval", eval_command), ("bench", bench_command), ("facts", facts_command)):
        app.command(name)(friendly(command))


_register_feature_commands()
app.add_typer(watch_app, name="watch")
for _command in watch_app.registered_commands:
    _command.callback = friendly(_command.callback)  # type: ignore[arg-type]


def main() -> None:
    app()


if __name__ == "__main__":
    main()
