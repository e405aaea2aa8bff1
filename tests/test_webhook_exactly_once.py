"""Each message counts once, and one person's messages never trample each other."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier, Event

import pytest
from flow_copies import free_text_flows
from phone import Phone, make_app, replied_sids

from bot import inbound
from bot.content import load_content
from bot.store import REPLIES_KEPT, Ttl

pytest_plugins = ["redis_server"]
QUESTIONS = 20


@pytest.fixture
def app(redis_client, content):
    return make_app(redis_client, content)


def test_a_redelivered_message_sid_advances_the_conversation_once(app):
    phone = Phone(app)
    phone.text("hello")
    before = phone.session
    sid = "SM" + "7" * 32
    answers = [phone.text("22", sid=sid) for _ in range(10)]
    assert all(said == answers[0] for said in answers)
    after = phone.session
    assert len(after["trail"]) == len(before["trail"]) + 1
    assert after["question"] != before["question"]


def test_a_redelivery_after_later_messages_still_gets_its_first_reply(app):
    phone = Phone(app)
    phone.text("hello")
    first = phone.text("22", sid="SM" + "8" * 32)
    phone.answer_current_question()
    trail = phone.session["trail"]
    assert phone.text("22", sid="SM" + "8" * 32) == first
    assert phone.session["trail"] == trail


@pytest.mark.redis_server
def test_the_same_message_sid_arriving_ten_times_at_once_runs_once(real_redis, content):
    app = make_app(real_redis, content)
    phone = Phone(app)
    phone.text("hello")
    start = Barrier(10)

    def deliver(_):
        start.wait()
        return Phone(app).text("22", sid="SM" + "9" * 32)

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(deliver, range(10)))
    assert all(said == answers[0] for said in answers)
    assert len(phone.session["trail"]) == 1


@pytest.fixture(scope="module")
def text_flow(tmp_path_factory):
    """The shipped content with 20 free-text questions, so any message is an answer."""
    return load_content(free_text_flows(tmp_path_factory.mktemp("flows"), QUESTIONS))


@pytest.mark.redis_server
def test_twenty_messages_sent_at_once_are_all_applied_one_after_the_other(real_redis,
                                                                         text_flow):
    app = make_app(real_redis, text_flow, RATE_LIMIT_PER_MINUTE="100")
    phone = Phone(app)
    phone.text("hello")
    bodies = [f"answer {n}" for n in range(QUESTIONS)]
    start = Barrier(QUESTIONS)

    def send(body):
        start.wait()
        return body, Phone(app).text(body)

    with ThreadPoolExecutor(QUESTIONS) as pool:
        said = dict(pool.map(send, bodies))

    session = phone.session
    assert session["stage"] == "results"
    assert [step["id"] for step in session["trail"]] == [f"q{n}" for n in range(1, 21)]
    assert sorted(session["answers"].values()) == sorted(bodies)  # none lost, none twice
    for question, body in session["answers"].items():  # each saw the turn before it
        number = int(question[1:])
        if number < QUESTIONS:
            assert said[body] == [f"Question {number + 1}?"]


@pytest.mark.redis_server
def test_a_turn_that_outlives_its_lock_never_overwrites_the_turn_after_it(real_redis, content,
                                                                        monkeypatch):
    app = make_app(real_redis, content)
    line = app.extensions["textline"]
    line.store.ttl = Ttl(lock=0.3, lock_wait=5)
    phone = Phone(app)
    phone.text("hello")
    slow_started, fast_done = Event(), Event()
    real_step = inbound.step

    def step(content, session, text, now, **kwargs):
        if text == "22":  # the slow turn: stalls past its lock's timeout
            slow_started.set()
            fast_done.wait(10)
        return real_step(content, session, text, now, **kwargs)

    monkeypatch.setattr(inbound, "step", step)
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(Phone(app).text, "22")
        assert slow_started.wait(10)
        fast = Phone(app).text("23")  # takes the lock once it times out
        fast_done.set()
        slow_said = slow.result(timeout=20)

    session = phone.session
    assert session["answers"]["age"] == 23
    assert [step["id"] for step in session["trail"]] == ["age"]
    assert fast != slow_said and content.message("en", "sorry_error") not in fast


def kept_sids(phone):
    """The MessageSids whose replies are kept for redeliveries."""
    return set(replied_sids(phone.store.redis, phone.contact))


def test_sixty_messages_keep_a_bounded_number_of_replies(redis_client, text_flow):
    app = make_app(redis_client, text_flow, RATE_LIMIT_PER_MINUTE="1000")
    phone = Phone(app)
    sids = [f"SM{n:032x}" for n in range(1, 61)]
    for sid in sids:
        phone.text("an answer", sid=sid)
    kept = kept_sids(phone)
    assert kept == set(sids[-REPLIES_KEPT:])
    assert all(redis_client.ttl(name) > 0
               for name in redis_client.keys(f"sj:{{{phone.contact}}}:*"))


def test_a_kept_reply_leaves_redis_once_its_window_passes_however_many_messages_follow(
        redis_client, text_flow):
    now = [1_800_000_000.0]
    app = make_app(redis_client, text_flow, CLOCK=lambda: now[0])
    phone = Phone(app)
    sid = "SM" + "d" * 32
    phone.text("an answer", sid=sid)
    window = Ttl().seen
    for _ in range(3):  # a chatty resident: each message inside the window of the last
        assert sid in kept_sids(phone)
        assert 0 < redis_client.ttl(f"sj:{{{phone.contact}}}:replies") <= window
        now[0] += window / 2.5
        phone.text("an answer")
    assert sid not in kept_sids(phone)  # gone from Redis, not only ignored


def test_restart_forgets_the_replies_given_before_it(redis_client, text_flow):
    app = make_app(redis_client, text_flow)
    phone = Phone(app)
    before = [f"SM{n:032x}" for n in range(1, 4)]
    for sid in before:
        phone.text("an answer", sid=sid)
    restart = "SM" + "c" * 32
    said = phone.text("RESTART", sid=restart)
    assert kept_sids(phone) & set(before) == set()
    assert phone.text("RESTART", sid=restart) == said  # its own reply is kept
    trail = phone.session["trail"]
    phone.text("an answer", sid=before[0])  # long gone: a new message now
    assert len(phone.session["trail"]) == len(trail) + 1


def test_a_rate_limited_message_is_not_marked_as_seen(redis_client,
                                                      text_flow):
    app = make_app(redis_client, text_flow, RATE_LIMIT_PER_MINUTE="3")
    phone = Phone(app)
    for _ in range(3):
        phone.text("an answer")
    limited = ["SM" + digit * 32 for digit in "ef"]
    for sid in limited:
        phone.text("an answer", sid=sid)
    assert kept_sids(phone) & set(limited) == set()
