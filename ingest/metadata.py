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
    line = line.strip().strip("*").strip()
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


def _header(raw: str) -> list[str]:
    lines = [ln.strip().strip("*").strip() for ln in raw.replace("\xa0", " ").splitlines()]
    return [ln for ln in lines if ln][:_HEADER_LINES]


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


def infer_meeting_date(raw: str) -> dt.date | None:
    """Only a date that heads the paper is the meeting's: dates in the body are about other things."""
    for line in _header(raw):
        if re.match(r"^(minutes:?|\(?[a-z0-9]{1,4}[.)]\s)", line, re.IGNORECASE):
            break
        m = DATE_RE.search(line)
        if not m:
            continue
        rest = (line[: m.start()] + line[m.end():]).strip(" -–—,:|").lower()
        if not rest or re.search(r"\b(panel|meeting|committee|held on|date)\b", rest):
            return parse_date(m.group(0))
    return None


def infer_doc_type(raw: str) -> str:
    head = "\n".join(_header(raw)).lower()
    text = raw.lower()
    if re.search(r"^(minutes:|minutes of (a|the) meeting)", text, re.MULTILINE) or head.startswith(
        "agenda item"
    ):
        return "minutes"
    if re.search(r"^(report (of|by|from) the|purpose of (the )?(paper|report))", head, re.MULTILINE):
        return "report"
    minutes = len(re.findall(r"\b(resolved|the panel (agreed|noted|considered|received)|members (noted|asked|discussed))\b", text))
    report = len(re.findall(r"\b(recommendations?:?$|contact for further information|purpose of the (paper|report)|executive summary)\b", text, re.MULTILINE))
    if minutes > report:
        return "minutes"
    if report:
        return "report"
    return "other"


_SKIP_TITLE = re.compile(
    r"^(agenda item|agenda no\.?:?.*|item \d+.*|minutes:?|report (of|by|from) .*|.*police (&|and) crime panel.*|"
    r"\d{1,2}(st|nd|rd|th)?\s+\w+\s+\d{4}|public|part [12]|not protectively marked|official)$",
    re.IGNORECASE,
)


def infer_title(raw: str) -> str | None:
    for line in _header(raw):
        if _SKIP_TITLE.match(line) or DATE_RE.fullmatch(line.strip(" -–")):
            continue
        if len(line) > 160 or len(line.split()) < 1:
            continue
        return smart_title(line)
    return None


def infer_agenda_item(raw: str, title: str | None) -> AgendaItem | None:
    for line in _header(raw):
        m = re.match(r"^(?:agenda (?:no|item|number)\.?:?|item)\s*(\d+[a-z]?)\b", line, re.IGNORECASE)
        if m:
            return AgendaItem(number=m.group(1), title=title)
    if raw.lstrip().lower().startswith("agenda item"):
        return AgendaItem(number=None, title=title)
    return None


def infer_meta(raw: str) -> DocumentMeta:
    title = infer_title(raw)
    force = infer_force(raw)
    known = force_named(force) if force else None
    return DocumentMeta(
        title=title,
        force=force,
        panel=known.panel if known else None,
        meeting_date=infer_meeting_date(raw),
        doc_type=infer_doc_type(raw),  # type: ignore[arg-type]
        agenda_item=infer_agenda_item(raw, title),
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
