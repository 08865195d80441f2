"""The evaluation: evidence matching, metric arithmetic, and one real run on the seed dev set."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from precedent.eval.matching import Passage, evidence_ranks, hits, quote_in_text, source_is_file
from precedent.eval.metrics import (
    QuestionRow,
    by_force,
    evidence_recall,
    mean_metrics,
    ndcg,
    reciprocal_rank,
    score_question,
)
from precedent.eval.questions import BadQuestions, Evidence, Question, load_questions

ROOT = Path(__file__).resolve().parent.parent
FLOORS = ROOT / "eval" / "floors.json"
QUOTE = "complaints from the public about poor response times to 101 calls"


# -- matching ----------------------------------------------------------------------------------------


def test_quote_matches_with_whitespace_folded_and_case_ignored() -> None:
    text = "Members raised\nCOMPLAINTS from the  public about poor\u00a0response times\tto 101 calls, and more."
    assert quote_in_text(QUOTE, text)


def test_quote_cut_by_a_chunk_boundary_matches_when_60_percent_runs_contiguously() -> None:
    cut = math.ceil(0.6 * len(QUOTE))
    assert quote_in_text(QUOTE, "... the chunk ends with " + QUOTE[:cut])
    assert quote_in_text(QUOTE, "next chunk:" + QUOTE[-cut:] + " and it goes on")


def test_quote_with_less_than_60_percent_contiguous_does_not_match() -> None:
    cut = math.ceil(0.6 * len(QUOTE)) - 1
    assert not quote_in_text(QUOTE, "... the chunk ends with " + QUOTE[:cut])
    # Most of the quote's words, but in two separate runs: not one contiguous 60%.
    half = len(QUOTE) // 2
    assert not quote_in_text(QUOTE, QUOTE[:half] + " [page break] " + QUOTE[half + 2:])


def test_file_evidence_matches_only_passages_from_the_document_with_that_file_name() -> None:
    evidence = Evidence(quote=QUOTE, file="004_588db7d1a32d76d6.txt")
    assert source_is_file("/corpus/seeds/004_588db7d1a32d76d6.txt", evidence.file)
    assert not source_is_file("/corpus/seeds/1004_588db7d1a32d76d6.txt", evidence.file)
    assert hits(Passage(QUOTE, "d4", "/x/004_588db7d1a32d76d6.txt"), evidence)
    assert not hits(Passage(QUOTE, "d0", "/x/000_830c896ecf0e4479.txt"), evidence)


def test_document_id_evidence_matches_by_id() -> None:
    evidence = Evidence(quote=QUOTE, document_id="doc-1")
    assert hits(Passage(QUOTE, "doc-1", "https://example.org/a.pdf"), evidence)
    assert not hits(Passage(QUOTE, "doc-2", "https://example.org/a.pdf"), evidence)


def test_evidence_ranks_give_the_first_rank_holding_each_item() -> None:
    a, b = Evidence("alpha beta gamma delta", "a.txt"), Evidence("epsilon zeta eta theta", "b.txt")
    passages = [Passage("nothing here", "1", "/a.txt"), Passage("x alpha beta gamma delta y", "1", "/a.txt"),
                Passage("Alpha Beta Gamma Delta again", "1", "/a.txt")]
    assert evidence_ranks(passages, (a, b)) == [2, None]


# -- metric arithmetic ----------------------------------------------------------------------------------


def test_recall_counts_evidence_found_within_k() -> None:
    ranks = [1, 4, None, 12]
    assert evidence_recall(ranks, 1) == 0.25
    assert evidence_recall(ranks, 3) == 0.25
    assert evidence_recall(ranks, 5) == 0.5
    assert evidence_recall(ranks, 10) == 0.5


def test_mrr_is_one_over_the_first_rank_holding_any_evidence() -> None:
    assert reciprocal_rank([3, None, 2]) == 0.5
    assert reciprocal_rank([None, None]) == 0.0


def test_ndcg_is_one_for_an_ideal_ranking_and_discounts_lower_ranks() -> None:
    assert ndcg([1, 2, 3]) == pytest.approx(1.0)
    assert ndcg([2, None]) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    ideal = 1 + 1 / math.log2(3)
    assert ndcg([1, 3]) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert ndcg([11]) == 0.0  # beyond the cut


def test_document_recall_counts_each_evidence_document_once() -> None:
    question = Question("q", "what?", (Evidence("aaaa bbbb cccc", "a.txt"), Evidence("dddd eeee ffff", "a.txt"),
                                      Evidence("gggg hhhh iiii", "b.txt")))
    passages = [Passage("unrelated words", "A", "/c/a.txt")] + [Passage("more", "Z", "/c/z.txt")] * 10
    row = score_question(question, passages)
    assert row.doc_ranks == [1, None]
    assert row.metrics()["doc_recall@10"] == 0.5
    assert row.metrics()["recall@10"] == 0.0


def test_means_and_force_breakdown_average_over_questions() -> None:
    def row(qid: str, ranks: list[int | None], forces: tuple[str, ...]) -> QuestionRow:
        return QuestionRow(qid, qid, tuple(Evidence("q", "f") for _ in ranks), ranks, [None], forces=forces)

    rows = [row("a", [1, None], ("Dorset",)), row("b", [3], ("Dorset", "Devon and Cornwall"))]
    assert mean_metrics(rows)["recall@5"] == pytest.approx((0.5 + 1.0) / 2)
    assert mean_metrics(rows)["mrr"] == pytest.approx((1 + 1 / 3) / 2)
    forces = by_force(rows)
    assert forces["Dorset"]["questions"] == 2
    assert forces["Devon and Cornwall"]["recall@1"] == 0.0


# -- question files -------------------------------------------------------------------------------------


def test_a_bad_question_line_is_reported_with_its_line_number(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "a", "question": "x?", "evidence": [{"file": "f.txt", "quote": "y"}]}\n'
                    '{"id": "b", "question": "z?", "evidence": [{"quote": "no file"}]}\n')
    with pytest.raises(BadQuestions, match=r"q.jsonl:2: evidence\[0\] needs 'file'"):
        load_questions(path)


# -- question sets and traps ------------------------------------------------------------------------------


def test_questions_carry_their_set_category_and_named_force(seeds_dir: Path) -> None:
    panels = load_questions(seeds_dir.parent / "panels" / "questions.jsonl")
    assert {q.set_name for q in panels} == {"panels"}
    assert {q.category for q in panels} == {"single", "noforce", "cross", "paraphrase"}
    single = next(q for q in panels if q.category == "single")
    assert single.force and single.forces == (single.force,)
    seeds = load_questions(seeds_dir / "questions.jsonl")
    assert {q.group for q in seeds} == {"seeds"}  # no categories: the set is its own row


def test_traps_load_by_kind_and_a_bad_kind_is_refused(seeds_dir: Path, tmp_path: Path) -> None:
    from precedent.eval.questions import load_traps

    traps = load_traps(seeds_dir.parent / "panels" / "traps.jsonl")
    assert {t.kind for t in traps} == {"near", "force", "off"} and not any(t.expect_found for t in traps)
    bad = tmp_path / "traps.jsonl"
    bad.write_text('{"id": "x", "kind": "maybe", "question": "Any horses?", "expect_found": false}\n')
    with pytest.raises(BadQuestions, match="kind 'maybe'; use one of near, force, off"):
        load_traps(bad)


def test_answer_claims_are_read_as_the_answer_code_writes_them() -> None:
    from precedent.eval.answers import answer_sentences, cited_numbers

    answer = ("Two panels discussed 101 calls:\n\nDorset Police and Crime Panel, 5 February 2015 (Plan):\n"
              "- Members raised waiting times on 101, e.g. at weekends [1]. The PCC would report back [1].\n"
              "- Did the force meet its target? [2]\n- Call handling improved; abandoned calls fell [3].\n"
              "- See [4].")
    claims = answer_sentences(answer)
    assert claims == ["Members raised waiting times on 101, e.g. at weekends [1].", "The PCC would report back [1].",
                      "Did the force meet its target [2]?", "Call handling improved; abandoned calls fell [3]."]
    assert [cited_numbers(c) for c in claims] == [{1}, {1}, {2}, {3}]


# -- the real run on the seeds ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_eval(seed_searcher, seeds_dir: Path):  # type: ignore[no-untyped-def]
    from precedent.eval.run import run_eval

    questions = load_questions(seeds_dir / "questions.jsonl")
    return run_eval(questions, seed_searcher, k=10, answers=False)


def test_eval_on_the_seed_dev_set_reports_every_system_in_one_json_shape(seed_eval) -> None:  # type: ignore[no-untyped-def]
    payload = json.loads(json.dumps(seed_eval.to_dict()))
    assert set(payload["systems"]) == {"bm25-naive", "dense-naive", "rrf-naive", "dense", "lexical", "hybrid"}
    for system in payload["systems"].values():
        assert set(system["metrics"]) == {"recall@1", "recall@3", "recall@5", "recall@10", "mrr", "ndcg@10",
                                          "doc_recall@10"}
        assert all(0.0 <= v <= 1.0 for v in system["metrics"].values())
        assert len(system["questions"]) == 20
        assert len(system["recall_curve"]) == 10
        assert {"p50", "p95", "mean"} <= set(system["latency_ms"])
        assert system["per_set"]["seeds"]["questions"] == 20 and set(system["per_category"]) == {"seeds"}
        first = system["questions"][0]
        assert {"id", "set", "category", "question", "evidence", "top", "metrics"} <= set(first)
        assert all("rank" in e and "quote" in e for e in first["evidence"])
    assert set(payload["comparison"]["ratio"]) == set(payload["systems"]["hybrid"]["metrics"])
    assert payload["index"]["unfindable_evidence"] == []


def test_the_naive_rrf_baseline_fuses_the_two_naive_rankings(seed_eval) -> None:  # type: ignore[no-untyped-def]
    rrf, bm25, dense = (seed_eval.systems[n] for n in ("rrf-naive", "bm25-naive", "dense-naive"))
    for row, b, d in zip(rrf.rows, bm25.rows, dense.rows, strict=True):
        # Every passage it ranks first was ranked by one of the sides; a passage both rank first stays first.
        assert row.passages[0] in b.passages + d.passages
        if b.passages[0] == d.passages[0]:
            assert row.passages[0] == b.passages[0]
    assert seed_eval.comparison()["best_baseline"]["recall@10"] in ("bm25-naive", "dense-naive", "rrf-naive")


def test_hybrid_on_the_seed_dev_set_stays_above_the_seed_floors(seed_eval, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from precedent.eval.floors import check_floors

    seeds = json.loads(FLOORS.read_text())["sets"]["seeds"]["systems"]
    only_retrieval = tmp_path / "floors.json"
    only_retrieval.write_text(json.dumps({"sets": {"seeds": {"systems": seeds}}}))
    outcome = check_floors(seed_eval, only_retrieval)
    assert outcome["ok"], outcome["failures"]
    assert {c["metric"] for c in outcome["checked"]} == set(seeds["hybrid"])


def test_a_run_below_a_floor_fails_the_check(seed_eval, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from precedent.eval.floors import check_floors

    impossible = tmp_path / "floors.json"
    impossible.write_text(json.dumps({"systems": {"hybrid": {"ndcg@10": 1.01}},
                                      "sets": {"panels": {"systems": {"hybrid": {"recall@10": 0.5}}},
                                               "seeds": {"answers": {"found": 0.5}}}}))
    outcome = check_floors(seed_eval, impossible)
    assert not outcome["ok"]
    assert "below the floor" in outcome["failures"][0]
    assert "set panels: not in this run" in outcome["failures"][1]
    assert "seeds answers found: not measured" in outcome["failures"][2]


def test_the_html_report_is_self_contained(seed_eval, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from precedent.eval.report import write_report

    page = write_report(tmp_path / "report.html", seed_eval).read_text()
    assert "data:image/png;base64," in page
    assert "<script src" not in page and "<link" not in page
    assert "hybrid" in page and "By question category" in page


# -- several sets, traps and answers in one run -------------------------------------------------------------


def _second_set(folder: Path) -> tuple[Path, Path]:
    """A small set of its own over the seed papers, with categories and a force, plus traps of each kind."""
    folder.mkdir()
    questions = folder / "questions.jsonl"
    questions.write_text("\n".join(json.dumps(row) for row in [
        {"id": "o1", "question": "What did the Dorset panel hear about the refresh of the police and crime plan?",
         "category": "single", "force": "Dorset",
         "evidence": [{"file": "002_310633dc8ab7467d.txt", "quote": "refresh of the Police and Crime Plan 2013/17"}]},
        {"id": "o2", "question": "Did panels complain about 101 response times?", "category": "noforce",
         "evidence": [{"file": "004_588db7d1a32d76d6.txt",
                       "quote": "complaints from the public about poor response times to 101 calls"}]},
    ]) + "\n")
    traps = folder / "traps.jsonl"
    traps.write_text("\n".join(json.dumps({"id": f"t{i}", "kind": kind, "question": text, "expect_found": False})
                               for i, (kind, text) in enumerate([
                                   ("near", "What has the panel said about the upkeep of police horses?"),
                                   ("force", "What did the Durham panel decide about its 2019 precept?"),
                                   ("off", "What is the best way to grow tomatoes?")])) + "\n")
    return questions, traps


def test_several_sets_are_reported_each_on_its_own_with_answers_and_refusals(  # type: ignore[no-untyped-def]
        seed_searcher, seeds_dir: Path, tmp_path: Path) -> None:
    from precedent.eval.questions import load_traps
    from precedent.eval.run import run_eval
    from precedent.eval.tables import format_result

    other, traps = _second_set(tmp_path / "other")
    questions = load_questions(seeds_dir / "questions.jsonl") + load_questions(other)
    result = run_eval(questions, seed_searcher, systems=["bm25-naive", "hybrid"], k=10,
                      traps=load_traps(traps), offtopic=[])
    assert result.question_sets() == ["seeds", "other"] and result.sets == ["seeds", "other"]
    hybrid = result.systems["hybrid"]
    assert hybrid.per_set["seeds"]["questions"] == 20 and hybrid.per_set["other"]["questions"] == 2
    assert list(hybrid.per_category) == ["seeds", "single", "noforce"]
    assert result.comparison("other") is not None
    answers = result.answers
    assert answers["by_set"]["seeds"]["questions"] == 20
    other_answers = answers["by_set"]["other"]
    assert other_answers["single_force_questions"] == 1
    single = next(r for r in answers["rows"] if r["id"] == "o1")
    assert single["only_named_force"] == (single["found"] and set(single["cited_forces"]) == {"Dorset"})
    assert set(answers["refusal"]["other"]) == {"near", "force", "off"}
    assert all(cell["questions"] == 1 for cell in answers["refusal"]["other"].values())
    text = format_result(result)
    assert "seeds:" in text and "other:" in text and "by question category" in text
    assert "traps answered found:false" in text


def test_eval_command_takes_several_sets_and_traps_and_exits_non_zero_below_the_floors(  # type: ignore[no-untyped-def]
        seed_settings, seeds_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from precedent.api.cli import app

    other, traps = _second_set(tmp_path / "other")
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"sets": {"other": {"systems": {"hybrid": {"recall@10": 1.01}}}}}))
    result = CliRunner().invoke(app, [
        "eval", str(seeds_dir / "questions.jsonl"), str(other), "--corpus", str(seeds_dir), "--traps", str(traps),
        "--data-dir", str(seed_settings.data_dir), "--systems", "hybrid,rrf-naive", "--json",
        "--check-floors", str(floors),
    ])
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert payload["floors"]["ok"] is False
    assert list(payload["systems"]) == ["hybrid", "rrf-naive"]
    assert set(payload["systems"]["hybrid"]["per_set"]) == {"seeds", "other"}
    assert payload["answers"]["refusal"]["offtopic"]["off"]["questions"] == 16
    (metadata,) = payload["metadata"]
    assert metadata["name"] == "seeds" and metadata["accuracy"]["meeting_date"] == 1.0
