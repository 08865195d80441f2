"""Turn a file's bytes into plain text with unstructured, refusing what cannot be trusted.

Everything unstructured touches goes through here. Each refusal raises ``UnreadableFile`` with a
one-line reason the ingest summary shows next to the file.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from pathlib import PurePath

from precedent.ingest.errors import EmptyFile, UnreadableFile, UnsupportedType
from precedent.ingest.nlp import use_bundled_spacy
from precedent.ingest.settings import Settings

log = logging.getLogger(__name__)

SUPPORTED = {".txt": "text", ".text": "text", ".md": "text", ".html": "html", ".htm": "html",
             ".pdf": "pdf", ".docx": "docx"}
_MAX_DOCX_UNZIPPED = 200 * 1024 * 1024
_MAX_DOCX_RATIO = 200
_MAX_HTML_DEPTH = 400
# A list item that carries its own number or letter ("1.1 ...", "12. Precept", "(a) ...") is a
# paragraph or an item heading, not a bullet.
_LABELLED = re.compile(r"^(\d{1,3}(\.\d{1,3})+\.?|\d{1,3}\.|\([a-zA-Z]{1,6}\)|\(\d{1,3}\))\s")
# A line that opens a block of its own: a numbered paragraph, an item, a lettered point or a bullet.
_OPENS_BLOCK = re.compile(r"^\s*(\d{1,3}(\.\d{1,3})*\.?\s+\S|\(([a-zA-Z]{1,6}|\d{1,3})\)\s|[•·▪◦●*-]\s)")


def file_kind(filename: str) -> str:
    ext = PurePath(filename).suffix.lower()
    kind = SUPPORTED.get(ext)
    if kind is None:
        known = ", ".join(sorted(SUPPORTED))
        raise UnsupportedType(f"unsupported file type '{ext or '(none)'}' (supported: {known})")
    return kind


def sniff_kind(data: bytes) -> str | None:
    """The type the bytes themselves claim, so a renamed file cannot slip through."""
    head = data[:1024].lstrip()
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return "docx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"  # legacy .doc/.xls: not supported
    if head[:14].lower().startswith((b"<!doctype html", b"<html")) or b"<body" in head.lower():
        return "html"
    return None


def check_type(filename: str, data: bytes) -> str:
    """The file's kind ("text", "html", "pdf", "docx") when its name and its bytes agree.

    The one check for every way a file arrives (folders, uploads, crawls), so a renamed program or
    image is refused the same way everywhere.
    """
    kind = file_kind(filename)
    if not data or not data.strip():
        raise EmptyFile("empty file")
    sniffed = sniff_kind(data)
    if kind in ("pdf", "docx") and sniffed != kind:
        raise UnsupportedType(f"content is not a {kind.upper()} file (wrong extension or corrupt)")
    if kind in ("text", "html") and sniffed in ("pdf", "docx", "ole"):
        raise UnsupportedType(f"binary {sniffed} content in a {kind} file")
    if kind in ("text", "html") and b"\x00" in data[:8192]:
        raise UnsupportedType(f"binary content (NUL bytes) in a {kind} file")
    return kind


def decode_text(data: bytes) -> str:
    """Decode text leniently, but refuse bytes that are not text at all."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("utf-8", errors="replace")
    sample = text[:20000]
    if sample:
        bad = sum(1 for ch in sample if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t\f"))
        if bad / len(sample) > 0.05:
            raise UnreadableFile("not text: too many undecodable or control characters")
    return text


def parse_bytes(data: bytes, filename: str, settings: Settings | None = None) -> str:
    """Return the extracted text of a document (not yet cleaned)."""
    settings = settings or Settings()
    kind = check_type(filename, data)
    if len(data) > settings.max_file_mb * 1024 * 1024:
        raise UnreadableFile(
            f"file is {len(data) // (1024 * 1024)} MB, over the {settings.max_file_mb} MB limit "
            "(PRECEDENT_MAX_FILE_MB)"
        )
    use_bundled_spacy()
    try:
        elements = _PARTITIONERS[kind](data, settings)
    except UnreadableFile:
        raise
    except Exception as exc:  # unstructured and its parsers raise anything on corrupt input
        log.debug("partition failed for %s", filename, exc_info=True)
        raise UnreadableFile(f"could not parse {kind}: {type(exc).__name__}: {str(exc)[:160]}") from exc
    text = "\n\n".join(elements).strip()
    if not text:
        raise UnreadableFile(f"no text found in {kind} (scanned image, empty or corrupt document)")
    return text

# Element language metadata is never used, and unstructured's default ("auto") runs langdetect over
# every document: a third of the parse time of a text file. Naming the language skips it.
_LANGUAGES = ["eng"]


def _element_texts(elements: list) -> list[str]:  # type: ignore[type-arg]
    texts = []
    for el in elements:
        text = (el.text or "").strip()
        if not text:
            continue
        if type(el).__name__ == "ListItem" and not _LABELLED.match(text):
            text = "• " + text
        texts.append(text)
    return texts


def group_lines(text: str) -> str:
    """Paragraphs of a plain-text paper, one per blank-line-separated block *or* per line.

    unstructured's own grouper joins every line of a block, so minutes written as "6. Item" then
    "6.1 ...", "(a) ..." on their own lines became one paragraph and lost their numbering. Here a
    line is its own paragraph, except in a hard-wrapped file (most lines near one width), where a
    line that runs to the wrap width without ending a sentence continues onto the next, unless that
    one opens a numbered paragraph, a point or a bullet.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lengths = sorted(len(line.strip()) for line in lines if line.strip())
    if not lengths:
        return text
    width = lengths[int(len(lengths) * 0.9)]
    wrapped = 40 <= width <= 100
    paragraphs: list[str] = []
    previous = ""
    for line in lines:
        stripped = line.strip()
        if not stripped:
            previous = ""
            continue
        soft = (wrapped and previous and len(previous) >= 0.6 * width and not previous.endswith((".", ":", ";", "!", "?"))
                and not _OPENS_BLOCK.match(stripped))
        if soft:
            paragraphs[-1] = f"{paragraphs[-1]} {stripped}"
        else:
            paragraphs.append(stripped)
        previous = stripped
    return "\n\n".join(paragraphs)


def _partition_text(data: bytes, settings: Settings) -> list[str]:
    from unstructured.partition.text import partition_text

    return _element_texts(partition_text(text=decode_text(data), paragraph_grouper=group_lines,
                                         languages=_LANGUAGES))


def _html_depth_ok(text: str) -> bool:
    depth = peak = 0
    for i, ch in enumerate(text):
        if ch == "<" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt == "/":
                depth -= 1
            elif nxt.isalpha():
                depth += 1
                peak = max(peak, depth)
                if peak > _MAX_HTML_DEPTH * 4:
                    return False
    return True


def _partition_html(data: bytes, settings: Settings) -> list[str]:
    from unstructured.partition.html import partition_html

    text = decode_text(data)
    if not _html_depth_ok(text):
        raise UnreadableFile(f"HTML nested too deeply (over {_MAX_HTML_DEPTH} levels)")
    try:
        return _element_texts(partition_html(text=text, languages=_LANGUAGES))
    except RecursionError as exc:
        raise UnreadableFile("HTML nested too deeply to parse") from exc


def _partition_pdf(data: bytes, settings: Settings) -> list[str]:
    from pypdf import PdfReader

    try:
        from unstructured.partition.pdf import partition_pdf
    except ModuleNotFoundError as exc:
        raise UnreadableFile(
            f"PDF support is not installed ({exc.name} missing): run "
            "`pip install --no-deps unstructured-inference==1.6.14` (the Makefile does this)"
        ) from exc

    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = len(reader.pages) if not encrypted else 0
    except Exception as exc:
        raise UnreadableFile(f"corrupt PDF: {type(exc).__name__}: {str(exc)[:120]}") from exc
    if encrypted:
        raise UnreadableFile("encrypted PDF: save an unprotected copy and ingest that")
    if pages > settings.max_pdf_pages:
        raise UnreadableFile(f"PDF has {pages} pages, over the {settings.max_pdf_pages} page limit")
    elements = partition_pdf(file=io.BytesIO(data), strategy="fast", languages=_LANGUAGES)
    return _element_texts(elements)


def _partition_docx(data: bytes, settings: Settings) -> list[str]:
    from unstructured.partition.docx import partition_docx

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            unzipped = sum(i.file_size for i in infos)
            zipped = max(1, sum(i.compress_size for i in infos))
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("corrupt DOCX (not a valid zip archive)") from exc
    if "word/document.xml" not in names:
        raise UnreadableFile("not a Word document (no word/document.xml)")
    if unzipped > _MAX_DOCX_UNZIPPED or unzipped / zipped > _MAX_DOCX_RATIO:
        raise UnreadableFile(
            f"DOCX expands to {unzipped // (1024 * 1024)} MB (ratio {unzipped // zipped}:1): "
            "refused as a possible decompression bomb"
        )
    return _element_texts(partition_docx(file=io.BytesIO(data), languages=_LANGUAGES))


_PARTITIONERS = {"text": _partition_text, "html": _partition_html, "pdf": _partition_pdf,
                 "docx": _partition_docx}
