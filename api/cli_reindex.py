"""`precedent reindex`: re-embed an index in place with the configured encoder (registered by api/cli.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from precedent.api.cli_common import DataDir, JsonOut, emit, settings_for
from precedent.ingest.reindex import reindex


def reindex_command(
    data_dir: DataDir = None,
    json_out: JsonOut = False,
    documents_per_batch: Annotated[int, typer.Option("--documents-per-batch", min=1, help="Documents re-embedded between two progress records")] = 32,
) -> None:
    """Re-embed every chunk with PRECEDENT_ENCODER (onnx-int8 or torch); resumes if it was interrupted."""
    def progress(done: int, total: int) -> None:
        if not json_out:
            typer.echo(f"  {done}/{total} documents re-embedded", err=True)

    report = reindex(settings_for(data_dir), documents_per_batch=documents_per_batch, on_batch=progress)
    if json_out:
        emit(report.to_dict())
    elif report.documents == 0 and not report.resumed:
        typer.echo(f"nothing to do: the index's vectors are already {report.encoder}'s")
    else:
        typer.echo(f"re-embedded {report.documents} documents ({report.chunks} chunks) with {report.encoder}, "
                   f"replacing {report.previous}{' (resumed)' if report.resumed else ''} in {report.seconds:.1f}s")
