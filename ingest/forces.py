"""The force areas of England and Wales, their panels, and the words that name them in papers."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Force:
    name: str
    panel: str
    aliases: tuple[str, ...]


@lru_cache(maxsize=1)
def all_forces() -> tuple[Force, ...]:
    raw = tomllib.loads(resources.files("precedent.ingest").joinpath("data/forces.toml").read_text())
    return tuple(Force(f["name"], f["panel"], tuple(f["aliases"])) for f in raw["force"])


def force_named(name: str) -> Force | None:
    key = name.strip().casefold()
    for force in all_forces():
        if key == force.name.casefold() or key in (a.casefold() for a in force.aliases):
            return force
    return None


@lru_cache(maxsize=1)
def alias_pattern() -> re.Pattern[str]:
    """One regex over every alias, longest first so "Leicestershire" wins over "Leicester"."""
    aliases = sorted({a for f in all_forces() for a in f.aliases}, key=len, reverse=True)
    # Acronyms such as LLR must match case-sensitively; names match in any case.
    parts = [re.escape(a) if a.isupper() else f"(?i:{re.escape(a)})" for a in aliases]
    return re.compile(r"(?<![\w-])(" + "|".join(parts) + r")(?![\w-])")
