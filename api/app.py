"""The FastAPI service: search, documents, facets and health, plus the chat page at ``/``.

Built by ``create_app(settings)``: no import-time globals, so tests and several servers can each
have their own settings.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from precedent.api import admin_routes, answers_routes, facts_routes, sources_routes, watch_routes
from precedent.api.deps import app_searcher, get_searcher, get_settings
from precedent.api.exports import OutputFormat, base_url, export_response
from precedent.api.security import install_security
from precedent.ingest.crawl.coverage import last_crawls
from precedent.ingest.errors import (
    BadQuery,
    ModelUnavailable,
    PrecedentError,
    StoreMismatch,
    StoreMissing,
    StoreUnavailable,
)
from precedent.ingest.settings import Settings, quiet_and_offline
from precedent.search.export import search_report
from precedent.search.filters import FilterSpec
from precedent.search.retrieve import Searcher, SearchResponse, search_response
from precedent.search.watches import UnknownWatch

STATIC = Path(__file__).resolve().parent / "static"
_STATUS = {BadQuery: 422, StoreMissing: 503, StoreUnavailable: 503, StoreMismatch: 503, ModelUnavailable: 503,
           UnknownWatch: 404}


def status_for(exc: PrecedentError) -> int:
    for cls, code in _STATUS.items():
        if isinstance(exc, cls):
            return code
    return 400


@asynccontextmanager
async def _warm_up(app: FastAPI) -> AsyncIterator[None]:
    """Warm up in the background at start: open the store, load the model, run one search (Chroma's index
    and SQLite's pages load on first use), so the first question does not wait. ``/health`` says
    "warming" until this is done; ``on_ready`` hears how long it took."""
    started = time.perf_counter()

    def load() -> None:
        problem = None
        try:
            searcher = app_searcher(app.state)
            searcher.embedder  # noqa: B018 - loading is the point
            if not searcher.store.is_empty():
                searcher.search("police and crime panel", k=3)
        except PrecedentError as exc:
            problem = str(exc)  # no index yet, or another model's: requests will say what to do
        finally:
            if app.state.on_ready is not None:  # said before /health says so
                app.state.on_ready(time.perf_counter() - started, problem)
            app.state.warm.set()

    threading.Thread(target=load, name="warm-up", daemon=True).start()
    yield
    if getattr(app.state, "writer_lane", None) is not None:
        app.state.writer_lane.close()  # uploads already accepted finish first


def create_app(settings: Settings | None = None, *,
               on_ready: Callable[[float, str | None], None] | None = None) -> FastAPI:
    quiet_and_offline()
    settings = settings or Settings()
    # FastAPIOffline: /docs and /redoc from bundled assets, so the docs work on a machine with no internet.
    app = FastAPIOffline(
        title="Precedent",
        description="Semantic search and cited answers over Police and Crime Panel archives.",
        version="0.1.0",
        lifespan=_warm_up,
    )
    install_security(app, settings)
    app.state.settings = settings
    app.state.searcher = None
    app.state.store = None
    app.state.warm = threading.Event()  # set once the warm-up has finished, however it ended
    app.state.on_ready = on_ready

    @app.exception_handler(PrecedentError)
    async def _precedent_error(request: Request, exc: PrecedentError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
            problems.append(f"{where or 'request'}: {err.get('msg', 'invalid')}")
        return JSONResponse({"detail": "; ".join(problems)[:2000]}, status_code=422)

    @app.get("/search", summary="Hybrid search with filters; every result carries its citation; format= exports "
                               "them (csv | md | docx)", response_model=SearchResponse)
    def search(
        request: Request,
        q: Annotated[str, Query(description="What to search for", max_length=2000)],
        searcher: Annotated[Searcher, Depends(get_searcher)],
        k: Annotated[int, Query(ge=1, le=100)] = 10,
        force: Annotated[list[str], Query(description="Force name (repeatable)")] = [],  # noqa: B006
        since: Annotated[str | None, Query(description="Meeting date from, YYYY-MM-DD")] = None,
        until: Annotated[str | None, Query(description="Meeting date to, YYYY-MM-DD")] = None,
        type: Annotated[Literal["minutes", "report", "other"] | None, Query()] = None,  # noqa: A002
        mode: Annotated[Literal["dense", "lexical", "hybrid"], Query()] = "hybrid",
        document_id: Annotated[list[str], Query()] = [],  # noqa: B006
        format: Annotated[OutputFormat, Query(description="json, or an export: csv | md | docx")] = "json",  # noqa: A002
    ) -> SearchResponse | Response:
        spec = FilterSpec.parse(force=force, since=since, until=until, doc_type=type, document_id=document_id)
        response = search_response(searcher, q, spec, k=k, mode=mode)
        if format != "json":
            return export_response(search_report(response, base_url(request)), format)
        return response

    @app.get("/documents", summary="Every document with its metadata and chunk count")
    def documents(searcher: Annotated[Searcher, Depends(get_searcher)]) -> dict[str, object]:
        docs = searcher.store.list_documents()
        return {"documents": [d.model_dump(mode="json") for d in docs], "count": len(docs)}

    @app.get("/documents/{document_id}", summary="One document: metadata, full cleaned text and its chunks")
    def document(document_id: str, searcher: Annotated[Searcher, Depends(get_searcher)]) -> dict[str, object]:
        found = searcher.store.get_document(document_id)
        if found is None:
            return JSONResponse(  # type: ignore[return-value]
                {"detail": f"no document '{document_id[:120]}': list them at GET /documents"}, status_code=404
            )
        return {
            "document": found.document.model_dump(mode="json"), "text": found.text,
            "chunks": [{"chunk_id": c.chunk_id, "ordinal": c.ordinal, "locator": c.locator, "start": c.start,
                        "end": c.end, "text": c.text} for c in found.chunks],
        }

    @app.get("/facets", summary="Forces, panels, document types and the date range, with counts")
    def facets(searcher: Annotated[Searcher, Depends(get_searcher)]) -> dict[str, object]:
        return searcher.store.facets()

    @app.get("/health", summary="Is the store reachable, how big is it, is the model loaded")
    def health(request: Request, settings: Annotated[Settings, Depends(get_settings)]) -> JSONResponse:
        body: dict[str, object] = {"status": "ok", "data_dir": str(settings.data_dir),
                                   "vector_store": settings.chroma_url or "embedded",
                                   "llm": bool(settings.llm_url), "time": dt.datetime.now(dt.UTC).isoformat(),
                                   "crawls": {f: c.model_dump() for f, c in last_crawls(settings).items()}}
        if not request.app.state.warm.is_set():
            body.update(status="warming", detail="loading the model and the index; ready in a few seconds")
            return JSONResponse(body, status_code=503, headers={"Retry-After": "1"})
        try:
            searcher = get_searcher(request)
            # another model's, encoder's or schema's store: say so
            searcher.store.check_compatible(settings.model, encoder=settings.encoder)
            docs, chunks = searcher.store.counts()
            body.update(documents=docs, chunks=chunks, vectors=searcher.store.vector_count(),
                        model=settings.model, model_loaded=searcher.model_loaded)
            return JSONResponse(body)
        except PrecedentError as exc:
            body.update(status="unavailable", detail=str(exc))
            return JSONResponse(body, status_code=503)

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(str(STATIC / "index.html"), media_type="text/html")

    app.include_router(answers_routes.router)
    app.include_router(admin_routes.router)
    app.include_router(sources_routes.router)
    app.include_router(facts_routes.router)
    app.include_router(watch_routes.router)
    return app

