"""How well metadata is read off papers that come without a manifest, judged against the manifest.

Each file a corpus manifest lists is parsed and described exactly as ingest would describe it with no
manifest (``pipeline.describe`` on an empty ``DocumentMeta``), then compared field by field with its
manifest row: force, meeting date, document type and title (the panel is shown beside them). An undated
manifest row is right only when nothing was inferred either: a date read from the wrong place is an error.

Titles are judged by the words they share, since a clerk's heading and a manifest's title for the same
item differ in small ways ("Confirmation Hearing - Chief Constable of Devon and Cornwall Police" against
"Confirmation Hearing for the Role of Chief Constable of Devon and Cornwall Police"): two titles name the
same item when the shorter shares at least 80% of its content words with the longer, and the two share at
least 30% of all their content words. Exact matches (case and punctuation aside) are counted too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from precedent.ingest.errors import PrecedentError
from precedent.ingest.metadata import read_manifest
from precedent.ingest.parse import parse_bytes
from precedent.ingest.pipeline import describe
from precedent.ingest.records import DocumentMeta, SourceItem
from precedent.ingest.settings import Settings
from precedent.ingest.sources import MANIFEST_NAME

FIELDS = ("force", "meeting_date", "doc_type", "title")
SHOWN = FIELDS + ("panel",)
TARGET = 0.95  # issue 13: each field right for >= 0.95 of the panels corpus without its manifest
TITLE_COVER = 0.8
TITLE_SHARE = 0.3

_STOP = frozenset({"a", "an", "and", "the", "of", "for", "to", "in", "on", "at", "by", "with", "from", "or"})
_WORD = re.compile(r"[a-z0-9]+(?:[/'’][a-z0-9]+)*")


def title_words(title: str) -> set[str]:
    """Content words, lower case, possessives and plurals folded ("Precepts", "Commissioner's")."""
    words = set()
    for word in _WORD.findall(title.casefold().replace("&", " and ")):
        word = re.sub(r"['’]s$", "", word)
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        if word not in _STOP:
            words.add(word)
    return words


def exact_title(got: str | None, want: str | None) -> bool:
    def fold(t: str) -> str:
        return " ".join(_WORD.findall(t.casefold().replace("&", " and ")))

    return got is not None and want is not None and fold(got) == fold(want)


def same_title(got: str | None, want: str | None) -> bool:
    """Do two titles name the same item? (See the module docstring for the rule.)"""
    if got is None or want is None:
        return got == want
    if exact_title(got, want):
        return True
    a, b = title_words(got), title_words(want)
    if not a or not b:
        return False
    shared = len(a & b)
    return shared / min(len(a), len(b)) >= TITLE_COVER and shared / len(a | b) >= TITLE_SHARE


def field_right(name: str, got: Any, want: Any) -> bool:
    if name == "title":
        return same_title(got, want)
    if name in ("force", "panel") and isinstance(got, str) and isinstance(want, str):
        return got.casefold() == want.casefold()
    return got == want


@dataclass
class PaperRow:
    """One paper: what its manifest says and what was read off it."""

    file: str
    expected: dict[str, Any]
    inferred: dict[str, Any]
    error: str | None = None

    def right(self, name: str) -> bool:
        return self.error is None and field_right(name, self.inferred.get(name), self.expected.get(name))

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "error": self.error,
                "fields": {f: {"manifest": _plain(self.expected.get(f)), "inferred": _plain(self.inferred.get(f)),
                               "right": self.right(f)} for f in SHOWN}}


@dataclass
class CorpusMetadata:
    """Field-by-field agreement with the manifest for one corpus."""

    name: str
    corpus: str
    rows: list[PaperRow] = field(default_factory=list)

    def accuracy(self) -> dict[str, float]:
        n = max(1, len(self.rows))
        return {f: sum(r.right(f) for r in self.rows) / n for f in SHOWN}

    def counts(self) -> dict[str, Any]:
        dated = [r for r in self.rows if r.expected.get("meeting_date") is not None]
        return {
            "papers": len(self.rows),
            "right": {f: sum(r.right(f) for r in self.rows) for f in SHOWN},
            "dated_papers": len(dated),
            "dated_right": sum(r.right("meeting_date") for r in dated),
            "titles_exact": sum(r.error is None and exact_title(r.inferred.get("title"), r.expected.get("title"))
                                for r in self.rows),
        }

    def meets_target(self) -> bool:
        acc = self.accuracy()
        return all(acc[f] >= TARGET for f in FIELDS)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "corpus": self.corpus, "accuracy": {k: round(v, 4) for k, v in self.accuracy().items()},
                **self.counts(), "rows": [r.to_dict() for r in self.rows]}


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _fields(meta: DocumentMeta) -> dict[str, Any]:
    return {"force": meta.force, "meeting_date": meta.meeting_date, "doc_type": meta.doc_type,
            "title": meta.title, "panel": meta.panel}


def measure_corpus(corpus: Path, settings: Settings | None = None, *, name: str | None = None,
                   progress: Callable[[str], None] | None = None) -> CorpusMetadata:
    """Describe every paper of ``corpus``'s manifest as ingest would without it, and compare."""
    manifest_path = corpus / MANIFEST_NAME
    if not manifest_path.is_file():
        raise PrecedentError(f"{corpus}: no {MANIFEST_NAME}; metadata inference is judged against a manifest")
    settings = settings or Settings()
    result = CorpusMetadata(name or corpus.name, str(corpus))
    manifest = read_manifest(manifest_path)
    if progress:
        progress(f"reading metadata off {len(manifest)} papers of {corpus} without their manifest")
    for file, expected in manifest.items():
        path = corpus / file
        try:
            data = path.read_bytes()
            raw = parse_bytes(data, path.name, settings)
            inferred = describe(SourceItem(str(path.resolve()), path.name, data, DocumentMeta()), raw)
        except (OSError, PrecedentError) as exc:
            result.rows.append(PaperRow(file, _fields(expected), {}, error=str(exc)))
            continue
        result.rows.append(PaperRow(file, _fields(expected), _fields(inferred)))
    return result


def measure_corpora(corpora: Sequence[Path], settings: Settings | None = None,
                    progress: Callable[[str], None] | None = None) -> list[CorpusMetadata]:
    """Every corpus that has a manifest (others have no truth to compare with)."""
    return [measure_corpus(c, settings, progress=progress) for c in corpora if (c / MANIFEST_NAME).is_file()]


def format_metadata(results: Sequence[CorpusMetadata], misses: bool = True) -> str:
    if not results:
        return ""
    lines = ["metadata read without the manifest (share of papers right):",
             f"  {'corpus':<12}{'papers':>8}" + "".join(f"{f:>14}" for f in SHOWN) + f"{'dated':>9}{'exact titles':>14}"]
    for r in results:
        acc, counts = r.accuracy(), r.counts()
        lines.append(f"  {r.name:<12}{counts['papers']:>8}" + "".join(f"{acc[f]:>14.3f}" for f in SHOWN)
                     + f"{counts['dated_right']:>5}/{counts['dated_papers']:<3}"
                     + f"{counts['titles_exact']:>10}/{counts['papers']:<3}")
    if misses:
        for r in results:
            for row in r.rows:
                if row.error:
                    lines.append(f"  [{r.name}] {row.file}: {row.error}")
                    continue
                for f in SHOWN:
                    if not row.right(f):
                        lines.append(f"  [{r.name}] {row.file} {f}: read {_plain(row.inferred.get(f))!r}, "
                                     f"manifest {_plain(row.expected.get(f))!r}")
    return "\n".join(lines)
