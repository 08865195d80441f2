"""A watch's entries as an Atom feed (RFC 4287), written with the standard library's ElementTree.

Each entry: the passage's human citation as its title, the passage as its content, a link to the
chat page at that passage (and to the original paper when known), the meeting date as
``published`` (none for an undated paper), when Precedent found it as ``updated``, and an id that
is the same every time the same passage matches the same watch.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from precedent.ingest.dates import human_date
from precedent.search.citations import passage_link
from precedent.search.watches.store import Watch, WatchEntry

ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("", ATOM)


def _stamp(when: dt.datetime | dt.date) -> str:
    if not isinstance(when, dt.datetime):
        when = dt.datetime(when.year, when.month, when.day, tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _child(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    node = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def describe(watch: Watch) -> str:
    parts = [f'"{watch.query}"']
    if watch.forces:
        parts.append("in " + " or ".join(watch.forces))
    if watch.since:
        parts.append(f"meetings since {human_date(watch.since)}")
    return ", ".join(parts)


def atom_feed(watch: Watch, entries: Sequence[WatchEntry], base_url: str) -> bytes:
    feed = ET.Element(f"{{{ATOM}}}feed")
    _child(feed, "id", watch.feed_id)
    _child(feed, "title", f"Precedent watch: {watch.query}")
    _child(feed, "subtitle", f"New and changed Police and Crime Panel papers matching {describe(watch)}")
    newest = max((e.found_at for e in entries), default=watch.created_at)
    _child(feed, "updated", _stamp(newest))
    _child(feed, "link", rel="self", type="application/atom+xml", href=f"{base_url}/watches/{watch.watch_id}/feed.xml")
    _child(feed, "link", rel="alternate", type="text/html", href=f"{base_url}/")
    author = _child(feed, "author")
    _child(author, "name", "Precedent")
    _child(feed, "generator", "Precedent")
    for item in entries:
        citation = item.citation
        entry = _child(feed, "entry")
        _child(entry, "id", item.entry_id)
        _child(entry, "title", citation.display)
        _child(entry, "link", rel="alternate", type="text/html",
               href=passage_link(citation.document_id, citation.chunk_id, base_url))
        if citation.url:
            _child(entry, "link", rel="related", href=citation.url)
        _child(entry, "updated", _stamp(item.found_at))
        if citation.meeting_date:
            _child(entry, "published", _stamp(citation.meeting_date))
        if citation.force:
            _child(entry, "category", term=citation.force, label=citation.force)
        panel = citation.panel or (f"{citation.force} Police and Crime Panel" if citation.force else "Unknown panel")
        when = f"meeting of {human_date(citation.meeting_date)}" if citation.meeting_date else "undated paper"
        _child(entry, "summary", f"{panel}, {when}: {citation.title}, {citation.locator}")
        _child(entry, "content", " ".join(item.passage.split()), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
