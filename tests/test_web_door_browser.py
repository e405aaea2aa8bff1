"""The resident web door (issue 15) in real headless Chromium: the app served by a real server
thread on a real Redis, driven as residents use it: tapping, typing corpus phrasings, by
keyboard only, with JavaScript off; axe-core's WCAG 2.1 AA rules on every kind of page in
every language; "text me my results" reaching the outbox; "forget me" leaving nothing."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from axe import serious
from browser import SCREENSHOTS, WAIT_SECONDS, wait_for, wait_until
from flask import Blueprint, Flask, render_template
from jinja2 import StrictUndefined
from markupsafe import escape
from phone import ANSWERS, BY_TYPE, make_app
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from worker_kit import everything_in, run_worker

import bot.web
from bot import outbox
from bot.corpus import CORPUS_DIR, STANDARD_HOUSEHOLD, load_corpus
from bot.i18n import LANGUAGES
from bot.webtexts import load_web_texts
from worker.queues import OUTBOUND

pytest_plugins = ["redis_server", "browser", "worker_fixtures"]
pytestmark = pytest.mark.browser
TEXT_ME_NUMBER = "+14085550177"
PHONE = (390, 844)  # a common phone's viewport in CSS pixels
TYPED = ("number", "money", "zip", "text")  # questions a resident answers by typing


@pytest.fixture
def app(real_redis, content, worker_env):
    return make_app(real_redis, content, QUIET_HOURS="off")


@pytest.fixture
def door(app, browser, serve) -> Door:
    return Door(browser, serve(app))


class Door:
    """One resident on the web door in Chromium: what the page shows, and tapping or typing
    the way a resident does (each action waits until the page has settled)."""

    def __init__(self, driver: WebDriver, base: str):
        self.driver = driver
        self.base = base

    def open(self, lang: str = "en") -> None:
        self.driver.get(f"{self.base}/" if lang == "en" else f"{self.base}/{lang}")
        wait_for(self.driver, "#door")

    @property
    def page(self):
        return self.driver.find_element(By.ID, "door")

    @property
    def stage(self) -> str:
        return self.page.get_attribute("data-stage")

    @property
    def question(self) -> tuple[str, str]:
        """The current question's id and type ("" and "" when none is waiting)."""
        return self.page.get_attribute("data-question"), self.page.get_attribute("data-type")

    def bubbles(self, who: str = "") -> list[str]:
        css = f"#transcript .bubble{'.' + who if who else ''} .text"
        found = self.driver.find_elements(By.CSS_SELECTOR, css)
        return [bubble.get_attribute("textContent") for bubble in found]

    def buttons(self) -> list:
        return [b for b in self.driver.find_elements(By.CSS_SELECTOR, "#replies button")
                if b.is_displayed()]

    def mark(self) -> None:
        """Mark the bubbles shown now, so `settle` can tell the next answer from them."""
        self.driver.execute_script(
            "document.querySelectorAll('#transcript .bubble').forEach(b => b.dataset.seen = 1)")

    def settle(self) -> None:
        """Until the page shows an answer newer than `mark` and waits for nothing (whether the
        script added it or a plain form's round trip drew a new page)."""
        def settled(driver):
            return driver.execute_script(
                "const last = [...document.querySelectorAll('#transcript .bubble')].pop();"
                "return document.getElementById('log').getAttribute('aria-busy') !== 'true'"
                " && last !== undefined && !last.dataset.seen && last.matches('.bot')")
        try:  # polled often: a turn takes milliseconds, and a screening is some 20 turns
            WebDriverWait(self.driver, WAIT_SECONDS, poll_frequency=0.05).until(settled)
        except TimeoutException:
            notice = self.driver.find_element(By.ID, "notice").text
            raise AssertionError(f"no answer; the page says {notice!r}") from None

    def tap(self, index: int = 0) -> None:
        self.mark()
        self.buttons()[index].click()
        self.settle()

    def type(self, text: str) -> None:
        self.mark()
        box = self.driver.find_element(By.ID, "message")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        self.settle()

    def answer_until(self, done: Callable[[], bool], answer: Callable[[str, str], str | None],
                     limit: int = 40) -> None:
        """Answer whatever is asked until `done()`: `answer(question id, type)` is the text to
        type, or None to tap a button (the first; the second, No, at a yes/no question)."""
        for _ in range(limit):
            if done():
                return
            question, kind = self.question
            text = answer(question, kind) if self.stage == "asking" else None
            if text is None:
                self.tap(1 if kind == "yes_no" and self.stage == "asking" else 0)
            else:
                self.type(text)
        raise AssertionError(f"not there: stage {self.stage}, {self.bubbles()[-2:]}")

    def to_results(self, answer: Callable[[str, str], str | None]) -> None:
        self.answer_until(lambda: self.stage == "results", answer)

    def cards(self) -> list[str]:
        return [c.get_attribute("data-program")
                for c in self.driver.find_elements(By.CSS_SELECTOR, "#cards .card")]

    def fits(self) -> bool:
        """Nothing wider than the window: no sideways scrolling."""
        return self.driver.execute_script(
            "const e = document.documentElement; return e.scrollWidth <= e.clientWidth")

    @contextmanager
    def screen(self, width: int, height: int) -> Iterator[None]:
        """A phone's screen: the viewport exactly this size in CSS pixels, as on a phone."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
        try:
            yield
        finally:
            self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def phone_screenshot(driver: WebDriver, name: str) -> None:
    """What a phone shows, for the README: kept, like browser.screenshot's, unless missing
    or UPDATE_SCREENSHOTS=1 (that one widens the window to the page's width)."""
    path = SCREENSHOTS / f"{name}.png"
    if os.environ.get("UPDATE_SCREENSHOTS") or not path.exists():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(path))


def tapping(question: str, kind: str) -> str | None:
    """A resident who taps every button there is and types only numbers and ZIPs."""
    return (ANSWERS.get(question) or BY_TYPE[kind]) if kind in TYPED else None


def phrasings(lang: str) -> dict[str, str]:
    """Per question, the longest corpus phrasing that gives the corpus's standard household's
    answer (so the typed answers make one consistent household)."""
    best: dict[str, str] = {}
    for case in load_corpus(CORPUS_DIR / f"{lang}.yaml"):
        fits = (case.expect == "answer" and len(case.say) == 1 and not case.given
                and case.wanted == STANDARD_HOUSEHOLD.get(case.at))
        if fits and len(case.say[0]) > len(best.get(case.at, "")):
            best[case.at] = case.say[0]
    return best


def first_phrasing(lang: str) -> str:
    return next(case.say[0] for case in load_corpus(CORPUS_DIR / f"{lang}.yaml")
                if case.at == "first" and case.expect == "lang" and case.wanted == lang)


def contacts(redis) -> set[str]:
    """The hash tags of every contact with a key in Redis (`sj:{contact}:part`)."""
    found = set()
    for name in redis.scan_iter("sj:{*}:*"):
        tag = name.decode().split("{", 1)[1].split("}", 1)[0]
        if tag != "global":
            found.add(tag)
    return found


# -- residents ---------------------------------------------------------------------------------

def test_a_vietnamese_resident_taps_to_results_on_a_phone_sized_screen(door, content):
    door.open("vi")
    assert door.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "vi"
    door.tap()  # Start
    assert door.stage == "asking"
    door.answer_until(lambda: door.question[1] == "yes_no", tapping)
    assert [b.text for b in door.buttons()][:2] == ["Có", "Không"]
    with door.screen(*PHONE):
        assert door.fits()
        door.driver.execute_script(  # as the page's script leaves it: the box at the bottom
            "document.getElementById('compose').scrollIntoView({block: 'end'})")
        phone_screenshot(door.driver, "web_door_phone")
    door.to_results(tapping)
    assert door.cards(), "no result cards"
    first = door.driver.find_element(By.CSS_SELECTOR, "#cards .card")
    assert first.find_element(By.CSS_SELECTOR, "h3").text == content.text(
        "vi", content.rules.program(door.cards()[0]).name)
    links = first.find_elements(By.CSS_SELECTOR, ".links a")
    assert links and all(a.get_attribute("href").startswith(("tel:", "https:")) for a in links)
    assert door.driver.find_element(By.ID, "text-me").is_displayed()
    door.driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    with door.screen(320, 640):  # a 640 px wide screen at 200%: WCAG 1.4.10 reflow
        assert door.fits()


def test_a_hindi_resident_types_the_corpus_phrasings_to_results(door):
    said = phrasings("hi")
    door.open("hi")
    door.type(first_phrasing("hi"))
    asked = []
    while door.stage != "results" and len(asked) < 30:
        question, _ = door.question
        assert door.stage == "asking" and question in said, (door.stage, question)
        asked.append(question)
        door.type(said[question])
    assert door.stage == "results", asked
    assert door.cards() and "calfresh" in door.cards()
    assert set(door.bubbles("resident")) <= {first_phrasing("hi"), *said.values()}


def test_choosing_another_language_in_the_chat_moves_the_whole_page_into_it(door, content):
    door.open()
    door.tap()
    door.type(content.command_words("language", "en")[0])
    assert door.stage == "language"
    spanish = next(b for b in door.buttons() if b.text == content.flow.languages["es"].name)
    spanish.click()
    wait_until(door.driver, lambda d: d.current_url.endswith("/es"))
    wait_for(door.driver, "html[lang=es] #door[data-stage=asking]")
    spanish_label = load_web_texts().in_language(content, "es", days=30)["message_label"]
    assert door.driver.find_element(By.CSS_SELECTOR, "label[for=message]").text == spanish_label


def test_restart_and_stop_typed_in_the_chat_begin_the_conversation_afresh(door, content):
    door.open()
    door.tap()
    door.type(ANSWERS["age"])
    restart = content.command_words("restart", "en")[0]
    door.type(restart)
    assert door.bubbles("resident") == [restart] and len(door.bubbles("bot")) == 1
    stop = content.command_words("stop", "en")[0]
    door.type(stop)
    assert door.stage == "stopped"
    assert door.bubbles() == [stop, content.message("en", "stopped")]
    door.tap()  # Start: joins again
    assert door.stage == "asking" and len(door.bubbles()) == 2
    door.driver.refresh()  # the server's transcript says the same
    assert len(door.bubbles()) == 2


def test_offline_the_page_says_so_in_its_language_and_keeps_the_answer(door, content):
    door.open("pa")
    door.tap()
    shown = door.bubbles()
    offline = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    door.driver.execute_cdp_cmd("Network.enable", {})
    door.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, **offline})
    try:
        box = door.driver.find_element(By.ID, "message")
        box.send_keys(ANSWERS["age"], Keys.ENTER)
        said = load_web_texts().in_language(content, "pa", days=30)["offline"]
        wait_until(door.driver, lambda d: d.find_element(By.ID, "notice").text == said)
    finally:
        door.driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                                    {"offline": False, **offline})
    assert door.bubbles() == shown and box.get_attribute("value") == ANSWERS["age"]
    assert door.driver.switch_to.active_element == box
    door.mark()
    box.send_keys(Keys.ENTER)  # back online, the same answer goes with one key
    door.settle()
    assert door.bubbles("resident")[-1] == ANSWERS["age"]
    assert door.driver.find_element(By.ID, "notice").text == ""


def test_text_me_my_results_needs_consent_then_reaches_the_outbox(door, real_redis, content):
    door.open()
    door.tap()
    door.to_results(tapping)
    consent = door.driver.find_element(By.ID, "consent")
    assert not consent.is_selected()
    door.driver.find_element(By.ID, "phone").send_keys("(408) 555-0177")
    submit = door.driver.find_element(By.CSS_SELECTOR, "#text-me-form button[type=submit]")
    submit.click()  # unticked: the browser asks for the tick and nothing is sent
    assert door.driver.execute_script("return arguments[0].validity.valueMissing", consent)
    assert door.driver.find_element(By.ID, "text-me-status").text == ""
    consent.click()
    submit.click()
    status = door.driver.find_element(By.ID, "text-me-status")
    sent = door.page.get_attribute("data-sent")
    wait_until(door.driver, lambda d: status.text == sent)
    run_worker(real_redis, OUTBOUND)  # the estimate waits for the model's worker
    texts = [m for m in outbox.read() if m["to"] == TEXT_ME_NUMBER]
    assert len(texts) == 1 and texts[0]["channel"] == "sms"
    assert content.message("en", "results_header") in texts[0]["body"]


def with_a_navigator(door: Door, redis) -> str:
    """A resident on the page asks for a person and agrees to share: their contact."""
    before = contacts(redis)
    door.open()
    door.tap()
    door.to_results(tapping)
    door.type("can I talk to a person please")
    door.type("yes")
    assert door.stage == "with_navigator"
    [contact] = contacts(redis) - before
    return contact


def test_a_navigators_reply_shows_on_the_waiting_page_without_a_reload(
        real_redis, content, browser, serve, worker_env):
    app = make_app(real_redis, content, QUIET_HOURS="off", DOOR_POLL_SECONDS="0.3")
    door = Door(browser, serve(app))
    contact = with_a_navigator(door, real_redis)
    door.driver.execute_script("document.getElementById('door').dataset.kept = 'this page'")
    app.extensions["textline"].store.add_to_transcript(  # as the staff console's reply does
        contact, [("bot", "Hi! Do you have a pay stub?")])
    wait_until(door.driver, lambda d: door.bubbles()[-1] == "Hi! Do you have a pay stub?")
    assert door.page.get_attribute("data-kept") == "this page"  # no reload
    assert door.bubbles().count("Hi! Do you have a pay stub?") == 1
    box = door.driver.find_element(By.ID, "message")  # the bot is quiet: the case has it
    box.send_keys("yes I have two", Keys.ENTER)
    wait_until(door.driver, lambda d: door.bubbles()[-1] == "yes I have two")
    assert door.bubbles()[-2:] == ["Hi! Do you have a pay stub?", "yes I have two"]


def test_a_reply_not_yet_shown_comes_before_the_residents_next_message(
        real_redis, content, browser, serve, worker_env):
    app = make_app(real_redis, content, QUIET_HOURS="off", DOOR_POLL_SECONDS="3600")
    door = Door(browser, serve(app))
    contact = with_a_navigator(door, real_redis)
    app.extensions["textline"].store.add_to_transcript(contact, [("bot", "Are you there?")])
    door.driver.find_element(By.ID, "message").send_keys("hello?", Keys.ENTER)
    wait_until(door.driver, lambda d: door.bubbles()[-1] == "hello?")
    assert door.bubbles()[-2:] == ["Are you there?", "hello?"]


def test_forget_me_leaves_nothing_in_redis_for_that_session(door, real_redis):
    before = contacts(real_redis)
    door.open("es")
    door.tap()
    door.to_results(tapping)
    mine = contacts(real_redis) - before
    assert len(mine) == 1, mine
    door.driver.find_element(By.CSS_SELECTOR, "#forget-form button").click()
    forgotten = door.page.get_attribute("data-forgotten")
    wait_until(door.driver, lambda d: d.find_element(By.ID, "notice").text == forgotten)
    assert door.bubbles() == []
    contact = mine.pop()
    assert contact not in contacts(real_redis)
    assert not any(contact.encode() in item for item in everything_in(real_redis))
    assert door.driver.get_cookie("sj_web") is None


# -- accessibility -----------------------------------------------------------------------------

@pytest.mark.parametrize("lang", LANGUAGES)
def test_axe_finds_nothing_serious_at_the_start_a_question_and_the_results(door, lang):
    console_errors(door.driver)
    door.open(lang)
    assert serious(door.driver) == [], "start page"
    door.tap()  # Start
    assert door.stage == "asking"
    assert serious(door.driver) == [], f"question {door.question[0]}"
    door.to_results(tapping)
    door.driver.execute_script("document.querySelectorAll('details').forEach(d => d.open = true)")
    assert serious(door.driver) == [], "results"
    assert console_errors(door.driver) == []  # a CSP refusal would show here


def console_errors(driver: WebDriver) -> list[str]:
    """What the browser's console said was wrong since it was last asked."""
    return [entry["message"] for entry in driver.get_log("browser")
            if entry["level"] == "SEVERE"]


def test_keyboard_only_a_resident_tabs_to_a_button_and_presses_enter(door):
    door.open()
    door.driver.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    active = door.driver.switch_to.active_element
    assert active.get_attribute("class") == "skip"  # the first stop skips the languages
    for _ in range(20):
        if active.get_attribute("class") == "reply":
            break
        active.send_keys(Keys.TAB)
        active = door.driver.switch_to.active_element
    else:
        raise AssertionError("Tab never reached a quick reply")
    door.mark()
    active.send_keys(Keys.ENTER)
    door.settle()
    assert door.driver.switch_to.active_element.get_attribute("id") == "message"
    box = door.driver.switch_to.active_element
    door.mark()
    box.send_keys(ANSWERS["age"], Keys.ENTER)
    door.settle()
    assert door.driver.switch_to.active_element.get_attribute("id") == "message"
    assert door.bubbles("resident")[-1] == ANSWERS["age"]


def test_without_javascript_the_plain_forms_carry_the_whole_screening(door, content):
    door.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        door.open("pa")
        door.driver.execute_script("window.samePage = true")
        door.tap()  # each tap and each Enter is a form post answered by a new page
        assert door.driver.execute_script("return window.samePage") is None
        door.to_results(tapping)
        assert door.cards()
        assert door.driver.current_url.rstrip("/").endswith("/pa")
        said = load_web_texts().in_language(content, "pa", days=30)
        door.driver.find_element(By.ID, "phone").send_keys("408 555 0177")
        door.driver.find_element(By.ID, "consent").click()
        door.driver.find_element(By.ID, "text-me-form").submit()
        wait_until(door.driver, lambda d: d.find_element(By.ID, "notice").text
                   == said["text_me_sent"])
        door.driver.find_element(By.ID, "forget-form").submit()
        wait_until(door.driver, lambda d: d.find_element(By.ID, "notice").text
                   == said["forgotten"])
        assert door.bubbles() == []
    finally:
        door.driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


@pytest.mark.parametrize("lang,family", [("pa", "Door Gurmukhi"), ("hi", "Door Devanagari")])
def test_punjabi_and_hindi_pages_load_our_own_noto_font(door, lang, family):
    door.open(lang)
    loaded = door.driver.execute_script(
        "return document.fonts.ready.then(() => [...document.fonts]"
        ".filter(f => f.family.replace(/\"/g, '') === arguments[0] && f.status === 'loaded')"
        ".length)", family)
    assert loaded >= 1


# -- the templates alone, on a hand-made view ----------------------------------------------------

TEMPLATES = Path(bot.web.__file__).parent / "templates" / "door"
# A TEST FIXTURE, written by hand from the contract (docs/web.md): the view at the results,
# every part filled, with markup in a message that must show as text.
CONTRACT_VIEW_FIXTURE = {
    "lang": "en", "dir": "ltr",
    "transcript": [{"from": "resident", "text": "22 <b>not bold</b>"},
                   {"from": "bot", "text": "Each office decides.\n1 CalFresh"}],
    "replies": [], "stage": "results", "question": None,
    "buttons": [{"label": "More", "send": "more"}],
    "results": [{"number": 1, "id": "calfresh", "name": "CalFresh", "summary": "Food money.",
                 "details": "Most students must work.", "apply": "Call 408-758-3800.",
                 "caution": "Students: check the rules.",
                 "links": [{"href": "tel:+14087583800", "label": "408-758-3800"},
                           {"href": "https://BenefitsCal.com", "label": "BenefitsCal.com"}]}],
    "services": [{"name": "Food pantry", "phone": "408-555-0100", "href": "tel:+14085550100",
                  "address": "1 Main St", "hours": "Mon 9-5"}],
    "can_text_results": True,
}


def fixture_app(view: dict, content, lang: str = "en") -> Flask:
    """The page template alone, rendering `view` with the page's real texts (flows/web.yaml);
    a name the templates read that the view or the texts lack fails the page."""
    texts = load_web_texts().in_language(content, lang, days=30)
    languages = [{"code": code, "name": code.upper(), "href": f"/{code}"} for code in LANGUAGES]
    app = Flask(__name__)
    app.jinja_env.undefined = StrictUndefined
    app.register_blueprint(Blueprint("door", __name__, template_folder=TEMPLATES.parent,
                                     static_folder=TEMPLATES.parent.parent / "static" / "door",
                                     static_url_path="/static/door"))
    app.add_url_rule("/", "page", lambda: render_template(
        "door/page.html", view=view, lang=lang, texts=texts, languages=languages,
        notice=None, poll_ms=10_000))
    return app


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_templates_find_every_word_they_show_in_each_language(content, lang):
    page = fixture_app(CONTRACT_VIEW_FIXTURE, content, lang).test_client().get("/")
    assert page.status_code == 200
    call = load_web_texts().in_language(content, lang, days=30)["call"]
    assert str(escape(call.replace("{number}", "408-758-3800"))) in page.text
    assert "{days}" not in page.text


def test_a_contract_view_fixture_renders_every_part_as_plain_forms(browser, serve, content):
    base = serve(fixture_app(CONTRACT_VIEW_FIXTURE, content))
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(base)
        door = Door(browser, "")
        assert door.bubbles() == ["22 <b>not bold</b>", "Each office decides.\n1 CalFresh"]
        more = browser.find_element(By.CSS_SELECTOR, "#replies button")
        form = browser.find_element(By.ID, "replies")
        assert (form.get_attribute("method"), form.get_attribute("action").split("/", 3)[-1]) \
            == ("post", "chat/send")
        assert [more.get_attribute(a) for a in ("type", "name", "value")] == [
            "submit", "text", "more"]
        assert browser.find_element(By.CSS_SELECTOR, "label[for=message]").is_displayed()
        assert [a.text for a in browser.find_elements(By.CSS_SELECTOR, ".card .links a")] == [
            "Call 408-758-3800", "Go to BenefitsCal.com"]  # named: what a tap does
        assert browser.find_element(By.CSS_SELECTOR, ".service a").get_attribute("href") \
            == "tel:+14085550100"
        phone = browser.find_element(By.ID, "phone")
        assert (phone.get_attribute("type"), phone.get_attribute("autocomplete")) == ("tel", "tel")
        assert not browser.find_element(By.ID, "consent").is_selected()
        links = browser.find_elements(By.CSS_SELECTOR, "nav.languages a")
        assert [a.get_attribute("lang") for a in links] == list(LANGUAGES)
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    browser.get(base)
    assert serious(browser) == []
