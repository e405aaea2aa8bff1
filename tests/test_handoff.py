"""The hand-off to a city navigator: a resident asks for a person in their own words, agrees to
share their answers, a case opens for navigators (never with the phone number), the resident's
texts go into it while the bot stays quiet, a navigator's reply reaches the resident through
the worker, and closing the case hands the resident back to the bot."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from browser import PASSWORDS, STAFF_USERS, screenshot, sign_in, wait_for, wait_until
from phone import NUMBER, Phone, make_app
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from worker_kit import run_worker

from bot import cases, outbox
from bot.flow import RESULTS
from bot.store import Change
from worker import outbound
from worker.queues import OUTBOUND

pytest_plugins = ["redis_server", "worker_fixtures", "browser"]
CITY = ZoneInfo("America/Los_Angeles")
TUESDAY_NOON = datetime(2027, 1, 12, 12, 0, tzinfo=CITY).timestamp()
SUNDAY_NIGHT = datetime(2027, 1, 17, 23, 0, tzinfo=CITY).timestamp()


class Line:
    def __init__(self, redis, content, monkeypatch, now: float):
        self.now = now
        monkeypatch.setattr(outbound, "clock", lambda: self.now)
        self.redis, self.content = redis, content
        self.app = make_app(redis, content, STAFF_USERS=STAFF_USERS, QUIET_HOURS="off",
                            CLOCK=lambda: self.now)
        self.resident = Phone(self.app)

    def navigator(self, name: str = "nia"):
        client = self.app.test_client()
        token = csrf(client.get("/staff/login").text)
        client.post("/staff/login", data={"username": name, "password": PASSWORDS[name],
                                          "csrf_token": token})
        return client

    def sent(self) -> list[str]:
        run_worker(self.redis, OUTBOUND)
        return [m["body"] for m in outbox.read() if m["to"] == NUMBER]


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


@pytest.fixture
def line(fake_redis, content, worker_env, monkeypatch) -> Line:
    return Line(fake_redis, content, monkeypatch, TUESDAY_NOON)


def at_results_asking_for_a_person(line: Line) -> list[str]:
    line.resident.screen_to_results()
    said = line.resident.text("can I talk to a person please")
    assert said == [line.content.message("en", "handoff_consent")]
    return said


def test_asking_for_a_person_asks_consent_first_and_no_keeps_the_bot(line, content):
    at_results_asking_for_a_person(line)
    said = line.resident.text("no")
    assert said[0].startswith(content.message("en", "handoff_declined"))
    assert line.resident.session["stage"] == RESULTS
    assert cases.open_cases(line.redis) == []


def test_with_consent_a_case_opens_with_the_answers_and_never_the_number(line, content):
    at_results_asking_for_a_person(line)
    assert line.resident.text("yes") == [content.message("en", "handoff_opened")]
    [case] = cases.open_cases(line.redis)
    assert case.lang == "en" and case.channel == "sms" and case.staffed
    assert case.answers["age"] == 22 and case.programs == line.resident.session["programs"]
    navigator = line.navigator()
    page = navigator.get(f"/staff/cases/{case.id}").text
    listing = navigator.get("/staff/cases").text
    for shown in (page, listing):
        assert NUMBER not in shown and NUMBER[2:] not in shown and "555-0123" not in shown
    assert content.text("en", content.rules.program(case.programs[0]).name) in page


def test_while_a_case_is_open_the_bot_is_quiet_and_the_texts_reach_the_case(line):
    at_results_asking_for_a_person(line)
    line.resident.text("yes")
    assert line.resident.text("hello? are you there") == []
    assert line.resident.text("1") == []  # not read as a results number either
    [case] = cases.open_cases(line.redis)
    assert [m.text for m in cases.messages(line.redis, case.id)] == [
        "hello? are you there", "1"]
    assert cases.waiting_since(line.redis, case) is not None


def test_a_crisis_is_answered_at_once_even_with_a_navigator(line, content):
    at_results_asking_for_a_person(line)
    line.resident.text("yes")
    said = line.resident.text("i want to kill myself")
    assert said and "988" in " ".join(said)


def test_a_navigator_reply_reaches_the_resident_and_closing_hands_them_back(line, content):
    at_results_asking_for_a_person(line)
    line.resident.text("yes")
    line.resident.text("I need help with CalFresh")
    [case] = cases.open_cases(line.redis)
    navigator = line.navigator()
    page = navigator.get(f"/staff/cases/{case.id}").text
    navigator.post(f"/staff/cases/{case.id}/claim", data={"csrf_token": csrf(page)})
    assert cases.load(line.redis, case.id).claimed_by == "nia"
    reply = "Hi! I can help. Do you have a pay stub?"
    navigator.post(f"/staff/cases/{case.id}/reply", data={"body": reply,
                                                          "csrf_token": csrf(page)})
    assert line.sent() == [reply]
    assert cases.waiting_since(line.redis, case) is None
    navigator.post(f"/staff/cases/{case.id}/close", data={"csrf_token": csrf(page)})
    sent = line.sent()
    assert sent[1].startswith(content.message("en", "handoff_closed"))
    assert cases.open_cases(line.redis) == []
    assert line.resident.session["stage"] == RESULTS and "case" not in line.resident.session
    assert line.resident.text("1")  # the bot answers again
    actions = [(e["staff"], e["action"]) for e in cases.audit_log(line.redis, case.id)]
    assert actions == [("nia", "closed"), ("nia", "replied"), ("nia", "claimed")]


def test_after_hours_the_resident_gets_2_1_1_and_988_and_the_case_waits(
        fake_redis, content, worker_env, monkeypatch):
    late = Line(fake_redis, content, monkeypatch, SUNDAY_NIGHT)
    at_results_asking_for_a_person(late)
    said = late.resident.text("yes")
    assert said == [content.message("en", "handoff_after_hours")]
    assert "2-1-1" in said[0] and "988" in said[0]
    [case] = cases.open_cases(late.redis)
    assert not case.staffed


def test_stop_erases_the_case_at_once(line):
    at_results_asking_for_a_person(line)
    line.resident.text("yes")
    [case] = cases.open_cases(line.redis)
    line.resident.text("STOP")
    assert cases.load(line.redis, case.id) is None and cases.open_cases(line.redis) == []
    assert cases.messages(line.redis, case.id) == []


def test_i_need_help_after_did_you_apply_offers_a_person(line, content):
    line.resident.screen_to_results()
    session = line.resident.session
    session.update(stage="follow_up", follow_up={"kind": "applied",
                                                 "programs": session["programs"][:2]})
    line.resident.store.commit(line.resident.contact, Change([], session=session), line.now)
    said = " ".join(line.resident.text("3"))
    assert content.message("en", "offer_person") in said
    assert line.resident.text("PERSON") == [content.message("en", "handoff_consent")]


def test_only_navigators_and_admins_open_cases(line):
    assert line.navigator("sam").get("/staff/cases").status_code == 403
    assert line.navigator("nia").get("/staff/cases").status_code == 200
    assert line.navigator("ana").get("/staff/cases").status_code == 200


@pytest.mark.browser
def test_in_chromium_a_hand_off_from_talk_to_a_person_to_a_reply_and_closing(
        line, content, browser, serve):
    at_results_asking_for_a_person(line)
    line.resident.text("yes")
    line.resident.text("I need help with CalFresh")
    base = serve(line.app)
    sign_in(browser, base, "nia")
    browser.get(f"{base}/staff/cases")
    link = wait_for(browser, "table.cases a")
    link.click()
    wait_for(browser, "#thread")
    assert "I need help with CalFresh" in browser.find_element(By.ID, "thread").text
    claim = browser.find_element(By.ID, "claim")
    claim.click()
    wait_until(browser, expected_conditions.staleness_of(claim))  # the claimed case's page
    wait_for(browser, "#body")
    browser.find_element(By.CSS_SELECTOR, ".saved-reply").click()
    typed = browser.find_element(By.ID, "body").get_attribute("value")
    assert typed == content.text("en", content.handoff.saved_replies[0].text)
    screenshot(browser, "case")
    browser.find_element(By.ID, "send").click()
    wait_for(browser, ".msg.navigator")
    assert line.sent() == [typed]
    browser.find_element(By.ID, "close").click()
    # The case page has an h1 too: wait for the list the close leads back to, not any h1.
    wait_until(browser, lambda driver: "No open cases" in driver.page_source)
    assert line.sent()[-1].startswith(content.message("en", "handoff_closed"))


def test_a_flow_edit_under_an_open_case_keeps_the_resident_with_the_navigator(
        line, content, tmp_path):
    from flow_copies import copy_flows, remove_question

    from bot.content import load_content
    from bot.engine import back_from_navigator, step

    line.resident.text("hello")
    line.resident.text("22")  # at the ZIP question
    line.resident.text("PERSON")
    line.resident.text("yes")
    session = line.resident.session
    edited = load_content(remove_question(copy_flows(tmp_path), "zip", "household_size"))
    quiet = step(edited, session, "are you there?", line.now + 60)
    assert quiet.session["stage"] == "with_navigator" and quiet.replies == []
    back = back_from_navigator(edited, quiet.session, line.now + 120)
    assert back.session["stage"] == "asking"  # the ZIP question is gone: the next open one
    assert back.session["question"] == "household_size"
    assert back.replies[0].startswith(content.message("en", "handoff_closed"))
