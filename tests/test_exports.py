"""Exports with full citations (CSV, Markdown, DOCX) of search results, answers and comparisons, each read back
with a real parser: the csv module, markdown-it and python-docx."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from precedent.api.cli import app
from precedent.ingest.settings import Settings
from precedent.search.citations import Citation
from precedent.search.export import render
from precedent.search.export.report import Entry, Report, Section, Source
from precedent.search.export.to_csv import safe_cell

QUESTION = "What did panels say about 101 response times?"
runner = CliRunner()


@pytest.fixture(scope="module")
def client(seed_settings: Settings) -> Iterator[TestClient]:
    from precedent.api.app import create_app

    with TestClient(create_app(seed_settings.model_copy(update={"rate_limit_per_minute": 0}))) as test_client:
        yield test_client


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "CSV must open as UTF-8 in spreadsheets (byte-order mark)"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_markdown(text: str) -> list:  # type: ignore[type-arg]
    return MarkdownIt("commonmark").enable("table").parse(text)


def read_docx(data: bytes) -> docx.document.Document:
    return docx.Document(io.BytesIO(data))


def _links(tokens: list) -> list[str]:  # type: ignore[type-arg]
    return [child.attrs["href"] for t in tokens if t.type == "inline" for child in t.children or []
            if child.type == "link_open"]


# -- search results ---------------------------------------------------------------------------------


def test_search_results_export_as_csv_with_a_citation_and_link_on_every_row(client: TestClient) -> None:
    json_results = client.get("/search", params={"q": "101 calls", "k": 4}).json()["results"]
    response = client.get("/search", params={"q": "101 calls", "k": 4, "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'attachment; filename="precedent-search-101-calls.csv"' in response.headers["content-disposition"]
    rows = read_csv(response.content)
    assert len(rows) == len(json_results) == 4
    for row, result in zip(rows, json_results, strict=True):
        assert row["citation"] == result["citation"]["display"]
        assert row["link"].startswith("http://testserver/#doc=")
        assert result["citation"]["chunk_id"].replace(":", "%3A") in row["link"]
        assert row["passage"] == result["text"]  # line breaks and commas kept inside the one cell
        assert row["item"] == str(result["rank"]) and row["sources"] == f"[{result['rank']}]"


def test_search_results_export_as_markdown_and_docx(client: TestClient) -> None:
    md = client.get("/search", params={"q": "101 calls", "k": 3, "format": "md"})
    assert md.headers["content-type"].startswith("text/markdown")
    tokens = read_markdown(md.text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["Search: 101 calls", "Results", "Sources"]
    assert sum(1 for t in tokens if t.type == "ordered_list_open") == 1
    assert len([h for h in _links(tokens) if h.startswith("http://testserver/#doc=")]) == 6  # per result, per source

    document = read_docx(client.get("/search", params={"q": "101 calls", "k": 3, "format": "docx"}).content)
    styles = [p.style.name for p in document.paragraphs]
    assert styles[0] == "Heading 1" and styles.count("List Number") == 3
    assert document.paragraphs[0].text == "Search: 101 calls"


# -- answers --------------------------------------------------------------------------------------


def test_an_answer_exports_its_sentences_with_their_numbers_and_sources(client: TestClient) -> None:
    answer = client.post("/ask", json={"question": QUESTION}).json()
    assert answer["found"]
    rows = read_csv(client.post("/ask", json={"question": QUESTION, "format": "csv"}).content)
    claim_sentences = [r for r in rows if r["sources"]]
    assert claim_sentences, rows
    by_n = {c["n"]: c for c in answer["citations"]}
    for row in claim_sentences:
        n = int(row["sources"].strip("[]"))
        assert f"[{n}]" in row["text"]
        assert row["citation"] == by_n[n]["citation"]["display"] and row["passage"] == by_n[n]["text"]
        assert row["section"]  # the meeting the sentence comes from
    assert [int(r["item"]) for r in claim_sentences] == list(range(1, len(claim_sentences) + 1))

    md = client.post("/ask", json={"question": QUESTION, "format": "md"}).text
    tokens = read_markdown(md)
    rendered = MarkdownIt("commonmark").render(md)
    assert "[1]" in rendered and "<img" not in rendered
    assert any(t.type == "ordered_list_open" for t in tokens)

    document = read_docx(client.post("/ask", json={"question": QUESTION, "format": "docx"}).content)
    sources = [p for p in document.paragraphs if p.style.name == "List Number"]
    assert len(sources) == len(answer["citations"])
    assert sources[0].text.startswith(answer["citations"][0]["citation"]["display"])
    assert sources[0].hyperlinks and sources[0].hyperlinks[0].url.startswith("http://testserver/#doc=")
    superscripts = [r.text for p in document.paragraphs for r in p.runs if r.font.superscript]
    assert "[1]" in superscripts, "citations are footnote-style superscript markers"
    assert {p.style.name for p in document.paragraphs} >= {"Heading 1", "Heading 2", "List Number"}


def test_an_answer_that_found_nothing_exports_why(client: TestClient) -> None:
    rows = read_csv(client.post("/ask", json={"question": "What is the capital of Peru?", "format": "csv"}).content)
    assert len(rows) == 1 and rows[0]["text"].startswith("The archive holds nothing")


# -- comparisons ----------------------------------------------------------------------------------


def test_a_comparison_exports_a_section_per_force_and_its_timeline(client: TestClient) -> None:
    body = {"question": "police and crime plan", "format": "docx"}
    document = read_docx(client.post("/compare", json=body).content)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert {"Devon and Cornwall", "Dorset", "Leicestershire"} <= set(headings) and "Sources" in headings
    assert len(document.tables) == 1 and document.tables[0].rows[0].cells[0].text == "Force"

    rows = read_csv(client.post("/compare", json={**body, "format": "csv"}).content)
    assert {r["section"] for r in rows} == {"Devon and Cornwall", "Dorset", "Leicestershire"}
    assert all(r["citation"] and r["link"] for r in rows if r["text"] != "Nothing found for this force.")

    tokens = read_markdown(client.post("/compare", json={**body, "format": "md"}).text)
    assert any(t.type == "table_open" for t in tokens)
    assert client.post("/compare", json={**body, "format": "pdf"}).status_code == 422


# -- spreadsheets and hostile text ------------------------------------------------------------------


def _hostile_report() -> Report:
    citation = Citation(document_id="d", chunk_id="d:0:0", title="Plan, \"draft\"", force="Kent", panel=None,
                        meeting_date=dt.date(2023, 2, 1), doc_type="minutes", agenda_item=None, locator="para 1",
                        source="/x.txt", url="https://example.org/a?b=1&c=2", display="=Kent Panel, 1 February 2023")
    passage = "=HYPERLINK(\"http://evil\",\"click\")\nsecond line, with \"quotes\", commas\n@SUM(A1:A2)"
    source = Source(1, citation, passage, "https://precedent.example/#doc=d&chunk=d%3A0%3A0", citation.url)
    entries = [Entry("+cmd|' /C calc'!A0 [1]", (1,), "1"), Entry("-2+3 [1]", (1,), "2"),
               Entry("<img src=x onerror=alert(1)> [see](javascript:alert(1)) [1]", (1,), "3")]
    return Report("answer", "Answer: q", "q", "none", [Section("@Meeting", entries)], [source])


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised_and_awkward_text_survives() -> None:
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@A1", "\tx", "plain", "")] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "plain", ""]
    rows = read_csv(render(_hostile_report(), "csv").data)
    assert [r["text"] for r in rows] == ["'+cmd|' /C calc'!A0 [1]", "'-2+3 [1]",
                                        "<img src=x onerror=alert(1)> [see](javascript:alert(1)) [1]"]
    assert rows[0]["section"] == "'@Meeting" and rows[0]["citation"] == "'=Kent Panel, 1 February 2023"
    assert rows[0]["passage"] == "'" + _hostile_report().sources[0].passage  # newlines, quotes, commas intact
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row.values())


def test_markdown_and_docx_keep_hostile_text_as_text() -> None:
    html = MarkdownIt("commonmark").render(render(_hostile_report(), "md").data.decode())
    assert "<img" not in html and "javascript:" not in html.replace("javascript:alert(1)", "")
    assert 'href="javascript' not in html
    document = read_docx(render(_hostile_report(), "docx").data)
    assert any("<img src=x onerror=alert(1)>" in p.text for p in document.paragraphs)


# -- the command line -----------------------------------------------------------------------------


def test_cli_format_writes_each_export_and_refuses_a_docx_to_the_terminal(seed_settings: Settings,
                                                                         tmp_path: Path) -> None:
    data_dir = str(seed_settings.data_dir)
    result = runner.invoke(app, ["search", "101 calls", "-k", "2", "--format", "csv", "--data-dir", data_dir])
    assert result.exit_code == 0, result.output
    assert len(list(csv.DictReader(io.StringIO(result.output)))) == 2
    out = tmp_path / "answer.docx"
    result = runner.invoke(app, ["ask", QUESTION, "--format", "docx", "--output", str(out), "--data-dir", data_dir])
    assert result.exit_code == 0, result.output
    assert read_docx(out.read_bytes()).paragraphs[0].text == f"Answer: {QUESTION}"
    out = tmp_path / "compare.md"
    result = runner.invoke(app, ["compare", "police and crime plan", "--format", "md", "-o", str(out),
                                 "--data-dir", data_dir])
    assert result.exit_code == 0 and out.read_text().startswith("# Comparison: police and crime plan")
    result = runner.invoke(app, ["search", "101", "--format", "pdf", "--data-dir", data_dir])
    assert result.exit_code == 1 and "unknown --format 'pdf'" in result.output
