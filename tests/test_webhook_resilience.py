"""Never fail the resident: Twilio always gets a 200, the resident a short apology at worst,
and the conversation picks up where it was once things work again."""

from __future__ import annotations

import dataclasses
import logging

import fakeredis
import pytest
import redis.exceptions
from phone import NUMBER, Phone, make_app, sign
from rq import Queue
from worker_kit import everything_in

from bot import inbound
from bot.engine import new_session
from bot.i18n import Catalogs
from bot.store import Change, Store, connect
from bot.web import twilio
from worker.queues import OUTBOUND

pytest_plugins = ["redis_server"]
SPANISH_SORRY = "Lo sentimos, algo falló. Envíe su último mensaje otra vez en un minuto."


@pytest.mark.redis_server
def test_with_redis_stopped_replies_are_apologies_and_the_talk_resumes_after(outage_server,
                                                                              content):
    app = make_app(connect(outage_server.url), content)
    phone = Phone(app)
    phone.text("hello")
    phone.answer_current_question()
    before = phone.session

    outage_server.stop()
    for _ in range(3):
        assert phone.text("95112") == [content.message("en", "sorry_error")]
    assert app.test_client().get("/healthz").status_code == 503

    outage_server.start()
    assert phone.session == before
    assert app.test_client().get("/healthz").status_code == 200
    phone.answer_current_question()
    after = phone.session
    assert len(after["trail"]) == len(before["trail"]) + 1


def test_the_apology_is_in_the_residents_language_even_with_redis_down(content):
    sorry = content.flow.messages["sorry_error"]
    spanish = dataclasses.replace(content, catalogs=Catalogs({"es": {sorry: SPANISH_SORRY}}))
    server = fakeredis.FakeServer()
    app = make_app(fakeredis.FakeRedis(server=server), spanish)
    phone = Phone(app)
    phone.store.commit(phone.contact, Change([], session=new_session(spanish, 0, "es")), 0)
    phone.text("hola")  # the web process learns the contact's language
    server.connected = False
    assert phone.text("22") == [SPANISH_SORRY]
    assert Phone(app, number="+14085550177").text("hi") == [content.message("en",
                                                                            "sorry_error")]


def test_a_contact_who_stopped_hears_nothing_even_with_redis_down(content):
    server = fakeredis.FakeServer()
    app = make_app(fakeredis.FakeRedis(server=server), content)
    phone = Phone(app)
    phone.text("hello")
    phone.text("STOP")
    server.connected = False
    assert phone.text("hello") == []


def test_an_engine_failure_is_an_apology_logged_with_a_request_id(fake_redis, content,
                                                                  monkeypatch, caplog):
    app = make_app(fake_redis, content)
    phone = Phone(app)
    phone.text("hello")
    before = phone.session

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the engine")

    monkeypatch.setattr(inbound, "step", broken)
    response = phone.post("22")
    assert response.status_code == 200
    assert Phone(app).text("22") == [content.message("en", "sorry_error")]
    [failure, *_] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"request={response.headers['X-Request-Id']}" in failure.getMessage()
    assert failure.exc_info is not None

    monkeypatch.undo()
    assert phone.session == before
    phone.answer_current_question()
    assert phone.session["answers"]["age"] == 22


def test_an_error_outside_the_pipeline_is_still_a_200_apology(fake_redis, content,
                                                             monkeypatch):
    app = make_app(fake_redis, content)

    def broken(form):
        raise ValueError("an unexpected form")

    monkeypatch.setattr(twilio.Message, "from_form", broken)
    assert Phone(app).text("hello") == [content.message("en", "sorry_error")]


def test_health_reports_redis_and_the_flow(fake_redis, content):
    server = fakeredis.FakeServer()
    app = make_app(fakeredis.FakeRedis(server=server), content)
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.json["redis"] == "ok"
    assert health.json["flow"]["fingerprint"] == content.fingerprint
    server.connected = False
    health = app.test_client().get("/healthz")
    assert health.status_code == 503
    assert health.json["redis"] == "down"


def test_status_callbacks_count_outcomes_and_never_fail(content):
    server = fakeredis.FakeServer()
    redis = fakeredis.FakeRedis(server=server)
    app = make_app(redis, content)
    url = "http://localhost/twilio/status"
    for status, error in (("delivered", ""), ("undelivered", "30003"), ("delivered", "")):
        form = {"MessageSid": "SM" + "1" * 32, "MessageStatus": status, "ErrorCode": error,
                "To": NUMBER}
        client = app.test_client()
        assert client.post("/twilio/status", data=form,
                           headers={"X-Twilio-Signature": sign(url, form)}).status_code == 204
    [name] = redis.keys("sj:delivery:*")
    assert redis.hgetall(name) == {b"delivered": b"2", b"undelivered": b"1",
                                   b"error:30003": b"1"}
    server.connected = False
    assert client.post("/twilio/status", data=form,
                       headers={"X-Twilio-Signature": sign(url, form)}).status_code == 204


def test_a_failed_enqueue_after_a_saved_turn_is_kept_and_queued_by_the_next_turn(
        fake_redis, content, monkeypatch):
    app = make_app(fake_redis, content)
    phone = Phone(app)
    phone.screen_to_results()
    phone.text("1")
    scheduled = Queue(OUTBOUND, connection=fake_redis).scheduled_job_registry

    def reminders() -> int:
        return sum(job_id.startswith("send-reminder") for job_id in scheduled.get_job_ids())

    before = reminders()
    textline = app.extensions["textline"]
    real = textline.jobs

    class Broken:
        def enqueue(self, *args, **kwargs):
            raise redis.exceptions.ConnectionError("Redis went away after the turn was saved")

        def cancel(self, contact):
            real.cancel(contact)

    monkeypatch.setattr(textline, "jobs", Broken())
    said = phone.text("REMIND")
    assert content.message("en", "sorry_error") not in said
    assert reminders() == before
    monkeypatch.setattr(textline, "jobs", real)
    Phone(app, number="+14085550166").text("hello")  # anyone's next turn
    assert reminders() == before + 1
    stored = b"\n".join(everything_in(fake_redis))
    assert NUMBER.encode() not in stored and NUMBER[2:].encode() not in stored


def test_a_turn_saved_just_before_redis_failed_answers_with_what_was_saved(fake_redis, content,
                                                                          monkeypatch):
    app = make_app(fake_redis, content)
    phone = Phone(app)
    phone.text("hello")
    real = Store.commit

    def saved_then_lost(self, *args, **kwargs):
        real(self, *args, **kwargs)
        raise ConnectionError("the reply from Redis was lost")

    monkeypatch.setattr(Store, "commit", saved_then_lost)
    said = phone.text("22")
    monkeypatch.undo()
    assert said and content.message("en", "sorry_error") not in said
    assert phone.session["answers"]["age"] == 22


@pytest.mark.parametrize(("mode", "confirmation"), [("twilio", False), ("app", True)])
def test_stop_during_a_redis_outage_is_kept_and_recorded_when_redis_returns(
        content, tmp_path, mode, confirmation):
    server = fakeredis.FakeServer()
    fallback = tmp_path / "optouts.jsonl"
    web = [make_app(fakeredis.FakeRedis(server=server), content, OPT_OUT_MODE=mode,
                    OPT_OUT_FALLBACK_PATH=str(fallback)) for _ in range(2)]  # two processes
    phone = Phone(web[0])
    phone.text("hello")
    server.connected = False
    said = phone.text("STOP")
    assert said == ([content.message("en", "stopped")] if confirmation else [])
    assert Phone(web[1]).text("hello") == []  # the other process knows, and never apologises
    server.connected = True
    Phone(web[1], number="+14085550166").text("hello")  # the first turn after the outage
    assert phone.store.opt_out_record(phone.contact) is not None
    assert phone.session is None
    assert Phone(web[1]).text("hello") == []


@pytest.mark.redis_server
def test_health_is_503_when_redis_answers_but_cannot_write(real_redis, content):
    app = make_app(real_redis, content)
    real_redis.set("filler", "x" * 100_000)
    real_redis.config_set("maxmemory-policy", "noeviction")
    real_redis.config_set("maxmemory", "1")
    try:
        health = app.test_client().get("/healthz")
    finally:
        real_redis.config_set("maxmemory", "0")
    assert health.status_code == 503
    assert health.json["redis"] == "cannot_write"
    assert app.test_client().get("/healthz").status_code == 200


@pytest.mark.redis_server
def test_start_up_warns_loudly_when_redis_does_not_persist(real_redis, outage_server, content,
                                                          caplog):
    make_app(real_redis, content)  # the test server runs without an append-only file
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("appendonly" in message for message in warnings), warnings
    caplog.clear()
    make_app(connect(outage_server.url), content)
    assert not [r for r in caplog.records if "appendonly" in r.getMessage()]
