"""`precedent reindex`: re-embed an index in place with the configured encoder (registered by api/cli.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer


def reindex_command(
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="Index folder (default: PRECEDENT_DATA_DIR or a per-user data dir)")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON instead of text")] = False,
    documents_per_batch: Annotated[int, typer.Option("--documents-per-batch", min=1, help="Documents re-embedded between two progress records")] = 32,
) -> None:
    """Re-embed every chunk with PRECEDENT_ENCODER (onnx-int8 or torch); resumes if it was interrupted."""
    from precedent.ingest.reindex import reindex
    from precedent.ingest.settings import Settings

    settings = Settings(data_dir=data_dir) if data_dir else Settings()

    def progress(done: int, total: int) -> None:
        if not json_out:
            typer.echo(f"  {done}/{total} documents re-embedded", err=True)

    report = reindex(settings, documents_per_batch=documents_per_batch, on_batch=progress)
    if json_out:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    elif report.documents == 0 and not report.resumed:
        typer.echo(f"nothing to do: the index's vectors are already {report.encoder}'s")
    else:
        typer.echo(f"re-embedded {report.documents} documents ({report.chunks} chunks) with {report.encoder}, "
                   f"replacing {report.previous}{' (resumed)' if report.resumed else ''} in {report.seconds:.1f}s")
