"""Whole conversations through `POST /twilio/messages`, signed exactly as Twilio signs them."""

from __future__ import annotations

import pytest
from phone import NUMBER, WEBHOOK_URL, Phone, make_app, replies, sign

from bot.engine import step

pytest_plugins = ["redis_server"]


@pytest.fixture
def app(redis_client, content):
    return make_app(redis_client, content)


def test_an_sms_conversation_runs_from_hello_to_results(app, content):
    phone = Phone(app)
    first = phone.text("hello")
    assert first[0].startswith(content.message("en", "welcome"))
    results = phone.screen_to_results()
    assert content.message("en", "results_header") in "\n".join(results)
    session = phone.session
    assert session["stage"] == "results"
    assert session["answers"]["age"] == 22


def test_the_reply_is_twiml_served_as_text_xml(app):
    response = Phone(app).post("hello")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response>')


def test_whatsapp_runs_through_the_same_engine(app, content):
    phone = Phone(app, channel="whatsapp")
    assert phone.text("hello")[0].startswith(content.message("en", "welcome"))
    phone.screen_to_results()
    assert phone.session["stage"] == "results"


def test_sms_and_whatsapp_from_one_number_are_one_contact(app):
    sms, whatsapp = Phone(app), Phone(app, channel="whatsapp")
    sms.text("hello")
    sms.answer_current_question()
    assert whatsapp.session == sms.session
    whatsapp.answer_current_question()
    assert len(sms.session["trail"]) == 2


def test_two_numbers_are_two_conversations(app):
    one, two = Phone(app), Phone(app, number="+14085550199")
    one.screen_to_results()
    two.text("hello")
    assert two.session["stage"] == "asking"
    assert one.session["stage"] == "results"


def test_an_empty_message_gets_what_the_engine_says_never_an_apology(app, content):
    phone = Phone(app)
    assert phone.text("") == step(content, None, "", 0).replies
    sorry = [content.message("en", "sorry_error")]
    assert phone.text("") not in ([], sorry)


def test_a_picture_without_words_gets_a_kind_request_for_text(app, content):
    phone = Phone(app)
    phone.text("hello")
    asked = phone.session["question"]
    said = phone.text("", NumMedia="1", MediaUrl0="https://api.twilio.com/m.jpg",
                      MediaContentType0="image/jpeg")
    assert said == [content.message("en", "media_only")]
    assert phone.session["question"] == asked


def test_a_picture_with_words_is_read_for_its_words(app):
    phone = Phone(app)
    phone.text("hello")
    phone.text("22", NumMedia="1", MediaUrl0="https://api.twilio.com/m.jpg")
    assert phone.session["answers"]["age"] == 22


@pytest.mark.parametrize("body", [
    "x" * 20_000,
    "🙂🙃 \u200b\u202e22\u0000\x07 ",
    "２２",
    "<Response><Redirect>https://evil.example</Redirect></Response>",
])
def test_odd_or_huge_bodies_get_a_reply_never_an_error(app, body):
    phone = Phone(app)
    phone.text("hello")
    assert phone.text(body)


def test_unknown_extra_fields_are_ignored(app, content):
    said = Phone(app).text("hello", ProfileName="Ana", WaId="14085550123", Forwarded="true",
                           NewTwilioField="surprise", ButtonPayload="x")
    assert said[0].startswith(content.message("en", "welcome"))


def test_a_message_without_a_sender_gets_an_empty_reply(app):
    form = {"MessageSid": "SM" + "1" * 32, "Body": "hi"}
    phone = Phone(app)
    response = phone.client.post("/twilio/messages", data=form,
                                 headers={"X-Twilio-Signature": sign(WEBHOOK_URL, form)})
    assert replies(response) == []


def test_funnel_counts_land_in_a_daily_hash_without_numbers(app):
    phone = Phone(app)
    phone.screen_to_results()
    redis = phone.store.redis
    [name] = [k for k in redis.keys("sj:stats:*")]
    counts = {k.decode(): int(v) for k, v in redis.hgetall(name).items()}
    assert counts["started"] == 1
    assert counts["answered:age"] == 1
    assert counts["results"] == 1
    assert counts["inbound:sms"] >= 2
    assert not any(NUMBER[2:] in field for field in counts)

