"""`precedent ask` and `precedent compare`: thin skins over search/answer.py and search/compare.py.

Registered by api/cli.py (``app.command("ask")(ask_command)``); the helpers of that module are
imported inside the functions, because api/cli.py imports this module while it is being loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from precedent.api.cli_export import Format, Output, check_format, write_export

Force = Annotated[Optional[list[str]], typer.Option("--force", help="Only this force (repeatable)")]
Since = Annotated[Optional[str], typer.Option(help="Meetings on or after YYYY-MM-DD")]
Until = Annotated[Optional[str], typer.Option(help="Meetings on or before YYYY-MM-DD")]
DocType = Annotated[Optional[str], typer.Option("--type", help="minutes | report | other")]
DataDir = Annotated[Optional[Path], typer.Option(
    "--data-dir", help="Index folder (default: PRECEDENT_DATA_DIR or a per-user data dir)")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]


def ask_command(
    question: Annotated[str, typer.Argument(help="A question in plain words")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="Passages to consider (1-50)")] = 8,
    force: Force = None,
    since: Since = None,
    until: Until = None,
    doc_type: DocType = None,
    llm: Annotated[bool, typer.Option("--llm", help="Have the LLM at PRECEDENT_LLM_URL write it")] = False,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
    fmt: Format = None,
    output: Output = None,
) -> None:
    """Answer a question from the archive, every sentence citing its passage."""
    from precedent.api.cli import emit, settings_for
    from precedent.search.answer import ask, retrieve
    from precedent.search.export import answer_report
    from precedent.search.followup import FilterSpec
    from precedent.search.retrieve import Searcher

    check_format(fmt, output)
    settings = settings_for(data_dir)
    searcher = Searcher(settings)
    filters = FilterSpec(force=tuple(force or ()), since=since, until=until, doc_type=doc_type)
    if llm:
        from precedent.search.llm import LLMClient, llm_answer

        client = LLMClient(settings)
        try:
            answer = llm_answer(client, retrieve(searcher, question, k=k, filters=filters))
        finally:
            client.close()
    else:
        answer = ask(searcher, question, k=k, filters=filters)
    if fmt:
        write_export(answer_report(answer, settings.public_url or ""), fmt, output)
        return
    if json_out:
        emit(answer.model_dump(mode="json"))
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:")
    for c in answer.citations:
        typer.echo(f"  [{c.n}] {c.citation.display}")
        typer.echo(f"      {c.citation.url or c.citation.source}")
    for sentence in answer.dropped:
        typer.secho(f"  dropped (no valid citation): {sentence}", err=True, fg=typer.colors.YELLOW)


def compare_command(
    question: Annotated[str, typer.Argument(help="A question in plain words")],
    force: Force = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=20, help="Passages per force (1-20)")] = 3,
    since: Since = None,
    until: Until = None,
    doc_type: DocType = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
    fmt: Format = None,
    output: Output = None,
) -> None:
    """Compare forces on one question: best passages per force and a per-year timeline."""
    from precedent.api.cli import emit, settings_for
    from precedent.search.compare import compare, timeline_table
    from precedent.search.export import comparison_report
    from precedent.search.retrieve import Searcher
    from precedent.search.snippet import plain

    check_format(fmt, output)
    settings = settings_for(data_dir)
    searcher = Searcher(settings)
    result = compare(searcher, question, forces=force or [], k=k, since=since, until=until, doc_type=doc_type)
    if fmt:
        filters = {"force": force or [], "since": since, "until": until, "doc_type": doc_type}
        write_export(comparison_report(result, filters, settings.public_url or ""), fmt, output)
        return
    if json_out:
        emit(result.model_dump(mode="json"))
        return
    for column in result.forces:
        typer.secho(column.force, bold=True)
        if not column.found:
            typer.echo(f"  {column.message}")
        for hit in column.results:
            citation = hit["citation"]
            typer.echo(f"  - {plain(str(hit['snippet']))}")
            typer.echo(f"    {citation['display']}")  # type: ignore[index]
        typer.echo("")
    typer.echo("Passages clearing the relevance bar, by year of meeting:")
    typer.echo(timeline_table(result) if result.timeline.years or result.timeline.series else "  (none)")
