"""Where each panel publishes (registry.toml, plus a user's own file merged over it): validated, typed.

Adding or fixing a panel is a data change: a [[panel]] entry in a TOML file, no code. Every force of
forces.toml has an entry; a panel no source can reach keeps one with `system = "unsupported"` and the
reason, so nothing silently disappears.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from precedent.ingest.errors import PrecedentError
from precedent.ingest.forces import all_forces, force_named
from precedent.ingest.settings import Settings

# Police and Crime Panels first met in 2012: a crawl with no --since starts here.
EARLIEST = dt.date(2012, 1, 1)
BUNDLED = "ingest/crawl/registry.toml"

System = Literal["moderngov", "cmis", "listing", "unsupported"]
SYSTEM_NAMES: dict[str, str] = {"moderngov": "ModernGov", "cmis": "CMIS", "listing": "listing page",
                                "unsupported": "none"}
Status = Literal["crawlable", "needs verification", "unsupported"]


class BadRegistry(PrecedentError):
    """A registry file has an invalid entry, or a crawl named an unknown or unsupported force."""


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class Site:
    """One place holding a panel's papers, optionally only within a date range."""

    base_url: str  # canonical: document identities and stored URLs use it
    system: System = "moderngov"
    committee_id: int | None = None
    committee_title: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    # CMIS: the DotNetNuke page holding the meetings module (.../{page}/tabid/{tab_id}/.../mid/{module_id}/...).
    page: str | None = None
    tab_id: int | None = None
    module_id: int | None = None
    # Listing pages: a regular expression for links to per-meeting pages to walk as well.
    follow: str | None = None
    verify: str | None = None  # what about this site was never confirmed
    reason: str | None = None  # why no source can crawl it (system "unsupported")
    # Where requests actually go: canonical origin -> fetch prefix. Tests point it at a local server;
    # identities keep the canonical URLs.
    fetch_origin: str | None = None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def host_slug(self) -> str:
        """The host as used in document ids: democracy.plymouth.gov.uk -> democracy-plymouth-gov-uk."""
        return self.host.replace(".", "-")

    @property
    def origin(self) -> str:
        return _origin(self.base_url)

    @property
    def crawlable(self) -> bool:
        return self.system != "unsupported"

    @property
    def committee(self) -> str:
        """The committee as a person would name it in a table: the id, or the title it is found by."""
        if self.committee_id is not None:
            return str(self.committee_id)
        return f"'{self.committee_title}'" if self.committee_title else ""

    def fetch_url(self, canonical_url: str) -> str:
        """The URL to request for a canonical URL on this site's host (unchanged unless overridden)."""
        if self.fetch_origin and _origin(canonical_url).lower() == self.origin.lower():
            return self.fetch_origin + canonical_url[len(self.origin):]
        return canonical_url

    def window(self, since: dt.date | None, until: dt.date | None) -> tuple[dt.date, dt.date] | None:
        """The dates to crawl on this site: the overlap of the request and the site's own range."""
        start = max(d for d in (since, self.start, EARLIEST) if d is not None)
        end = min(d for d in (until, self.end, dt.date.today()) if d is not None)
        return (start, end) if start <= end else None

    def describe(self) -> str:
        """'democracy.leics.gov.uk (from 2023-10-17)': a host as the sources table shows it."""
        span = ""
        if self.start and self.end:
            span = f" ({self.start} to {self.end})"
        elif self.start:
            span = f" (from {self.start})"
        elif self.end:
            span = f" (until {self.end})"
        return self.host + span


@dataclass(frozen=True)
class Panel:
    force: str
    panel: str
    sites: tuple[Site, ...]
    defined_in: tuple[str, ...] = field(default=(BUNDLED,), compare=False)  # files that shaped this entry

    @property
    def crawl_sites(self) -> tuple[Site, ...]:
        return tuple(s for s in self.sites if s.crawlable)

    @property
    def status(self) -> Status:
        if not self.crawl_sites:
            return "unsupported"
        return "needs verification" if any(s.verify for s in self.crawl_sites) else "crawlable"

    @property
    def status_reason(self) -> str:
        """Why the status is what it is: what to verify, what cannot be crawled ('' if nothing)."""
        notes = [f"{s.describe()}: {s.verify}" for s in self.crawl_sites if s.verify]
        notes += [f"{s.describe()}: {s.reason}" for s in self.sites if not s.crawlable]
        return "; ".join(notes)

    @property
    def systems(self) -> list[str]:
        found = [SYSTEM_NAMES[s.system] for s in self.crawl_sites] or [SYSTEM_NAMES["unsupported"]]
        return list(dict.fromkeys(found))

    def served_from(self, origins: Mapping[str, str]) -> Panel:
        """A copy whose sites are fetched elsewhere (canonical origin -> fetch prefix), for tests."""
        sites = tuple(
            replace(s, fetch_origin=origins[s.origin].rstrip("/")) if s.origin in origins else s
            for s in self.sites
        )
        return replace(self, sites=sites)


# --- the TOML entries ----------------------------------------------------------------------------------


class _SiteEntry(BaseModel):
    """One [[panel.site]] as written: every field but base_url may be left to the bundled entry."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    base_url: str
    system: System | None = None
    committee_id: int | None = Field(default=None, gt=0)
    committee_title: str | None = Field(default=None, min_length=3)
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="until")
    page: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]+$")
    tab_id: int | None = Field(default=None, gt=0)
    module_id: int | None = Field(default=None, gt=0)
    follow: str | None = None
    verify: str | None = None
    reason: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://democracy.example.gov.uk")
        return value

    @field_validator("follow")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"is not a regular expression ({exc})") from exc
        return value


class _PanelEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    force: str
    panel: str | None = None
    # In a user's file: drop the bundled entry's sites instead of merging into them.
    replace_sites: bool = False
    site: list[_SiteEntry] = Field(default_factory=list)


class _RegistryFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # In a user's file: `bundled = false` leaves the bundled panels out (crawl only this file's panels).
    bundled: bool = True
    panel: list[_PanelEntry] = Field(min_length=1)


def _complete(fields: dict[str, Any]) -> Site:
    """A site once merged: check what its system needs (ValueError says which field and the fix)."""
    system = fields.get("system") or "moderngov"
    url = fields["base_url"]
    parts = urlsplit(url)
    if system != "listing":
        # A site root: no trailing slash, as URLs are built by appending to it. A listing page keeps
        # its own (relative links on ".../meetings/" and ".../meetings" resolve differently).
        url = fields["base_url"] = url.rstrip("/")
    if system in ("moderngov", "cmis"):
        if parts.query or parts.fragment or url.lower().endswith((".aspx", ".asmx")):
            where = "mgWebService.asmx" if system == "moderngov" else "Document.ashx"
            raise ValueError(f"base_url: must be the site root (the folder holding {where}), not a page")
        if fields.get("committee_id") is None and not fields.get("committee_title"):
            raise ValueError("needs committee_id (the CId in ieListDocuments.aspx?CId=N, or the N in "
                             "/Committee/N/ on CMIS) or committee_title")
    if system == "cmis":
        missing = [k for k in ("page", "tab_id", "module_id") if fields.get(k) is None]
        if missing:
            raise ValueError(
                f"a CMIS site needs {', '.join(missing)}: read them off a meeting link "
                "(.../{page}/tabid/{tab_id}/ctl/ViewMeetingPublic/mid/{module_id}/Meeting/...)")
    if system == "unsupported" and not fields.get("reason"):
        raise ValueError("an unsupported site needs a reason (what is missing, so someone can add it)")
    start, end = fields.get("start"), fields.get("end")
    if start and end and start > end:
        raise ValueError(f"'from' {start} is after 'until' {end}")
    return Site(**{**fields, "system": system})


def _entry_fields(entry: _SiteEntry, *, only_set: bool) -> dict[str, Any]:
    data = entry.model_dump(exclude_unset=only_set)
    data["base_url"] = entry.base_url
    return data


def _site_label(index: int, entry: _SiteEntry) -> str:
    return f"[[panel.site]] #{index} ({entry.base_url})"


def _panel_label(index: int, entry: _PanelEntry | dict[str, Any]) -> str:
    force = entry.force if isinstance(entry, _PanelEntry) else entry.get("force", "?")
    return f"[[panel]] #{index} (force '{force}')"


def _read(name: str, text: str) -> _RegistryFile:
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadRegistry(f"{name}: not valid TOML ({exc}); fix the syntax at that line") from exc
    try:
        return _RegistryFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = []
            if loc[:1] == ["panel"] and len(loc) > 1 and isinstance(loc[1], int):
                panels = raw.get("panel") or []
                entry = panels[loc[1]] if loc[1] < len(panels) and isinstance(panels[loc[1]], dict) else {}
                where.append(_panel_label(loc[1] + 1, entry))
                loc = loc[2:]
                if loc[:1] == ["site"] and len(loc) > 1 and isinstance(loc[1], int):
                    sites = entry.get("site") or []
                    site = sites[loc[1]] if loc[1] < len(sites) and isinstance(sites[loc[1]], dict) else {}
                    where.append(f"[[panel.site]] #{loc[1] + 1} ({site.get('base_url', '?')})")
                    loc = loc[2:]
            field_name = ".".join(str(p) for p in loc)
            message = err["msg"].removeprefix("Value error, ")
            problems.append(", ".join(where + ([field_name] if field_name else [])) + f": {message}")
        raise BadRegistry(f"{name}: " + "; ".join(problems)) from exc


def _known_force(name: str, label: str, value: str) -> str:
    force = force_named(value)
    if force is None:
        known = ", ".join(f.name for f in all_forces())
        raise BadRegistry(f"{name}: {label}: '{value}' is not a force name in ingest/data/forces.toml ({known})")
    return force.name


def _bundled_panels(name: str, parsed: _RegistryFile) -> list[Panel]:
    """The bundled registry (or a replacement for it): complete entries, every one standing alone."""
    panels: list[Panel] = []
    seen: set[str] = set()
    for p_index, entry in enumerate(parsed.panel, start=1):
        label = _panel_label(p_index, entry)
        force = _known_force(name, label, entry.force)
        if force != entry.force:
            raise BadRegistry(f"{name}: {label}: write the force as '{force}', its name in forces.toml")
        expected = force_named(force).panel  # type: ignore[union-attr]
        if entry.panel is not None and entry.panel != expected:
            raise BadRegistry(f"{name}: {label}: panel '{entry.panel}' differs from forces.toml's '{expected}'")
        if force in seen:
            raise BadRegistry(f"{name}: {label}: force '{force}' has two [[panel]] entries; merge their sites")
        if not entry.site:
            raise BadRegistry(f"{name}: {label}: needs at least one [[panel.site]] (system = \"unsupported\" "
                              "with a reason if no source can reach it)")
        seen.add(force)
        sites = []
        for s_index, site in enumerate(entry.site, start=1):
            try:
                sites.append(_complete(_entry_fields(site, only_set=False)))
            except ValueError as exc:
                raise BadRegistry(f"{name}: {label}, {_site_label(s_index, site)}: {exc}") from None
        panels.append(Panel(force, expected, tuple(sites), (name,)))
    return panels


def _merge(base: list[Panel], name: str, parsed: _RegistryFile) -> list[Panel]:
    """A user's file over the bundled panels: add forces, or override or add sites of one force.

    A site whose base_url matches one bundled site of the force takes its unset fields from it, so
    `until = 2019-03-31` alone changes a date range (and drops the bundled `verify` note, unless the
    user restates one). `replace_sites = true` drops the bundled sites.
    """
    if not parsed.bundled:
        base = []
    by_force = {p.force: p for p in base}
    order = [p.force for p in base]
    touched: set[str] = set()
    for p_index, entry in enumerate(parsed.panel, start=1):
        label = _panel_label(p_index, entry)
        force = _known_force(name, label, entry.force)
        expected = force_named(force).panel  # type: ignore[union-attr]
        if entry.panel is not None and entry.panel != expected:
            raise BadRegistry(f"{name}: {label}: panel '{entry.panel}' differs from forces.toml's '{expected}'")
        if force in touched:
            raise BadRegistry(f"{name}: {label}: force '{force}' has two [[panel]] entries; merge their sites")
        touched.add(force)
        if not entry.site:
            raise BadRegistry(f"{name}: {label}: give at least one [[panel.site]] to add or change")
        existing = by_force.get(force)
        sites = [] if existing is None or entry.replace_sites else list(existing.sites)
        for s_index, site_entry in enumerate(entry.site, start=1):
            where = f"{name}: {label}, {_site_label(s_index, site_entry)}"
            key = site_entry.base_url.rstrip("/").lower()
            matches = [i for i, s in enumerate(sites) if s.base_url.rstrip("/").lower() == key]
            if len(matches) > 1:
                raise BadRegistry(f"{where}: matches {len(matches)} sites of {force} in the bundled registry; "
                                  "set replace_sites = true on the [[panel]] and list every site you want")
            try:
                if matches:
                    old = sites[matches[0]]
                    fields = {k: v for k, v in vars(old).items() if k != "fetch_origin"}
                    given = _entry_fields(site_entry, only_set=True)
                    fields.update(given)
                    # The user's entry is the user's knowledge: the bundled doubt goes unless restated.
                    fields["verify"] = given.get("verify")
                    sites[matches[0]] = _complete(fields)
                else:
                    sites.append(_complete(_entry_fields(site_entry, only_set=False)))
            except ValueError as exc:
                raise BadRegistry(f"{where}: {exc}") from None
        defined_in = (existing.defined_in if existing and not entry.replace_sites else ()) + (name,)
        by_force[force] = Panel(force, expected, tuple(sites), defined_in)
        if force not in order:
            order.append(force)
    return [by_force[f] for f in order]


def load_registry(path: Path | None = None, *, user: Path | None = None) -> list[Panel]:
    """The bundled registry (or the file at ``path`` instead), with a user's file merged over it."""
    if path is None:
        text = resources.files("precedent.ingest.crawl").joinpath("registry.toml").read_text(encoding="utf-8")
        name = BUNDLED
    else:
        name, text = str(path), _read_text(Path(path))
    bundled = _read(name, text)
    if not bundled.bundled:
        raise BadRegistry(f"{name}: 'bundled = false' belongs in a user's registry, not in the one it replaces")
    panels = _bundled_panels(name, bundled)
    if user is not None:
        panels = _merge(panels, str(user), _read(str(user), _read_text(Path(user))))
    return panels


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadRegistry(f"{path}: registry file not found; give the path of a TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadRegistry(f"{path}: cannot read the registry ({exc})") from None


def registry_for(settings: Settings) -> list[Panel]:
    """The registry a crawl uses: the bundled one with PRECEDENT_REGISTRY (or --registry) merged over it."""
    return load_registry(user=settings.registry)


def select_panels(panels: Sequence[Panel], forces: Iterable[str] = ()) -> list[Panel]:
    """The crawlable panels of the named forces (any alias from forces.toml), or all of them if none are named.

    Naming a force that no source can reach is an error that says why; with no names such panels are
    left out (their sites are kept in the registry, and `precedent sources` shows them).
    """
    wanted = list(forces)
    if not wanted:
        return [p for p in panels if p.crawl_sites]
    by_force = {p.force: p for p in panels}
    chosen: list[Panel] = []
    for name in wanted:
        force = force_named(name)
        if force is None or force.name not in by_force:
            known = ", ".join(sorted(by_force))
            raise BadRegistry(f"no panel registered for force '{name}' (registered: {known})")
        panel = by_force[force.name]
        if not panel.crawl_sites:
            raise BadRegistry(f"{panel.force} cannot be crawled: {panel.status_reason}. Add a site for it in "
                              "your own registry (precedent crawl --registry FILE, or PRECEDENT_REGISTRY)")
        if panel not in chosen:
            chosen.append(panel)
    return chosen
