"""`make demo`'s corpus: the seeds and the panels corpus in one index, as a newcomer first meets it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from precedent.ingest.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "api" / "static" / "index.html"


@pytest.fixture(scope="module")
def demo_settings(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Settings:
    """The index `make demo` builds: `precedent ingest SEEDS PANELS`, each folder through its manifest."""
    from precedent.api.cli import app

    data_dir = tmp_path_factory.mktemp("demo-index")
    result = CliRunner().invoke(app, ["ingest", str(seeds_dir), str(seeds_dir.parent / "panels"), "--json",
                                      "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["added"] == 35 and not summary["failed"], summary
    skipped = {Path(s["path"]).name for s in summary["skipped"]}
    assert "README.md" in skipped  # the corpus README is not a paper
    return Settings(data_dir=data_dir)


def test_the_demo_holds_35_papers_from_15_forces(demo_settings: Settings) -> None:
    from precedent.ingest.store import Store

    store = Store.open(demo_settings)
    try:
        assert len(store.known_forces()) == 15
        assert store.counts()[0] == 35
    finally:
        store.close()


def test_the_chat_pages_example_questions_are_answered_across_forces(demo_settings: Settings) -> None:
    from precedent.search.answer import ask
    from precedent.search.retrieve import Searcher

    examples = re.findall(r'<button type="button" class="example">([^<]+)</button>', PAGE.read_text())
    assert len(examples) >= 3
    searcher = Searcher(demo_settings)
    try:
        for question in examples:
            answer = ask(searcher, question)
            forces = {c.citation.force for c in answer.citations}
            assert answer.found and len(forces) >= 3, (question, answer.answer)
    finally:
        searcher.store.close()
