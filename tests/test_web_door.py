"""The resident web door (issue 15), through Flask's test client on a real Redis: the same
pipeline as SMS, the cookie, the transcript, forget me, the limits, the headers, "text me my
results" through the worker to the outbox, and the same programs as by SMS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from browser import PASSWORDS, STAFF_USERS
from flask import Flask
from itsdangerous import URLSafeSerializer
from markupsafe import escape
from phone import ANSWERS, BY_TYPE, SECRET, Phone, make_app
from resident import Script, spoken
from rq import Queue
from test_conversations import PERSONAS
from test_handoff import csrf
from worker_kit import everything_in, run_worker

from bot import cases, outbox, ratelimit
from bot.i18n import LANGUAGES
from bot.store import contact_id, key
from bot.web import door
from worker.queues import OUTBOUND

pytest_plugins = ["redis_server", "worker_fixtures"]
JSON = {"Accept": "application/json"}
TEXT_ME = "+14085550177"
TYPED = ("number", "money", "zip", "text")


class Jobs:
    """A job port that records what it is given."""

    def __init__(self):
        self.queued: list[tuple[str, list]] = []

    def enqueue(self, address, jobs, turn_id, now) -> None:
        self.queued.append((address, list(jobs)))

    def cancel(self, contact) -> None:
        """Nothing is queued anywhere."""


@pytest.fixture
def jobs() -> Jobs:
    return Jobs()


@pytest.fixture
def app(real_redis, content, jobs) -> Flask:
    return make_app(real_redis, content, JOBS=jobs)


class Browser:
    """One resident's browser on the door: the test client keeps its cookie."""

    def __init__(self, app: Flask, lang: str = "en", address: str = "203.0.113.7",
                 base: str = "http://localhost"):
        self.app = app
        self.lang = lang
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address
        self.base = base
        self.view: dict[str, Any] = {}

    def post(self, path: str, data: dict[str, str], json: bool = True, **headers: str):
        return self.client.post(path, data={"lang": self.lang, **data}, base_url=self.base,
                                headers={**(JSON if json else {}), **headers})

    def send(self, text: str) -> dict[str, Any]:
        response = self.post("/chat/send", {"text": text})
        assert response.status_code == 200, response.data
        self.view = response.get_json()
        return self.view

    def tap(self, index: int = 0) -> dict[str, Any]:
        return self.send(self.view["buttons"][index]["send"])

    def to_results(self) -> dict[str, Any]:
        """Start, then tap buttons (No at a yes/no) and type numbers, as a resident does."""
        self.send(self.app.extensions["textline"].content.command_words("start",
                                                                        self.lang)[0])
        for _ in range(40):
            if self.view["stage"] == "results":
                return self.view
            question = self.view["question"]
            if question and question["type"] in TYPED:
                self.send(ANSWERS.get(question["id"]) or BY_TYPE[question["type"]])
            else:
                self.tap(1 if question and question["type"] == "yes_no" else 0)
        raise AssertionError(self.view)

    @property
    def cookie(self) -> str | None:
        found = self.client.get_cookie(door.COOKIE)
        return found.value if found else None

    @property
    def session_id(self) -> str:
        return URLSafeSerializer("unused").loads_unsafe(self.cookie)[1]

    @property
    def contact(self) -> str:
        return contact_id(SECRET.encode(), f"web:{self.session_id}")


def keys_of(redis, contact: str) -> list[bytes]:
    return list(redis.scan_iter(f"sj:{{{contact}}}:*"))


# -- the conversation -------------------------------------------------------------------------

def test_a_resident_taps_to_results_and_the_transcript_holds_every_message(app, content):
    browser = Browser(app, "vi")
    sent = []
    browser.send("BẮT ĐẦU")
    replies = list(browser.view["replies"])
    assert browser.view["lang"] == "vi" and browser.view["stage"] == "asking"
    while browser.view["stage"] != "results":
        question = browser.view["question"]
        if question["type"] in TYPED:
            text = ANSWERS.get(question["id"]) or BY_TYPE[question["type"]]
            sent.append(text)
        else:
            button = browser.view["buttons"][1 if question["type"] == "yes_no" else 0]
            text = button["send"]
            sent.append(button["label"])  # the transcript shows what was tapped
        replies += browser.send(text)["replies"]
    transcript = browser.view["transcript"]
    assert [m["text"] for m in transcript if m["from"] == "bot"] == replies
    assert [m["text"] for m in transcript if m["from"] == "resident"][1:] == sent
    assert transcript[0]["from"] == "resident"
    session = app.extensions["textline"].store.snapshot(browser.contact, None).session
    assert [card["id"] for card in browser.view["results"]] == session["programs"]
    assert browser.view["can_text_results"] and browser.view["services"]


def test_a_page_starts_in_its_own_language_without_the_language_menu(app):
    view = Browser(app, "hi").send("hello")
    assert (view["lang"], view["stage"]) == ("hi", "asking")


def test_without_javascript_a_form_post_goes_back_to_the_page_that_shows_the_reply(app):
    browser = Browser(app, "vi")
    response = browser.post("/chat/send", {"text": "xin chào"}, json=False)
    assert response.status_code == 303 and response.headers["Location"] == "/vi"
    page = browser.client.get("/vi").get_data(as_text=True)
    assert escape("xin chào") in page and 'data-stage="asking"' in page
    assert 'lang="vi"' in page


def test_a_web_turn_queues_no_jobs_it_has_no_number_to_text(app, jobs):
    Browser(app).to_results()
    assert jobs.queued == []  # by SMS: the nudge, the estimate and "Did you apply?"


def test_stop_typed_on_the_page_erases_the_conversation_and_start_brings_it_back(
        app, content, real_redis):
    browser = Browser(app, "es")
    browser.send("hola")
    browser.send("22")
    stopped = browser.send("ALTO")
    assert stopped["replies"] == [content.message("es", "stopped")]
    assert (stopped["stage"], stopped["transcript"]) == ("stopped", [])
    parts = {name.decode().split("}:", 1)[1] for name in keys_of(real_redis, browser.contact)}
    assert "optout" in parts and not parts & {"session", "transcript"}  # as by SMS
    assert browser.send("hola")["replies"] == []  # opted out: silence, as by SMS
    again = browser.tap()  # Start
    assert again["replies"][0].startswith(content.message("es", "started"))
    assert again["stage"] == "asking" and len(again["transcript"]) == 2


def test_help_and_restart_work_as_typed(app, content):
    browser = Browser(app)
    browser.send("hi")
    browser.send("22")
    assert content.message("en", "help") in browser.send("HELP")["replies"][0]
    restarted = browser.send("RESTART")
    assert restarted["transcript"][0] == {"from": "resident", "text": "RESTART"}
    assert len(restarted["transcript"]) == 1 + len(restarted["replies"])


def test_the_transcript_keeps_the_last_sixty_messages(app, real_redis):
    app.extensions["textline"].limits = ratelimit.Limits(per_contact=100)
    browser = Browser(app)
    browser.send("hi")
    for _ in range(40):
        browser.send("what?")
    transcript = browser.view["transcript"]
    assert len(transcript) == 60 and transcript[-2:] == [
        {"from": "resident", "text": "what?"}, {"from": "bot", "text": browser.view["replies"][0]}]
    assert real_redis.ttl(key(browser.contact, "transcript")) > 29 * 86400


def test_remind_at_the_results_points_to_text_me_instead_of_promising_a_text(app, jobs):
    browser = Browser(app, "vi")
    browser.to_results()
    view = browser.send("NHẮC TÔI")
    words = app.extensions["door_texts"].in_language(
        app.extensions["textline"].content, "vi", 30)
    assert view["replies"] == [words["remind_by_text"]]
    assert view["transcript"][-2:] == [{"from": "resident", "text": "NHẮC TÔI"},
                                       {"from": "bot", "text": words["remind_by_text"]}]
    assert view["stage"] == "results" and jobs.queued == []


def test_the_language_menu_moves_the_conversation_and_the_page(app, content):
    browser = Browser(app)
    browser.send("hi")
    menu = browser.send(content.command_words("language", "en")[0])
    spanish = next(b for b in menu["buttons"] if b["label"] == "Español")
    assert browser.send(spanish["send"])["lang"] == "es"
    assert browser.post("/chat/send", {"text": "22"}, json=False).headers["Location"] == "/"
    browser.lang = "es"
    assert browser.post("/chat/send", {"text": "22"}, json=False).headers["Location"] == "/es"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_each_language_has_its_page_with_its_own_words(app, content, lang):
    page = Browser(app).client.get("/" if lang == "en" else f"/{lang}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'<html lang="{lang}" dir="ltr">' in text
    words = app.extensions["door_texts"].in_language(content, lang, 30)
    assert escape(words["send"]) in text and "30" in words["privacy"]


# -- the session ----------------------------------------------------------------------------------

def test_the_cookie_is_signed_httponly_samesite_strict_and_secure_over_https(app):
    plain = Browser(app).post("/chat/send", {"text": "hi"})
    cookie = plain.headers["Set-Cookie"]
    assert cookie.startswith("sj_web=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Path=/" in cookie and "Secure" not in cookie
    assert "Max-Age" not in cookie and "Expires" not in cookie  # ends with the browser
    secure = Browser(app, base="https://localhost").post("/chat/send", {"text": "hi"})
    assert "Secure" in secure.headers["Set-Cookie"]
    app.config["PUBLIC_URL"] = "https://benefits.example.org"  # TLS ends at a proxy
    proxied = Browser(app).post("/chat/send", {"text": "hi"}, Origin="https://benefits.example.org")
    assert "Secure" in proxied.headers["Set-Cookie"]
    assert proxied.headers["Strict-Transport-Security"].startswith("max-age=")


def test_a_forged_cookie_is_a_new_session(app):
    browser = Browser(app)
    browser.send("hi")
    browser.send("22")
    forged = URLSafeSerializer("not our secret", salt=door.COOKIE).dumps(browser.session_id)
    browser.client.set_cookie(door.COOKIE, forged)
    assert browser.send("hi")["transcript"][0] == {"from": "resident", "text": "hi"}
    assert len(browser.view["transcript"]) == 2


def test_the_contact_is_the_keyed_hash_of_its_id_which_redis_never_holds(app, real_redis):
    browser = Browser(app)
    browser.to_results()
    assert keys_of(real_redis, browser.contact)
    assert contact_id(SECRET.encode(), f"web:{browser.session_id}") == browser.contact
    assert not any(browser.session_id.encode() in item for item in everything_in(real_redis))


def test_forget_erases_every_key_of_the_session_at_once(app, real_redis):
    browser = Browser(app, "es")
    browser.to_results()
    contact = browser.contact
    assert len(keys_of(real_redis, contact)) >= 4  # session, transcript, replies, rate
    answer = browser.post("/chat/forget", {})
    assert answer.get_json()["forgotten"] is True
    assert answer.get_json()["stage"] == "start" and len(answer.get_json()["buttons"]) == 1
    assert keys_of(real_redis, contact) == []
    assert not any(contact.encode() in item for item in everything_in(real_redis))
    assert browser.cookie is None
    assert Browser(app).post("/chat/forget", {}, json=False).headers["Location"] \
        == "/?notice=forgotten"


def test_forget_also_erases_a_case_opened_for_a_navigator(app, content, real_redis):
    browser = Browser(app)
    browser.send("hi")
    browser.send(content.command_words("person", "en")[0])
    browser.send("yes")
    case = app.extensions["textline"].store.snapshot(browser.contact, None).session["case"]
    assert real_redis.exists(f"sj:case:{{{case}}}")
    browser.post("/chat/forget", {})
    assert not real_redis.exists(f"sj:case:{{{case}}}")


def test_a_navigators_reply_and_the_closing_note_reach_the_page_not_the_worker(
        real_redis, content, jobs):
    app = make_app(real_redis, content, JOBS=jobs, STAFF_USERS=STAFF_USERS)
    browser = Browser(app)
    browser.to_results()
    browser.send("can I talk to a person please")
    browser.send("yes")
    [case] = cases.open_cases(real_redis)
    navigator = app.test_client()
    navigator.post("/staff/login", data={"username": "nia", "password": PASSWORDS["nia"],
                                         "csrf_token": csrf(navigator.get("/staff/login").text)})
    token = csrf(navigator.get(f"/staff/cases/{case.id}").text)
    navigator.post(f"/staff/cases/{case.id}/reply", data={"body": "Hi! Do you have a pay stub?",
                                                          "csrf_token": token})
    navigator.post(f"/staff/cases/{case.id}/close", data={"csrf_token": token})
    page = browser.client.get("/").get_data(as_text=True)
    assert "Hi! Do you have a pay stub?" in page
    assert escape(content.message("en", "handoff_closed")) in page
    assert jobs.queued == []  # nothing for the worker to text: there is no number


def test_chat_state_gives_a_waiting_page_the_navigators_reply(real_redis, content, jobs):
    app = make_app(real_redis, content, JOBS=jobs)
    assert Browser(app).client.get("/chat/state").get_json()["stage"] == "start"
    browser = Browser(app, lang="es")
    browser.send("hola")
    browser.send(content.command_words("person", "es")[0])
    browser.send("sí")
    app.extensions["textline"].store.add_to_transcript(browser.contact, [("bot", "¡Hola!")])
    state = browser.client.get("/chat/state?lang=es").get_json()
    assert state["stage"] == "with_navigator" and state["lang"] == "es"
    assert state["transcript"][-1] == {"from": "bot", "text": "¡Hola!"}
    assert state["replies"] == []


# -- limits and headers -------------------------------------------------------------------------

def test_a_session_flooding_the_door_gets_the_text_lines_own_notice(real_redis, content, jobs):
    app = make_app(real_redis, content, JOBS=jobs, RATE_LIMIT_PER_MINUTE="3")
    browser = Browser(app)
    for _ in range(3):
        browser.send("hi")
    assert browser.send("hi")["replies"] == [content.message("en", "rate_limited")]
    assert Browser(app, address="203.0.113.8").send("hi")["stage"] == "asking"


def test_one_address_flooding_the_door_is_refused_whatever_its_sessions(app, monkeypatch,
                                                                        content):
    monkeypatch.setattr(door, "PER_ADDRESS", ratelimit.Limits(per_contact=4))
    for _ in range(4):
        Browser(app).send("hi")  # a new session each time
    refused = Browser(app).post("/chat/send", {"text": "hi"})
    assert refused.status_code == 429
    assert refused.get_json()["error"] == content.message("en", "rate_limited")
    assert Browser(app, address="198.51.100.1").send("hi")["stage"] == "asking"


def test_a_post_from_another_site_is_refused(app):
    browser = Browser(app)
    assert browser.post("/chat/send", {"text": "hi"}, **{"Sec-Fetch-Site": "cross-site"}) \
        .status_code == 403
    assert browser.post("/chat/forget", {}, Origin="https://evil.example").status_code == 403
    assert browser.post("/chat/send", {"text": "hi"}, Origin="http://localhost") \
        .status_code == 200
    assert browser.post("/chat/send", {"text": "hi"}, **{"Sec-Fetch-Site": "same-origin"}) \
        .status_code == 200


def test_every_door_answer_carries_the_security_headers(app):
    browser = Browser(app)
    answers = [browser.client.get("/"), browser.client.get("/pa"),
               browser.post("/chat/send", {"text": "hi"}),
               browser.post("/chat/send", {"text": "22"}, json=False),
               browser.post("/chat/text-me", {"phone": "1", "consent": "yes"}),
               browser.post("/chat/forget", {}, **{"Sec-Fetch-Site": "cross-site"}),
               browser.post("/chat/forget", {}),
               browser.client.get("/static/door/door.css")]
    for answer in answers:
        assert answer.headers["Content-Security-Policy"] == door.HEADERS[
            "Content-Security-Policy"], answer.request.path
        for name, value in door.HEADERS.items():
            assert answer.headers[name] == value
        assert "Strict-Transport-Security" not in answer.headers
    assert answers[-1].status_code == 200 and "no-store" not in answers[-1].headers.get(
        "Cache-Control", "")
    assert answers[0].headers["Cache-Control"] == "no-store"
    secure = Browser(app, base="https://localhost").client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_page_uses_no_inline_script_or_style_and_nothing_from_elsewhere(app):
    page = Browser(app).client.get("/").get_data(as_text=True)
    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert "http://" not in page and "https://" not in page


# -- text me my results ---------------------------------------------------------------------------

@pytest.fixture
def worker_app(real_redis, content, worker_env) -> Flask:
    """The app with the installed job port (RQ), as in production, sends to the outbox."""
    return make_app(real_redis, content, QUIET_HOURS="off")


def test_text_me_sends_the_results_to_that_number_and_schedules_did_you_apply(
        worker_app, content, real_redis):
    browser = Browser(worker_app, "vi")
    programs = [card["id"] for card in browser.to_results()["results"]]
    answer = browser.post("/chat/text-me", {"phone": "(408) 555-0177", "consent": "yes"})
    assert answer.get_json() == {"sent": True}
    run_worker(real_redis, OUTBOUND)  # the estimate waits in line for the model's worker
    [text] = [m for m in outbox.read() if m["to"] == TEXT_ME]
    assert text["channel"] == "sms"
    assert content.message("vi", "results_header") in text["body"]
    assert text["body"].startswith(content.message("vi", "welcome"))  # who texts, STOP, HELP
    sms = Phone(worker_app, TEXT_ME)
    assert (sms.session["stage"], sms.session["lang"]) == ("results", "vi")
    assert sms.session["programs"] == programs
    household = json.loads(real_redis.get(key(sms.contact, "estimate")))
    assert (household["lang"], household["programs"]) == ("vi", programs)
    assert real_redis.lrange("sj:estimates:pending", 0, -1) == [sms.contact.encode()]
    consent = real_redis.get(key(sms.contact, "consent")).decode()
    record = json.loads(consent)
    assert set(record) == {"at", "version", "lang", "via"}  # nothing holds the number
    assert (record["version"], record["lang"]) == (1, "vi") and "4085550177" not in consent
    scheduled = Queue(OUTBOUND, connection=real_redis).scheduled_job_registry.get_job_ids()
    assert [job for job in scheduled if job.startswith("applied-web")]
    assert not any(TEXT_ME[2:].encode() in item for item in everything_in(real_redis))
    assert sms.text("1")[0].startswith(content.text(  # a reply by text goes on from there
        "vi", content.rules.program(programs[0]).name))


def test_a_number_that_opted_out_gets_nothing_and_is_told_kindly(worker_app, real_redis):
    Phone(worker_app, TEXT_ME).text("STOP")
    browser = Browser(worker_app)
    browser.to_results()
    answer = browser.post("/chat/text-me", {"phone": "408-555-0177", "consent": "yes"})
    assert answer.status_code == 409
    words = worker_app.extensions["door_texts"].texts
    assert answer.get_json() == {"error": words["number_stopped"]}
    run_worker(real_redis)
    assert [m for m in outbox.read() if m["to"] == TEXT_ME] == []
    assert Phone(worker_app, TEXT_ME).session is None


@pytest.mark.parametrize("phone,consent,why", [
    ("+44 20 7946 0958", "yes", "phone_invalid"), ("555-0177", "yes", "phone_invalid"),
    ("408-155-0177", "yes", "phone_invalid"), ("4085550177", "", "consent_needed"),
    ("4085550177", "no", "consent_needed")])
def test_text_me_refuses_other_countries_bad_numbers_and_no_consent(app, jobs, phone, consent,
                                                                   why):
    browser = Browser(app, "es")
    browser.to_results()
    answer = browser.post("/chat/text-me", {"phone": phone, "consent": consent})
    assert answer.status_code == 400
    words = app.extensions["door_texts"].in_language(
        app.extensions["textline"].content, "es", 30)
    assert answer.get_json() == {"error": words[why]}
    assert jobs.queued == []


def test_text_me_waits_for_results_and_says_so_without_javascript(app, jobs):
    browser = Browser(app)
    browser.send("hi")
    answer = browser.post("/chat/text-me", {"phone": "4085550177", "consent": "yes"},
                          json=False)
    assert answer.status_code == 303 and answer.headers["Location"] == "/?notice=results_first"
    assert jobs.queued == []
    notice = app.extensions["door_texts"].texts["results_first"]
    assert escape(notice) in browser.client.get(answer.headers["Location"]).get_data(
        as_text=True)


def test_text_me_sends_at_most_three_a_day_per_session(app, jobs):
    browser = Browser(app)
    browser.to_results()
    numbers = ["4085550171", "4085550172", "4085550173", "4085550174"]
    statuses = [browser.post("/chat/text-me", {"phone": n, "consent": "yes"}).status_code
                for n in numbers]
    assert statuses == [200, 200, 200, 429] and len(jobs.queued) == 3
    [(address, queued)] = jobs.queued[:1]
    assert address == "+14085550171"
    assert [job.kind for job in queued] == ["message", "estimate", "follow_up"]


# -- one engine, two doors ----------------------------------------------------------------------

def sms_programs(app: Flask, content, lang: str, persona: dict, number: str) -> list[str]:
    phone = Phone(app, number)
    script = Script(persona, content.flow)
    token = persona.get("first", "HELLO")
    while token is not None:
        phone.text(spoken(content, lang, token))
        token = script.next(phone.session)
    return phone.session["programs"]


def web_programs(app: Flask, content, lang: str, persona: dict, address: str) -> list[str]:
    browser = Browser(app, lang, address=address)
    script = Script(persona, content.flow)
    token = persona.get("first", "HELLO")
    while token is not None:
        view = browser.send(spoken(content, lang, token))
        at = None if view["stage"] in ("start", "stopped") else {
            "stage": view["stage"], "question": (view["question"] or {}).get("id")}
        token = script.next(at)
    return [card["id"] for card in view["results"] or []]


@pytest.mark.parametrize("lang", ["en", "es"])
def test_the_same_household_gets_the_same_programs_on_the_web_and_by_sms(real_redis, content,
                                                                         jobs, lang):
    app = make_app(real_redis, content, JOBS=jobs, RATE_LIMIT_PER_MINUTE="1000")
    compared = 0
    for index, persona in enumerate(PERSONAS):
        by_sms = sms_programs(app, content, lang, persona, f"+1408555{index:04d}")
        on_the_web = web_programs(app, content, lang, persona, f"192.0.2.{index + 1}")
        assert on_the_web == by_sms, persona["id"]
        compared += bool(by_sms)
    assert compared >= 8
