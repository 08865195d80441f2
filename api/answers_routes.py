"""HTTP routes for cited answers and comparison: POST /ask, POST /ask/stream (SSE), POST /compare.

Handlers only validate and translate; the work is in search/answer.py, search/llm.py and
search/compare.py. Request bodies are bounded pydantic models, so bad input is a 422.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from precedent.api.deps import get_searcher, get_settings
from precedent.api.exports import OutputFormat, base_url, export_response
from precedent.ingest.settings import Settings
from precedent.search.answer import DEFAULT_K, Answer, ask, retrieve
from precedent.search.compare import DEFAULT_PER_FORCE, Comparison, compare
from precedent.search.export import answer_report, comparison_report
from precedent.search.filters import MAX_QUERY_CHARS, FilterSpec
from precedent.search.followup import Turn
from precedent.search.llm import LLMClient, LLMUnavailable, llm_answer, stream_events
from precedent.search.retrieve import Searcher

router = APIRouter()

Name = Annotated[str, Field(max_length=200)]
DateText = Annotated[str, Field(max_length=40)]
DocType = Literal["minutes", "report", "other"]


class HistoryTurn(BaseModel):
    question: str = Field(max_length=MAX_QUERY_CHARS)
    filters_applied: FilterSpec | None = None


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    k: int = Field(default=DEFAULT_K, ge=1, le=50)
    filters: FilterSpec | None = None
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    mode: Literal["extractive", "llm"] = "extractive"
    use_cues: bool = Field(default=True, description="Let forces, dates and document types named in the question "
                                                     "filter the search (see `cues` in the answer)")
    format: OutputFormat = Field(default="json", description="json, or an export of the answer: csv | md | docx")

    def turns(self) -> list[Turn]:
        return [Turn(t.question, t.filters_applied or FilterSpec()) for t in self.history if t.question.strip()]


class CompareRequest(BaseModel):
    question: str = Field(min_length=1, max_length=MAX_QUERY_CHARS)
    forces: list[Name] = Field(default_factory=list, max_length=50)
    k: int = Field(default=DEFAULT_PER_FORCE, ge=1, le=20)
    since: DateText | None = None
    until: DateText | None = None
    doc_type: DocType | None = None
    format: OutputFormat = Field(default="json", description="json, or an export of the comparison: csv | md | docx")

    def spec(self) -> FilterSpec:
        return FilterSpec(force=tuple(self.forces), since=self.since, until=self.until, doc_type=self.doc_type)


def _llm_off() -> JSONResponse:
    return JSONResponse({"detail": "LLM mode is off: set PRECEDENT_LLM_URL (and PRECEDENT_LLM_MODEL) to an "
                                   "OpenAI-compatible endpoint, or use POST /ask"}, status_code=404)


@router.post("/ask", summary="A cited answer from the archive (extractive unless mode is 'llm'); "
                          "\"format\" exports it as CSV, Markdown or DOCX", response_model=Answer)
def ask_route(body: AskRequest, request: Request, searcher: Annotated[Searcher, Depends(get_searcher)],
              settings: Annotated[Settings, Depends(get_settings)]) -> Answer | Response:
    if body.mode == "extractive":
        answer = ask(searcher, body.question, k=body.k, filters=body.filters, history=body.turns(),
                     use_cues=body.use_cues)
    elif not settings.llm_url:
        return _llm_off()
    else:
        retrieved = retrieve(searcher, body.question, k=body.k, filters=body.filters, history=body.turns(),
                             use_cues=body.use_cues)
        client = LLMClient(settings)
        try:
            answer = llm_answer(client, retrieved)
        except LLMUnavailable as exc:
            return JSONResponse({"detail": str(exc)}, status_code=502)
        finally:
            client.close()
    if body.format != "json":
        return export_response(answer_report(answer, base_url(request)), body.format)
    return answer


@router.post("/ask/stream", summary="The LLM answer as server-sent events: tokens, then the verified answer",
             response_model=None)
def ask_stream_route(
    body: AskRequest, searcher: Annotated[Searcher, Depends(get_searcher)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> StreamingResponse | JSONResponse:
    if not settings.llm_url:
        return _llm_off()
    # Retrieval errors (a bad filter) are raised here, before the stream starts, so they stay a 422.
    retrieved = retrieve(searcher, body.question, k=body.k, filters=body.filters, history=body.turns(),
                         use_cues=body.use_cues)
    client = LLMClient(settings)

    def events() -> Iterator[str]:
        try:
            for event in stream_events(client, retrieved):
                yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
        finally:
            client.close()

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.post("/compare", response_model=Comparison,
             summary="One question across forces: best passages per force and a per-year timeline; "
                     "\"format\" exports it as CSV, Markdown or DOCX")
def compare_route(body: CompareRequest, request: Request,
                  searcher: Annotated[Searcher, Depends(get_searcher)]) -> Comparison | Response:
    result = compare(searcher, body.question, filters=body.spec(), k=body.k)
    if body.format != "json":
        return export_response(comparison_report(result, body.spec(), base_url(request)), body.format)
    return result
