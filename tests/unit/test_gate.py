"""The relevance gate's arithmetic, on a real store with a fake model."""

from __future__ import annotations

from precedent.search.relevance import RELEVANCE_BAR, Relevance, RelevanceJudge
from precedent.search.retrieve import Searcher


def test_a_passage_clears_the_bar_on_meaning_and_words_together() -> None:
    assert Relevance(dense=0.5, coverage=RELEVANCE_BAR - 0.5).clears_bar
    assert not Relevance(dense=0.5, coverage=RELEVANCE_BAR - 0.51).clears_bar


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
