"""Local sources: walk folders and files into SourceItems, with manifest metadata where given.

A manifest says what to ingest: inside a folder it governs (the one named by ``--manifest``, or a
folder holding a ``manifest.csv``), a file it does not list is left out and reported "not in manifest",
so a corpus's README or notes never enter the index as a paper. A file named on the command line is
always attempted, listed or not.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from precedent.ingest.errors import PrecedentError
from precedent.ingest.metadata import read_manifest
from precedent.ingest.parse import SUPPORTED
from precedent.ingest.records import DocumentMeta, SourceItem

MANIFEST_NAME = "manifest.csv"
# Read when asked for (--include-md, a file named explicitly, a manifest row): notes and READMEs are
# Markdown, panel papers are not.
ON_REQUEST = frozenset({".md"})


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


@dataclass(frozen=True)
class Found:
    """A file to ingest, with what its manifest row says about it (empty when it has none)."""

    path: Path
    meta: DocumentMeta


@dataclass(frozen=True)
class Manifest:
    path: Path
    rows: dict[str, DocumentMeta]


def find_files(paths: list[Path], manifest: Path | None = None, *,
               include_md: bool = False) -> tuple[list[Found], list[Skipped]]:
    """Files to ingest and files left out, each with its reason.

    Inside folders, files of types Precedent does not read are skipped, Markdown unless ``include_md``,
    and, where a manifest governs, files it does not list. A file named explicitly is always attempted,
    so its error (if any) is reported.
    """
    explicit = read_manifest_at(manifest) if manifest is not None else None
    found: list[Found] = []
    skipped: list[Skipped] = []
    for path in paths:
        if not path.exists():
            raise PrecedentError(f"{path}: no such file or folder")
        if path.is_file():
            governing = explicit or folder_manifest(path.parent)
            found.append(Found(path, governing.rows.get(path.name, DocumentMeta()) if governing else DocumentMeta()))
            continue
        governing = explicit or folder_manifest(path)
        for child in sorted(path.rglob("*")):
            if not child.is_file() or any(part.startswith(".") for part in child.relative_to(path).parts):
                continue
            if child.name == MANIFEST_NAME:
                continue
            reason = left_out(child, governing, include_md)
            if reason:
                skipped.append(Skipped(str(child), reason))
                continue
            found.append(Found(child, governing.rows[child.name] if governing else DocumentMeta()))
    return found, skipped


def left_out(path: Path, governing: Manifest | None, include_md: bool) -> str | None:
    """Why a file inside a folder is not ingested (None: it is)."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        return f"not a document type Precedent reads ({path.suffix or 'no extension'})"
    if governing is not None:
        if path.name not in governing.rows:
            return f"not in manifest ({governing.path})"
        return None
    if suffix in ON_REQUEST and not include_md:
        return "Markdown is not a panel paper format: pass --include-md, or name the file"
    return None


def read_manifest_at(path: Path) -> Manifest:
    return Manifest(path, read_manifest(path))


def folder_manifest(folder: Path) -> Manifest | None:
    candidate = folder / MANIFEST_NAME
    return read_manifest_at(candidate) if candidate.is_file() else None


def file_items(files: list[Found], max_mb: int | None = None) -> Iterator[SourceItem | tuple[Path, str]]:
    """SourceItems, or (path, error) for files that cannot be read at all or are too big to read."""
    for found in files:
        path = found.path
        try:
            size = path.stat().st_size
            if max_mb is not None and size > max_mb * 1024 * 1024:
                # Refused before reading, so a huge file costs no memory.
                yield path, f"file is {size // (1024 * 1024)} MB, over the {max_mb} MB limit (PRECEDENT_MAX_FILE_MB)"
                continue
            data = path.read_bytes()
        except OSError as exc:
            yield path, f"cannot read file: {exc.strerror}"
            continue
        resolved = path.resolve()
        yield SourceItem(source=str(resolved), filename=path.name, data=data, meta=found.meta, path=resolved)
