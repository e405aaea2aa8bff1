"""The staff simulator: the same pipeline as Twilio's web hook, from fictional numbers only,
behind sign-in; the worker's follow-ups reach its thread and never Twilio."""

from __future__ import annotations

import re

import pytest
from browser import PASSWORDS, STAFF_USERS, screenshot, sign_in, wait_for, wait_until
from flow_copies import edit
from phone import ANSWERS, BY_TYPE, NUMBER, Phone, make_app
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from worker_kit import CREATED, make_due, run_worker

from bot import outbox, simulated, window
from bot.checkins import question_text
from bot.content import load_content
from bot.results import render_reminder
from bot.segments import count
from bot.store import key
from bot.web.staff.simulator import flow_problems
from worker.queues import OUTBOUND

pytest_plugins = ["redis_server", "browser", "worker_fixtures"]
# Answers typed in Punjabi where the flow takes words; numbers as residents type them.
PUNJABI = {"yes_no": "ਨਹੀਂ"}


@pytest.fixture
def app(fake_redis, content):
    return make_app(fake_redis, content, STAFF_USERS=STAFF_USERS, QUIET_HOURS="off")


class Staff:
    """A signed-in staff member's browser session on the simulator, through its JSON routes."""

    def __init__(self, app, name: str = "ana"):
        self.client = app.test_client()
        login = self.client.get("/staff/login").text
        response = self.client.post("/staff/login", data={
            "username": name, "password": PASSWORDS[name], "csrf_token": _token(login)})
        assert response.status_code == 302, response.text
        self.page = self.client.get("/staff/simulator")
        assert self.page.status_code == 200
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', self.page.text).group(1)

    def post(self, path: str, data: dict):
        return self.client.post(path, json=data, headers={"X-CSRFToken": self.csrf})

    def new_resident(self) -> int:
        return self.post("/staff/simulator/residents", {}).json["resident"]

    def send(self, resident: int, body: str, channel: str = "sms") -> list[dict]:
        response = self.post("/staff/simulator/send",
                             {"resident": resident, "body": body, "channel": channel})
        assert response.status_code == 200, response.text
        return response.json["replies"]

    def text(self, resident: int, body: str, channel: str = "sms") -> list[str]:
        return [reply["text"] for reply in self.send(resident, body, channel)]

    def thread(self, resident: int, after: int = 0) -> dict:
        return self.client.get(f"/staff/simulator/thread?resident={resident}&after={after}").json


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def resident_phone(app, resident: int) -> Phone:
    """The resident's session as the app keeps it (the phone is never used to text)."""
    return Phone(app, number=simulated.number(resident))


def answer(phone: Phone, words: dict[str, str] | None = None) -> str:
    """What a resident answers to the current question (`Phone.answer_current_question`)."""
    session = phone.session
    if session is None or session["stage"] != "asking":
        return "1"
    question = phone.app.extensions["textline"].content.flow.question(session["question"])
    return ANSWERS.get(question.id) or (words or {}).get(question.type) or BY_TYPE[question.type]


def screen_to_results(staff: Staff, app, resident: int) -> None:
    staff.text(resident, "hello")
    phone = resident_phone(app, resident)
    for _ in range(40):
        if (phone.session or {}).get("stage") == "results":
            return
        staff.text(resident, answer(phone))
    raise AssertionError(f"no results: {phone.session}")


# -- fictional residents ----------------------------------------------------------------------

def test_residents_are_the_hundred_numbers_reserved_for_fiction():
    numbers = [simulated.number(n) for n in range(simulated.RESIDENTS)]
    assert numbers[0] == "+15555550100" and numbers[-1] == "+15555550199"
    assert all(simulated.is_fictional(n) and simulated.is_fictional(f"whatsapp:{n}")
               for n in numbers)
    for real in (NUMBER, "+15555550200", "+14085550100", "+155555501000", "5555550100"):
        assert not simulated.is_fictional(real), real
    for outside in (-1, 100):
        with pytest.raises(ValueError):
            simulated.number(outside)


def test_the_simulator_texts_as_a_fictional_resident_never_a_number_from_the_browser(
        app, fake_redis):
    staff = Staff(app)
    resident = staff.new_resident()
    response = staff.post("/staff/simulator/send", {"resident": resident, "body": "hello",
                                                    "From": NUMBER, "channel": "sms"})
    assert response.status_code == 200
    assert Phone(app).session is None  # the number the browser named was never used
    assert resident_phone(app, resident).session["stage"] == "asking"
    for wrong in (100, -1, "7x", None, True, "٣", 3.0, NUMBER):
        assert staff.post("/staff/simulator/send", {"resident": wrong, "body": "hi"}) \
            .status_code == 400, wrong
        assert staff.client.get(f"/staff/simulator/thread?resident={wrong}").status_code == 400
    assert staff.post("/staff/simulator/send", [resident, "hi"]).status_code == 400
    sessions = set(fake_redis.scan_iter("sj:{*}:session"))
    assert sessions == {key(resident_phone(app, resident).contact, "session").encode()}


def test_new_residents_go_round_the_fictional_numbers_and_start_clean(app, fake_redis):
    staff = Staff(app)
    first = staff.new_resident()
    staff.text(first, "hello")
    staff.text(first, "STOP")
    contact = resident_phone(app, first).contact
    assert app.extensions["textline"].store.opt_out_record(contact) is not None
    fake_redis.rpush(simulated.thread_key(contact), "old follow-up")
    seen = {staff.new_resident() for _ in range(simulated.RESIDENTS - 1)}
    assert seen == set(range(simulated.RESIDENTS)) - {first}
    again = staff.new_resident()  # the hundredth after: the same number, wiped clean
    assert again == first
    assert resident_phone(app, again).session is None
    assert not fake_redis.keys(key(contact, "*"))
    assert staff.text(again, "hello")  # no longer opted out: it answers
    assert staff.thread(again) == {"messages": [], "next": 0}


# -- the same pipeline ------------------------------------------------------------------------

def test_the_simulator_answers_exactly_as_the_twilio_web_hook(app):
    staff, resident = Staff(app), 0
    phone = Phone(app)
    said = phone.text("hello")
    assert staff.text(resident, "hello") == said
    for _ in range(40):
        if phone.session["stage"] == "results":
            break
        body = answer(phone)
        assert staff.text(resident, body) == phone.text(body), body
    assert resident_phone(app, resident).session["stage"] == "results"
    for body in ("MORE", "1", "HELP", "RESTART"):
        assert staff.text(resident, body) == phone.text(body), body


def test_each_reply_shows_its_sms_segments_and_encoding(app):
    staff = Staff(app)
    for resident, greeting in ((staff.new_resident(), "hello"),
                               (staff.new_resident(), "ਸਤ ਸ੍ਰੀ ਅਕਾਲ")):
        replies = staff.send(resident, greeting)
        assert replies
        for reply in replies:
            cost = count(reply["text"])
            assert (reply["segments"], reply["encoding"]) == (cost.segments, cost.encoding)
    assert {reply["encoding"] for reply in replies} == {"UCS-2"}  # Gurmukhi


def test_whatsapp_messages_come_from_the_residents_whatsapp_address(app, fake_redis):
    staff = Staff(app)
    resident = staff.new_resident()
    staff.text(resident, "hello", channel="whatsapp")
    contact = resident_phone(app, resident).contact
    assert window.is_open(fake_redis, contact, app.extensions["textline"].clock())


def test_reset_texts_the_restart_command_through_the_pipeline(app, content):
    staff = Staff(app)
    assert 'data-restart="RESTART"' in staff.page.text
    resident = staff.new_resident()
    staff.text(resident, "hello")
    staff.text(resident, "22")
    said = staff.text(resident, "RESTART")
    assert said[0].startswith(content.message("en", "restarted"))
    assert resident_phone(app, resident).session["answers"] == {}


# -- follow-ups from the worker ---------------------------------------------------------------

def test_a_follow_up_from_the_worker_reaches_the_thread_and_never_twilio(app, fake_redis,
                                                                         content, twilio_api):
    http = twilio_api(CREATED)  # credentials set: a real number's follow-up would go out
    staff = Staff(app)
    resident = staff.new_resident()
    screen_to_results(staff, app, resident)
    assert staff.thread(resident) == {"messages": [], "next": 0}
    staff.text(resident, "REMIND")
    programs = resident_phone(app, resident).session["programs"]
    make_due(fake_redis, OUTBOUND)  # the reminder, and "Did you apply?" a week on
    run_worker(fake_redis, OUTBOUND)
    assert http.posts == []
    assert outbox.read() == []
    shown = staff.thread(resident)
    expected = (render_reminder(content, "en", programs),
                question_text(content, "en", "applied", programs))
    assert sorted(m["text"] for m in shown["messages"]) == sorted(expected)
    assert all((m["segments"], m["encoding"]) == (count(m["text"]).segments,
                                                  count(m["text"]).encoding)
               for m in shown["messages"])
    assert shown["next"] == 2
    assert staff.thread(resident, after=2) == {"messages": [], "next": 2}


# -- the page ---------------------------------------------------------------------------------

def test_the_page_offers_each_language_greeting_the_campaigns_and_both_channels(app, content):
    page = Staff(app).page.text
    for code in content.languages:
        language = content.flow.languages[code]
        assert f'data-start="{language.detect[0]}"' in page and language.name in page
    for campaign in content.campaigns.campaigns:
        assert f'value="{campaign.keywords[0]}"' in page
    assert 'value="sms"' in page and 'value="whatsapp"' in page
    assert "simulator.js" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing from elsewhere


def test_the_flows_lint_problems_are_shown_at_the_top(fake_redis, flows):
    line = edit(flows / "screener.yaml",
                '    ask: "How old are you?"',
                '    ask: "' + "How old are you, really and truly? " * 10 + '"')
    app = make_app(fake_redis, load_content(flows), STAFF_USERS=STAFF_USERS)
    page = Staff(app).page.text
    assert f"flows/screener.yaml:{line}" in page
    assert "question &#39;age&#39; takes 3 SMS segments in en" in page
    assert page.index("screener.yaml:") < page.index('id="thread"')
    assert flow_problems(str(flows)) is flow_problems(str(flows))  # linted once per process


# -- signed in only ---------------------------------------------------------------------------

def test_nobody_signed_out_can_text_through_the_simulator(app, fake_redis):
    client = app.test_client()
    token = _token(client.get("/staff/login").text)
    for path in ("/staff/simulator", "/staff/simulator/thread?resident=0"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    for path in ("/staff/simulator/send", "/staff/simulator/residents"):
        response = client.post(path, json={"resident": 0, "body": "hello"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert fake_redis.keys("sj:{*") == []


def test_a_post_without_its_csrf_token_is_refused(app, fake_redis):
    staff = Staff(app)
    response = staff.client.post("/staff/simulator/send", json={"resident": 0, "body": "hello"})
    assert response.status_code == 400
    assert resident_phone(app, 0).session is None


def test_the_open_development_simulator_is_gone(fake_redis, content):
    client = make_app(fake_redis, content, TWILIO_ACCOUNT_SID="", TWILIO_AUTH_TOKEN="",
                      SIMULATOR="1").test_client()
    for path in ("/simulator", "/simulator/outbox"):
        assert client.get(path).status_code == 404
    assert client.post("/simulator/send", json={"Body": "hi", "From": NUMBER}) \
        .status_code == 404
    assert fake_redis.keys("sj:{*") == []


def test_every_role_may_use_the_simulator(app):
    for name in PASSWORDS:
        staff = Staff(app, name)
        assert staff.text(staff.new_resident(), "hello")


# -- in a real browser ------------------------------------------------------------------------

def bot_bubbles(driver) -> list[str]:
    return [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#thread .bubble.bot")]


def settled(driver, more_than: int):
    """Once the page has shown more than `more_than` bot bubbles and waits for nothing."""
    def check(d):
        busy = d.find_element(By.ID, "thread").get_attribute("aria-busy") == "true"
        return not busy and len(bot_bubbles(d)) > more_than
    return check


@pytest.mark.browser
def test_in_chromium_a_whole_punjabi_screening_reaches_the_results(app, browser, serve,
                                                                   content):
    base = serve(app)
    sign_in(browser, base, "nia")  # a navigator may use it too
    browser.get(f"{base}/staff/simulator")
    wait_for(browser, "#thread")
    punjabi = content.flow.languages["pa"]
    browser.find_element(By.CSS_SELECTOR, f'button[data-start="{punjabi.detect[0]}"]').click()
    wait_until(browser, settled(browser, 0))  # the welcome and the first question: one text
    resident = int(browser.find_element(By.ID, "thread").get_attribute("data-resident"))
    phone = resident_phone(app, resident)
    assert phone.session["lang"] == "pa"
    header = content.message("pa", "results_header")
    for _ in range(40):
        if (phone.session or {}).get("stage") == "results":
            break
        shown = len(bot_bubbles(browser))
        box = browser.find_element(By.ID, "body")
        box.send_keys(answer(phone, PUNJABI))
        box.send_keys(Keys.ENTER)
        wait_until(browser, settled(browser, shown))
    results = bot_bubbles(browser)[-1]
    assert results.startswith(header) and "\n1 " in results
    assert re.search(r"\d+ segments? · UCS-2", results)
    total = sum(int(n) for n in re.findall(r"(\d+) segments? · ", "\n".join(
        bot_bubbles(browser))))
    assert browser.find_element(By.ID, "cost").text == f"{total} segments sent"
    assert browser.find_element(By.ID, "status").text == ""
    screenshot(browser, "simulator")
    browser.set_window_size(390, 844)  # a phone: nothing wider than the screen
    try:
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        browser.set_window_size(1280, 900)
