"""Saved searches over HTTP: GET /watches, POST /watches and DELETE /watches/{id} (admin key), and each watch's
Atom feed at GET /watches/{id}/feed.xml."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from precedent.api.admin_routes import Admin
from precedent.api.deps import app_store
from precedent.api.exports import base_url
from precedent.ingest.errors import StoreMissing
from precedent.ingest.settings import Settings
from precedent.search.filters import MAX_QUERY_CHARS
from precedent.search.watches import Watch, WatchStore, add_watch, atom_feed, describe, remove_watch

router = APIRouter(tags=["watches"])
LATEST = 3


class WatchRequest(BaseModel):
    query: str = Field(min_length=1, max_length=MAX_QUERY_CHARS, description="What to watch for")
    forces: list[Annotated[str, Field(max_length=100)]] = Field(default_factory=list, max_length=50)
    since: Annotated[str, Field(max_length=40)] | None = Field(default=None, description="Meetings from YYYY-MM-DD")


def _watches(request: Request) -> WatchStore:
    settings: Settings = request.app.state.settings
    return WatchStore.open(settings)


def _described(watch: Watch, watches: WatchStore, request: Request) -> dict[str, object]:
    base = base_url(request)
    return {**watch.model_dump(mode="json"), "description": describe(watch), "entries": watches.count(watch.watch_id),
            "feed": f"{base}/watches/{watch.watch_id}/feed.xml",
            "latest": [e.model_dump(mode="json") for e in watches.entries(watch.watch_id, LATEST)]}


@router.get("/watches", summary="Saved searches, each with its newest matches and its feed")
def list_watches(request: Request) -> dict[str, object]:
    found: list[dict[str, object]] = []
    if WatchStore.exists(request.app.state.settings):
        with _watches(request) as watches:
            found = [_described(w, watches, request) for w in watches.watches()]
    # The page offers "Watch this question" only when a server admin key exists to save it with.
    return {"watches": found, "count": len(found), "writable": bool(request.app.state.settings.admin_key)}


@router.post("/watches", summary="Save a search (admin key)", status_code=201)
def create_watch(body: WatchRequest, request: Request, _: Admin) -> dict[str, object]:
    try:
        store = app_store(request.app.state)
    except StoreMissing:
        store = None
    with _watches(request) as watches:
        watch = add_watch(watches, store, body.query, body.forces, body.since)
        return _described(watch, watches, request)


@router.delete("/watches/{watch_id}", summary="Delete a saved search and its feed (admin key)")
def delete_watch(watch_id: str, request: Request, _: Admin) -> dict[str, object]:
    if not WatchStore.exists(request.app.state.settings):
        raise HTTPException(404, f"no watch '{watch_id[:40]}': list them at GET /watches")
    with _watches(request) as watches:
        remove_watch(watches, watch_id)
    return {"deleted": watch_id}


@router.get("/watches/{watch_id}/feed.xml", summary="A saved search's matches as an Atom feed",
            response_class=Response, responses={200: {"content": {"application/atom+xml": {}}}})
def watch_feed(watch_id: str, request: Request) -> Response:
    missing = HTTPException(404, f"no watch '{watch_id[:40]}': list them at GET /watches")
    if not WatchStore.exists(request.app.state.settings):
        raise missing
    with _watches(request) as watches:
        watch = watches.get(watch_id)
        if watch is None:
            raise missing
        entries = watches.entries(watch_id)
    return Response(atom_feed(watch, entries, base_url(request)), media_type="application/atom+xml")
