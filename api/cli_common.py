"""What every `precedent` command shares: options, settings, JSON output, and errors without tracebacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from pydantic import BaseModel

from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings

DataDir = Annotated[Optional[Path], typer.Option(
    "--data-dir", help="Index folder (default: PRECEDENT_DATA_DIR or a per-user data dir)")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
Force = Annotated[Optional[list[str]], typer.Option("--force", help="Only this force (repeatable)")]
Since = Annotated[Optional[str], typer.Option(help="Meetings on or after YYYY-MM-DD")]
Until = Annotated[Optional[str], typer.Option(help="Meetings on or before YYYY-MM-DD")]
DocType = Annotated[Optional[str], typer.Option("--type", help="minutes | report | other")]


def settings_for(data_dir: Path | None) -> Settings:
    return Settings(data_dir=data_dir) if data_dir else Settings()


def emit(payload: Any) -> None:
    """Print ``payload`` as JSON: a pydantic model as its JSON form, anything else as json.dumps."""
    if isinstance(payload, BaseModel):
        payload = payload.model_dump(mode="json")
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
