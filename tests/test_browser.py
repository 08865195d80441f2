"""A real browser over the real app: Debian's Chromium, driven by Playwright, against uvicorn.

The chat page is served by ``create_app(seed_settings)`` on a free local port (the five seed
documents in a real store). The test types a question and waits for the cited answer, opens a
citation chip in the passage viewer, compares forces (a column per force and the timeline chart),
and submits an HTML-injection attempt as a question to show it is rendered as text.

Three failures the page must survive get a browser of their own: an LLM endpoint that dies
mid-answer (a local stand-in, the one remote part tests may fake), and an index the server cannot
serve (empty, its Chroma server down, built with another model), whose 503 message is shown as the
server wrote it. At 375 px wide the filter panel starts collapsed behind a button. The scrutiny
test serves the seeds with four panel papers and an admin key: it exports an answer as a Word file
(read back with python-docx), saves the question as a watch, and opens the precept and hearing
tables, the Band D chart and a fact's citation.

Playwright's own browser download does not work here, so the test launches ``/usr/bin/chromium``
(``apt-get install chromium``; ``.ci/run`` installs it) and skips when it is absent. Screenshots
go under pytest's ``tmp_path`` (desktop 1200x900 and a 375px-wide phone view); their directory is
printed, so ``pytest -s`` shows where to look.

The page's Content-Security-Policy forbids eval, so the test waits on locators only (no
``wait_for_function``) and checks that the console carries no CSP violation.
"""

from __future__ import annotations

import io
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import httpx
import pytest

from precedent.api.app import create_app
from precedent.ingest.settings import Settings
from precedent.ingest.store import Store
from tests.helpers import FakeLLM, free_port, live_server

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]
FORCES = {"Devon and Cornwall", "Dorset", "Leicestershire"}
QUESTION = "What did panels say about 101 response times?"
PLAN_QUESTION = "What did panels say about the police and crime plan?"
INJECTION = "<img src=x onerror=alert(1)>"
ANSWER_TIMEOUT_MS = 60_000
ADMIN_KEY = "browser-test-admin-key"
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}

pytestmark = [
    pytest.mark.timeout(300),
    # Checked here too, so a machine without Chromium skips before the seed index is built.
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason=f"{CHROMIUM} is absent: the browser test needs Debian's chromium "
                              "(apt-get install -y chromium)"),
]


@pytest.fixture(scope="module")
def live_url(seed_settings: Settings) -> Iterator[str]:
    """The real app under uvicorn on a free port; stopped at teardown."""
    with live_server(create_app(seed_settings)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: the browser test needs Debian's chromium "
                    "(apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class PageWatch:
    """Console errors, uncaught page errors, dialogs and requests seen by a page."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("dialog", self._dialog)
        page.on("request", lambda request: self.requests.append(request.url))

    def _console(self, message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error":
            self.console_errors.append(message.text)

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def csp_errors(self) -> list[str]:
        needles = ("content security policy", "content-security-policy", "csp", "refused to")
        return [text for text in self.console_errors if any(n in text.lower() for n in needles)]


def _submit(page, question: str) -> None:  # type: ignore[no-untyped-def]
    box = page.locator("#question")
    box.fill(question)
    box.press("Enter")


def _screenshot_dir(tmp_path: Path) -> Path:
    shots = tmp_path / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    print(f"\nbrowser screenshots: {shots}")
    return shots


def _right_edge(locator) -> float:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None, "element is not laid out"
    return float(box["x"] + box["width"])


def test_chat_page_in_a_real_browser(  # type: ignore[no-untyped-def]
    browser, live_url: str, tmp_path: Path,
) -> None:
    shots = _screenshot_dir(tmp_path)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    watch = PageWatch(page)
    try:
        page.goto(f"{live_url}/")
        # The filters come from /facets: one checkbox per force in the seed index.
        forces = page.locator(".force-filter input[type=checkbox]")
        forces.nth(len(FORCES) - 1).wait_for()
        assert {forces.nth(i).get_attribute("value") for i in range(forces.count())} == FORCES
        # Below them, from /sources: the forces that exist but are not indexed yet.
        unindexed = page.locator("#force-unindexed summary")
        unindexed.wait_for()
        assert unindexed.text_content() == f"{41 - len(FORCES)} more forces not yet indexed"
        assert page.locator("#filters-toggle").get_attribute("aria-expanded") == "true"
        page.screenshot(path=str(shots / "desktop-0-empty.png"), full_page=True)

        # 1. A question, sent with Enter, gets a cited answer.
        _submit(page, QUESTION)
        page.locator(".msg.user").nth(0).wait_for()
        answer = page.locator(".msg.answer").nth(0)
        answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert page.locator(".msg.user .msg-text").nth(0).text_content() == QUESTION
        assert "not-found" not in (answer.get_attribute("class") or ""), answer.inner_text()
        chips = answer.locator(".chip[data-n]")
        assert chips.count() >= 1, f"no citation chips in the answer: {answer.inner_text()!r}"
        page.screenshot(path=str(shots / "desktop-1-answer.png"), full_page=True)

        # 2. A chip opens the passage viewer with the cited chunk highlighted.
        chips.first.click()
        dialog = page.locator("#passage")
        dialog.wait_for(state="visible")
        assert dialog.get_attribute("open") is not None
        cited = page.locator("#passage mark.cited")
        cited.wait_for(state="visible")
        assert cited.count() == 1
        assert (cited.text_content() or "").strip(), "the highlighted passage is empty"
        page.screenshot(path=str(shots / "desktop-2-passage.png"))
        page.locator("#passage-close").click()
        dialog.wait_for(state="hidden")

        # 3. Compare: one column per force and a timeline chart.
        page.locator("#compare-toggle").check()
        assert page.locator("#send").text_content() == "Compare"
        _submit(page, QUESTION)
        comparison = page.locator(".msg.compare").nth(0)
        comparison.wait_for(timeout=ANSWER_TIMEOUT_MS)
        columns = comparison.locator(".force-column[data-force]")
        names = [columns.nth(i).get_attribute("data-force") for i in range(columns.count())]
        assert sorted(names) == sorted(FORCES), names
        chart = page.locator("#timeline svg")
        chart.first.wait_for(state="visible")
        assert chart.count() >= 1
        page.screenshot(path=str(shots / "desktop-3-compare.png"), full_page=True)
        chart.first.scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "desktop-3-timeline.png"))  # as seen, with the sticky composer

        # 4. An HTML-injection attempt as a question is shown as text, never as markup.
        page.locator("#compare-toggle").uncheck()
        _submit(page, INJECTION)
        page.locator(".msg.answer, .msg.error").nth(1).wait_for(timeout=ANSWER_TIMEOUT_MS)
        injected = page.locator(".msg.user .msg-text").nth(2)
        assert injected.text_content() == INJECTION
        assert page.locator("#conversation img").count() == 0
        page.screenshot(path=str(shots / "desktop-4-injection.png"), full_page=True)
        page.wait_for_timeout(500)  # give a would-be onerror handler time to fire
        assert not watch.dialogs, f"a dialog fired: {watch.dialogs}"
        loaded = [url for url in watch.requests if url.rstrip("/").endswith("/x")]
        assert not loaded, f"the injected <img> was loaded: {loaded}"

        assert not watch.page_errors, f"uncaught page errors: {watch.page_errors}"
        assert not watch.csp_errors(), f"CSP violations in the console: {watch.csp_errors()}"
    finally:
        context.close()


def test_chat_page_on_a_phone_width(  # type: ignore[no-untyped-def]
    browser, live_url: str, tmp_path: Path,
) -> None:
    shots = _screenshot_dir(tmp_path)
    width = PHONE["viewport"]["width"]
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    watch = PageWatch(page)
    try:
        page.goto(f"{live_url}/")
        page.locator(".force-filter input[type=checkbox]").nth(len(FORCES) - 1).wait_for(state="attached")
        page.screenshot(path=str(shots / "phone-0-empty.png"), full_page=True)

        _submit(page, QUESTION)
        answer = page.locator(".msg.answer").nth(0)
        answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert answer.locator(".chip[data-n]").count() >= 1
        page.screenshot(path=str(shots / "phone-1-answer.png"), full_page=True)
        # Readable on a phone: the question box, the send button and the answer fit the width.
        for selector in ("#question", "#send", ".msg.answer"):
            assert _right_edge(page.locator(selector).first) <= width + 1, f"{selector} overflows {width}px"

        # A broader topic, dated in the seed index, so the chart has bars to draw.
        page.locator("#filters-toggle").click()
        page.locator("#compare-toggle").check()
        _submit(page, PLAN_QUESTION)
        page.locator(".msg.compare").nth(0).wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.locator("#timeline svg").first.wait_for(state="visible")
        assert page.locator("#timeline svg rect.bar").count() >= 1, "the timeline chart drew no bars"
        assert _right_edge(page.locator("#timeline svg").first) <= width + 1, "the timeline chart overflows"
        page.screenshot(path=str(shots / "phone-2-compare.png"), full_page=True)
        page.locator("#timeline").scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "phone-3-timeline.png"))  # as seen, with the sticky composer

        assert not watch.dialogs, watch.dialogs
        assert not watch.page_errors, f"uncaught page errors: {watch.page_errors}"
        assert not watch.csp_errors(), f"CSP violations in the console: {watch.csp_errors()}"
    finally:
        context.close()



def test_on_a_phone_the_filters_start_collapsed_behind_a_keyboard_operable_button(  # type: ignore[no-untyped-def]
    browser, live_url: str, tmp_path: Path,
) -> None:
    expect = pytest.importorskip("playwright.sync_api").expect
    shots = _screenshot_dir(tmp_path)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    watch = PageWatch(page)
    try:
        page.goto(f"{live_url}/")
        forces = page.locator(".force-filter input[type=checkbox]")
        forces.nth(len(FORCES) - 1).wait_for(state="attached")
        toggle = page.locator("#filters-toggle")
        panel = page.locator("#filters-body")
        assert toggle.get_attribute("aria-controls") == "filters-body"
        assert toggle.get_attribute("aria-expanded") == "false"
        assert not panel.is_visible() and not forces.first.is_visible()
        # The first screen holds the question box and its button, not the filters.
        for selector in ("#question", "#send"):
            box = page.locator(selector).bounding_box()
            assert box is not None and box["y"] + box["height"] <= PHONE["viewport"]["height"], \
                f"{selector} is below the first screen: {box}"
        page.screenshot(path=str(shots / "phone-filters-collapsed.png"))

        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(forces.first).to_be_visible()
        page.screenshot(path=str(shots / "phone-filters-open.png"))

        # A filter set in the panel still shows on the button once the panel is closed again.
        forces.first.check()
        toggle.focus()
        page.keyboard.press("Space")
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(panel).to_be_hidden()
        expect(toggle).to_have_text("Filters (1 set)")

        assert not watch.page_errors, f"uncaught page errors: {watch.page_errors}"
        assert not watch.csp_errors(), f"CSP violations in the console: {watch.csp_errors()}"
    finally:
        context.close()


def test_an_llm_failing_mid_answer_shows_a_notice_and_the_extractive_answer(  # type: ignore[no-untyped-def]
    browser, seed_settings: Settings, tmp_path: Path,
) -> None:
    shots = _screenshot_dir(tmp_path)
    draft = "The stand-in model began this answer and never finished it [1]."
    fake = FakeLLM(draft, drop_after=4)
    settings = seed_settings.model_copy(update={"llm_url": fake.url, "llm_model": "stand-in", "llm_timeout": 10.0})
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    watch = PageWatch(page)
    try:
        with live_server(create_app(settings)) as url:
            # The page streams only once /health has said LLM mode is on.
            with page.expect_response(lambda response: response.url.endswith("/health")):
                page.goto(f"{url}/")
            page.locator(".force-filter input[type=checkbox]").nth(len(FORCES) - 1).wait_for()
            _submit(page, QUESTION)
            answer = page.locator(".msg.answer").nth(0)
            answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
            page.screenshot(path=str(shots / "desktop-llm-failed.png"), full_page=True)

            assert any(u.endswith("/ask/stream") for u in watch.requests), "the page did not use the stream"
            assert fake.requests and fake.requests[-1]["body"]["stream"] is True
            notice = answer.locator(".notice")
            assert notice.is_visible()
            detail = notice.locator(".notice-detail").text_content() or ""
            assert fake.url in detail and "PRECEDENT_LLM_URL" in detail, detail
            text = answer.locator(".answer-text").inner_text()
            assert "stand-in model" not in text, "the unfinished draft was shown as the answer"
            assert answer.locator(".answer-text .chip[data-n]").count() >= 1, text
            assert page.locator(".msg.error").count() == 0
            assert not watch.page_errors, f"uncaught page errors: {watch.page_errors}"
            assert not watch.csp_errors(), f"CSP violations in the console: {watch.csp_errors()}"
    finally:
        context.close()
        fake.close()


def _empty_index(seed_settings: Settings, tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "empty", rate_limit_per_minute=0)
    Store.open(settings, create=True).close()
    return settings


def _chroma_server_down(seed_settings: Settings, tmp_path: Path) -> Settings:
    """The seed registry, with its vectors on a Chroma server that is not running (a closed port)."""
    shutil.copytree(seed_settings.data_dir, tmp_path / "copy")
    return Settings(data_dir=tmp_path / "copy", chroma_url=f"http://127.0.0.1:{free_port()}", rate_limit_per_minute=0)


def _another_model(seed_settings: Settings, tmp_path: Path) -> Settings:
    shutil.copytree(seed_settings.data_dir, tmp_path / "copy")
    with sqlite3.connect(tmp_path / "copy" / "precedent.sqlite3") as conn:
        conn.execute("UPDATE meta SET value = 'some-other-model' WHERE key = 'model'")
    return Settings(data_dir=tmp_path / "copy", rate_limit_per_minute=0)


@pytest.mark.parametrize("unavailable", [_empty_index, _chroma_server_down, _another_model],
                         ids=["empty-index", "chroma-down", "another-model"])
def test_a_503_shows_the_servers_message_once_as_it_wrote_it(  # type: ignore[no-untyped-def]
    browser, seed_settings: Settings, tmp_path: Path, unavailable: Callable[[Settings, Path], Settings],
) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    watch = PageWatch(page)
    try:
        with live_server(create_app(unavailable(seed_settings, tmp_path))) as url:
            served = httpx.post(f"{url}/ask", json={"question": QUESTION}, timeout=60)
            assert served.status_code == 503, served.text
            detail = served.json()["detail"]
            page.goto(f"{url}/")
            _submit(page, QUESTION)
            error = page.locator(".msg.error").nth(0)
            error.wait_for(timeout=ANSWER_TIMEOUT_MS)
            assert error.inner_text().strip() == detail
            conversation = page.locator("#conversation").inner_text()
            assert conversation.count(detail) == 1
            assert conversation.count("precedent ingest") == detail.count("precedent ingest")
            assert not watch.page_errors, f"uncaught page errors: {watch.page_errors}"
    finally:
        context.close()


def test_a_force_read_from_the_question_is_a_chip_the_user_can_remove(  # type: ignore[no-untyped-def]
    browser, live_url: str, tmp_path: Path,
) -> None:
    shots = _screenshot_dir(tmp_path)
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    watch = PageWatch(page)
    try:
        page.goto(f"{live_url}/")
        page.locator(".force-filter input[type=checkbox]").nth(len(FORCES) - 1).wait_for()
        _submit(page, "What did the Dorset panel say about support for victims of domestic abuse?")
        first = page.locator(".msg.answer").nth(0)
        first.wait_for(timeout=ANSWER_TIMEOUT_MS)
        cued = first.locator(".filter-chip.cued")
        cued.wait_for()
        assert cued.count() == 1 and (cued.text_content() or "").startswith("Dorset")
        panels = {t.split(",")[0] for t in first.locator(".citation-display").all_text_contents()}
        assert panels == {"Dorset Police and Crime Panel"}, panels
        page.screenshot(path=str(shots / "cue-1-dorset.png"), full_page=True)

        remove = cued.locator("button.chip-remove")
        assert remove.get_attribute("aria-label") == "Remove the filter Dorset, read from your question"
        remove.focus()
        page.keyboard.press("Enter")  # a real button: the keyboard works too
        second = page.locator(".msg.answer").nth(1)
        second.wait_for(timeout=ANSWER_TIMEOUT_MS)
        assert "(without Dorset)" in (page.locator(".msg.user .msg-text").nth(1).text_content() or "")
        assert second.locator(".filter-chip").count() == 0  # asked again with no filter and no cues
        panels = {t.split(",")[0] for t in second.locator(".citation-display").all_text_contents()}
        assert len(panels) >= 2, panels  # every force again
        page.screenshot(path=str(shots / "cue-2-all-forces.png"), full_page=True)
        assert not watch.page_errors and not watch.csp_errors()
    finally:
        context.close()


@pytest.fixture(scope="module")
def scrutiny_url(scrutiny_settings: Settings) -> Iterator[str]:
    """The seeds and four panel papers with precept decisions and hearings, served with an admin key."""
    with live_server(create_app(scrutiny_settings.model_copy(update={"admin_key": ADMIN_KEY}))) as url:
        yield url


def test_scrutiny_outputs_in_a_real_browser(  # type: ignore[no-untyped-def]
    browser, scrutiny_url: str, tmp_path: Path,
) -> None:
    shots = _screenshot_dir(tmp_path)
    context = browser.new_context(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(ANSWER_TIMEOUT_MS)
    watch = PageWatch(page)
    try:
        page.goto(f"{scrutiny_url}/")
        page.locator(".force-filter input[type=checkbox]").nth(3).wait_for()

        # 1. An answer exports as a Word document with real headings and numbered sources.
        _submit(page, QUESTION)
        answer = page.locator(".msg.answer").nth(0)
        answer.wait_for(timeout=ANSWER_TIMEOUT_MS)
        with page.expect_download() as info:
            answer.locator(".export button[data-format=docx]").click()
        download = info.value
        assert download.suggested_filename.endswith(".docx")
        document = docx.Document(io.BytesIO(Path(download.path()).read_bytes()))
        assert document.paragraphs[0].style.name == "Heading 1"
        assert document.paragraphs[0].text == f"Answer: {QUESTION}"
        assert any(p.style.name == "List Number" for p in document.paragraphs)
        page.screenshot(path=str(shots / "scrutiny-1-export.png"), full_page=True)

        # 2. The question is saved as a watch with the admin key, and listed with its feed.
        form = page.locator("#watch-form")
        form.wait_for(state="visible")
        page.locator("#admin-key").fill(ADMIN_KEY)
        page.locator("#save-watch").click()
        saved = page.locator("#watch-list .watch")
        saved.first.wait_for()
        assert QUESTION.rstrip("?") in (saved.first.text_content() or "") or "101" in (saved.first.text_content() or "")
        assert "Saved:" in (page.locator("#watch-status").text_content() or "")
        assert saved.first.locator("a.feed-link").get_attribute("href").endswith("/feed.xml")
        page.screenshot(path=str(shots / "scrutiny-2-watch.png"), full_page=True)

        # 3. The facts view: precepts by force and year, hearings, the Band D chart with the veto marked.
        page.locator("#show-facts").click()
        table = page.locator("#precepts")
        table.wait_for()
        forces = [table.locator("tbody th").nth(i).text_content() for i in range(table.locator("tbody th").count())]
        assert forces == ["Dorset", "Essex", "Gwent"]
        assert "Veto failed" in (table.locator("tr[data-force=Dorset]").text_content() or "")
        assert "£187.11" in (table.locator("tr[data-force=Dorset]").text_content() or "")
        hearings = page.locator("#hearings tbody tr")
        assert hearings.count() == 2
        assert page.locator("#band-d-chart svg circle.point").count() >= 2
        assert page.locator("#band-d-chart svg path.veto").count() == 1  # Gwent 2018/19
        page.screenshot(path=str(shots / "scrutiny-3-facts.png"), full_page=True)

        # 4. A cell's value opens the sentence it was read from, highlighted in its paper.
        table.locator("tr[data-force=Gwent] a.fact-link").first.click()
        page.locator("#passage").wait_for(state="visible")
        cited = page.locator("#passage mark.cited")
        cited.wait_for(state="visible")
        assert "vetoes" in (cited.text_content() or "")
        page.screenshot(path=str(shots / "scrutiny-4-citation.png"))
        page.locator("#passage-close").click()

        assert not watch.page_errors, f"uncaught page errors: {watch.page_errors}"
        assert not watch.csp_errors(), f"CSP violations in the console: {watch.csp_errors()}"
    finally:
        context.close()
