"""The sentences of a document's chunks, with PDF line wraps joined, for reading facts from.

Text parsed from a PDF breaks a sentence at every printed line ("For a Band D\\n\\nhousehold this
is..."), so a splitter that ends sentences at line breaks cuts exactly the sentences facts live
in. Here a line break ends a sentence only when the line before ends one (full stop, semicolon,
colon), looks like a heading, or the next line opens a numbered paragraph, point or bullet.
Spans stay those of the cleaned text, so every sentence can be found again in its chunk.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from precedent.ingest.records import Chunk
from precedent.ingest.sentences import sentences

# A line that opens a block: a bullet, "(a)", "3.1", "4." or a resolution.
_OPENS_BLOCK = re.compile(
    r"(?:[•·▪\-–]\s|\(\w{1,6}\)\s|\d{1,3}(?:\.\d{1,3})+\.?\s|\d{1,3}[.)]\s|(?:RESOLVED|Resolved|AGREED|Agreed|That)\b)"
)
_END_PUNCT = (".", "!", "?", ";", ":", "-", "–")


@dataclass(frozen=True)
class Sentence:
    text: str  # whitespace folded
    start: int  # span in the document's cleaned text
    end: int
    chunk: Chunk
    index: int  # reading order in the document

    def part(self, start: int, end: int) -> Sentence:
        """The piece of this sentence between two offsets of its folded ``text``, with its own span."""
        raw = self.chunk.text[self.start - self.chunk.start: self.end - self.chunk.start]
        offsets = [i for i, _ in _folded_chars(raw)]
        lo = offsets[start] if start < len(offsets) else len(raw)
        hi = offsets[end - 1] + 1 if 0 < end <= len(offsets) else len(raw)
        piece = " ".join(raw[lo:hi].split())
        return Sentence(piece, self.start + lo, self.start + hi, self.chunk, self.index)


def _folded_chars(raw: str) -> list[tuple[int, str]]:
    """(offset in ``raw``, character) for each character of ``" ".join(raw.split())``."""
    out: list[tuple[int, str]] = []
    for m in re.finditer(r"\S+", raw):
        if out:
            out.append((m.start() - 1, " "))
        out.extend((m.start() + i, c) for i, c in enumerate(m.group(0)))
    return out


def unwrap(text: str) -> str:
    """``text`` with line wraps inside sentences turned into spaces (same length, same offsets)."""
    lines = text.split("\n")
    out = list(text)
    pos = 0
    line_starts: list[int] = []
    for line in lines:
        line_starts.append(pos)
        pos += len(line) + 1
    i = 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines) and _is_wrap(lines[i], lines[j]):
            start = line_starts[i] + len(lines[i])
            for k in range(start, line_starts[j]):
                out[k] = " "
        i = j
    return "".join(out)


def _is_wrap(before: str, after: str) -> bool:
    before, after = before.strip(), after.strip()
    if before.endswith(_END_PUNCT) or _OPENS_BLOCK.match(after):
        return False
    if len(before) < 60 or _heading_like(before):
        return False
    return True


def _heading_like(line: str) -> bool:
    """Mostly capitals, or a short line of mostly capitalised words ("7. Previous Decisions of the Panel")."""
    letters = [c for c in line if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.7:
        return True
    words = line.split()
    if len(line) > 90 or len(words) > 14:
        return False
    capitalised = sum(1 for w in words if w[:1].isupper() or not w[:1].isalpha())
    return capitalised / len(words) >= 0.5


def document_sentences(chunks: Sequence[Chunk]) -> list[Sentence]:
    """Every sentence of every chunk in reading order; a span two overlapping chunks share is kept once."""
    seen: set[tuple[int, int]] = set()
    out: list[Sentence] = []
    for chunk in sorted(chunks, key=lambda c: c.ordinal):
        body = unwrap(chunk.text)
        for s, e in sentences(body):
            span = (chunk.start + s, chunk.start + e)
            if span in seen:
                continue
            seen.add(span)
            out.append(Sentence(" ".join(body[s:e].split()), span[0], span[1], chunk, len(out)))
    return out
