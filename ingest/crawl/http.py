"""Polite HTTP for every crawled site: a delay between requests, a User-Agent, retries, a budget.

Stateless about the crawl: it fetches a URL (conditionally, when given the validators the server sent
last time) and answers 200 or 304, or raises FetchFailed with the status or network error.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from precedent.ingest.errors import PrecedentError
from precedent.ingest.settings import Settings

if TYPE_CHECKING:  # httpx is imported where a client is made: 0.1 s that most commands never need
    import httpx

# Statuses worth another try: the server or something in front of it is struggling, not refusing.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class FetchFailed(PrecedentError):
    """A URL could not be fetched (after retries): its status, or the network error."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.reason = message
        self.status = status


class MalformedResponse(PrecedentError):
    """A site answered with XML or HTML this crawler cannot read."""


class RequestBudgetExhausted(PrecedentError):
    """The crawl reached its request limit (PRECEDENT_CRAWL_MAX_REQUESTS)."""


class Fetchable(Protocol):
    """Anything that knows where to send a request for one of its canonical URLs (a registry Site)."""

    def fetch_url(self, canonical_url: str) -> str: ...


@dataclass(frozen=True)
class Validators:
    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True)
class Fetched:
    url: str  # canonical URL (the identity), not the URL the request went to
    status: int
    body: bytes
    validators: Validators
    content_type: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class PoliteClient:
    """Polite HTTP for council sites: delay, User-Agent, retries with backoff, a request budget.

    Counts every request it sends (retries included), so a crawl can report and bound its cost.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.BaseTransport | None = None,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        import httpx

        self._httpx = httpx
        self.settings = settings
        self.backoff_s = backoff_s
        self.requests = 0
        self.not_modified = 0
        self.bytes_downloaded = 0
        self._sleep = sleep
        self._last_request = 0.0
        self._http = self._httpx.Client(
            headers={"User-Agent": settings.user_agent, "Accept": "*/*"},
            timeout=settings.crawl_timeout_s,
            follow_redirects=True,
            transport=transport,
        )

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def fetch(self, site: Fetchable, url: str, validators: Validators | None = None) -> Fetched:
        """GET a canonical URL of the site (conditionally if validators are given); 200 or 304 only."""
        target = site.fetch_url(url)
        headers = validators.headers() if validators else {}
        attempts = self.settings.crawl_retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self._wait_turn()
            try:
                response = self._http.get(target, headers=headers)
            except (self._httpx.TimeoutException, self._httpx.TransportError) as exc:
                if last:
                    kind = "timed out" if isinstance(exc, self._httpx.TimeoutException) else "network error"
                    reason = f"{kind} after {attempts} attempts ({type(exc).__name__})"
                    raise FetchFailed(url, reason) from exc
                self._sleep(self.backoff_s * 2**attempt)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                self._sleep(self._retry_after(response) or self.backoff_s * 2**attempt)
                continue
            if response.status_code == 304:
                self.not_modified += 1
                return Fetched(url, 304, b"", validators or Validators())
            if response.status_code != 200:
                raise FetchFailed(url, f"HTTP {response.status_code}", response.status_code)
            self.bytes_downloaded += len(response.content)
            return Fetched(
                url, 200, response.content,
                Validators(response.headers.get("ETag"), response.headers.get("Last-Modified")),
                response.headers.get("Content-Type", ""))
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_turn(self) -> None:
        if self.requests >= self.settings.crawl_max_requests:
            raise RequestBudgetExhausted(
                f"stopped after {self.requests} requests (PRECEDENT_CRAWL_MAX_REQUESTS); "
                "run the crawl again to continue where it stopped, or raise the limit")
        gap = self.settings.crawl_delay_s - (time.monotonic() - self._last_request)
        if gap > 0 and self.requests:
            self._sleep(gap)
        self.requests += 1
        self._last_request = time.monotonic()

    @staticmethod
    def _retry_after(response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After", "")
        return min(float(value), 60.0) if value.isdigit() else None
