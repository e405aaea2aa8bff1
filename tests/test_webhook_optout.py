"""STOP, START and HELP come before the flow; a stopped contact hears nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from phone import NUMBER, Phone, make_app, replies, sign
from rq.exceptions import NoSuchJobError
from rq.job import Job
from worker_kit import recipient, run_worker

from bot import optout, outbox
from bot.engine import new_session, step
from bot.store import Change, Ttl
from worker import outbound
from worker.queues import OUTBOUND

pytest_plugins = ["redis_server", "worker_fixtures"]


@pytest.fixture
def app(redis_client, content):
    return make_app(redis_client, content)


@pytest.fixture
def app_mode(redis_client, content):
    return make_app(redis_client, content, OPT_OUT_MODE="app")


def test_stop_erases_the_session_and_twilio_mode_sends_no_second_reply(app):
    phone = Phone(app)
    phone.text("hello")
    phone.answer_current_question()
    assert phone.text("STOP") == []
    assert phone.session is None
    assert phone.store.opt_out_record(phone.contact) is not None


def test_stop_in_app_mode_sends_the_confirmation(app_mode, content):
    phone = Phone(app_mode)
    phone.text("hello")
    assert phone.text("stop") == [content.message("en", "stopped")]
    assert phone.session is None


@pytest.mark.parametrize("mode", ["twilio", "app"])
def test_every_stop_word_of_every_language_stops(redis_client, content, mode):
    app = make_app(redis_client, content, OPT_OUT_MODE=mode)
    for n, word in enumerate(content.command_words("stop")):
        phone = Phone(app, number=f"+1408555{n:04d}")
        phone.store.commit(phone.contact, Change([], session=new_session(content, 0)), 0)
        phone.text(f" {word.lower()}! ")
        assert phone.session is None, word
        assert phone.store.opt_out_record(phone.contact) is not None, word


def test_a_stopped_contact_gets_no_reply_but_help_until_start(app_mode, content):
    phone = Phone(app_mode)
    phone.text("hello")
    phone.text("STOP")
    for body in ("hello", "22", "restart", ""):
        assert phone.text(body) == [], body
    assert phone.session is None
    said = phone.text("START")
    assert said[0].startswith(content.message("en", "started"))
    assert phone.store.opt_out_record(phone.contact) is None
    assert phone.session["stage"] == "asking"


@pytest.mark.parametrize(("mode", "answered"), [("app", True), ("twilio", False)])
def test_help_from_a_stopped_contact_is_answered_where_twilio_does_not(redis_client, content,
                                                                        mode, answered):
    """On a short code nobody else answers HELP, and carriers require an answer even after
    STOP; on long codes Twilio answers it itself."""
    phone = Phone(make_app(redis_client, content, OPT_OUT_MODE=mode))
    phone.text("hello")
    phone.text("STOP")
    said = phone.text("HELP")
    assert (content.message("en", "help") in "\n".join(said)) is answered
    assert answered or said == []
    assert phone.store.opt_out_record(phone.contact) is not None
    assert phone.session is None


@pytest.mark.parametrize("mode", ["twilio", "app"])
@pytest.mark.parametrize("sentence", ["please stop texting me", "Unsubscribe me",
                                      "stop texting me now"])
def test_stopping_in_a_sentence_opts_out_through_the_webhook(redis_client, content, mode,
                                                            sentence):
    phone = Phone(make_app(redis_client, content, OPT_OUT_MODE=mode))
    phone.text("hello")
    phone.answer_current_question()
    assert phone.text(sentence) == [content.message("en", "stopped")]  # Twilio did not act
    assert phone.store.opt_out_record(phone.contact) is not None
    assert phone.session is None
    assert phone.text("hello") == []


def test_start_in_twilio_mode_resubscribes_quietly_then_the_flow_starts_again(app, content):
    phone = Phone(app)
    phone.text("hello")
    phone.text("STOP")
    assert phone.text("UNSTOP") == []  # Twilio already confirmed it
    assert phone.store.opt_out_record(phone.contact) is None
    assert phone.text("hi")[0].startswith(content.message("en", "welcome"))


def test_twilio_opt_out_type_is_honoured_for_words_we_do_not_know(app):
    phone = Phone(app)
    phone.text("hello")
    assert phone.text("ALTO", OptOutType="STOP") == []
    assert phone.store.opt_out_record(phone.contact) is not None
    assert phone.text("SI", OptOutType="START") == []
    assert phone.store.opt_out_record(phone.contact) is None


def test_a_start_from_someone_who_never_stopped_is_just_a_message(app_mode, content):
    assert Phone(app_mode).text("START") == step(content, None, "START", 0).replies


def test_a_stop_word_twilio_did_not_handle_gets_our_own_confirmation(content):
    twilio, app = optout.Keywords(content, "twilio"), optout.Keywords(content, "app")
    assert twilio.twilio_confirmed("Stop!", None, "stop")
    assert twilio.twilio_confirmed("ALTO", "STOP", "stop")
    assert not twilio.twilio_confirmed("ALTO", None, "stop")
    assert not app.twilio_confirmed("STOP", "STOP", "stop")


def test_help_answers_with_who_we_are_how_to_stop_and_rates(app, content):
    phone = Phone(app)
    phone.text("hello")
    said = "\n".join(phone.text("HELP"))
    assert content.message("en", "help") in said
    assert "STOP" in said and "Msg & data rates may apply" in said
    assert phone.session["stage"] == "asking"  # and the conversation goes on


def test_twilio_help_keyword_gets_our_help_even_in_another_word(app, content):
    phone = Phone(app)
    phone.text("hello")
    assert content.message("en", "help") in "\n".join(phone.text("AYUDA", OptOutType="HELP"))


# -- outbound messages (the worker; more in test_worker_outbound.py) -------------------------

def test_stop_cancels_queued_messages_and_none_reaches_the_contact_until_start(
        app, redis_client, worker_env):
    phone = Phone(app)
    phone.text("hello")
    later = datetime.now(UTC) + timedelta(hours=1)
    queued = outbound.enqueue_message(redis_client, recipient(), "Reminder", "m1")
    scheduled = outbound.enqueue_message(redis_client, recipient(), "Tomorrow", "m2", at=later)
    phone.text("STOP")
    for job in (queued, scheduled):
        with pytest.raises(NoSuchJobError):
            Job.fetch(job.id, connection=redis_client)
    # A job that slipped past the STOP (already running, or queued by slow work later).
    outbound.enqueue_message(redis_client, recipient(), "Late result", "m3")
    run_worker(redis_client, OUTBOUND)
    assert outbox.read() == []

    phone.text("START")
    outbound.enqueue_message(redis_client, recipient(), "Welcome back", "m4")
    run_worker(redis_client, OUTBOUND)
    assert [(m["to"], m["channel"], m["body"]) for m in outbox.read()] == [
        (NUMBER, "sms", "Welcome back")]
    assert redis_client.smembers(f"sj:{{{phone.contact}}}:jobs") == set()


def test_a_message_id_is_sent_once_however_often_it_is_queued(app, redis_client, worker_env):
    Phone(app, channel="whatsapp").text("hello")  # inside WhatsApp's 24-hour window
    for runs in (1, 2):
        for _ in range(runs):
            outbound.enqueue_message(redis_client, recipient(channel="whatsapp"), "Hi",
                                     "same-id")
        run_worker(redis_client, OUTBOUND)
    assert [m["channel"] for m in outbox.read()] == ["whatsapp"]


def test_a_21610_status_callback_opts_the_contact_out(app):
    phone = Phone(app)
    phone.text("hello")
    form = {"MessageSid": "SM" + "4" * 32, "MessageStatus": "failed", "ErrorCode": "21610",
            "To": NUMBER, "From": "+14085550000"}
    response = app.test_client().post(
        "/twilio/status", data=form,
        headers={"X-Twilio-Signature": sign("http://localhost/twilio/status", form)})
    assert response.status_code == 204
    assert phone.store.opt_out_record(phone.contact) is not None
    assert replies(phone.post("hello")) == []


def test_a_21610_status_callback_while_the_contact_is_busy_still_opts_them_out(app):
    phone = Phone(app)
    phone.text("hello")
    line = app.extensions["textline"]
    line.store.ttl = Ttl(lock_wait=0.1)
    busy = line.store.lock(phone.contact)
    assert busy.acquire()  # a turn of this contact is running
    form = {"MessageSid": "SM" + "4" * 32, "MessageStatus": "failed", "ErrorCode": "21610",
            "To": NUMBER, "From": "+14085550000"}
    response = app.test_client().post(
        "/twilio/status", data=form,
        headers={"X-Twilio-Signature": sign("http://localhost/twilio/status", form)})
    assert response.status_code in (200, 204)
    assert phone.store.opt_out_record(phone.contact) is not None
    busy.release()
    assert replies(phone.post("hello")) == []
    assert phone.session is None
