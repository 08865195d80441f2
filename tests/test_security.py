"""Who may read and change the archive, and what every response carries: keys, uploads, headers, limits."""

from __future__ import annotations

import hashlib
import hmac
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from precedent.api.app import create_app
from precedent.api.security import CSP, RateLimiter
from precedent.ingest.settings import Settings

KEY = "test-admin-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture(scope="module")
def admin_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("admin-data"), admin_key=KEY, max_upload_mb=1,
                    rate_limit_per_minute=1000)


@pytest.fixture(scope="module")
def admin(admin_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(admin_settings)) as test_client:
        yield test_client


def seed_bytes(seeds_dir: Path, n: int = 0) -> bytes:
    return sorted(seeds_dir.glob("*.txt"))[n].read_bytes()


# -- headers and CORS ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/health", "/search?q=plan", "/static/app.js", "/nowhere"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    res = client.get(path)
    assert res.headers["content-security-policy"] == CSP
    assert res.headers["x-content-type-options"] == "nosniff"
    assert res.headers["referrer-policy"] == "no-referrer"
    assert res.headers["x-frame-options"] == "DENY"


def test_the_page_policy_forbids_inline_script_and_framing_and_the_page_has_none(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    page = client.get("/").text
    assert "<script>" not in page.replace(" ", "") and " on" + "click=" not in page


def test_the_api_docs_load_offline_under_their_own_policy(client: TestClient) -> None:
    res = client.get("/docs")
    assert res.status_code == 200
    csp = res.headers["content-security-policy"]
    assert "https:" not in csp and "frame-ancestors 'none'" in csp
    assert "cdn" not in res.text and "/static-offline-docs/swagger-ui-bundle.js" in res.text
    assert client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200


def test_cors_is_off_unless_origins_are_configured(client: TestClient, seed_settings: Settings) -> None:
    res = client.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in res.headers
    settings = seed_settings.model_copy(update={"cors_origins": ["https://panel.example"]})
    with TestClient(create_app(settings)) as other:
        ok = other.get("/health", headers={"Origin": "https://panel.example"})
        assert ok.headers["access-control-allow-origin"] == "https://panel.example"
        bad = other.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in bad.headers


# -- the admin key ------------------------------------------------------------------------------

@pytest.mark.parametrize(("method", "path"), [("POST", "/documents"), ("DELETE", "/documents/x"),
                                              ("POST", "/crawl"), ("GET", "/jobs/x")])
def test_write_endpoints_are_disabled_with_a_how_to_when_no_admin_key_is_set(
    client: TestClient, method: str, path: str
) -> None:
    res = client.request(method, path, headers={"Authorization": "Bearer anything"}, json={})
    assert res.status_code == 403 and "PRECEDENT_ADMIN_KEY" in res.json()["detail"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY},
                                     {"Authorization": f"Basic {KEY}"}, {"Authorization": f"Bearer {KEY}x"}])
def test_a_missing_or_wrong_admin_key_is_401(admin: TestClient, headers: dict[str, str]) -> None:
    for method, path in [("POST", "/documents"), ("DELETE", "/documents/x"), ("POST", "/crawl"),
                         ("GET", "/jobs/x")]:
        res = admin.request(method, path, headers=headers, json={})
        assert res.status_code == 401, (method, path)
        assert res.headers["www-authenticate"] == "Bearer"


def test_the_admin_key_is_compared_in_constant_time(admin: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr("precedent.api.security.hmac.compare_digest", spy)
    assert admin.get("/jobs/none", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert admin.get("/jobs/none", headers=AUTH).status_code == 404
    assert calls == [(b"guess", KEY.encode()), (KEY.encode(), KEY.encode())]


# -- uploads ------------------------------------------------------------------------------------

def test_an_uploaded_document_is_ingested_and_searchable(admin: TestClient, seeds_dir: Path) -> None:
    data = seed_bytes(seeds_dir, 2)
    res = admin.post("/documents", headers=AUTH, files={"file": ("panel minutes.txt", data, "text/plain")},
                     data={"title": "Uploaded minutes", "force": "Dorset", "meeting_date": "2021-03-04",
                           "doc_type": "minutes", "url": "https://example.org/m"})
    assert res.status_code == 201, res.text
    body = res.json()
    doc = body["document"]
    assert body["status"] == "added" and body["chunks"] == doc["chunk_count"] > 0
    assert doc["title"] == "Uploaded minutes" and doc["force"] == "Dorset" and doc["meeting_date"] == "2021-03-04"
    assert doc["source"] == "upload:" + hashlib.sha256(data).hexdigest()
    first_line = next(line for line in data.decode().splitlines() if len(line.split()) > 6)
    hits = admin.get("/search", params={"q": first_line[:200], "document_id": doc["document_id"]}).json()
    assert hits["results"] and hits["results"][0]["citation"]["document_id"] == doc["document_id"]
    again = admin.post("/documents", headers=AUTH, files={"file": ("panel minutes.txt", data)},
                       data={"title": "Uploaded minutes", "force": "Dorset", "meeting_date": "2021-03-04",
                             "doc_type": "minutes", "url": "https://example.org/m"})
    assert again.status_code == 200 and again.json()["status"] == "unchanged"


def test_an_upload_over_the_size_limit_is_413_whether_or_not_it_declares_its_length(admin: TestClient) -> None:
    big = b"word " * (300 * 1024)  # 1.5 MB against a 1 MB limit
    res = admin.post("/documents", headers=AUTH, files={"file": ("big.txt", big)})
    assert res.status_code == 413 and "1 MB" in res.json()["detail"]
    declared = admin.post("/documents", headers={**AUTH, "Content-Length": str(10**12),
                                                 "Content-Type": "multipart/form-data; boundary=x"},
                          content=b"--x--")
    assert declared.status_code == 413
    boundary = "b0undary"

    def chunked() -> Iterator[bytes]:  # no Content-Length: the server must count the bytes itself
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.txt\"\r\n"
               "Content-Type: text/plain\r\n\r\n").encode()
        for _ in range(40):
            yield b"x" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    streamed = admin.post("/documents", content=chunked(),
                          headers={**AUTH, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert streamed.status_code == 413


@pytest.mark.parametrize(("name", "data"), [
    ("notes.txt", b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8),  # a program renamed to .txt
    ("report.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # an image renamed to .pdf
    ("minutes.docx", b"%PDF-1.4 not a word file"),
    ("legacy.txt", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64),  # an old .doc renamed
    ("script.exe", b"plain words"),
    ("noextension", b"plain words"),
])
def test_a_file_whose_content_does_not_match_an_allowed_type_is_415(admin: TestClient, name: str,
                                                                    data: bytes) -> None:
    res = admin.post("/documents", headers=AUTH, files={"file": (name, data)})
    assert res.status_code == 415, res.text
    assert res.json()["detail"]


def test_a_path_traversal_filename_is_only_a_title_and_writes_nothing_outside(
    admin: TestClient, admin_settings: Settings, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where any spooled upload would land
    before = sorted(p.name for p in admin_settings.data_dir.parent.iterdir())
    data = seed_bytes(seeds_dir, 3) + b"\nA traversal attempt.\n"
    res = admin.post("/documents", headers=AUTH, files={"file": ("../../etc/passwd.txt", data)})
    assert res.status_code == 201, res.text
    doc = res.json()["document"]
    assert doc["source"].startswith("upload:") and "/" not in doc["source"] and ".." not in doc["source"]
    assert ".." not in doc["document_id"] and "/" not in doc["document_id"]
    assert sorted(p.name for p in admin_settings.data_dir.parent.iterdir()) == before
    assert list(tmp_path.iterdir()) == []  # no temp file left behind
    windows = admin.post("/documents", headers=AUTH, files={"file": ("..\\..\\boot.ini.txt", data + b"x")})
    assert windows.status_code == 201 and "\\" not in windows.json()["document"]["title"]


def test_bad_metadata_and_unreadable_uploads_are_clear_4xx_errors(admin: TestClient) -> None:
    bad_date = admin.post("/documents", headers=AUTH, files={"file": ("a.txt", b"some words here")},
                          data={"meeting_date": "last tuesday"})
    assert bad_date.status_code == 422 and "meeting_date" in bad_date.json()["detail"]
    bad_type = admin.post("/documents", headers=AUTH, files={"file": ("a.txt", b"some words here")},
                          data={"doc_type": "agenda"})
    assert bad_type.status_code == 422 and "doc_type" in bad_type.json()["detail"]
    no_file = admin.post("/documents", headers=AUTH, data={"title": "nothing"})
    assert no_file.status_code in (415, 422)
    corrupt = admin.post("/documents", headers=AUTH, files={"file": ("x.pdf", b"%PDF-1.4\ngarbage")})
    assert corrupt.status_code == 422 and "pdf" in corrupt.json()["detail"].lower()


def test_delete_removes_a_document_everywhere(admin: TestClient, seeds_dir: Path) -> None:
    data = seed_bytes(seeds_dir, 4) + b"\nTo be deleted.\n"
    doc_id = admin.post("/documents", headers=AUTH, files={"file": ("gone.txt", data)}).json()["document"]["document_id"]
    assert admin.get(f"/documents/{doc_id}").status_code == 200
    assert admin.delete(f"/documents/{doc_id}", headers=AUTH).json() == {"deleted": doc_id}
    assert admin.get(f"/documents/{doc_id}").status_code == 404
    hits = admin.get("/search", params={"q": "deleted", "k": 100}).json()["results"]
    assert all(h["citation"]["document_id"] != doc_id for h in hits)
    assert admin.delete(f"/documents/{doc_id}", headers=AUTH).status_code == 404


def test_a_crawl_for_an_unknown_force_is_refused_before_any_job_starts(admin: TestClient) -> None:
    res = admin.post("/crawl", headers=AUTH, json={"forces": ["Atlantis"]})
    assert res.status_code == 422 and "Atlantis" in res.json()["detail"]
    swapped = admin.post("/crawl", headers=AUTH, json={"since": "2024-01-01", "until": "2020-01-01"})
    assert swapped.status_code == 422
    assert admin.get("/jobs/unknown", headers=AUTH).status_code == 404


# -- rate limits and the read key ---------------------------------------------------------------

def test_expensive_endpoints_are_rate_limited_per_client_with_retry_after(seed_settings: Settings) -> None:
    settings = seed_settings.model_copy(update={"rate_limit_per_minute": 2})
    with TestClient(create_app(settings)) as limited:
        codes = [limited.post("/documents", files={"file": ("a.txt", b"x")}).status_code for _ in range(3)]
        assert codes == [403, 403, 429]
        res = limited.post("/documents", files={"file": ("a.txt", b"x")})
        assert res.status_code == 429 and int(res.headers["retry-after"]) >= 1
        assert "2 a minute" in res.json()["detail"]
        assert limited.get("/search", params={"q": "plan"}).status_code == 200  # cheap reads are not limited
    with TestClient(create_app(settings), client=("10.0.0.9", 5000)) as other_client:
        assert other_client.post("/documents", files={"file": ("a.txt", b"x")}).status_code == 403


def test_a_rate_limit_bucket_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.take("a") == 0.0 for _ in range(60))
    wait = limiter.take("a")
    assert 0.9 < wait <= 1.0 and limiter.take("b") == 0.0
    now[0] += 1.0
    assert limiter.take("a") == 0.0 and limiter.take("a") > 0
    assert RateLimiter(0).take("a") == 0.0  # zero turns limiting off


def test_a_read_key_closes_the_read_endpoints_but_not_the_page_or_health(seed_settings: Settings) -> None:
    settings = seed_settings.model_copy(update={"read_key": "reader", "admin_key": KEY})
    with TestClient(create_app(settings)) as locked:
        for path in ["/search?q=plan", "/documents", "/facets"]:
            res = locked.get(path)
            assert res.status_code == 401 and "read key" in res.json()["detail"], path
            assert locked.get(path, headers={"Authorization": "Bearer wrong"}).status_code == 401
            assert locked.get(path, headers={"Authorization": "Bearer reader"}).status_code == 200
            assert locked.get(path, headers=AUTH).status_code == 200  # the admin key reads too
        for path in ["/", "/health", "/static/app.js", "/openapi.json"]:
            assert locked.get(path).status_code == 200, path
        # The read key is not an admin key.
        assert locked.post("/documents", headers={"Authorization": "Bearer reader"},
                           files={"file": ("a.txt", b"x")}).status_code == 401
