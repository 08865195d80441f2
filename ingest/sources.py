"""Local sources: walk folders and files into SourceItems, with manifest metadata where given."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from precedent.ingest.errors import PrecedentError
from precedent.ingest.metadata import read_manifest
from precedent.ingest.parse import SUPPORTED
from precedent.ingest.records import DocumentMeta, SourceItem

MANIFEST_NAME = "manifest.csv"


@dataclass(frozen=True)
class Skipped:
    path: str
    reason: str


def find_files(paths: list[Path]) -> tuple[list[Path], list[Skipped]]:
    """Files to ingest. Inside folders, files of other types are skipped quietly with a reason;
    a file named explicitly is always attempted, so its error is reported."""
    files: list[Path] = []
    skipped: list[Skipped] = []
    for path in paths:
        if not path.exists():
            raise PrecedentError(f"{path}: no such file or folder")
        if path.is_file():
            files.append(path)
            continue
        for child in sorted(path.rglob("*")):
            if not child.is_file() or any(part.startswith(".") for part in child.relative_to(path).parts):
                continue
            if child.name == MANIFEST_NAME:
                continue
            if child.suffix.lower() not in SUPPORTED:
                skipped.append(Skipped(str(child), f"not a document type Precedent reads ({child.suffix or 'no extension'})"))
                continue
            files.append(child)
    return files, skipped


def manifests_for(paths: list[Path], explicit: Path | None) -> dict[str, DocumentMeta]:
    """An explicit --manifest, else any manifest.csv in the given folders."""
    if explicit is not None:
        return read_manifest(explicit)
    found: dict[str, DocumentMeta] = {}
    for path in paths:
        folder = path if path.is_dir() else path.parent
        candidate = folder / MANIFEST_NAME
        if candidate.is_file():
            found.update(read_manifest(candidate))
    return found


def file_items(
    files: list[Path], manifest: dict[str, DocumentMeta], max_mb: int | None = None
) -> Iterator[SourceItem | tuple[Path, str]]:
    """SourceItems, or (path, error) for files that cannot be read at all or are too big to read."""
    for path in files:
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
        yield SourceItem(
            source=str(resolved), filename=path.name, data=data,
            meta=manifest.get(path.name, DocumentMeta()), path=resolved,
        )
