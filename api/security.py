"""What every response carries and every request must pass: headers, CORS, a read key, rate limits.

``install_security(app, settings)`` is called once by ``create_app``. Decisions worth knowing:

- The chat page (``/``, ``/static/*``), ``/health`` and the API docs (``/docs``, ``/redoc``,
  ``/openapi.json``) stay open when a read key is set: they reveal no archive content, and a load
  balancer must be able to probe ``/health`` without a secret.
- Write endpoints (``POST /documents``, ``DELETE /documents/{id}``, ``POST /crawl``, ``GET /jobs/{id}``)
  check the admin key themselves (see ``admin_routes``); the admin key also opens every read endpoint.
- Rate limits are per client IP as the ASGI server reports it; behind a reverse proxy run uvicorn
  with ``--proxy-headers`` so that is the caller's address, not the proxy's.
"""

from __future__ import annotations

import hmac
import json
import math
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from precedent.ingest.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
# /docs and /redoc serve Swagger UI / ReDoc from this package (fastapi-offline: no CDN), but start them
# with an inline script, so those pages alone allow inline script and style.
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; form-action 'self'")
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
OPEN_PATHS = frozenset({"/", "/health", "/openapi.json"}) | DOCS_PATHS
EXPENSIVE_PATHS = frozenset({"/ask", "/ask/stream", "/compare"})


def install_security(app: FastAPI, settings: Settings) -> None:
    """Add the security middleware (and CORS, only when origins are configured) to ``app``."""
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    _document_error_shape(app)
    app.add_middleware(SecurityMiddleware, settings=settings, limiter=app.state.rate_limiter)
    if settings.cors_origins:
        # Added last so it is outermost: preflight requests are answered before the read key is asked for.
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type"], max_age=600,
        )


def bearer_token(headers: list[tuple[bytes, bytes]] | Any) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def key_matches(token: str | None, key: str | None) -> bool:
    """Constant-time comparison, so response timing says nothing about how much of a key was right."""
    if not token or not key:
        return False
    return hmac.compare_digest(token.encode("utf-8"), key.encode("utf-8"))


def is_write_request(method: str, path: str) -> bool:
    """The admin endpoints, which check the admin key themselves."""
    if path == "/crawl" or path.startswith("/jobs/"):
        return True
    if method == "POST" and path == "/documents":
        return True
    return method == "DELETE" and path.startswith("/documents/")


def is_rate_limited(method: str, path: str) -> bool:
    return path in EXPENSIVE_PATHS or (method == "POST" and path in ("/documents", "/crawl"))


class RateLimiter:
    """A token bucket per client: ``per_minute`` requests of burst, refilled at ``per_minute`` a minute.

    In-process, so each API process counts on its own; zero or less turns limiting off.
    """

    _MAX_CLIENTS = 10_000

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last update)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one token: 0.0 if allowed, else the seconds until the next token."""
        if self.capacity <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[client] = (tokens - 1.0, now)
                self._forget_idle(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1.0 - tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        # Bound memory under many clients: a bucket that has refilled is the same as no bucket.
        if len(self._buckets) > self._MAX_CLIENTS:
            self._buckets = {c: v for c, v in self._buckets.items() if now - v[1] < 60.0}


class SecurityMiddleware:
    """Pure ASGI (streams pass through untouched): read key, rate limit, then headers on the way out."""

    def __init__(self, app: ASGIApp, settings: Settings, limiter: RateLimiter) -> None:
        self.app = app
        self.settings = settings
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        csp = DOCS_CSP if path in DOCS_PATHS else CSP

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _OURS]
                headers += [(b"content-security-policy", csp.encode()), *_FIXED]
                message["headers"] = headers
            await send(message)

        if self.settings.read_key and not self._read_allowed(scope, method, path):
            await _error(send_with_headers, 401, "this server needs a read key: send 'Authorization: Bearer "
                         "<key>' (the server's PRECEDENT_READ_KEY)", [(b"www-authenticate", b"Bearer")])
            return
        if is_rate_limited(method, path):
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = self.limiter.take(str(client))
            if wait > 0:
                retry = max(1, math.ceil(wait))
                await _error(send_with_headers, 429,
                             f"too many requests to {path}: at most {self.settings.rate_limit_per_minute} a "
                             f"minute per client; retry in {retry} s",
                             [(b"retry-after", str(retry).encode())])
                return
        await self.app(scope, receive, send_with_headers)

    def _read_allowed(self, scope: Scope, method: str, path: str) -> bool:
        if path in OPEN_PATHS or path.startswith(("/static/", "/static-offline-docs/")) or is_write_request(method, path):
            return True
        if method == "OPTIONS":
            return True
        token = bearer_token(scope.get("headers", []))
        return key_matches(token, self.settings.read_key) or key_matches(token, self.settings.admin_key)


def _document_error_shape(app: FastAPI) -> None:
    """Errors, validation ones included, are ``{"detail": "<message>"}``: say so in the OpenAPI schema."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema.get("components", {}).get("schemas", {})["HTTPValidationError"] = {
                "title": "HTTPValidationError", "type": "object", "required": ["detail"],
                "properties": {"detail": {"title": "Detail", "type": "string"}},
            }
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


_FIXED = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
_OURS = {b"content-security-policy"} | {k for k, _ in _FIXED}


async def _error(send: Send, status: int, detail: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
