"""Dates as papers, ModernGov and users write them, read and written by one set of rules.

Papers print "7 July 2017", "Monday, 16th October, 2023" or "5th Feb. 2015"; ModernGov's web
service sends dd/mm/yyyy (sometimes with a time after it); manifests, filters and the store use
ISO. Everything that reads or shows a date goes through here.
"""

from __future__ import annotations

import datetime as dt
import re

from precedent.ingest.errors import BadQuery

MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_MONTH_RE = "|".join(MONTHS) + "|" + "|".join(m[:3] for m in MONTHS) + "|sept"
# "7 July 2017", "5th February, 2015", "16 Oct. 2023".
DATE_RE = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?,?\s+((?:19|20)\d\d)\b", re.IGNORECASE
)
MONTHS_BY_PREFIX = {name[:3]: number for name, number in MONTHS.items()}
_DAY_MONTH_YEAR = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ISO_WITH_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]")


def parse_date(text: str | None) -> dt.date | None:
    """ISO (``2019-02-08``, time ignored), dd/mm/yyyy (time ignored) or the first written date in ``text``."""
    value = (text or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value[:10] if _ISO_WITH_TIME.match(value) else value)
    except ValueError:
        pass
    if m := _DAY_MONTH_YEAR.match(value):
        return _date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    for m in DATE_RE.finditer(value):
        found = _date(int(m.group(3)), MONTHS_BY_PREFIX[m.group(2).lower()[:3]], int(m.group(1)))
        if found is not None:
            return found
    return None


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def date_arg(value: str | dt.date | None, name: str) -> dt.date | None:
    """A date a user typed as an option or filter: None when blank, a clear error when not a date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    date = parse_date(str(value))
    if date is None:
        raise BadQuery(f"{name} '{str(value)[:40]}' is not a date: use YYYY-MM-DD, e.g. 2020-01-31")
    return date


def human_date(date: dt.date | None) -> str:
    """"7 July 2017", as a citation prints it; "undated" when there is none."""
    return f"{date.day} {date:%B %Y}" if date else "undated"
