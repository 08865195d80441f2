"""Every setting Precedent reads, in one place (env prefix ``PRECEDENT_``).

The defaults are the embedded mode: a per-user data dir, the bundled MiniLM model, no servers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "all-MiniLM-L6-v2"
EncoderName = Literal["onnx-int8", "torch"]
ENCODERS: tuple[str, ...] = ("onnx-int8", "torch")


def quiet_and_offline() -> None:
    """Never phone home and never download: set before chromadb, unstructured or HF load."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "UNSTRUCTURED_DISABLE_NOTICE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    }.items():
        os.environ.setdefault(key, value)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRECEDENT_", extra="ignore")

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("precedent")))

    # Embedding model: a name of a bundled model or a local directory holding sentence-transformers files.
    model: str = DEFAULT_MODEL
    embed_batch_size: int = 64
    encoder: EncoderName = Field(
        default="onnx-int8",
        description="How the model runs: onnx-int8 (an int8 ONNX copy built once from the model's own "
        "weights, about twice as fast on CPU) or torch (sentence-transformers, fp32). An index records "
        "which made its vectors; switch with `precedent reindex`.",
    )
    encoder_threads: int = Field(
        default=0, description="onnx-int8: texts encoded at once on one-thread sessions (0: one per core).")
    encoder_cache: Path | None = Field(
        default=None,
        description="Where built encoders (the int8 ONNX model) are kept; default: DATA_DIR/encoders.",
    )

    # Chunking, in characters of displayed text (the context header is extra).
    chunk_size: int = 1000
    chunk_overlap: int = 150
    min_chunk_size: int = 250

    # Vector store: embedded (PersistentClient under data_dir) unless a Chroma server URL is given.
    chroma_url: str | None = None
    collection: str = "precedent_chunks"

    # Retrieval: candidates each side returns before fusion, and the reciprocal-rank-fusion constant.
    candidates: int = 50
    rrf_k: int = 60

    # Optional LLM answer mode (search/llm.py): an OpenAI-compatible endpoint; extractive answers need none.
    llm_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 60.0

    # Where the chat page is served, for links in CLI exports and feeds ("https://precedent.example.org").
    public_url: str | None = None

    # Access and limits for the HTTP service.
    admin_key: str | None = None
    read_key: str | None = None
    max_upload_mb: int = 50
    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: int = 60
    writer_nice: int = Field(
        default=10, ge=0, le=19,
        description="How much lower the CPU priority of a server's writes (uploads and crawls: parsing and "
        "embedding) is than its searches', as a nice value (0: the same). Searches keep their speed while "
        "documents arrive; the writes take longer when the machine is busy.")

    # Parsing bounds for hostile files.
    max_file_mb: int = 100
    max_pdf_pages: int = 2000
    parse_timeout_s: float = Field(
        default=120.0, gt=0,
        description="Seconds the parse worker may spend on one file before it is stopped and the file "
        "reported as failed (a pathological PDF must not hang an ingest or a crawl).")

    # Crawling (ModernGov, CMIS and listing-page sites).
    registry: Path | None = Field(
        default=None,
        description="A TOML file of panels merged over the bundled registry (adds panels, overrides a "
                    "force's hosts, committees or date ranges); `precedent crawl --registry FILE` sets it too")
    crawl_delay_s: float = 1.0
    crawl_timeout_s: float = 30.0
    crawl_retries: int = 3
    crawl_max_requests: int = 5000
    user_agent: str = "Precedent/0.1 (Police and Crime Panel archive search; +https://github.com/precedent)"

    @field_validator("data_dir", "registry", "encoder_cache", mode="before")
    @classmethod
    def _expand(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None  # PRECEDENT_REGISTRY= (empty) means no user registry
        return Path(value).expanduser() if isinstance(value, (str, Path)) else value

    @property
    def encoder_dir(self) -> Path:
        return self.encoder_cache or self.data_dir / "encoders"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "precedent.sqlite3"
