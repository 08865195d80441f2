"""Property-based fuzzing of the whole OpenAPI schema: whatever arrives, the API never answers 500.

Schemathesis generates valid and invalid requests (wrong types, huge numbers, unicode, NUL bytes) for
every operation, against the ASGI app on a copy of the seed index, with the admin key sent so the
write endpoints are fuzzed past their key check too. Bounded so CI finishes in a couple of minutes.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from precedent.api.app import create_app
from precedent.ingest.settings import Settings

KEY = "fuzz-admin-key-0123456789"
EXAMPLES_PER_OPERATION = 25
EXAMPLES: Counter[str] = Counter()


@pytest.fixture(scope="module")
def fuzz_settings(seed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    data_dir = tmp_path_factory.mktemp("fuzz") / "data"
    shutil.copytree(seed_settings.data_dir, data_dir)
    # Crawls started by the fuzzer fail fast (no network here) instead of retrying in the background.
    return seed_settings.model_copy(update={
        "data_dir": data_dir, "admin_key": KEY, "rate_limit_per_minute": 0, "max_upload_mb": 2,
        "crawl_retries": 0, "crawl_timeout_s": 1.0, "crawl_max_requests": 2, "crawl_delay_s": 0.0,
    })


@pytest.fixture(scope="module")
def fuzz_app(fuzz_settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(fuzz_settings)


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_app):  # type: ignore[no-untyped-def]
    loaded = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    loaded.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], allow_x00=True,
                                    max_examples=EXAMPLES_PER_OPERATION)
    return loaded


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_request_makes_the_api_answer_500_or_break_its_schema(fuzz_schema) -> None:  # type: ignore[no-untyped-def]
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    assert len(operations) >= 7
    for operation in operations:
        name = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def fuzz(case) -> None:  # type: ignore[no-untyped-def]
            EXAMPLES[name] += 1  # noqa: B023 - called within this iteration
            case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"},
                                   checks=[not_a_server_error, response_schema_conformance])

        fuzz()
    print(f"\nfuzzed {sum(EXAMPLES.values())} examples over {len(EXAMPLES)} operations: {dict(EXAMPLES)}")


@pytest.fixture(scope="module")
def raw(fuzz_app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(fuzz_app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize(("method", "path", "body", "content_type"), [
    ("POST", "/crawl", b"{not json", "application/json"),
    ("POST", "/crawl", b"\x00\x00\x00", "application/json"),
    ("POST", "/crawl", b'{"since": "9999999999-01-01", "forces": [1e400]}', "application/json"),
    ("POST", "/crawl", b'{"forces": ["\\u0000\\ud800"]}', "application/json"),
    ("POST", "/crawl", b"[]", "text/plain"),
    ("POST", "/documents", b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n", "multipart/form-data; boundary=x"),
    ("POST", "/documents", b"garbage", "multipart/form-data"),
    ("POST", "/documents", b"garbage", "application/json"),
])
def test_malformed_bodies_are_4xx_never_500(raw: TestClient, method: str, path: str, body: bytes,
                                            content_type: str) -> None:
    res = raw.request(method, path, content=body,
                      headers={"Content-Type": content_type, "Authorization": f"Bearer {KEY}"})
    assert 400 <= res.status_code < 500, res.text
    assert res.json()["detail"]


@pytest.mark.parametrize("params", [
    {"q": "plan\x00"}, {"q": "\U0001f600 " * 50}, {"q": "plan", "k": str(10**30)},
    {"q": "plan", "since": "0000-00-00"}, {"q": "plan", "since": "2020-02-30"}, {"q": '"unbalanced AND ('},
    {"q": "NEAR(a b, 999999999999)"}, {"q": "*"}, {"q": "plan", "document_id": "\x00"},
    {"q": "plan", "force": "\u202e"}, {"q": "x" * 2001},
])
def test_hostile_search_parameters_are_answered_without_500(raw: TestClient, params: dict[str, str]) -> None:
    res = raw.get("/search", params=params)
    assert res.status_code in (200, 422), res.text

