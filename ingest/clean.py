"""Remove the artefacts that ModernGov pages and council PDFs leave in extracted text."""

from __future__ import annotations

import re
import unicodedata

_TAIL_HEADINGS = re.compile(
    r"^\s*(Supporting documents|Additional documents|Background papers|Printed minutes)\s*:?.*$",
    re.IGNORECASE | re.MULTILINE,
)
_FURNITURE = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*(not protectively marked|official|official[- ]sensitive)\s*$",
        r"^\s*page \d+( of \d+)?\s*$",
        r"^\s*\d+\s*$",  # bare page numbers
        r"^.*\bpdf icon\b.*$",
        r"^\s*(pdf|docx?|html?)\s+\d+(\.\d+)?\s*[kmg]b\s*$",
        r"^\s*(view the (reasons|background)|link to .*|skip to (main )?content|cookies?( policy| settings)?)\s*$",
        r"^\s*(home|your council|councillors and committees)\s*(>|›)\s*.*$",  # breadcrumbs
        r"^\s*(agenda item)\s*$",
    )
]
_BULLETS = re.compile(r"^[ \t]*[·•▪◦●\uf0b7\uf0a7o§-][ \t]+(?=\S)", re.MULTILINE)
_MD_BULLET_BEFORE_NUMBER = re.compile(r"^[ \t]*[-*][ \t]+(?=\d+(\.\d+)+\s)", re.MULTILINE)
_BOLD = re.compile(r"\*\*|__")
_EMPH = re.compile(r"(?<!\w)\*(?=\S)([^*\n]+?)(?<=\S)\*(?!\w)")
_SPACES = re.compile(r"[ \t\u2000-\u200b\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n{3,}")
# A marker alone on its line ("(a)", "(ix)", "(1)", "3.2") belongs to the paragraph after it.
_LONE_MARKER = re.compile(r"^(\([a-zA-Z]{1,5}\)|\(\d{1,3}\)|\d{1,3}(?:\.\d{1,3})*\.?)\n+(?=\S)", re.MULTILINE)


def clean_text(text: str) -> str:
    """Normalise whitespace and bullets, drop page furniture and the "Supporting documents" tail."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\xa0", " ").replace("\ufeff", "").replace("\x0c", "\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    tail = _TAIL_HEADINGS.search(text)
    if tail and tail.start() > len(text) // 3:
        text = text[: tail.start()]
    text = _BOLD.sub("", text)
    text = _EMPH.sub(r"\1", text)
    text = _MD_BULLET_BEFORE_NUMBER.sub("", text)
    text = _BULLETS.sub("• ", text)
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if any(p.match(line) for p in _FURNITURE):
            continue
        lines.append(line)
    text = "\n".join(lines)
    text = _BLANKS.sub("\n\n", text)
    return _LONE_MARKER.sub(r"\1 ", text).strip()
