"""The int8 ONNX copy of a sentence-transformers model: built once from its own weights, never downloaded.

Why it exists: on a 2-core CPU the int8 MiniLM encodes about twice as fast as PyTorch fp32 at the same
retrieval quality (issue 16; README, "Encoders"), and loading it needs only onnxruntime and tokenizers,
not torch, so a cold command starts in about a second instead of ten.

How it is built, offline, from the bundled weights: torch.onnx's TorchScript exporter (it ships in the
pinned torch; the newer dynamo exporter needs onnxscript, and optimum's exporter pins transformers below
4.58, which sentence-transformers 6 does not run on) writes the transformer with mean pooling and
normalisation inside the graph; onnxruntime's ``quantize_dynamic`` then stores the MatMul weights as int8,
per output channel (per-tensor scales cost about 0.05 of cosine to fp32 per text, per-channel 0.006).
The result is kept in a folder named by the weights' hash, so a changed model builds a new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from precedent.ingest.errors import ModelUnavailable

log = logging.getLogger(__name__)

# Bump when the export or the quantization changes: the folder name changes, so a new copy is built.
RECIPE = "1"
# Files whose bytes make the vectors what they are (weights, architecture, tokenizer, pooling).
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "config.json", "tokenizer.json", "modules.json",
                "sentence_bert_config.json", "1_Pooling/config.json")
OPSET = 17


@dataclass(frozen=True)
class BuiltModel:
    """A built int8 model folder: ``model.onnx``, ``tokenizer.json`` and what the encoder needs to know."""

    path: Path
    dimension: int
    max_seq_length: int
    weights_hash: str

    @property
    def onnx_path(self) -> Path:
        return self.path / "model.onnx"

    @property
    def tokenizer_path(self) -> Path:
        return self.path / "tokenizer.json"


def weights_hash(model_dir: Path, memo_dir: Path | None = None) -> str:
    """SHA-256 over the model's files; memoised by their sizes and mtimes (hashing 90 MB costs 0.2 s)."""
    files = [model_dir / name for name in WEIGHT_FILES if (model_dir / name).is_file()]
    signature = [[str(f), f.stat().st_size, f.stat().st_mtime_ns] for f in files]
    memo_path = memo_dir / "weights-hashes.json" if memo_dir else None
    memo: dict[str, dict[str, object]] = {}
    if memo_path and memo_path.is_file():
        with contextlib.suppress(OSError, ValueError):
            memo = json.loads(memo_path.read_text())
    key = str(model_dir.resolve())
    if memo.get(key, {}).get("signature") == signature:
        return str(memo[key]["hash"])
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.relative_to(model_dir).as_posix().encode())
        with f.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):  # noqa: B023 - fh is this loop's file
                digest.update(block)
    value = digest.hexdigest()
    if memo_path:
        memo[key] = {"signature": signature, "hash": value}
        with contextlib.suppress(OSError):
            _write_atomic(memo_path, json.dumps(memo, indent=1))
    return value


def pooling_config(model_dir: Path) -> tuple[int, int]:
    """(dimension, max_seq_length) of a mean-pooled, normalised sentence-transformers model, else an error:
    the exported graph does mean pooling and normalisation itself."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(
            f"{model_dir} is not a sentence-transformers model folder ({exc}); "
            "the onnx-int8 encoder needs one: set PRECEDENT_ENCODER=torch to use it as it is"
        ) from exc
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or "Normalize" not in kinds or not _mean_pooled(pooling):
        raise ModelUnavailable(
            f"model in {model_dir} is not mean-pooled and normalised ({' + '.join(kinds)}); the onnx-int8 encoder "
            "supports only those: set PRECEDENT_ENCODER=torch"
        )
    dimension = pooling.get("word_embedding_dimension", pooling.get("embedding_dimension"))
    return int(dimension), int(st_config.get("max_seq_length", 256))


def _mean_pooled(pooling: dict[str, object]) -> bool:
    """Mean pooling alone, in the pooling config of sentence-transformers before 6 (one flag per mode) or
    from 6 on (``"pooling_mode": "mean"``, what a model saved by the pinned version says)."""
    if "pooling_mode" in pooling:
        return pooling["pooling_mode"] == "mean"
    return bool(pooling.get("pooling_mode_mean_tokens")) and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens"))


def built_model(model_dir: Path, cache_dir: Path) -> BuiltModel:
    """The int8 copy of ``model_dir`` under ``cache_dir``: loaded if built, built (once, under a lock) if not."""
    dimension, max_len = pooling_config(model_dir)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelUnavailable(
            f"cannot create the encoder cache {cache_dir}: {exc.strerror}; set PRECEDENT_ENCODER_CACHE to a "
            "writable folder"
        ) from exc
    digest = weights_hash(model_dir, cache_dir)
    target = cache_dir / f"int8-r{RECIPE}-{digest[:16]}"
    built = BuiltModel(target, dimension, max_len, digest)
    if built.onnx_path.is_file():
        return built
    with _locked(cache_dir / f"{target.name}.lock"):
        if not built.onnx_path.is_file():  # another process may have built it while we waited
            log.warning("building the int8 encoder from %s into %s (once; about 20 s)", model_dir, target)
            _build(model_dir, target)
    return built


def _build(model_dir: Path, target: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        fp32 = work / "model-fp32.onnx"
        export_fp32(model_dir, fp32)
        from onnxruntime.quantization import QuantType, quantize_dynamic

        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # quantize_dynamic advises pre-processing on the root logger, for vision models
        try:
            quantize_dynamic(fp32, work / "model.onnx", weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul"])
        finally:
            root.setLevel(level)
        fp32.unlink()
        for leftover in work.glob("*.data"):
            leftover.unlink()
        shutil.copyfile(model_dir / "tokenizer.json", work / "tokenizer.json")
        (work / "built.json").write_text(json.dumps({"from": str(model_dir), "recipe": RECIPE}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(work, target)  # the folder appears whole, or not at all
    except ModelUnavailable:
        raise
    except Exception as exc:
        raise ModelUnavailable(
            f"could not build the int8 encoder from {model_dir} ({type(exc).__name__}: {exc}); "
            "set PRECEDENT_ENCODER=torch to run the model without it"
        ) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def export_fp32(model_dir: Path, out: Path) -> None:
    """Transformer + attention-masked mean pooling + L2 normalisation as one ONNX graph (dynamic batch and length)."""
    import warnings

    import torch
    from transformers import AutoModel

    # Eager attention traces to plain ops; the SDPA path does not export to opset 17 cleanly.
    transformer = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()

    class Pooled(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    example = (torch.ones(2, 16, dtype=torch.long), torch.ones(2, 16, dtype=torch.long))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "embedding": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        # The tracer warns about a padding check in transformers' masking code: for an encoder the key
        # length always equals the mask length, so the traced constant holds for every input.
        warnings.simplefilter("ignore")
        torch.onnx.export(Pooled(transformer), example, str(out), input_names=["input_ids", "attention_mask"],
                          output_names=["embedding"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
