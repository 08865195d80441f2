"""Errors that tell the user what went wrong and what to do; the CLI and API show only the message."""

from __future__ import annotations


class PrecedentError(Exception):
    """Base class: its message is shown to the user as is."""


class UnreadableFile(PrecedentError):
    """A file could not be turned into text (empty, binary, corrupt, encrypted, unknown type)."""


class UnsupportedType(UnreadableFile):
    """The file's name or its content is not a type Precedent reads (or the two disagree)."""


class EmptyFile(UnreadableFile):
    """The file holds nothing (or only whitespace)."""


class BadManifest(PrecedentError):
    """A manifest.csv row is invalid."""


class StoreMissing(PrecedentError):
    """No index exists yet in the data dir."""


class StoreUnavailable(PrecedentError):
    """The store exists but cannot be reached right now (e.g. the Chroma server is down)."""


class StoreMismatch(PrecedentError):
    """The store was written by another schema version or another embedding model."""


class BadQuery(PrecedentError):
    """A query or filter the user sent cannot be run."""


class ModelUnavailable(PrecedentError):
    """The embedding model cannot be loaded offline."""
