"""GET /sources: every force, where its papers come from and how far the archive covers it.

The same rows as `precedent sources --json`; readable with no index yet (every count is then 0), so
the chat page can show which forces exist but are not yet indexed.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from precedent.api.deps import app_store
from precedent.ingest.crawl.coverage import sources_report
from precedent.ingest.errors import PrecedentError
from precedent.ingest.store import IndexStats

router = APIRouter(tags=["sources"])


def _index_stats(request: Request) -> IndexStats | None:
    try:
        return app_store(request.app.state).stats()
    except PrecedentError:
        return None  # no index yet


@router.get("/sources", summary="Every force: system, hosts, committee, status, last crawl, document and chunk counts")
def sources(request: Request) -> dict[str, object]:
    rows = sources_report(request.app.state.settings, _index_stats(request))
    statuses = {s: sum(1 for r in rows if r.status == s) for s in ("crawlable", "needs verification", "unsupported")}
    return {"sources": [r.model_dump(mode="json", by_alias=True) for r in rows], "count": len(rows),
            "statuses": statuses, "indexed": sum(1 for r in rows if r.documents)}
