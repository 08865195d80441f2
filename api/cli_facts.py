"""`precedent facts precept|hearing`: the facts read at ingest, as a table or JSON (registered by api/cli.py)."""

from __future__ import annotations

from typing import Annotated

import typer

from precedent.api.cli_common import DataDir, Force, JsonOut, emit, settings_for
from precedent.ingest.store import Store
from precedent.search.facts import list_facts

PRECEPT_COLUMNS = (("year", "year"), ("band_d", "Band D"), ("increase_pounds", "rise £"),
                   ("increase_percent", "rise %"), ("verdict", "verdict"))
HEARING_COLUMNS = (("role", "role"), ("candidate", "candidate"), ("outcome", "outcome"))


def money(value: float) -> str:
    """"£12", "£3.60", "£300.2302": whole pounds bare, pence always to two places, more only when stated."""
    if value.is_integer():
        return f"£{value:,.0f}"
    return f"£{value:,.2f}" if round(value, 2) == value else f"£{value:,}"


def _cell(value: object, name: str) -> str:
    if value is None:
        return "-"
    if name in ("band_d", "increase_pounds"):
        return money(float(value))  # type: ignore[arg-type]
    if name == "increase_percent":
        return f"{float(value):g}%"  # type: ignore[arg-type]
    return str(value).replace("_", " ")


def facts_command(
    kind: Annotated[str, typer.Argument(help="precept | hearing")],
    force: Force = None,
    json_out: JsonOut = False,
    data_dir: DataDir = None,
) -> None:
    """Precept decisions or confirmation hearings across forces, each with the citation it was read from."""
    settings = settings_for(data_dir)
    rows = list_facts(Store.open(settings), kind, force or [], settings.public_url or "")
    if json_out:
        emit([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        typer.echo(f"No {kind} facts in the archive{' for ' + ', '.join(force) if force else ''}.")
        return
    columns = PRECEPT_COLUMNS if kind == "precept" else HEARING_COLUMNS
    table = [["force", "meeting", *(label for _, label in columns)]]
    for row in rows:
        meeting = row.meeting_date.isoformat() if row.meeting_date else ("earlier" if row.retrospective else "undated")
        table.append([row.force or "?", meeting, *(_cell(row.value(name), name) for name, _ in columns)])
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for line in table:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())
    typer.echo("\nSources:")
    for row in rows:
        decisive = row.fields.get("verdict" if kind == "precept" else "outcome")
        if decisive is not None:
            typer.echo(f"  {row.force}, {row.value('year') or row.value('role')}: {decisive.citation.display}")
            typer.echo(f"      \"{decisive.sentence}\"")
