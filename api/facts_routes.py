"""GET /facts: precept decisions and confirmation hearings across forces, every value with its citation."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request

from precedent.api.deps import app_store, get_searcher
from precedent.api.exports import base_url
from precedent.search.facts import list_facts
from precedent.search.retrieve import Searcher

router = APIRouter(tags=["facts"])


@router.get("/facts", summary="Precept decisions or confirmation hearings by force, each field citing its sentence")
def facts(
    request: Request,
    searcher: Annotated[Searcher, Depends(get_searcher)],
    kind: Annotated[Literal["precept", "hearing"], Query(description="precept | hearing")] = "precept",
    force: Annotated[list[str], Query(description="Force name (repeatable)")] = [],  # noqa: B006
) -> dict[str, object]:
    # get_searcher says 503 when the index is empty; the facts are read from (and refreshed in) the app's store.
    rows = list_facts(app_store(request.app.state), kind, force, base_url(request))
    return {"kind": kind, "count": len(rows), "facts": [r.model_dump(mode="json") for r in rows]}
