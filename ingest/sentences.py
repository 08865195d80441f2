"""Where sentences begin and end in panel papers: one splitter for snippets, answers, facts and the eval.

Minutes run long clauses together with semicolons, and number things ("para 3.5", "e.g.", "Cllr.
Smith", initials), so a sentence ends at . ! ? or ; followed by a space or the end of the text, or
at a line break (bullet lines are units of their own), but not after a known abbreviation or a
single letter.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? or ; followed by a space (so "3.5" and "e.g." mid-word don't end one), or a line.
_END = re.compile(r"[.!?;]+[\"'’”)]*(?=\s|$)|\n")
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "no", "nos", "para", "paras", "cllr", "mr", "mrs", "ms", "dr", "st",
                            "vs", "approx", "cf", "ref", "inc", "ltd", "dept", "govt"})


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of sentences (and bullet lines) in text."""
    spans: list[tuple[int, int]] = []

    def add(s: int, e: int) -> None:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e - s > 1:
            spans.append((s, e))

    start = 0
    for m in _END.finditer(text):
        mark = m.group(0)
        if mark.startswith("."):
            words = text[start:m.start()].split()
            last = words[-1].lower().lstrip("(") if words else ""
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue  # "e.g.", "Cllr.", an initial: not the end of a sentence
        add(start, m.start() if mark == "\n" else m.end())
        start = m.end()
    add(start, len(text))
    return spans


MAX_SENTENCES_PER_CHUNK = 32


def chunk_sentences(text: str) -> list[str]:
    """The sentences of a chunk worth a vector of their own: three words or more, at most
    ``MAX_SENTENCES_PER_CHUNK``; the whole text when it has none."""
    pieces = [text[s:e] for s, e in sentences(text)]
    kept = [p for p in pieces if len(p.split()) >= 3][:MAX_SENTENCES_PER_CHUNK]
    return kept or [text]
