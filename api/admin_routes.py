"""Who may change the archive: upload and delete documents, start a crawl, follow its job.

Every route here needs ``Authorization: Bearer <PRECEDENT_ADMIN_KEY>``; with no key configured the
routes are disabled (403), never open. Writes go through the app's own Searcher's store and embedder,
so the API process is the only writer to its vector store. They run at a lower CPU priority than
searches (``PRECEDENT_WRITER_NICE``, ingest/priority.py): uploads one at a time in the app's writer
lane, a crawl in its own thread, each parsing in the parse worker process, never under the searches' GIL.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import threading
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from precedent.api import deps
from precedent.api.security import bearer_token, key_matches
from precedent.ingest.crawl.crawl import crawl
from precedent.ingest.crawl.lock import CrawlAlreadyRunning, CrawlLock
from precedent.ingest.crawl.registry import registry_for, select_panels
from precedent.ingest.errors import EmptyFile, PrecedentError, UnsupportedType
from precedent.ingest.parse import check_type
from precedent.ingest.pipeline import IngestReport, ingest_items
from precedent.ingest.priority import WriterLane, lower_thread_priority
from precedent.ingest.records import DocumentMeta, SourceItem
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from precedent.search.retrieve import Searcher
from precedent.search.watches import check_after_ingest

router = APIRouter(tags=["admin"])

# Room for the form's other fields and the multipart boundaries around the file.
_FORM_OVERHEAD = 64 * 1024
_META_FIELDS = ("title", "force", "panel", "meeting_date", "doc_type", "url")
_SAFE_NAME = re.compile(r"[^\w .()-]+")


def require_admin(request: Request) -> None:
    """403 when writes are disabled (no key configured), 401 when the key is missing or wrong."""
    key = request.app.state.settings.admin_key
    if not key:
        raise HTTPException(403, "write endpoints are disabled: set PRECEDENT_ADMIN_KEY on the server to "
                                 "enable them, then send it as 'Authorization: Bearer <key>'")
    if not key_matches(bearer_token(request.headers.raw), key):
        raise HTTPException(401, "missing or wrong admin key: send 'Authorization: Bearer <PRECEDENT_ADMIN_KEY>'",
                            headers={"WWW-Authenticate": "Bearer"})


Admin = Annotated[None, Depends(require_admin)]


def writer(request: Request) -> Writer:
    """The app's own store and model, the store created if this is the first document: the API
    process stays the only writer to its vector store."""
    state = request.app.state
    searcher = deps.app_searcher(state, create=True)
    return Writer(deps.app_store(state), searcher, deps.writer_lane(state))


@dataclass(frozen=True)
class Writer:
    store: Store
    searcher: Searcher
    lane: WriterLane

    def ingest(self, items: Iterable[SourceItem], settings: Settings) -> IngestReport:
        """Ingest in the calling thread (the lane's, or a crawl's, both at the writers' priority)."""
        return ingest_items(items, settings, store=self.store, embedder=self.searcher.embedder,
                            isolate_parsing=True)


def safe_filename(name: str | None) -> str:
    """A display name from the client's filename: never a path, only the base name's safe characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = _SAFE_NAME.sub("_", base).strip(" .")[:120]
    return base or "upload"


# -- uploads ------------------------------------------------------------------------------------

_UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "A .pdf, .docx, .html, .htm, .txt or .md file"},
                "title": {"type": "string"}, "force": {"type": "string"}, "panel": {"type": "string"},
                "meeting_date": {"type": "string", "format": "date"},
                "doc_type": {"type": "string", "enum": ["minutes", "report", "other"]},
                "url": {"type": "string"},
            },
        }}},
    },
}


class _TooLarge(Exception):
    pass


@router.post("/documents", summary="Upload one document (admin key)", openapi_extra=_UPLOAD_SCHEMA,
             status_code=201)
async def upload_document(request: Request, _: Admin) -> JSONResponse:
    settings: Settings = request.app.state.settings
    limit = settings.max_upload_mb * 1024 * 1024
    too_large = HTTPException(413, f"upload is over the {settings.max_upload_mb} MB limit (PRECEDENT_MAX_UPLOAD_MB)")
    try:
        declared = int(request.headers.get("content-length") or 0)
    except ValueError:
        raise HTTPException(400, "Content-Length is not a number") from None
    if declared > limit + _FORM_OVERHEAD:
        raise too_large
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "send the file as multipart/form-data with a 'file' field")

    async def counted() -> AsyncIterator[bytes]:
        # Content-Length can lie or be absent (chunked): count what actually arrives.
        seen = 0
        async for chunk in request.stream():
            seen += len(chunk)
            if seen > limit + _FORM_OVERHEAD:
                raise _TooLarge
            yield chunk

    parser = MultiPartParser(request.headers, counted(), max_files=1, max_fields=len(_META_FIELDS) + 2,
                             max_part_size=64 * 1024)
    try:
        form = await parser.parse()
    except _TooLarge:
        raise too_large from None
    except (MultiPartException, KeyError, ValueError) as exc:
        raise HTTPException(400, f"malformed multipart form: {exc}") from None
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise HTTPException(422, "file: a file field named 'file' is required")
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise too_large
        name = safe_filename(upload.filename)
        fields = {k: v for k in _META_FIELDS if isinstance(v := form.get(k), str) and v.strip()}
    finally:
        await form.close()  # the spooled temp file goes with it, on every path

    kind = _check_type(name, data)
    meta = _meta(fields)
    digest = hashlib.sha256(data).hexdigest()
    item = SourceItem(source=f"upload:{digest}", filename=name, data=data, meta=meta)
    write = await run_in_threadpool(writer, request)  # opening the store on the first upload reads the disk
    return await write.lane.run(_ingest_upload, write, settings, item, kind)


def _check_type(name: str, data: bytes) -> str:
    """parse.check_type's verdict as HTTP: a wrong type is 415, an empty file 422."""
    try:
        return check_type(name, data)
    except UnsupportedType as exc:
        raise HTTPException(415, f"{name}: {exc}") from None
    except EmptyFile:
        raise HTTPException(422, "the file is empty") from None


def _meta(fields: dict[str, str]) -> DocumentMeta:
    try:
        return DocumentMeta(**fields)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise HTTPException(422, problems[:500]) from None


def _ingest_upload(write: Writer, settings: Settings, item: SourceItem, kind: str) -> JSONResponse:
    report = write.ingest([item], settings)
    check_after_ingest(write.searcher, write.store)
    outcome = report.outcomes[0]
    if outcome.status == "failed":
        return JSONResponse({"detail": f"could not ingest the {kind} file: {outcome.error}",
                             "status": "failed"}, status_code=422)
    found = write.store.get_document(outcome.document_id or "")
    if found is None:  # removed by a concurrent DELETE between the write and this read
        raise HTTPException(409, "the document was deleted while it was being uploaded")
    return JSONResponse({"status": outcome.status, "document": found.document.model_dump(mode="json"),
                         "chunks": len(found.chunks)},
                        status_code=201 if outcome.status == "added" else 200)


@router.delete("/documents/{document_id}", summary="Delete one document everywhere (admin key)")
def delete_document(document_id: str, request: Request, _: Admin) -> dict[str, object]:
    if not writer(request).store.remove_document(document_id):
        raise HTTPException(404, f"no document '{document_id[:120]}': list them at GET /documents")
    return {"deleted": document_id}


# -- crawls and their jobs ---------------------------------------------------------------------

class CrawlRequest(BaseModel):
    forces: list[Annotated[str, Field(max_length=200)]] = Field(default_factory=list, max_length=100)
    since: dt.date | None = None
    until: dt.date | None = None
    dry_run: bool = False


@dataclass
class Job:
    job_id: str
    kind: str
    request: dict[str, Any]
    status: Literal["running", "done", "failed"] = "running"
    started: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())
    finished: str | None = None
    progress: dict[str, int] = field(default_factory=lambda: {"batches": 0, "documents": 0, "failed": 0})
    summary: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"job_id": self.job_id, "kind": self.kind, "request": self.request, "status": self.status,
                "started": self.started, "finished": self.finished, "progress": dict(self.progress),
                "summary": self.summary, "error": self.error}


# Finished jobs are kept for their summaries, but not forever: a server crawling nightly for a year
# would otherwise hold every summary it ever made.
MAX_FINISHED_JOBS = 50


def _jobs(request: Request) -> dict[str, Job]:
    state = request.app.state
    if not hasattr(state, "jobs"):
        state.jobs = {}
    return state.jobs


def _remember(request: Request, job: Job) -> None:
    """Register ``job``, forgetting the oldest finished jobs beyond ``MAX_FINISHED_JOBS``."""
    jobs = _jobs(request)
    finished = [j for j in jobs.values() if j.status != "running"]
    for old in sorted(finished, key=lambda j: j.finished or "")[: max(0, len(finished) - MAX_FINISHED_JOBS + 1)]:
        jobs.pop(old.job_id, None)
    jobs[job.job_id] = job


@router.post("/crawl", summary="Start a crawl (ModernGov, CMIS, listing pages) in the background (admin key)",
             status_code=202)
def start_crawl(body: CrawlRequest, request: Request, _: Admin) -> dict[str, object]:
    if body.since and body.until and body.since > body.until:
        raise HTTPException(422, f"since {body.since} is after until {body.until}: swap them")
    settings: Settings = request.app.state.settings
    try:
        panels = select_panels(registry_for(settings), body.forces)  # unknown forces fail here, not in the thread
    except PrecedentError as exc:
        raise HTTPException(422, str(exc)) from None
    write = None if body.dry_run else writer(request)
    # Taken here, so a crawl already running (a cron job, another request) is a 409 now, not a failed job later.
    lock = None if body.dry_run else CrawlLock(settings)
    if lock is not None:
        try:
            lock.acquire()
        except CrawlAlreadyRunning as exc:
            raise HTTPException(409, str(exc)) from None
    job = Job(uuid.uuid4().hex, "crawl", body.model_dump(mode="json"))
    _remember(request, job)

    def ingest(items: Iterable[SourceItem], settings: Settings, progress: bool = False, **_: Any) -> IngestReport:
        if write is None:
            raise RuntimeError("a dry run never ingests")
        report = write.ingest(items, settings)
        job.progress["batches"] += 1
        job.progress["documents"] += report.added + report.updated + report.unchanged
        job.progress["failed"] += len(report.failed)
        return report

    def run() -> None:
        lower_thread_priority(settings.writer_nice)  # fetching, parsing and embedding, after searches
        try:
            summary = crawl(panels, settings, since=body.since, until=body.until, dry_run=body.dry_run,
                            ingest=None if body.dry_run else ingest, lock=lock)
            if write is not None:
                check_after_ingest(write.searcher, write.store)
            job.summary, job.status = summary.to_dict(), "done"
        except Exception as exc:  # the job records why it stopped; the server keeps running
            job.error, job.status = f"{type(exc).__name__}: {str(exc)[:500]}", "failed"
        finally:
            if lock is not None:
                lock.release()
            job.finished = dt.datetime.now(dt.UTC).isoformat()

    try:
        threading.Thread(target=run, name=f"crawl-{job.job_id[:8]}", daemon=True).start()
    except RuntimeError:
        if lock is not None:
            lock.release()
        raise
    return {"job_id": job.job_id, "status": job.status, "url": f"/jobs/{job.job_id}"}


@router.get("/jobs/{job_id}", summary="A background job's status, progress and summary (admin key)")
def get_job(job_id: str, request: Request, _: Admin) -> dict[str, object]:
    job = _jobs(request).get(job_id)
    if job is None:
        raise HTTPException(404, f"no job '{job_id[:64]}': POST /crawl starts one")
    return job.to_dict()
