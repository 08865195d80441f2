"""The `precedent` command line: a thin skin over the library, every command with --json.

This module only assembles the app: each command lives beside its kind of work (cli_index,
cli_search, cli_crawl, cli_facts, cli_watch, and the eval's commands) and none of them imports this module.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated

import typer

from precedent.api.cli_common import DataDir, friendly, settings_for
from precedent.api.cli_crawl import crawl_command
from precedent.api.cli_facts import facts_command
from precedent.api.cli_index import check, documents, ingest, remove, stats
from precedent.api.cli_reindex import reindex_command
from precedent.api.cli_search import ask_command, compare_command, search
from precedent.api.cli_sources import sources_command
from precedent.api.cli_watch import watch_app
from precedent.eval.cli import bench_command, eval_command
from precedent.ingest.settings import quiet_and_offline

# rich_markup_mode=None: plain help text, so `precedent --help` does not import rich's markdown renderer.
app = typer.Typer(
    name="precedent", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    rich_markup_mode=None,
    help="Search and question answering over Police and Crime Panel archives.",
)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details")] = False) -> None:
    quiet_and_offline()
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("chromadb", "unstructured", "httpx", "sentence_transformers", "transformers", "pdfminer"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    data_dir: DataDir = None,
) -> None:
    """Serve the HTTP API and the chat page."""
    started = time.perf_counter()
    # FastAPI and uvicorn take a third of a second to import: only this command needs them.
    import uvicorn

    from precedent.api.app import create_app

    def ready(_: float, problem: str | None) -> None:
        if problem:
            typer.secho(f"not ready: {problem}", err=True, fg=typer.colors.YELLOW)
        else:
            typer.echo(f"ready in {time.perf_counter() - started:.1f}s: model loaded, index open")

    settings = settings_for(data_dir)
    typer.echo(f"Precedent on http://{host}:{port}/  (API docs at /docs; index {settings.data_dir}); warming up")
    uvicorn.run(create_app(settings, on_ready=ready), host=host, port=port, log_level="warning")


for _name, _command in (
    ("ingest", ingest), ("documents", documents), ("remove", remove), ("check", check), ("stats", stats),
    ("search", search), ("ask", ask_command), ("compare", compare_command), ("crawl", crawl_command),
    ("sources", sources_command), ("eval", eval_command), ("bench", bench_command), ("serve", serve),
    ("reindex", reindex_command),
    ("facts", facts_command),
):
    app.command(_name)(friendly(_command))
app.add_typer(watch_app, name="watch")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
