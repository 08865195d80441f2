"""LLM mode against a local stand-in for an OpenAI-compatible endpoint (no remote calls).

The stand-in (``tests.helpers.FakeLLM``) answers every chat completion with a scripted reply, plain
or streamed as server-sent events, and records the requests it got, so the tests see the prompt too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from precedent.api.app import create_app
from precedent.ingest.settings import Settings
from precedent.search.llm import verify
from tests.helpers import FakeLLM

QUESTION = "What did panels say about 101 response times?"
# One good sentence, one citing a passage that does not exist, one with no citation at all.
GOOD = "Members reported complaints from the public about poor response times to 101 calls [1]."
REPLY = ("Members reported complaints from the public about poor response times to 101 calls [1]. "
         "The commissioner promised to answer every call within ten seconds [9]. "
         "Response times are a national scandal.")


@pytest.fixture()
def fake_llm() -> Iterator[FakeLLM]:
    fake = FakeLLM(REPLY)
    yield fake
    fake.close()


@pytest.fixture()
def llm_client(seed_settings: Settings, fake_llm: FakeLLM) -> Iterator[TestClient]:
    settings = seed_settings.model_copy(update={"llm_url": fake_llm.url, "llm_model": "stand-in",
                                                "llm_api_key": "test-key", "llm_timeout": 10.0,
                                                "rate_limit_per_minute": 0})
    with TestClient(create_app(settings)) as client:
        yield client


def _events(text: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]


def test_llm_answer_keeps_cited_sentences_and_drops_the_rest(llm_client: TestClient) -> None:
    answer = llm_client.post("/ask", json={"question": QUESTION, "mode": "llm"}).json()
    assert answer["found"] and answer["mode"] == "llm"
    assert answer["answer"] == GOOD
    assert answer["dropped"] == ["The commissioner promised to answer every call within ten seconds [9].",
                                 "Response times are a national scandal."]
    numbers = {c["n"] for c in answer["citations"]}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", answer["answer"])} <= numbers
    assert "complaints from the public about poor response times" in answer["citations"][0]["text"]


def test_the_prompt_holds_numbered_passages_and_the_rules(llm_client: TestClient, fake_llm: FakeLLM) -> None:
    llm_client.post("/ask", json={"question": QUESTION, "mode": "llm"})
    request = fake_llm.requests[-1]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer test-key"
    body = request["body"]
    assert body["model"] == "stand-in" and body["temperature"] == 0
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "ONLY the numbered" in system and "[2]" in system
    assert "[1] (Leicester, Leicestershire and Rutland Police and Crime Panel" in user
    assert user.rstrip().endswith(f"Question: {QUESTION}")


def test_stream_sends_tokens_then_the_verified_answer(llm_client: TestClient) -> None:
    response = llm_client.post("/ask/stream", json={"question": QUESTION})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    events = _events(response.text)
    tokens = [e for e in events if e["type"] == "token"]
    assert len(tokens) > 5 and "".join(e["text"] for e in tokens) == REPLY
    final = events[-1]
    assert final["type"] == "final" and final["found"] and final["mode"] == "llm"
    assert "[9]" not in final["answer"] and "national scandal" not in final["answer"]
    assert len(final["dropped"]) == 2 and final["citations"][0]["citation"]["display"]


def test_offtopic_questions_never_reach_the_model(llm_client: TestClient, fake_llm: FakeLLM) -> None:
    events = _events(llm_client.post("/ask/stream", json={"question": "recipe for scones"}).text)
    assert [e["type"] for e in events] == ["final"] and events[0]["found"] is False
    answer = llm_client.post("/ask", json={"question": "capital of France", "mode": "llm"}).json()
    assert answer["found"] is False
    assert fake_llm.requests == []


def test_no_valid_citation_falls_back_to_extractive(llm_client: TestClient, fake_llm: FakeLLM) -> None:
    fake_llm.reply = "Everything is fine [7]. Trust me."
    answer = llm_client.post("/ask", json={"question": QUESTION, "mode": "llm"}).json()
    assert answer["found"] and answer["mode"] == "extractive" and "[1]" in answer["answer"]
    assert answer["dropped"] == ["Everything is fine [7].", "Trust me."]


def test_unreachable_endpoint_is_502_or_an_error_event(seed_settings: Settings) -> None:
    fake = FakeLLM(REPLY)
    url = fake.url
    fake.close()  # nothing listens there any more
    update = {"llm_url": url, "llm_timeout": 2.0, "rate_limit_per_minute": 0}
    settings = seed_settings.model_copy(update=update)
    with TestClient(create_app(settings)) as client:
        response = client.post("/ask", json={"question": QUESTION, "mode": "llm"})
        assert response.status_code == 502 and "PRECEDENT_LLM_URL" in response.json()["detail"]
        events = _events(client.post("/ask/stream", json={"question": QUESTION}).text)
        assert [e["type"] for e in events] == ["error", "final"]
        assert events[1]["found"] and events[1]["mode"] == "extractive"


def test_a_stream_cut_mid_answer_ends_with_an_error_then_the_extractive_answer(seed_settings: Settings) -> None:
    fake = FakeLLM(REPLY, drop_after=4)
    try:
        settings = seed_settings.model_copy(update={"llm_url": fake.url, "llm_timeout": 10.0})
        with TestClient(create_app(settings)) as client:
            events = _events(client.post("/ask/stream", json={"question": QUESTION}).text)
    finally:
        fake.close()
    assert [e["type"] for e in events] == ["token"] * 4 + ["error", "final"]
    assert "PRECEDENT_LLM_URL" in events[4]["detail"]
    assert events[5]["found"] and events[5]["mode"] == "extractive" and "[1]" in events[5]["answer"]


def test_bad_filters_on_the_stream_are_422_before_streaming(llm_client: TestClient) -> None:
    response = llm_client.post("/ask/stream", json={"question": QUESTION, "filters": {"force": ["Atlantis"]}})
    assert response.status_code == 422


@pytest.mark.parametrize(("text", "kept", "dropped"), [
    ("Calls rose. [2] Staff fell [1].", "Calls rose [2]. Staff fell [1].", []),
    ("Spend was £1.5m [1]. More [3].", "Spend was £1.5m [1].", ["More [3]."]),
    ("A [1][4]. B [2]", "A [1]. B [2]", []),
    ("No citations here. None at all.", "", ["No citations here.", "None at all."]),
    ("- one [1]\n- two\n- three [2]", "- one [1]\n- three [2]", ["- two"]),
])
def test_verify_keeps_only_sentences_with_a_valid_citation(text: str, kept: str, dropped: list[str]) -> None:
    assert verify(text, 2) == (kept, dropped)
