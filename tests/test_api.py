"""The HTTP API on the seed index: shapes, filters, documents, facets, health and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from precedent.api.app import create_app
from precedent.ingest.settings import Settings


def test_search_returns_ranked_cited_results(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/search", params={"q": "how long do callers wait on the non-emergency number", "k": 5})
    assert res.status_code == 200
    body = res.json()
    assert set(body) == {"query", "filters", "results"} and len(body["results"]) == 5
    assert [r["rank"] for r in body["results"]] == [1, 2, 3, 4, 5]
    assert any("101" in r["text"] for r in body["results"])


def test_search_filters_over_http(client) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/search", params=[("q", "plan"), ("force", "Dorset"), ("force", "Leicestershire"),
                                        ("type", "minutes"), ("k", 50)])
    body = res.json()
    assert res.status_code == 200 and body["filters"]["force"] == ["Dorset", "Leicestershire"]
    assert {r["citation"]["force"] for r in body["results"]} == {"Leicestershire"}
    assert {r["citation"]["doc_type"] for r in body["results"]} == {"minutes"}


@pytest.mark.parametrize(("params", "message"), [
    ({"q": ""}, "empty"),
    ({"q": "   "}, "empty"),
    ({"q": "plan", "k": 0}, "k"),
    ({"q": "plan", "k": 101}, "k"),
    ({"q": "plan", "k": "many"}, "k"),
    ({"q": "plan", "force": "Atlantis"}, "the index holds Devon and Cornwall, Dorset, Leicestershire"),
    ({"q": "plan", "since": "yesterday"}, "YYYY-MM-DD"),
    ({"q": "plan", "type": "agenda"}, "type"),
    ({"q": "plan", "mode": "psychic"}, "mode"),
    ({"q": "x" * 2001}, "q"),
    ({}, "q"),
])
def test_bad_search_input_is_a_422_with_a_message(client, params, message) -> None:  # type: ignore[no-untyped-def]
    res = client.get("/search", params=params)
    assert res.status_code == 422
    assert message in res.json()["detail"]


def test_documents_can_be_listed_and_opened(client) -> None:  # type: ignore[no-untyped-def]
    docs = client.get("/documents").json()["documents"]
    assert len(docs) == 5
    doc = client.get(f"/documents/{docs[0]['document_id']}").json()
    assert doc["document"]["document_id"] == docs[0]["document_id"]
    for chunk in doc["chunks"]:
        assert doc["text"][chunk["start"]:chunk["end"]] == chunk["text"]
    res = client.get("/documents/not-a-document")
    assert res.status_code == 404 and "GET /documents" in res.json()["detail"]


def test_facets_and_health(client) -> None:  # type: ignore[no-untyped-def]
    facets = client.get("/facets").json()
    assert [f["value"] for f in facets["forces"]] == ["Devon and Cornwall", "Dorset", "Leicestershire"]
    assert facets["date_range"] == {"min": "2015-02-05", "max": "2017-07-07"}
    assert facets["documents"] == 5
    health = client.get("/health").json()
    assert health["status"] == "ok" and health["documents"] == 5 and health["chunks"] == health["vectors"]


def test_chat_page_and_openapi_are_served(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/")
    assert page.status_code == 200 and "<textarea" in page.text and "/static/app.js" in page.text
    assert client.get("/static/app.js").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/search" in schema["paths"] and client.get("/docs").status_code == 200


def test_a_missing_store_is_a_503_that_says_to_ingest(tmp_path: Path) -> None:
    with TestClient(create_app(Settings(data_dir=tmp_path / "none"))) as client:
        res = client.get("/search", params={"q": "precept"})
        assert res.status_code == 503 and "precedent ingest" in res.json()["detail"]
        assert client.get("/health").status_code == 503
        assert client.get("/facets").status_code == 503
