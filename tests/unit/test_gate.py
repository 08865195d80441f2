"""The relevance gate's arithmetic, on a real store with a fake model."""

from __future__ import annotations

import pytest

from precedent.search.relevance import RELEVANCE_BAR, Relevance, RelevanceJudge
from precedent.search.retrieve import Searcher


def test_a_passage_clears_the_bar_on_meaning_and_words_together() -> None:
    # 1.5 * sentence + dense + coverage - 0.5 * absent
    assert Relevance(dense=0.4, coverage=0.3, sentence=0.4, absent=0.0).score == pytest.approx(1.3)
    assert Relevance(dense=0.4, coverage=0.3, sentence=0.4, absent=0.0).clears_bar
    assert not Relevance(dense=0.4, coverage=0.3, sentence=0.4, absent=0.2).clears_bar  # words no paper uses
    assert not Relevance(dense=0.4, coverage=0.0, sentence=0.4, absent=0.0).clears_bar
    assert RELEVANCE_BAR == pytest.approx(1.22)


def test_words_the_index_never_uses_count_against_the_question(fake_searcher: Searcher) -> None:
    assert RelevanceJudge(fake_searcher, "rural crime team").absent == 0.0
    judge = RelevanceJudge(fake_searcher, "rural crime horses")
    assert 0.3 < judge.absent < 1.0 and RelevanceJudge(fake_searcher, "zebra giraffe").absent == 1.0


def test_words_found_everywhere_weigh_less_than_rare_ones(fake_searcher: Searcher) -> None:
    judge = RelevanceJudge(fake_searcher, "plan for cybercrime")
    weights = {t.stem: t.weight for t in judge.terms}
    assert weights["plan"] < weights["cybercrim"]
    assert judge.coverage({"cybercrim"}) > 0.5 > judge.coverage({"plan"})
    assert judge.coverage({"plan", "cybercrim"}) == 1.0 and judge.coverage(set()) == 0.0


def test_shorthand_counts_when_the_passage_spells_it_out(fake_searcher: Searcher) -> None:
    judge = RelevanceJudge(fake_searcher, "ASB")
    assert judge.coverage({"anti", "social", "behaviour"}) == 1.0


def test_hits_are_judged_in_retrieval_order(fake_searcher: Searcher) -> None:
    question = "rural crime team"
    hits = fake_searcher.search(question, k=5)
    judged = RelevanceJudge(fake_searcher, question).judge(hits)
    assert len(judged) == 5 and all(-1.0 <= r.dense <= 1.0 and 0.0 <= r.coverage <= 1.0 for r in judged)
    best = max(judged, key=lambda r: r.score)
    assert best.coverage > 0.5


def test_re_scoring_and_the_bar_weigh_a_passages_words_by_one_rule(fake_searcher: Searcher) -> None:
    from precedent.search.coverage import QuestionWords
    from precedent.search.query import parse_query

    words = QuestionWords(fake_searcher.store, parse_query("plan for cybercrime"))
    rare, common, both = words.coverages(["A cybercrime unit.", "The plan.", "The cybercrime plan."])
    assert rare > 0.5 > common and both == pytest.approx(1.0)
    judge = RelevanceJudge(fake_searcher, "plan for cybercrime")
    assert [judge.coverage(s) for s in judge.question_stems(["A cybercrime unit.", "The plan."])] == \
        pytest.approx([rare, common])
