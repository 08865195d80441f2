"""The registry of panels on ModernGov sites (registry.toml): loaded once, validated, typed.

Adding a panel is a data change: a new [[panel]] entry, no code.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from precedent.ingest.errors import PrecedentError
from precedent.ingest.forces import all_forces, force_named

# Police and Crime Panels first met in 2012: a crawl with no --since starts here.
EARLIEST = dt.date(2012, 1, 1)


class BadRegistry(PrecedentError):
    """The ModernGov registry file has an invalid entry, or a crawl named an unknown force."""


@dataclass(frozen=True)
class Site:
    """One host holding a panel's meetings, optionally only within a date range."""

    base_url: str  # canonical: document identities and stored URLs use it
    committee_id: int | None = None
    committee_title: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    # Where requests actually go. Tests point it at a local server; identities keep base_url.
    fetch_base_url: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def host_slug(self) -> str:
        """The host as used in document ids: democracy.plymouth.gov.uk -> democracy-plymouth-gov-uk."""
        return self.host.replace(".", "-")

    def fetch_url(self, canonical_url: str) -> str:
        """The URL to request for a canonical URL of this site (unchanged unless overridden)."""
        rest = canonical_url[len(self.base_url):]
        if self.fetch_base_url and canonical_url.startswith(self.base_url) and rest[:1] in ("", "/", "?"):
            return self.fetch_base_url + rest
        return canonical_url

    def window(self, since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date] | None:
        """The dates to crawl on this site: the overlap of the request and the site's own range."""
        start = max(d for d in (since, self.start, EARLIEST) if d is not None)
        end = min(d for d in (until, self.end, dt.date.today()) if d is not None)
        return (start, end) if start <= end else None


@dataclass(frozen=True)
class Panel:
    force: str
    panel: str
    sites: tuple[Site, ...]

    def served_from(self, base_urls: Mapping[str, str]) -> Panel:
        """A copy whose sites are fetched from other base URLs (canonical URL -> fetch URL)."""
        sites = tuple(
            replace(s, fetch_base_url=base_urls[s.base_url].rstrip("/")) if s.base_url in base_urls else s
            for s in self.sites
        )
        return replace(self, sites=sites)


class _SiteEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    base_url: str
    committee_id: int | None = Field(default=None, gt=0)
    committee_title: str | None = None
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="until")

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://democracy.example.gov.uk")
        if parts.query or parts.fragment or value.lower().endswith((".aspx", ".asmx")):
            raise ValueError("must be the site root (the folder holding mgWebService.asmx), not a page")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _committee_and_range(self) -> _SiteEntry:
        if self.committee_id is None and not self.committee_title:
            raise ValueError("needs committee_id (the CId in ieListDocuments.aspx?CId=N) or committee_title")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"'from' {self.start} is after 'until' {self.end}")
        return self


class _PanelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: str
    panel: str
    site: list[_SiteEntry] = Field(min_length=1)

    @field_validator("force")
    @classmethod
    def _known_force(cls, value: str) -> str:
        force = force_named(value)
        if force is None or force.name != value:
            known = ", ".join(f.name for f in all_forces())
            raise ValueError(f"'{value}' is not a force name in ingest/data/forces.toml ({known})")
        return value

    @model_validator(mode="after")
    def _panel_matches_force(self) -> _PanelEntry:
        force = force_named(self.force)
        if force is not None and force.panel != self.panel:
            raise ValueError(
                f"panel '{self.panel}' differs from forces.toml's '{force.panel}' for {self.force}")
        return self


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    panel: list[_PanelEntry] = Field(min_length=1)


def load_registry(path: Path | None = None) -> list[Panel]:
    """Read and validate the registry (the bundled one unless a path is given)."""
    if path is None:
        resource = resources.files("precedent.ingest.moderngov").joinpath("registry.toml")
        name, text = "ingest/moderngov/registry.toml", resource.read_text(encoding="utf-8")
    else:
        name, text = str(path), Path(path).read_text(encoding="utf-8")
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadRegistry(f"{name}: not valid TOML ({exc}); fix the syntax at that line") from exc
    try:
        parsed = _RegistryFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise BadRegistry(f"{name}: {problems}") from exc
    panels = [
        Panel(
            force=entry.force,
            panel=entry.panel,
            sites=tuple(
                Site(s.base_url, s.committee_id, s.committee_title, s.start, s.end) for s in entry.site
            ),
        )
        for entry in parsed.panel
    ]
    seen: set[str] = set()
    for panel in panels:
        if panel.force in seen:
            raise BadRegistry(f"{name}: force '{panel.force}' has two [[panel]] entries; merge their sites")
        seen.add(panel.force)
    return panels


def select_panels(panels: Sequence[Panel], forces: Iterable[str] = ()) -> list[Panel]:
    """The panels of the named forces (any alias from forces.toml), or all of them if none are named."""
    wanted = list(forces)
    if not wanted:
        return list(panels)
    by_force = {p.force: p for p in panels}
    chosen: list[Panel] = []
    for name in wanted:
        force = force_named(name)
        if force is None or force.name not in by_force:
            known = ", ".join(sorted(by_force))
            raise BadRegistry(f"no ModernGov panel registered for force '{name}' (registered: {known})")
        if by_force[force.name] not in chosen:
            chosen.append(by_force[force.name])
    return chosen
