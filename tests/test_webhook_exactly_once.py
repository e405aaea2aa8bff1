"""Each message counts once, and one person's messages never trample each other."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from phone import Phone, make_app

from bot.content import load_content
from bot.flow import FLOWS_DIR

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
    flows = tmp_path_factory.mktemp("flows") / "flows"
    shutil.copytree(FLOWS_DIR, flows)
    flow = flows / "screener.yaml"
    head = flow.read_text(encoding="utf-8").split("\nquestions:")[0]
    questions = "".join(f'  - id: q{n}\n    type: text\n    ask: "Question {n}?"\n'
                        for n in range(1, QUESTIONS + 1))
    flow.write_text(f"{head}\nquestions:\n{questions}", encoding="utf-8")
    return load_content(flows)


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
