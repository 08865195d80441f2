"""The sentence(s) inside a passage that best answer the query, with the query's words marked."""

from __future__ import annotations

import re

from precedent.ingest.sentences import sentences
from precedent.search.query import stem_sets, tokens

MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"
_STEMS: dict[str, str] = {}
_MAX_CACHED_STEMS = 200_000


def stem_words(words: list[str]) -> dict[str, str]:
    """Porter stems, the index's own (so "respondents" is not "response"), cached across queries."""
    missing = sorted({w for w in words if w not in _STEMS})
    if missing:
        if len(_STEMS) > _MAX_CACHED_STEMS:
            _STEMS.clear()
        for word, found in zip(missing, stem_sets(missing), strict=True):
            _STEMS[word] = min(found) if found else word
    return {w: _STEMS.get(w, w) for w in words}


def sentence_score(sentence: str, stems: set[str]) -> float:
    words = tokens(sentence)
    if not words:
        return 0.0
    stemmed = stem_words(words)
    hits = {stemmed[w] for w in words} & stems
    return len(hits) + 0.1 * sum(1 for w in words if stemmed[w] in stems) / len(words)


def best_sentences(text: str, terms: list[str], limit: int = 2, max_chars: int = 360) -> list[tuple[int, int]]:
    spans = sentences(text)
    if not spans:
        return []
    stems = set(stem_words([t.lower() for t in terms]).values())
    scored = sorted(range(len(spans)), key=lambda i: -sentence_score(text[spans[i][0]:spans[i][1]], stems))
    chosen = sorted(scored[:1])
    if limit > 1 and len(spans) > 1:
        best = chosen[0]
        neighbours = [i for i in (best + 1, best - 1) if 0 <= i < len(spans)]
        neighbours.sort(key=lambda i: -sentence_score(text[spans[i][0]:spans[i][1]], stems))
        for i in neighbours[: limit - 1]:
            if spans[max(best, i)][1] - spans[min(best, i)][0] <= max_chars:
                chosen = sorted({best, i})
    return [spans[i] for i in chosen]


def mark_terms(text: str, terms: list[str]) -> str:
    stems = set(stem_words([t.lower() for t in terms if t]).values())
    if not stems:
        return text
    stemmed = stem_words([w.lower() for w in re.findall(r"[^\W_]+", text)])

    def mark(m: re.Match[str]) -> str:
        word = m.group(0)
        return f"{MARK_OPEN}{word}{MARK_CLOSE}" if stemmed.get(word.lower()) in stems else word

    return re.sub(r"[^\W_]+", mark, text)


def make_snippet(text: str, terms: list[str], max_chars: int = 360) -> str:
    spans = best_sentences(text, terms, max_chars=max_chars)
    if not spans:
        return mark_terms(" ".join(text[:max_chars].split()), terms)
    start, end = spans[0][0], spans[-1][1]
    piece = " ".join(text[start:end].split())
    if len(piece) > max_chars:
        piece = piece[:max_chars].rsplit(" ", 1)[0] + " …"
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text.rstrip()) and not piece.endswith("…") else ""
    return prefix + mark_terms(piece, terms) + suffix


def plain(snippet: str) -> str:
    return snippet.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")
