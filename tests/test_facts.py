"""Precept decisions and confirmation hearings read at ingest: the rules, the store, the CLI, the API, the eval.

The rule tests use sentences written for them, in wordings the panels corpus does not use, so they
say what the rules do on papers unlike the ones they were designed on; the rest run on real panel
papers (copied from ../shared at test time) in a real store.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from precedent.api.cli import app
from precedent.eval.facts import check_facts_floors, load_truth, score
from precedent.eval.matching import fold
from precedent.ingest.facts import HearingFact, PreceptFact, extract_facts
from precedent.ingest.facts.sentences import document_sentences, unwrap
from precedent.ingest.pipeline import ingest_paths
from precedent.ingest.records import Chunk, Document, ParsedDocument
from precedent.ingest.settings import Settings
from precedent.ingest.store import EmbeddedDocument, Store
from tests.helpers import panel_papers

runner = CliRunner()


def _document(title: str = "Proposed Precept 2023/24", meeting: dt.date | None = dt.date(2023, 2, 1)) -> Document:
    return Document(document_id="kent-2023", title=title, force="Kent", panel="Kent Police and Crime Panel",
                    meeting_date=meeting, doc_type="minutes", source="/papers/kent.txt", content_hash="0" * 64,
                    ingested_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))


def facts_of(*paragraphs: str, **doc: object) -> list[PreceptFact | HearingFact]:
    """The facts of a document whose chunks are ``paragraphs`` (one chunk each)."""
    document = _document(**doc)  # type: ignore[arg-type]
    chunks, text = [], ""
    for i, paragraph in enumerate(paragraphs):
        start = len(text)
        text += paragraph + "\n\n"
        chunks.append(Chunk(f"kent-2023:00000000:{i:04d}", "kent-2023", i, paragraph, "", f"para {i + 1}",
                            start, start + len(paragraph)))
    return extract_facts(document, chunks)


def values(fact: PreceptFact | HearingFact) -> dict[str, object]:
    names = ("year", "band_d", "increase_pounds", "increase_percent", "verdict") if isinstance(fact, PreceptFact) \
        else ("role", "candidate", "outcome")
    return {n: (getattr(fact, n).value if getattr(fact, n) is not None else None) for n in names}


def precepts(*paragraphs: str, **doc: object) -> list[dict[str, object]]:
    return [values(f) for f in facts_of(*paragraphs, **doc) if isinstance(f, PreceptFact)]


def hearings(*paragraphs: str) -> list[dict[str, object]]:
    return [values(f) for f in facts_of(*paragraphs, title="Confirmation hearing") if isinstance(f, HearingFact)]


# -- precept rules ------------------------------------------------------------------------------------


def test_a_decision_gives_the_year_figures_and_verdict_each_citing_the_sentence_it_came_from() -> None:
    (fact,) = facts_of(
        "4.1 The Commissioner proposed to increase the policing precept by 4.9% for 2023/24, taking the Band D charge to £250.11.",
        "RESOLVED that the Panel accepts the Commissioner's proposal to increase the Band D precept by £15 for 2023/24.",
    )
    assert values(fact) == {"year": "2023/24", "band_d": 250.11, "increase_pounds": 15.0, "increase_percent": 4.9,
                            "verdict": "supported"}
    assert isinstance(fact, PreceptFact) and not fact.retrospective
    assert fact.band_d is not None and fact.band_d.source.locator == "para 1"
    assert fact.verdict.source.sentence.startswith("RESOLVED that the Panel accepts")
    assert fact.verdict.source.chunk_id == "kent-2023:00000000:0001"


def test_the_panels_powers_and_other_peoples_views_are_not_verdicts() -> None:
    assert precepts(
        "The Chair reminded members that the Panel could veto the precept for 2023/24 if two thirds voted to do so.",
        "The Chief Constable supported the Commissioner's proposed precept for 2023/24.",
        "If the Panel vetoes the precept for 2023/24, the Commissioner must propose another.",
    ) == []


def test_vetoes_used_and_vetoes_lost_are_told_apart() -> None:
    used = precepts("The Panel voted to veto the proposed precept of 4.9% for 2023/24.")
    lost = precepts("A motion to veto the precept for 2023/24 was put to the vote and failed.")
    short = precepts("Eight members voted to veto the precept for 2023/24, which fell short of the ten needed for a veto.")
    assert [p["verdict"] for p in used + lost + short] == ["vetoed", "veto_failed", "veto_failed"]
    assert used[0]["increase_percent"] == 4.9


def test_a_noted_precept_and_an_unsupported_one_are_noted_and_other() -> None:
    assert precepts("The Panel noted the proposed precept for 2023/24.")[0]["verdict"] == "noted"
    assert precepts("RESOLVED that the Panel does not support the proposed precept for 2023/24.")[0]["verdict"] == "other"


def test_recommendations_in_the_resolution_make_it_supported_with_recommendations() -> None:
    (fact,) = precepts(
        "RESOLVED (a) That the Panel supports the proposed precept for 2023/24. (b) That the Commissioner reports "
        "to the Panel each quarter on officer recruitment.")
    assert fact["verdict"] == "supported_with_recommendations"
    (plain,) = precepts("RESOLVED (a) That the Panel supports the proposed precept for 2023/24. (b) That the "
                        "Medium Term Financial Plan be noted.")
    assert plain["verdict"] == "supported"


def test_caps_consultation_options_weekly_sums_and_millions_are_not_the_proposal() -> None:
    (fact,) = precepts(
        "For 2023/24 commissioners could add up to £15 to a Band D bill without a referendum.",
        "The consultation asked residents about rises of 3% and 6%.",
        "The rise would raise an additional £2.4 million, or 29p a week for a Band D home.",
        "That the Panel supports the proposed precept for 2023/24.",
    )
    assert fact == {"year": "2023/24", "band_d": None, "increase_pounds": None, "increase_percent": None,
                    "verdict": "supported"}


def test_figures_of_a_fire_precept_are_left_out_of_the_police_precept() -> None:
    (fact,) = precepts(
        "(a) an increase of £15 a year in the policing precept for a Band D property, from £235.11 to £250.11;",
        "(b) an increase of 2.5% in the fire and rescue precept, from £80.00 to £82.00.",
        "For a Band D property the fire charge goes from £80 to £82.",
        "The Panel approved the proposed policing precept for 2023/24.",
    )
    assert fact["band_d"] == 250.11 and fact["increase_pounds"] == 15.0 and fact["increase_percent"] is None


def test_a_rise_since_an_earlier_year_is_not_this_years_rise() -> None:
    (fact,) = precepts(
        "With this rise a Band D household would be paying £70.83 a year more than in 2017, an increase of 34%.",
        "That the Panel supports the proposed precept increase of 3.75% (£9.99 for a Band D property) for 2023/24.",
    )
    assert (fact["band_d"], fact["increase_pounds"], fact["increase_percent"]) == (None, 9.99, 3.75)


def test_a_table_of_earlier_decisions_gives_retrospective_facts_for_their_own_years() -> None:
    facts = facts_of(
        "Previous decisions of the Panel",
        "2019/20 increase of £24 for Band D (10.2%) supported 2020/21 increase of 2% endorsed 2021/22 +£15 (6%)",
        "That the Panel supports the proposed precept of £250.11 for a Band D property for 2023/24.",
    )
    by_year = {f.year.value: f for f in facts if isinstance(f, PreceptFact)}
    assert set(by_year) == {"2019/20", "2020/21", "2023/24"}  # 2021/22 records no decision
    assert by_year["2019/20"].retrospective and not by_year["2023/24"].retrospective
    assert values(by_year["2019/20"])["increase_pounds"] == 24.0
    assert by_year["2019/20"].year.source.sentence == "2019/20 increase of £24 for Band D (10.2%) supported"


def test_papers_about_something_else_yield_no_facts() -> None:
    assert facts_of(
        "The budget and precept for 2023/24 will be finalised once the Panel has met in February.",
        "The Panel approved the minutes of its meeting of 5 December 2022.",
        "3.3 RESOLVED that the appointment of the two independent members be ratified.",
    ) == []


# -- hearing rules ------------------------------------------------------------------------------------


def test_hearing_outcomes_with_conditions_vetoes_and_refusals() -> None:
    assert hearings("That the Panel recommends that Ms Jo Shiner be appointed as Chief Constable of Sussex "
                    "Police, subject to satisfactory vetting.") == [
        {"role": "Chief Constable", "candidate": "Jo Shiner", "outcome": "endorsed_with_conditions"}]
    assert hearings("The Panel voted to veto the proposed appointment of Mr John Smith as Chief Constable.") == [
        {"role": "Chief Constable", "candidate": "John Smith", "outcome": "vetoed"}]
    assert hearings("RESOLVED that the Panel does not support the proposed appointment of Dr Ann Jones as Chief "
                    "Executive of the Office of the Commissioner.") == [
        {"role": "Chief Executive", "candidate": "Ann Jones", "outcome": "other"}]


def test_a_hearing_takes_its_role_and_candidate_from_earlier_sentences_when_the_outcome_omits_them() -> None:
    (fact,) = hearings(
        "5. Proposed appointment to the post of Chief Constable",
        "The Commissioner named Tom Brown, currently Deputy Chief Constable of Kent Police, as his preferred candidate.",
        "Members questioned the candidate.",
        "The Panel agreed to support the proposed appointment.",
    )
    assert fact == {"role": "Chief Constable", "candidate": "Tom Brown", "outcome": "endorsed"}


def test_an_unnamed_candidate_stays_unnamed_and_the_commissioners_own_decision_is_not_the_panels() -> None:
    assert hearings("RESOLVED - That the Panel:\n• 1. supports the proposed appointment of his preferred "
                    "candidate as Chief Fire Officer;") == [
        {"role": "Chief Fire Officer", "candidate": None, "outcome": "endorsed"}]
    assert hearings("Following the meeting the Commissioner confirmed the appointment of Mr Tom Brown as Chief "
                    "Constable.") == []
    assert hearings("For the Chief Constable post the Panel could recommend the appointment or veto it.") == []


def test_pdf_line_wraps_do_not_cut_a_sentence_but_headings_and_points_still_end_one() -> None:
    text = ("3.1 The Commissioner proposes to increase the policing precept by 5.5% in 2023/24. For a Band D\n\n"
            "household this is an additional £12 a year, or 23 pence a week.\n\n• 4. Enhancements\n\n"
            "(a) 23 additional personnel;")
    assert unwrap(text).count("\n") == 4 and len(unwrap(text)) == len(text)
    chunk = Chunk("d:0:0", "d", 0, text, "", "para 3.1", 0, len(text))
    sentences = [s.text for s in document_sentences([chunk])]
    assert "For a Band D household this is an additional £12 a year, or 23 pence a week." in sentences
    assert "(a) 23 additional personnel;" in sentences  # the heading before it ends a sentence
    assert not any("Enhancements" in s and "personnel" in s for s in sentences)


# -- stored with the document ---------------------------------------------------------------------


def _stored(settings: Settings) -> list[tuple[str, dict[str, object]]]:
    return [(doc.force or "", values(fact)) for fact, doc in Store.open(settings).facts()]


def test_facts_are_stored_with_their_document_replaced_with_it_and_removed_with_it(
    fresh_settings: Settings, tmp_path: Path, panels_dir: Path,
) -> None:
    papers = panel_papers(tmp_path / "papers", panels_dir,
                          ("e05_dorset_precept_2014.txt", "e25_staffordshire_confirmation_2021.pdf"))
    ingest_paths([papers], fresh_settings)
    stored = _stored(fresh_settings)
    assert ("Dorset", {"year": "2014/15", "band_d": 187.11, "increase_pounds": 3.6, "increase_percent": 1.96,
                       "verdict": "veto_failed"}) in stored
    assert sorted(v["role"] for f, v in stored if f == "Staffordshire") == ["Chief Constable", "Chief Fire Officer"]

    # The paper is corrected: the veto carried. Its facts are replaced with it, in the same write.
    paper = papers / "e05_dorset_precept_2014.txt"
    paper.write_text(paper.read_text().replace(
        "As the number opposing the proposal fell short of the 12 needed for a veto, the Commissioner's proposal stood.",
        "The required majority for a veto was achieved.").replace(
        "notes that the proposal was not vetoed, as the required two-thirds majority was not reached", "vetoes it"))
    assert ingest_paths([papers], fresh_settings).updated == 1
    dorset = [v for f, v in _stored(fresh_settings) if f == "Dorset"]
    assert [v["verdict"] for v in dorset] == ["vetoed"]

    store = Store.open(fresh_settings)
    (doc,) = [d for d in store.list_documents() if d.force == "Dorset"]
    assert store.remove_document(doc.document_id)
    assert all(f != "Dorset" for f, _ in _stored(fresh_settings))
    with sqlite3.connect(fresh_settings.sqlite_path) as conn:
        assert conn.execute("SELECT count(*) FROM facts WHERE document_id = ?", (doc.document_id,)).fetchone()[0] == 0


def test_a_write_that_fails_part_way_leaves_the_document_and_its_facts_as_they_were(
    fresh_settings: Settings, tmp_path: Path, panels_dir: Path,
) -> None:
    papers = panel_papers(tmp_path / "papers", panels_dir, ("e27_gwent_precept_2018.txt",))
    ingest_paths([papers], fresh_settings)
    store = Store.open(fresh_settings)
    (doc,) = store.list_documents()
    before = _stored(fresh_settings)
    stored = store.get_document(doc.document_id)
    assert stored is not None
    chunks = stored.chunks

    class Unwritable(PreceptFact):
        def model_dump_json(self, **_: object) -> str:  # type: ignore[override]
            raise OSError("disk full")

    (fact,) = store.facts()[0][:1]
    broken = Unwritable(**fact.model_dump())
    vectors = np.asarray(store.collection.get(ids=[c.chunk_id for c in chunks], include=["embeddings"])["embeddings"])
    # A new version of the paper (new chunk ids, as a changed file gets), whose facts cannot be written.
    renewed = [dataclasses.replace(c, chunk_id=c.chunk_id.replace(doc.content_hash[:8], "ffffffff")) for c in chunks]
    with pytest.raises(OSError):
        retitled = doc.model_copy(update={"title": "Retitled", "content_hash": "f" * 64})
        store.write_documents([EmbeddedDocument(ParsedDocument(retitled, stored.text, renewed), vectors, facts=[broken])])
    assert store.list_documents()[0].title == doc.title
    assert _stored(fresh_settings) == before
    assert store.check().ok


def test_an_index_built_before_the_rules_changed_is_read_again_when_facts_are_listed(
    fresh_settings: Settings, tmp_path: Path, panels_dir: Path,
) -> None:
    papers = panel_papers(tmp_path / "papers", panels_dir, ("e27_gwent_precept_2018.txt",))
    ingest_paths([papers], fresh_settings)
    with sqlite3.connect(fresh_settings.sqlite_path) as conn:
        conn.execute("DELETE FROM facts")
        conn.execute("UPDATE meta SET value = 'an older version' WHERE key = 'facts_version'")
    code, out = _cli("facts", "precept", "--json", "--data-dir", str(fresh_settings.data_dir))
    assert code == 0, out
    assert [row["fields"]["verdict"]["value"] for row in json.loads(out)] == ["vetoed"]


# -- CLI and API ----------------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_facts_command_prints_a_table_with_sources_and_json_with_every_citation(scrutiny_settings: Settings) -> None:
    code, out = _cli("facts", "precept", "--data-dir", str(scrutiny_settings.data_dir))
    assert code == 0, out
    assert "Dorset" in out and "£187.11" in out and "veto failed" in out and "vetoed" in out
    assert "Dorset Police and Crime Panel, 6 February 2014" in out  # the human citation of the verdict
    code, out = _cli("facts", "hearing", "--force", "staffordshire", "--json", "--data-dir",
                     str(scrutiny_settings.data_dir))
    rows = json.loads(out)
    assert {r["fields"]["role"]["value"] for r in rows} == {"Chief Constable", "Chief Fire Officer"}
    for row in rows:
        for field in row["fields"].values():
            assert field["citation"]["display"].startswith("Staffordshire Police, Fire and Crime Panel, 12 October 2021")
            assert field["link"].startswith("/#doc=")
    code, out = _cli("facts", "precept", "--force", "Durham", "--data-dir", str(scrutiny_settings.data_dir))
    assert code == 1 and "unknown force 'Durham'" in out


@pytest.fixture(scope="module")
def scrutiny_client(scrutiny_settings: Settings):  # type: ignore[no-untyped-def]
    from precedent.api.app import create_app

    with TestClient(create_app(scrutiny_settings)) as client:
        yield client


def test_get_facts_lists_each_kind_with_sentences_citations_and_links(scrutiny_client: TestClient) -> None:
    body = scrutiny_client.get("/facts", params={"kind": "precept"}).json()
    by_force = {row["force"]: row for row in body["facts"]}
    assert set(by_force) == {"Dorset", "Essex", "Gwent"} and body["count"] == 3
    essex = by_force["Essex"]["fields"]
    assert essex["band_d"]["value"] == 192.96 and "£192.96" in essex["band_d"]["sentence"]
    assert essex["band_d"]["link"].startswith("http://testserver/#doc=")
    assert by_force["Gwent"]["fields"]["verdict"]["value"] == "vetoed"
    doc = scrutiny_client.get(f"/documents/{by_force['Gwent']['document_id']}").json()
    chunk = next(c for c in doc["chunks"] if c["chunk_id"] == by_force["Gwent"]["fields"]["verdict"]["citation"]["chunk_id"])
    assert fold(by_force["Gwent"]["fields"]["verdict"]["sentence"]) in fold(chunk["text"])

    hearings_ = scrutiny_client.get("/facts", params={"kind": "hearing", "force": "Dorset"}).json()
    assert hearings_["facts"] == []
    assert scrutiny_client.get("/facts", params={"kind": "budget"}).status_code == 422
    assert scrutiny_client.get("/facts", params={"kind": "precept", "force": "Atlantis"}).status_code == 422


# -- the eval -------------------------------------------------------------------------------------


def test_the_facts_eval_scores_each_field_and_finds_the_evidence(tmp_path: Path, panels_dir: Path) -> None:
    names = ("e05_dorset_precept_2014.txt", "e25_staffordshire_confirmation_2021.pdf")
    corpus = panel_papers(tmp_path / "panels", panels_dir, names)
    truth = [line for line in (panels_dir / "facts.jsonl").read_text().splitlines() if json.loads(line)["file"] in names]
    # One row altered, so the eval has a mistake to find.
    wrong = json.loads(truth[0])
    wrong["increase_pounds"] = 9.99
    (corpus / "facts.jsonl").write_text("\n".join([json.dumps(wrong), *truth[1:]]) + "\n")

    code, out = _cli("eval", str(corpus / "facts.jsonl"), "--facts", "--json", "--data-dir", str(tmp_path / "index"))
    assert code == 0, out
    result = json.loads(out)
    pounds = result["fields"]["all"]["precept"]["increase_pounds"]
    assert (pounds["tp"], pounds["fp"], pounds["fn"]) == (0, 1, 1)
    assert result["fields"]["all"]["hearing"]["candidate"] == {"precision": 1.0, "recall": 1.0, "tp": 1, "fp": 0,
                                                               "fn": 0}
    assert result["evidence"] == {"matched": 3, "backed": 3, "share": 1.0}
    assert result["citation_integrity_failures"] == [] and result["false_facts"]["all"] == 0


def test_facts_floors_fail_below_the_targets_and_name_the_field(tmp_path: Path, panels_dir: Path) -> None:
    truth = load_truth(panels_dir / "facts.jsonl")
    result = score(truth, [], {}, design=set(), truth_folder_files=set())
    floors = tmp_path / "floors.json"
    floors.write_text(json.dumps({"fields": {"precept": {"verdict": {"recall": 0.85}}}, "evidence": 1.0}))
    checked = check_facts_floors(result, floors)
    assert not checked["ok"] and any("precept verdict recall = 0.0" in f for f in checked["failures"])
