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


def test_the_gate_answers_both_sets_and_refuses_each_kind_of_trap(demo_settings: Settings, seeds_dir: Path) -> None:
    """The relevance gate on the seeds and the panels corpus together (search/relevance.py's calibration)."""
    from precedent.search.answer import ask
    from precedent.search.retrieve import Searcher

    def lines(path: Path) -> list[dict[str, object]]:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    panels = seeds_dir.parent / "panels"
    searcher = Searcher(demo_settings)
    try:
        for name, folder in (("seeds", seeds_dir), ("panels", panels)):
            questions = lines(folder / "questions.jsonl")
            found = sum(ask(searcher, str(q["question"])).found for q in questions)
            assert found / len(questions) >= 0.9, (name, found, len(questions))
        refused: dict[str, list[bool]] = {}
        for trap in lines(panels / "traps.jsonl"):
            refused.setdefault(str(trap["kind"]), []).append(not ask(searcher, str(trap["question"])).found)
        assert set(refused) == {"near", "force", "off"}
        assert all(sum(v) / len(v) >= 0.9 for v in refused.values()), {k: f"{sum(v)}/{len(v)}" for k, v in refused.items()}
    finally:
        searcher.store.close()


def test_a_force_the_archive_lacks_is_said_not_answered_from_other_forces(demo_settings: Settings) -> None:
    from precedent.search.answer import ask
    from precedent.search.retrieve import Searcher

    searcher = Searcher(demo_settings)
    try:
        durham = ask(searcher, "What has the Durham panel said about the police precept?")
        assert not durham.found and not durham.citations and durham.cues == ["force"]
        assert durham.answer.startswith("The archive holds no papers from Durham's panel. It covers Cheshire, ")
        both = ask(searcher, "What did the Durham and Gwent panels say about vetoing the precept?")
        assert both.found and {c.citation.force for c in both.citations} == {"Gwent"}
        assert "no papers from Durham's panel" in both.answer
    finally:
        searcher.store.close()
