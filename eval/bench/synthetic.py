"""Synthetic panel text made from the seed documents: varied copies for ingest, recombined chunks for queries.

Everything is deterministic from a seed number, so a cached index or vector block can be reused.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
from pathlib import Path

from precedent.ingest.errors import PrecedentError
from precedent.ingest.forces import all_forces
from precedent.ingest.records import Chunk, Document

_MONTHS = ("January February March April May June July August September October November December").split()
_DATE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)? (" + "|".join(_MONTHS) + r") (\d{4})\b")
_NUMBER = re.compile(r"(?<=[ £(])\d{2,}(?:,\d{3})*(?![.\d/])")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
# Light rewording of body text: different words, same register.
_SYNONYMS = {
    "noted": "observed", "welcomed": "praised", "asked": "queried", "explained": "set out",
    "confirmed": "stated", "important": "significant", "improve": "strengthen", "concerns": "worries",
    "Members": "Councillors", "support": "back", "increase": "rise", "reduce": "cut",
    "priority": "aim", "partners": "partner agencies", "communities": "neighbourhoods",
}

TITLES = (
    "Police and Crime Plan Update", "Performance Monitoring Report", "Precept Proposal", "Minutes of the Meeting",
    "Annual Report of the Commissioner", "Complaints Sub-Committee Report", "Budget and Medium Term Financial Strategy",
    "Victims Services Commissioning Update", "Estates Strategy Report", "Confirmation Hearing: Chief Constable",
)


def find_seeds(explicit: Path | None = None) -> Path:
    """The seed corpus: ``explicit``, ``$PRECEDENT_SHARED/corpus/seeds``, or ``../shared`` beside the repo or cwd."""
    candidates = [explicit] if explicit else []
    if os.environ.get("PRECEDENT_SHARED"):
        candidates.append(Path(os.environ["PRECEDENT_SHARED"]) / "corpus" / "seeds")
    candidates += [Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "seeds",
                   Path.cwd().parent / "shared" / "corpus" / "seeds", Path.cwd() / "shared" / "corpus" / "seeds"]
    for path in candidates:
        if path is not None and path.is_dir() and any(path.glob("*.txt")):
            return path

    raise PrecedentError("seed corpus not found: pass --seeds DIR (a folder of seed .txt files) "
                         "or set PRECEDENT_SHARED to the shared folder")


def seed_texts(seeds: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8", errors="replace") for p in sorted(seeds.glob("*.txt"))}


def _random_date(rng: random.Random) -> dt.date:
    return dt.date(2012, 11, 1) + dt.timedelta(days=rng.randrange(0, 12 * 365))


def vary_document(text: str, rng: random.Random) -> str:
    """A new document in the seed's image: another force, other dates and numbers, reordered and reworded body."""
    forces = all_forces()
    target = rng.choice(forces)
    for force in forces:
        for alias in sorted(force.aliases, key=len, reverse=True):
            if alias in text and force.name != target.name:
                text = text.replace(alias, target.name)
    text = _DATE.sub(lambda m: f"{_random_date(rng).day} {rng.choice(_MONTHS)} {rng.randrange(2013, 2025)}", text)
    text = _NUMBER.sub(lambda m: str(max(10, int(int(m.group().replace(',', '')) * rng.uniform(0.5, 1.8)))), text)
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    head, body = blocks[:3], blocks[3:]  # the header lines carry the metadata inference reads
    rng.shuffle(body)
    body = [_reword(b, rng) for b in body]
    return "\n\n".join(head + body) + "\n"


def _reword(block: str, rng: random.Random) -> str:
    sentences = _SENTENCE.split(block)
    if len(sentences) > 2 and rng.random() < 0.5:
        i = rng.randrange(len(sentences) - 1)
        sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    out = " ".join(sentences) if len(sentences) > 1 else block
    for word, other in _SYNONYMS.items():
        if rng.random() < 0.4:
            out = re.sub(rf"\b{word}\b", other, out)
    return out


def write_varied_corpus(seeds: Path, out: Path, documents: int, seed: int = 0) -> list[Path]:
    """``documents`` varied copies of the seeds as .txt files in ``out`` (metadata is inferred from text)."""
    out.mkdir(parents=True, exist_ok=True)
    texts = list(seed_texts(seeds).items())
    rng = random.Random(seed)
    paths = []
    for n in range(documents):
        name, text = texts[n % len(texts)]
        path = out / f"{n:05d}_{Path(name).stem}.txt"
        path.write_text(vary_document(text, rng), encoding="utf-8")
        paths.append(path)
    return paths


# -- recombined chunks for a large synthetic index ---------------------------------------------------

CHUNKS_PER_DOCUMENT = 100


def seed_sentences(seeds: Path) -> list[str]:
    """Sentences of the seed documents, whitespace folded, long enough to say something."""
    out: list[str] = []
    for text in seed_texts(seeds).values():
        for block in re.split(r"\n\s*\n", text):
            for sentence in _SENTENCE.split(" ".join(block.split())):
                if 40 <= len(sentence) <= 500 and sentence not in out:
                    out.append(sentence)
    return out


def synthetic_document(number: int) -> Document:
    rng = random.Random(f"doc-{number}")
    force = all_forces()[number % len(all_forces())]
    date = _random_date(rng)
    title = rng.choice(TITLES)
    return Document(
        document_id=f"synthetic-{number:07d}", title=title, force=force.name, panel=force.panel,
        meeting_date=date, doc_type=rng.choice(("minutes", "report", "report", "other")),
        source=f"synthetic://{number:07d}", content_hash=f"synthetic-{number}",
        ingested_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC), chunk_count=CHUNKS_PER_DOCUMENT,
    )


def _picks(rng: random.Random, count: int) -> list[int]:
    # choice over a range draws exactly as choice over the list did, so cached vectors stay valid
    return [rng.choice(range(count)) for _ in range(rng.randint(3, 7))]


def synthetic_chunk_picks(index: int, count: int) -> list[int]:
    """Which of ``count`` seed sentences chunk ``index`` recombines, in order."""
    return _picks(random.Random(index), count)


def synthetic_chunk_text(index: int, sentences: list[str], force_name: str) -> str:
    """Chunk ``index``: 3-7 seed sentences recombined, with its document's force and fresh numbers."""
    rng = random.Random(index)
    text = " ".join(sentences[i] for i in _picks(rng, len(sentences)))[:1000]
    for force in all_forces():
        for alias in force.aliases:
            if alias in text and force.name != force_name:
                text = text.replace(alias, force_name)
    return _NUMBER.sub(lambda m: str(rng.randrange(10, 5000)), text)


def synthetic_chunks(document: Document, first: int, count: int, sentences: list[str]) -> tuple[str, list[Chunk]]:
    """The document's full text and its chunks (global chunk numbers ``first`` .. ``first + count - 1``)."""
    header = " | ".join(p for p in (document.title, document.panel,
                                     f"{document.meeting_date.day} {document.meeting_date:%B %Y}"
                                     if document.meeting_date else None, document.doc_type) if p)
    texts = [synthetic_chunk_text(first + i, sentences, document.force or "") for i in range(count)]
    chunks, offset = [], 0
    for i, text in enumerate(texts):
        chunks.append(Chunk(chunk_id=f"{document.document_id}:{i:04d}", document_id=document.document_id,
                            ordinal=i, text=text, header=header, locator=f"para {i + 1}",
                            start=offset, end=offset + len(text)))
        offset += len(text) + 2
    return "\n\n".join(texts), chunks
