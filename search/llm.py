"""Optional LLM answers: any OpenAI-compatible chat endpoint, held to the numbered passages.

The model sees only the passages that cleared the relevance bar, numbered [1]..[n], and is told to
answer from them alone with a citation on every sentence. What it writes is then checked, never
trusted: a citation to a passage it was not given is removed, and a sentence left with no valid
citation is dropped from the answer and listed in ``Answer.dropped``. If nothing survives, the
extractive answer is returned instead. Questions that clear no passage never reach the model.

``PRECEDENT_LLM_URL`` is the endpoint's base URL (``http://host:port/v1``) or its full
``.../chat/completions`` URL. This is the only module that talks to an LLM.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from precedent.ingest.dates import human_date
from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings
from precedent.search.answer import Answer, AnswerCitation, Retrieved, compose_answer, group_by_meeting
from precedent.search.citations import MARKER, cited_numbers, claims
from precedent.search.retrieve import SearchHit

if TYPE_CHECKING:  # httpx is imported where a client is made: 0.1 s that most commands never need
    import httpx

SYSTEM_PROMPT = """You answer questions from members of UK Police and Crime Panels using ONLY the numbered \
passages from panel papers given to you. Rules:
- Every sentence you write must end with the number of the passage it comes from in square brackets, \
for example [2], or several such as [1][3].
- Use only facts stated in the passages. Do not add background knowledge, and do not guess.
- Say which panel or force and when, where the passage tells you.
- If the passages do not answer the question, say so in one sentence citing the closest passage.
- Be brief: at most six sentences, plain text, no headings."""


class LLMUnavailable(PrecedentError):
    """The configured LLM endpoint failed or is not configured."""


def endpoint(settings: Settings) -> str:
    if not settings.llm_url:
        raise LLMUnavailable("LLM mode is off: set PRECEDENT_LLM_URL to an OpenAI-compatible endpoint")
    url = settings.llm_url.rstrip("/")
    return url if url.endswith("/chat/completions") else f"{url}/chat/completions"


def numbered_passages(hits: Sequence[SearchHit]) -> str:
    blocks = []
    for n, hit in enumerate(hits, start=1):
        doc = hit.document
        source = f"{doc.panel_name}, {human_date(doc.meeting_date)}, {doc.title}"
        blocks.append(f"[{n}] ({source})\n{' '.join(hit.chunk.text.split())}")
    return "\n\n".join(blocks)


def build_messages(question: str, hits: Sequence[SearchHit]) -> list[dict[str, str]]:
    user = f"Passages:\n\n{numbered_passages(hits)}\n\nQuestion: {question}"
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def verify(text: str, passages: int) -> tuple[str, list[str]]:
    """Keep the sentences that cite a passage that exists; drop the rest. Returns (kept text, dropped)."""
    kept: list[str] = []
    dropped: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        for sentence in claims(paragraph):
            if any(1 <= n <= passages for n in cited_numbers(sentence)):
                kept_markers = MARKER.sub(lambda m: _valid_markers(m.group(1), passages), sentence)
                line.append(" ".join(kept_markers.split()))
            elif sentence.strip(" -*•"):
                dropped.append(sentence)
        if line:
            kept.append(" ".join(line))
    return "\n".join(kept), dropped


def _valid_markers(group: str, passages: int) -> str:
    """A marker such as "1, 9" kept as "[1]" when only passage 1 exists."""
    return "".join(f"[{n}]" for n in sorted(cited_numbers(f"[{group}]")) if 1 <= n <= passages)


def _prompt_question(retrieved: Retrieved) -> str:
    return retrieved.resolved.rewritten_question or retrieved.question


def _ordered(retrieved: Retrieved) -> list[SearchHit]:
    """The passages in the order the extractive answer would number them (by meeting date)."""
    return [h for group in group_by_meeting(retrieved.relevant) for h in group]


def _answer(retrieved: Retrieved, hits: Sequence[SearchHit], text: str) -> Answer:
    kept, dropped = verify(text, len(hits))
    if not kept:
        fallback = compose_answer(retrieved)
        return fallback.model_copy(update={"dropped": dropped})
    citations = [AnswerCitation(n=n, text=h.chunk.text, snippet=h.snippet, citation=h.citation)
                 for n, h in enumerate(hits, start=1)]
    return Answer(question=retrieved.question, answer=kept, found=True, citations=citations,
                  filters_applied=retrieved.filters,
                  rewritten_question=retrieved.resolved.rewritten_question, mode="llm", dropped=dropped)


class LLMClient:
    """A chat-completions client for one endpoint (OpenAI, llama.cpp, vLLM, Ollama's /v1 ...)."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        import httpx

        self._errors = (httpx.HTTPError, KeyError, IndexError, ValueError)
        self.url = endpoint(settings)
        self.model = settings.llm_model or "default"
        headers = {"Authorization": f"Bearer {settings.llm_api_key}"} if settings.llm_api_key else {}
        self._client = httpx.Client(timeout=settings.llm_timeout, headers=headers, transport=transport)

    def _body(self, messages: list[dict[str, str]], stream: bool) -> dict[str, object]:
        return {"model": self.model, "messages": messages, "temperature": 0, "stream": stream}

    def complete(self, messages: list[dict[str, str]]) -> str:
        try:
            response = self._client.post(self.url, json=self._body(messages, False))
            response.raise_for_status()
            return str(response.json()["choices"][0]["message"]["content"] or "")
        except self._errors as exc:
            raise LLMUnavailable(f"the LLM at {self.url} failed: {exc}; check PRECEDENT_LLM_URL") from exc

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Text deltas as the endpoint streams them (server-sent events, ``data: [DONE]`` at the end)."""
        try:
            with self._client.stream("POST", self.url, json=self._body(messages, True)) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    if delta:
                        yield str(delta)
        except self._errors as exc:
            raise LLMUnavailable(f"the LLM at {self.url} failed: {exc}; check PRECEDENT_LLM_URL") from exc

    def close(self) -> None:
        self._client.close()


def llm_answer(client: LLMClient, retrieved: Retrieved) -> Answer:
    """The model's answer, verified; the nothing-found answer when no passage cleared the bar."""
    if not retrieved.relevant:
        return compose_answer(retrieved)
    hits = _ordered(retrieved)
    return _answer(retrieved, hits, client.complete(build_messages(_prompt_question(retrieved), hits)))


def stream_events(client: LLMClient, retrieved: Retrieved) -> Iterator[dict[str, object]]:
    """``{"type": "token", "text"}`` events as the model writes, then ``{"type": "final", ...Answer}``.

    The tokens are the unverified draft; the final event carries the verified answer, which
    replaces the draft. On an endpoint failure an ``{"type": "error"}`` event precedes a final
    event holding the extractive answer, so a client always ends with an answer.
    """
    if not retrieved.relevant:
        yield {"type": "final", **compose_answer(retrieved).model_dump(mode="json")}
        return
    hits = _ordered(retrieved)
    parts: list[str] = []
    try:
        for delta in client.stream(build_messages(_prompt_question(retrieved), hits)):
            parts.append(delta)
            yield {"type": "token", "text": delta}
    except LLMUnavailable as exc:
        yield {"type": "error", "detail": str(exc)}
        yield {"type": "final", **compose_answer(retrieved).model_dump(mode="json")}
        return
    yield {"type": "final", **_answer(retrieved, hits, "".join(parts)).model_dump(mode="json")}
