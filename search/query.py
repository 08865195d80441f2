"""Turn what panel users type into a safe FTS5 query: never a syntax error, always their words.

Quoted phrases stay phrases; everything else becomes quoted single terms OR-ed together, so FTS5
operators (AND, NEAR, *, ^, column filters), stray quotes and emoji are plain text. Panel
shorthand is expanded (PCP, PCC, 101, ASB ...) so either form finds both.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from precedent.ingest.store import FTS_TOKENIZER

MAX_TERMS = 48

STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers him his how i if in into is it its itself just me more most my no nor not now of off on once only
or other our ours out over own same she should so some such than that the their theirs them then there these
they this those through to too under until up very was we were what when where which while who whom why will
with would you your yours say said tell told any ever panel panels police crime
""".split())
# "police", "crime" and "panel" appear in nearly every chunk: as bare terms they only cost time.

# Shorthand a panel member types -> what the papers write (both directions are searched).
EXPANSIONS: dict[str, list[str]] = {
    "pcp": ["police and crime plan", "police and crime panel"],
    "pcc": ["police and crime commissioner"],
    "opcc": ["office of the police and crime commissioner"],
    "101": ["non-emergency", "police101"],
    "999": ["emergency"],
    "asb": ["anti-social behaviour"],
    "dv": ["domestic violence", "domestic abuse"],
    "vawg": ["violence against women and girls"],
    "cse": ["child sexual exploitation"],
    "cctv": ["closed circuit television"],
    "hmicfrs": ["inspectorate"],
    "mtfs": ["medium term financial strategy"],
    "vrn": ["violence reduction network"],
    "sro": ["senior responsible officer"],
}

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


@dataclass(frozen=True)
class ParsedQuery:
    terms: tuple[str, ...]  # content words, lower case
    phrases: tuple[str, ...]  # quoted phrases and expansions
    text: str  # the query with syntax removed, for the dense side and snippets

    def fts(self) -> str | None:
        """The FTS5 MATCH expression, or None if nothing searchable is left."""
        parts = [f'"{t}"' for t in self.terms] + [f'"{p}"' for p in self.phrases]
        return " OR ".join(parts) if parts else None

    def without(self, dropped: set[str]) -> ParsedQuery:
        return ParsedQuery(tuple(t for t in self.terms if t not in dropped), self.phrases, self.text)

    def highlight_terms(self) -> list[str]:
        words = list(self.terms)
        for phrase in self.phrases:
            words.extend(w for w in _TOKEN.findall(phrase.lower()) if w not in STOPWORDS)
        return list(dict.fromkeys(words))


def tokens(text: str) -> list[str]:
    return [t.lower().replace("’", "'") for t in _TOKEN.findall(text)]


def parse_query(query: str) -> ParsedQuery:
    phrases: list[str] = []
    # Balanced double quotes (straight or curly) make phrases; an unbalanced one is just dropped.
    normalised = query.replace("“", '"').replace("”", '"')
    for m in re.finditer(r'"([^"]+)"', normalised):
        words = tokens(m.group(1))
        if words:
            phrases.append(" ".join(words))
    rest = re.sub(r'"[^"]+"', " ", normalised)
    words = tokens(rest)
    terms: list[str] = []
    for word in words:
        if word in STOPWORDS or (len(word) == 1 and not word.isdigit()):
            continue
        if word not in terms:
            terms.append(word)
        phrases.extend(p for p in EXPANSIONS.get(word, []) if p not in phrases)
    all_words = tokens(normalised)
    if not terms and not phrases and all_words:
        # All stopwords ("police and crime"): search them rather than nothing.
        terms = list(dict.fromkeys(all_words))
    terms = terms[:MAX_TERMS]
    phrases = [" ".join(p.split()[:12]) for p in phrases[:MAX_TERMS // 4]]
    text = " ".join(all_words[:400])
    return ParsedQuery(tuple(terms), tuple(phrases), text)


def stem_sets(texts: Sequence[str]) -> list[set[str]]:
    """Porter stems of each text, from SQLite's own FTS5 tokenizer (the one the index uses)."""
    out: list[set[str]] = [set() for _ in texts]
    if not texts:
        return out
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(x, tokenize='{FTS_TOKENIZER}')")
        conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
        conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", [(i + 1, t) for i, t in enumerate(texts)])
        for term, doc in conn.execute("SELECT term, doc FROM v"):
            out[int(doc) - 1].add(term)
    finally:
        conn.close()
    return out
