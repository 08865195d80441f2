"""A report as Markdown: headings, entries carrying their ``[n]`` with the citation and link, numbered sources.

Text from documents and questions is escaped, so a passage can never become a link, an image or
HTML in a Markdown viewer; only the markers and links Precedent writes are markup.
"""

from __future__ import annotations

import re

from precedent.search.export.report import Report, Source, cited

# Brackets (so no link or image can form), emphasis, code, HTML and table pipes; the rest only at a line's start.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")
_LINE_START = re.compile(r"^(\s*)([#+\->=]|\d+[.)])")


def escape(text: str) -> str:
    """Document text as literal Markdown: special characters escaped, line breaks folded. An answer's "[n]"
    markers come out as "\\[n\\]", which every Markdown viewer shows as "[n]"."""
    text = _SPECIAL.sub(r"\\\1", " ".join(text.split()))
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)  # "1. Intro" must not start a list


def _link(url: str, label: str) -> str:
    return f"[{escape(label)}](<{url.replace('>', '%3E').replace(' ', '%20')}>)"


def _citation_line(source: Source) -> str:
    line = f"\\[{source.n}\\] {escape(source.display)} — {_link(source.link, 'open in Precedent')}"
    if source.original and source.original.startswith(("http://", "https://")):
        line += f" · {_link(source.original, 'original paper')}"
    return line


def to_markdown(report: Report) -> str:
    lines = [f"# {escape(report.title)}", "",
             f"*Question:* {escape(report.question)}  ",
             f"*Filters:* {escape(report.filters)}  ",
             f"*Exported from Precedent:* {report.generated:%Y-%m-%d %H:%M} UTC", ""]
    if report.intro:
        lines += [escape(report.intro), ""]
    for section in report.sections:
        lines += [f"## {escape(section.heading)}", ""]
        if section.note:
            lines += [f"*{escape(section.note)}*", ""]
        for entry in section.entries:
            text = escape(entry.text)
            if report.kind != "answer":
                text += " " + " ".join(f"\\[{n}\\]" for n in entry.sources)
            lines.append(f"- {text}")
            for source in cited(entry, report):
                lines.append(f"  - {_citation_line(source)}")
        lines.append("")
    if report.table is not None:
        header, rows = report.table
        lines += ["## Timeline: passages per force per year", "",
                  "| " + " | ".join(escape(h) for h in header) + " |",
                  "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]
        lines.append("")
    if report.sources:
        lines += ["## Sources", ""]
        for source in report.sources:
            lines.append(f"{source.n}. {escape(source.display)} — {_link(source.link, 'open in Precedent')}")
            if source.original:
                lines.append(f"   Original: {escape(source.original)}")
            lines.append(f"   > {escape(source.passage)}")
        lines.append("")
    return "\n".join(lines)
