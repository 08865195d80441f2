"""`precedent eval` and `precedent bench`: thin skins over precedent.eval (registered by api/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from precedent.eval.bench.encoders import format_encoders, run_encoder_bench
from precedent.eval.bench.ingest import format_ingest, run_ingest_bench
from precedent.eval.bench.load import format_load, parse_clients, run_load_bench
from precedent.eval.bench.query import format_query, run_query_bench
from precedent.eval.bench.scale import format_scale, parse_sizes, run_scale_bench
from precedent.eval.bench.startup import format_startup, run_startup_bench
from precedent.eval.facts import facts_command, format_facts
from precedent.eval.floors import check_floors as floors_check
from precedent.eval.metadata import measure_corpora
from precedent.eval.questions import load_questions, load_traps
from precedent.eval.report import write_report
from precedent.eval.run import OFFTOPIC_PATH, build_index, load_offtopic, parse_systems, run_eval
from precedent.eval.tables import format_result
from precedent.ingest.errors import PrecedentError
from precedent.search.retrieve import Searcher


def _emit(payload: Any) -> None:
    typer.echo(json.dumps(payload, indent=2, ensure_ascii=False, default=str))


def _progress(enabled: bool):  # type: ignore[no-untyped-def]
    return (lambda msg: typer.echo(msg, err=True)) if enabled else (lambda msg: None)


def eval_command(
    questions: Annotated[list[Path], typer.Argument(help="Question sets: JSONL with id, question, evidence [{file|document_id, quote}] (optional category, force). Each is a set named after its folder")],
    corpus: Annotated[Optional[list[Path]], typer.Option("--corpus", help="Folder of documents to index, repeatable; one index holds them all (default: each question file's folder). A folder's manifest.csv says what it holds")] = None,
    traps: Annotated[Optional[list[Path]], typer.Option("--traps", help="Questions the archive cannot answer (traps.jsonl: kind near|force|off), repeatable: refusal by kind")] = None,
    offtopic: Annotated[Optional[Path], typer.Option("--offtopic", help="Off-topic questions that must be refused (default: eval/data/offtopic.jsonl)")] = None,
    k: Annotated[int, typer.Option("--k", "-k", help="Results per question that count (metrics @1..@10 are always given)")] = 10,
    systems: Annotated[Optional[str], typer.Option("--systems", help="Comma-separated: bm25-naive, dense-naive, rrf-naive, dense, lexical, hybrid (default: all)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", help="Write a self-contained HTML report to this file")] = None,
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Index the corpora here (default: a cached temp dir per set of corpora)")] = None,
    check_floors: Annotated[Optional[Path], typer.Option("--check-floors", help="Exit 1 if a figure falls below the floors in this JSON file (eval/floors.json)")] = None,
    answers: Annotated[bool, typer.Option("--answers/--no-answers", help="Also score /ask answers and trap refusals")] = True,
    metadata: Annotated[bool, typer.Option("--metadata/--no-metadata", help="Also measure metadata read off each corpus without its manifest, against the manifest")] = True,
    facts: Annotated[bool, typer.Option("--facts", help="The file is ground-truth precept and hearing facts (facts.jsonl): score the facts read at ingest (eval/facts.py)")] = False,
) -> None:
    """Measure retrieval, answers and refusals on one or more question sets over one index, beside naive baselines."""
    if facts:
        if len(questions) != 1:
            raise PrecedentError("--facts takes one facts file (facts.jsonl)")
        outcome = facts_command(questions[0], corpus, data_dir, check_floors)
        typer.echo(json.dumps(outcome.to_dict(), indent=2) if json_out else format_facts(outcome))
        if outcome.floors is not None and not outcome.floors["ok"]:
            raise typer.Exit(1)
        return
    say = _progress(not json_out)
    names = parse_systems(systems)
    if offtopic is not None and not offtopic.is_file():
        raise PrecedentError(f"{offtopic}: no such off-topic question file (JSONL, one {{\"id\", \"question\"}} a line)")
    items = [q for path in questions for q in load_questions(path)]
    trap_items = [t for path in traps or [] for t in load_traps(path)]
    corpora = list(dict.fromkeys(c.resolve() for c in (corpus or [q.resolve().parent for q in questions])))
    say(f"indexing {', '.join(map(str, corpora))}")
    settings, ingest = build_index(corpora, data_dir)
    if ingest.failed:
        say(f"warning: {len(ingest.failed)} files could not be indexed, e.g. {ingest.failed[0].path}: {ingest.failed[0].error}")
    searcher = Searcher(settings)
    try:
        result = run_eval(items, searcher, systems=names, k=k, answers=answers, traps=trap_items,
                          offtopic=load_offtopic(offtopic or OFFTOPIC_PATH), questions_files=questions,
                          corpora=corpora, progress=say)
    finally:
        searcher.store.close()
    if metadata:
        result.metadata = measure_corpora(corpora, settings, progress=say)
    if check_floors is not None:
        result.floors = floors_check(result, check_floors)
    if report is not None:
        write_report(report, result)
        say(f"report written to {report}")
    if json_out:
        _emit(result.to_dict())
    else:
        typer.echo(format_result(result))
    if result.floors is not None and not result.floors["ok"]:
        raise typer.Exit(1)


def bench_command(
    which: Annotated[str, typer.Argument(help="ingest | encoders | startup | query | scale | load | all (ingest, encoders, startup, scale at 100k and 1m, load: every figure in one run)")],
    chunks: Annotated[Optional[int], typer.Option("--chunks", help="encoders: chunk texts to encode (600); query: index size in chunks (100000)")] = None,
    ways: Annotated[int, typer.Option("--ways", help="ingest: shuffled copies of each seed and panels paper")] = 8,
    runs: Annotated[int, typer.Option("--runs", help="startup: new processes per command")] = 5,
    sizes: Annotated[Optional[str], typer.Option("--sizes", help="scale: comma-separated chunk counts, e.g. 10k,100k[,1m]")] = None,
    cache_dir: Annotated[Optional[Path], typer.Option("--cache-dir", help="query/scale: where synthetic indexes and vectors are kept and reused")] = None,
    seeds: Annotated[Optional[Path], typer.Option("--seeds", help="Folder of seed .txt files (default: ../shared/corpus/seeds)")] = None,
    repeats: Annotated[int, typer.Option("--repeats", help="query/scale: passes over the query list per mode")] = 2,
    vectors: Annotated[Optional[str], typer.Option("--vectors", help="query/scale: encoded (the model on every chunk), composed (built from sentence vectors, for sizes where encoding takes hours) or auto (scale: composed above 100k)")] = None,
    text: Annotated[str, typer.Option("--text", help="query/scale: recombined (seed sentences drawn evenly) or zipf (seeds and panels sentences in Zipf proportions, a real term distribution)")] = "recombined",
    clients: Annotated[Optional[str], typer.Option("--clients", help="load: client counts, comma-separated (8,32)")] = None,
    requests: Annotated[int, typer.Option("--requests", help="load: mixed /search and /ask requests per phase")] = 320,
    uploads: Annotated[int, typer.Option("--uploads", help="load: admin uploads alongside each busy phase")] = 12,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
    report: Annotated[Optional[Path], typer.Option("--report", help="query/scale: write an HTML report with the latency plots")] = None,
) -> None:
    """Benchmarks: ingest throughput, query latency on a running server, the scale curve. Prints tables."""
    say = _progress(not json_out)
    options: dict[str, Any] = dict(chunks=chunks, ways=ways, runs=runs, sizes=sizes, cache_dir=cache_dir, seeds=seeds,
                                   repeats=repeats, vectors=vectors, text=text, clients=clients, requests=requests,
                                   uploads=uploads)
    if which == "all":
        results: dict[str, Any] = {}
        sections = []
        for name in ALL_BENCHES:
            say(f"== bench {name}")
            results[name], part = _run_bench(name, say, **{**options, "sizes": sizes or "100k,1m"})
            sections.append(f"== {name}\n{part}")
        result: Any = {"benches": results}
        text_out = "\n\n".join(sections)
    else:
        result, text_out = _run_bench(which, say, **options)
    if report is not None:
        write_report(report, bench=result, title=f"Precedent {which} benchmark")
        say(f"report written to {report}")
    if json_out:
        _emit(result)
    else:
        typer.echo(text_out)


# `bench all`: every figure of issue 16 in one run, each table printing its figures beside their targets.
ALL_BENCHES = ("ingest", "encoders", "startup", "scale", "load")


def _run_bench(which: str, say: Any, *, chunks: int | None, ways: int, runs: int, sizes: str | None,
               cache_dir: Path | None, seeds: Path | None, repeats: int, vectors: str | None, text: str,
               clients: str | None, requests: int, uploads: int) -> tuple[Any, str]:
    if which == "ingest":
        result = run_ingest_bench(ways, seeds=seeds, log=say)
        return result, format_ingest(result)
    if which == "encoders":
        result = run_encoder_bench(chunks or 600, seeds=seeds, log=say)
        return result, format_encoders(result)
    if which == "startup":
        result = run_startup_bench(runs, seeds=seeds, log=say)
        return result, format_startup(result)
    if which == "query":
        result = run_query_bench(chunks or 100_000, cache=cache_dir, seeds=seeds, repeats=repeats,
                                 vectors=vectors or "encoded", log=say)
        return result, format_query(result)
    if which == "scale":
        result = run_scale_bench(parse_sizes(sizes), cache=cache_dir, seeds=seeds, repeats=repeats,
                                 vectors=vectors or "auto", text=text, log=say)
        return result, format_scale(result)
    if which == "load":
        result = run_load_bench(parse_clients(clients), requests=requests, uploads=uploads, cache=cache_dir, log=say)
        return result, format_load(result)
    raise PrecedentError(f"unknown benchmark '{which}': use ingest, encoders, startup, query, scale, load or all")
