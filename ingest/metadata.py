"""Document metadata: from a manifest when one is given, otherwise read off the text itself."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections import defaultdict
from pathlib import Path

from precedent.ingest.dates import DATE_RE, parse_date
from precedent.ingest.errors import BadManifest
from precedent.ingest.forces import alias_pattern, force_named
from precedent.ingest.records import DOC_TYPES, AgendaItem, DocumentMeta

_HEADER_LINES = 14
_SMALL_WORDS = {"and", "or", "of", "the", "for", "in", "on", "to", "a", "an", "at", "by", "with", "from"}
_ACRONYMS = {"PCC", "OPCC", "PCP", "CCTV", "HMIC", "HMICFRS", "ICT", "ASB", "VRN", "LLR", "CSP", "CSPS",
             "CSE", "MTFS", "RDOP", "IPCC", "IOPC", "NPA", "SARC", "UK", "CPS", "ESN", "HR", "ICO"}


def smart_title(line: str) -> str:
    """Title-case a line written in capitals, keeping acronyms and small words as a clerk would."""
    line = _BULLET.sub("", line.strip().strip("*").strip())
    line = re.sub(r"\s+[–—]\s+", " - ", line).replace("–", "-").rstrip(" .:")
    letters = [c for c in line if c.isalpha()]
    if not letters or sum(c.isupper() for c in letters) / len(letters) < 0.8:
        return line
    words = []
    for i, word in enumerate(line.split()):
        bare = re.sub(r"[^\w']", "", word)
        if bare.upper() in _ACRONYMS:
            words.append(word.upper())
        elif i > 0 and bare.lower() in _SMALL_WORDS:
            words.append(word.lower())
        else:
            words.append(word[:1].upper() + word[1:].lower())
    return " ".join(words)


# -- the heading block ---------------------------------------------------------------------------
#
# A paper opens with a heading block (panel, meeting, date, venue, item or report title) and then its body
# (numbered items, attendance lists, sections, prose). Metadata is read from the heading block; the body
# only decides the document type and, for minutes of a whole meeting, the items that make the title.

_BULLET = re.compile(r"^[•·▪◦●]\s*")
# Page chrome above a web page's paper: skip links, cookie notices, template notes, breadcrumbs, menus.
_CHROME = re.compile(r"^(skip to\b|we use cookies|this is a default template|you are here\b)|\s[>›|]\s", re.I)
_AGENDA_PAGE = re.compile(r"^agenda item$", re.I)  # a ModernGov agenda-item page starts here
_MINUTES_MARKER = re.compile(r"^minutes\s*:$", re.I)  # ModernGov: the item's minutes follow
_ITEM_LINE = re.compile(r"^(?:[•·▪◦●]\s*)?(\d{1,3})[a-z]?\.?\s+(\S.*)$")
_ATTENDANCE = re.compile(
    r"^((members|officers|others|main panel members)\s+)?(present|in attendance|also present|by invitation|apologies)\b",
    re.I,
)
_SECTION = re.compile(
    r"^(purpose of (the )?(report|paper)|(executive )?summary|background|recommendations?|introduction)\s*:?$", re.I
)
# A line that introduces the meeting ("Minutes of the meeting held on ...") is heading, however long.
_MEETING_LINE = re.compile(r"^(minutes|meeting|date|held)\b", re.I)
# Dates the heading gives for something other than the meeting.
_OTHER_EVENT = re.compile(r"\b(published|printed|issued|circulated|previous meeting|last meeting)\b[^.]*$", re.I)


def _lines(text: str) -> list[str]:
    lines = (" ".join(ln.replace("**", "").split()).strip("*").strip() for ln in text.replace("\xa0", " ").splitlines())
    return [ln for ln in lines if ln]


def opens_body(line: str) -> bool:
    """Does this line start the paper's body (so the heading block has ended)?"""
    if _MINUTES_MARKER.match(line) or _ATTENDANCE.match(line) or _SECTION.match(_BULLET.sub("", line)):
        return True
    if _ITEM_LINE.match(line) and not DATE_RE.match(_BULLET.sub("", line)):
        return True
    if _MEETING_LINE.match(line):
        return False
    words = len(line.split())
    return words >= 30 or (words >= 12 and line.endswith((".", ":")))


def heading_block(text: str) -> list[str]:
    """The lines that head the paper: those before its first item, attendance list, section or prose.

    On a ModernGov agenda-item page everything above "Agenda item" is the site's chrome, so the block
    starts there (and keeps that line, which says what kind of page this is).
    """
    lines = _lines(text)
    for i, line in enumerate(lines[: _HEADER_LINES * 2]):
        if _AGENDA_PAGE.match(line):
            lines = lines[i:]
            break
    head: list[str] = []
    for line in lines:
        if len(head) == _HEADER_LINES or opens_body(line):
            break
        if not _CHROME.search(line):
            head.append(line)
    return head


# -- fields -------------------------------------------------------------------------------------


def infer_force(text: str) -> str | None:
    """The force the paper is about: mentions weighted by where and how they occur."""
    scores: dict[str, float] = defaultdict(float)
    first_seen: dict[str, int] = {}
    for m in alias_pattern().finditer(text):
        force = force_named(m.group(1))
        if force is None:
            continue
        before = text[max(0, m.start() - 40): m.start()].lower()
        after = text[m.end(): m.end() + 40].lower()
        weight = 1.0
        if m.start() < 600:
            weight += 2.0
        if re.match(r"\s*(police,? (fire )?and crime (panel|commissioner|plan)|pcc|opcc)", after):
            weight += 3.0
        if re.search(r"(commissioner|pcc) for (the )?$", before):
            weight += 3.0
        if re.search(r"\b(with|alongside|between|and)\s+$", before):
            weight *= 0.5  # "alliance with Dorset Police": a partner, not the subject
        scores[force.name] += weight
        first_seen.setdefault(force.name, m.start())
    if not scores:
        return None
    return max(scores, key=lambda f: (scores[f], -first_seen[f]))


def infer_meeting_date(text: str) -> dt.date | None:
    """The first date in the heading block ("Friday 8 February 2019, 10.30 am Warspite Room, ...",
    "Minutes of the Dorset Police and Crime Panel, 12 March 2024.", "... held on Friday, 8 November 2019").

    A paper whose heading block gives no date is undated: dates in the body are about other things
    (previous meetings, reports, events), so the body is never read for one.
    """
    for line in heading_block(text):
        for m in DATE_RE.finditer(line):
            if _OTHER_EVENT.search(line[max(0, m.start() - 40): m.start()]):
                continue
            date = parse_date(m.group(0))
            if date is not None:
                return date
    return None


def infer_doc_type(text: str) -> str:
    head = "\n".join(heading_block(text)).lower()
    low = text.lower()
    if re.search(r"^(minutes:|minutes of (a|the) meeting)", low, re.MULTILINE) or head.startswith("agenda item"):
        return "minutes"
    if re.search(r"^(report (of|by|from) the|purpose of (the )?(paper|report))", head, re.MULTILINE):
        return "report"
    minutes = len(re.findall(r"\b(resolved|the panel (agreed|noted|considered|received)|members (noted|asked|discussed))\b", low))
    report = len(re.findall(r"\b(recommendations?:?$|contact for further information|purpose of the (paper|report)|executive summary)\b", low, re.MULTILINE))
    if minutes > report:
        return "minutes"
    if report:
        return "report"
    return "other"


# Heading lines that are not the title: the panel, the meeting and its date, agenda numbers, authors,
# venues, protective markings, page titles.
_NOT_TITLE = re.compile(
    r"^(agenda item|agenda (no|number)\b.*|(agenda )?item \d+.*|minutes( of (a|the) meeting)?|agenda( and minutes)?|"
    r"report (of|by|from|to) .*|venue\b.*|meeting summary|occurred|public|part [12i]+|not protectively marked|"
    r"official.*|no\.? item|.*\bcrime panel)$",
    re.IGNORECASE,
)
# Parentheses a clerk adds to an item heading that are not part of its title.
_TITLE_NOISE = re.compile(
    r"\s*\((?:public|private|exempt|part \w+|item \d+[a-z]?\.?|[\d:.]+ on recording|report [\w/.-]+|ref\.? [\w/.-]+)\)",
    re.IGNORECASE,
)
# Agenda items every meeting has: they never name what the meeting was about.
_PROCEDURAL = re.compile(
    r"^(apologies|minutes\b|declarations?\b|code of conduct|disclosable|public (questions?|participation|question time|speaking)|"
    r"questions (to|from) (the )?(chair\w*|members of the public)|urgent (items?|business)|"
    r"chair(man|person)?'?s? (announcements|communications)|announcements|welcome|election of|"
    r"appointment of (the )?(vice[- ])?chair|exclusion of (the )?(press|public)|dates? of (the )?next meeting|"
    r"any other business|matters arising|standard items|membership)",
    re.IGNORECASE,
)
_MAX_TITLE_ITEMS = 3


def clean_title(line: str) -> str:
    """An item or report heading as a title: no bullet, no clerk's parentheses, no closing stop."""
    line = _TITLE_NOISE.sub("", _BULLET.sub("", line)).strip().rstrip(" .:;,")
    return smart_title(line)


def _heading_like(line: str) -> bool:
    """Short, capitalised like a heading, not a sentence running on or a decision."""
    words = line.split()
    if not words or len(words) > 20 or line.endswith((";", ",", ":")) or (line.endswith(".") and len(words) > 12):
        return False
    if not (line[0].isupper() or line[0].isdigit()) or re.match(r"^(that|resolved|agreed)\b", line, re.I):
        return False
    letters = [c for c in line if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        return True
    significant = [w for w in words if w.lower().strip(".,") not in _SMALL_WORDS]
    capitalised = sum(1 for w in significant if not w[:1].isalpha() or w[:1].isupper())
    return capitalised / max(1, len(significant)) >= 0.5


def agenda_items(text: str) -> list[tuple[str, int]]:
    """Agenda items of minutes, in order, each with the length of its minute in characters.

    Numbered headings ("27. MINUTES", "1 Apologies", "• 25. Declarations of interest") when the paper
    numbers its items, with their numbers rising (so a numbered resolution list is not mistaken for
    items); otherwise heading-like lines standing alone between paragraphs. A heading cut at the end of
    a line ("... Chief Fire Officer for") continues on the next.
    """
    lines = _lines(text)
    body = len(heading_block(text))
    if lines and _AGENDA_PAGE.match(lines[0]):
        return []
    found: list[tuple[int, str]] = []  # (line index, title)
    last = -1
    for i, line in enumerate(lines):
        m = _ITEM_LINE.match(line)
        if not m or DATE_RE.match(_BULLET.sub("", line)) or int(m.group(1)) <= last:
            continue
        title = m.group(2)
        while title.split()[-1].lower() in _SMALL_WORDS and i + 1 < len(lines) and not _ITEM_LINE.match(lines[i + 1]):
            i += 1
            title = f"{title} {lines[i]}"
        if _heading_like(title):
            found.append((i, title))
            last = int(m.group(1))
    if not found:
        raw_lines = [ln.strip() for ln in text.replace("\xa0", " ").splitlines()]
        own = {ln for j, ln in enumerate(raw_lines) if ln and (j + 1 == len(raw_lines) or not raw_lines[j + 1])
               and (j == 0 or not raw_lines[j - 1])}  # a line that is a paragraph of its own
        found = [(i, line) for i, line in enumerate(lines) if i >= body and line in own and _heading_like(line)
                 and len(line.split()) <= 12 and not DATE_RE.search(line)]
    sizes = [sum(len(ln) for ln in lines[i + 1: (found[n + 1][0] if n + 1 < len(found) else len(lines))])
             for n, (i, _) in enumerate(found)]
    return [(clean_title(title), size) for (_, title), size in zip(found, sizes, strict=True)]


def main_items(text: str) -> list[str]:
    """The items a meeting was about: its agenda items less the procedural ones."""
    items = [(t, n) for t, n in agenda_items(text) if not _PROCEDURAL.match(t)]
    return [t for t, _ in items[:_MAX_TITLE_ITEMS]]


def infer_title(text: str, doc_type: str | None = None) -> str | None:
    """The title a clerk would give the paper.

    An agenda-item page: the item's heading. Minutes of a whole meeting: the items it was about, joined
    by "; ". A report (or minutes whose items cannot be told): the first heading line that is not the
    panel, the meeting, a date, an agenda number or an author.
    """
    head = heading_block(text)
    if head and _AGENDA_PAGE.match(head[0]):
        head = [ln for ln in head[1:] if not _MEETING_LINE.match(ln) and not DATE_RE.search(ln)]
        return clean_title(head[0]) if head else None
    if doc_type == "minutes":
        items = main_items(text)
        if items:
            return "; ".join(items)
    for line in head:
        if _NOT_TITLE.match(line) or DATE_RE.search(line) or _MEETING_LINE.match(line) or _CHROME.search(line):
            continue
        if len(line) <= 160:
            return clean_title(line)
    return None


def infer_agenda_item(text: str, title: str | None) -> AgendaItem | None:
    head = heading_block(text)
    for line in head:
        m = re.match(r"^(?:agenda (?:no|item|number)\.?:?|item)\s*(\d+[a-z]?)\b", line, re.IGNORECASE) or (
            re.search(r"\(item (\d+[a-z]?)\.?\)", line, re.IGNORECASE) if _MEETING_LINE.match(line) else None
        )
        if m:
            return AgendaItem(number=m.group(1), title=title)
    if head and _AGENDA_PAGE.match(head[0]):
        return AgendaItem(number=None, title=title)
    return None


_PANEL_NAME = re.compile(
    r"((?:[A-Z][\w'’-]*,?\s+(?:(?:and|&|of|upon)\s+(?=[A-Z]))?)+)((?i:police(?:,? fire)?(?: and| &) crime panel))"
)
# "Meeting of", "Minutes of the", "Report of the": what the line says about the panel, not its name.
_PANEL_LEAD = re.compile(r"^.*?\b(?:Meeting|Minutes|Report|Agenda|Notes)\b[^,]*?\bof\s+(?:the\s+)?")


def infer_panel(text: str, force: str | None) -> str | None:
    """The panel as the paper names itself ("Essex Police and Crime Panel" in 2017, before it took on fire).

    A name stated in the heading block is kept when it names the paper's force, and kept whatever it says
    when the force is unknown; otherwise the force's panel from forces.toml.
    """
    known = force_named(force) if force else None
    for line in heading_block(text):
        m = _PANEL_NAME.search(smart_title(line))
        if not m:
            continue
        place = _PANEL_LEAD.sub("", m.group(1)).strip()
        if not place:
            continue
        named = [force_named(a.group(1)) for a in alias_pattern().finditer(place)]
        if known is None or any(f is not None and f.name == known.name for f in named):
            return smart_title(f"{place} {m.group(2)}")
    return known.panel if known else None


def infer_meta(text: str) -> DocumentMeta:
    doc_type = infer_doc_type(text)
    title = infer_title(text, doc_type)
    force = infer_force(text)
    return DocumentMeta(
        title=title,
        force=force,
        panel=infer_panel(text, force),
        meeting_date=infer_meeting_date(text),
        doc_type=doc_type,  # type: ignore[arg-type]
        agenda_item=infer_agenda_item(text, title),
    )


def merge_meta(given: DocumentMeta, inferred: DocumentMeta) -> DocumentMeta:
    """What the source says wins; inference fills the gaps."""
    merged = inferred.model_copy(update={k: v for k, v in given.model_dump(exclude_none=True).items()})
    if given.agenda_item is not None:
        merged.agenda_item = given.agenda_item
    if merged.panel is None and merged.force:
        known = force_named(merged.force)
        merged.panel = known.panel if known else None
    return merged


def document_id_for(source: str) -> str:
    """Stable id from where the document lives (not what it says), readable at a glance."""
    stem = re.sub(r"[^a-z0-9]+", "-", Path(source.split("?")[0]).stem.lower()).strip("-")[:40] or "doc"
    return f"{stem}-{hashlib.sha1(source.encode()).hexdigest()[:10]}"


MANIFEST_COLUMNS = ("file", "force", "body", "meeting_date", "doc_type", "title")


def read_manifest(path: Path) -> dict[str, DocumentMeta]:
    """Rows keyed by file name. Columns as in the seeds' manifest.csv; url, document_id, agenda_item optional."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            columns = set(reader.fieldnames or [])
            if "file" not in columns:
                raise BadManifest(
                    f"{path}: no 'file' column; expected columns {', '.join(MANIFEST_COLUMNS)}"
                )
            rows = list(reader)
    except OSError as exc:
        raise BadManifest(f"{path}: cannot read manifest ({exc.strerror})") from exc
    except (csv.Error, UnicodeDecodeError) as exc:
        raise BadManifest(f"{path}: not a readable CSV file ({exc})") from exc
    out: dict[str, DocumentMeta] = {}
    for lineno, row in enumerate(rows, start=2):
        name = (row.get("file") or "").strip()
        if not name:
            raise BadManifest(f"{path}, line {lineno}: empty 'file' value; give the file name")
        date_text = (row.get("meeting_date") or "").strip()
        date = parse_date(date_text) if date_text else None
        if date_text and date is None:
            raise BadManifest(
                f"{path}, line {lineno} ({name}): meeting_date '{date_text}' is not a date; use YYYY-MM-DD"
            )
        doc_type = (row.get("doc_type") or "").strip().lower() or None
        if doc_type and doc_type not in DOC_TYPES:
            raise BadManifest(
                f"{path}, line {lineno} ({name}): doc_type '{doc_type}' must be one of {', '.join(DOC_TYPES)}"
            )
        force = (row.get("force") or "").strip() or None
        known = force_named(force) if force else None
        agenda = (row.get("agenda_item") or "").strip()
        out[Path(name).name] = DocumentMeta(
            document_id=(row.get("document_id") or "").strip() or None,
            title=(row.get("title") or "").strip() or None,
            force=known.name if known else force,
            panel=(row.get("body") or row.get("panel") or "").strip() or None,
            meeting_date=date,
            doc_type=doc_type,  # type: ignore[arg-type]
            agenda_item=AgendaItem(number=agenda) if agenda else None,
            url=(row.get("url") or "").strip() or None,
        )
    return out
