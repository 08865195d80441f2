"""`precedent search | ask | compare`: thin skins over search/retrieve.py, answer.py and compare.py."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from precedent.api.cli_common import DataDir, DocType, Force, JsonOut, Since, Until, emit, settings_for
from precedent.api.cli_export import Format, Output, check_format, write_export
from precedent.search.answer import DEFAULT_K, ask, retrieve
from precedent.search.compare import DEFAULT_PER_FORCE, compare, timeline_table
from precedent.search.export import answer_report, comparison_report, search_report
from precedent.search.filters import FilterSpec
from precedent.search.llm import LLMClient, llm_answer
from precedent.search.retrieve import MODES, Searcher, search_response
from precedent.search.snippet import MARK_CLOSE, MARK_OPEN, plain


def search(
    query: Annotated[str, typer.Argument(help="Plain words; \"quoted phrases\" are kept together")],
    k: Annotated[int, typer.Option("-k", "--k", help="How many results (1-100)")] = 10,
    force: Force = None,
    since: Since = None,
    until: Until = None,
    doc_type: DocType = None,
    mode: Annotated[str, typer.Option(help=" | ".join(MODES))] = "hybrid",
    data_dir: DataDir = None,
    json_out: JsonOut = False,
    fmt: Format = None,
    output: Output = None,
) -> None:
    """Search the archive: ranked passages, each with its citation."""
    check_format(fmt, output)
    settings = settings_for(data_dir)
    spec = FilterSpec.parse(force=force or [], since=since, until=until, doc_type=doc_type)
    response = search_response(Searcher(settings), query, spec, k=k, mode=mode)
    if fmt:
        write_export(search_report(response, settings.public_url or ""), fmt, output)
        return
    if json_out:
        emit(response)
        return
    if not response.results:
        typer.echo("No passages match. Try other words, or fewer filters.")
    bold, reset = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("", "")
    for hit in response.results:
        snippet = hit.snippet.replace(MARK_OPEN, bold).replace(MARK_CLOSE, reset)
        typer.echo(f"{hit.rank:>2}. {hit.citation.display}")
        typer.echo(f"    {snippet}")
        typer.echo(f"    [{hit.citation.document_id}]  {hit.citation.url or hit.citation.source}\n")


def ask_command(
    question: Annotated[str, typer.Argument(help="A question in plain words")],
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="Passages to consider (1-50)")] = DEFAULT_K,
    force: Force = None,
    since: Since = None,
    until: Until = None,
    doc_type: DocType = None,
    llm: Annotated[bool, typer.Option("--llm", help="Have the LLM at PRECEDENT_LLM_URL write it")] = False,
    cues: Annotated[bool, typer.Option("--cues/--no-cues", help="Let forces and dates named in the question filter it")] = True,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
    fmt: Format = None,
    output: Output = None,
) -> None:
    """Answer a question from the archive, every sentence citing its passage."""
    check_format(fmt, output)
    settings = settings_for(data_dir)
    searcher = Searcher(settings)
    filters = FilterSpec.parse(force=force or [], since=since, until=until, doc_type=doc_type)
    if llm:
        client = LLMClient(settings)
        try:
            answer = llm_answer(client, retrieve(searcher, question, k=k, filters=filters, use_cues=cues))
        finally:
            client.close()
    else:
        answer = ask(searcher, question, k=k, filters=filters, use_cues=cues)
    if fmt:
        write_export(answer_report(answer, settings.public_url or ""), fmt, output)
        return
    if json_out:
        emit(answer)
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
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=20, help="Passages per force (1-20)")] = DEFAULT_PER_FORCE,
    since: Since = None,
    until: Until = None,
    doc_type: DocType = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
    fmt: Format = None,
    output: Output = None,
) -> None:
    """Compare forces on one question: best passages per force and a per-year timeline."""
    check_format(fmt, output)
    settings = settings_for(data_dir)
    filters = FilterSpec.parse(force=force or [], since=since, until=until, doc_type=doc_type)
    result = compare(Searcher(settings), question, filters=filters, k=k)
    if fmt:
        write_export(comparison_report(result, filters, settings.public_url or ""), fmt, output)
        return
    if json_out:
        emit(result)
        return
    for column in result.forces:
        typer.secho(column.force, bold=True)
        if not column.found:
            typer.echo(f"  {column.message}")
        for hit in column.results:
            typer.echo(f"  - {plain(hit.snippet)}")
            typer.echo(f"    {hit.citation.display}")
        typer.echo("")
    typer.echo("Passages clearing the relevance bar, by year of meeting:")
    typer.echo(timeline_table(result) if result.timeline.years or result.timeline.series else "  (none)")
