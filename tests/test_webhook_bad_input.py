"""Odd requests get a calm answer: never a 5xx, never a turn that a replay could start."""

from __future__ import annotations

import pytest
from phone import WEBHOOK_URL, Phone, make_app, replies, sign

pytest_plugins = ["redis_server"]


@pytest.fixture
def app(fake_redis, content):
    return make_app(fake_redis, content)


def test_a_replay_that_moves_num_media_into_the_message_sid_starts_no_new_turn(app):
    phone = Phone(app)
    phone.text("hello")
    form = phone.form("22", sid="SM" + "a" * 32)
    signature = sign(WEBHOOK_URL, form)
    first = replies(app.test_client().post("/twilio/messages", data=form,
                                           headers={"X-Twilio-Signature": signature}))
    trail = phone.session["trail"]
    # Twilio signs the sorted names and values run together: this form signs the same.
    replay = {name: value for name, value in form.items() if name != "NumMedia"}
    replay["MessageSid"] = form["MessageSid"] + "NumMedia" + form["NumMedia"]
    assert sign(WEBHOOK_URL, replay) == signature
    said = replies(app.test_client().post("/twilio/messages", data=replay,
                                          headers={"X-Twilio-Signature": signature}))
    assert said == []
    assert phone.session["trail"] == trail
    assert first


@pytest.mark.parametrize("sid", ["", "SM123", "XX" + "a" * 32, "SM" + "A" * 32,
                                 "SM" + "a" * 33])
def test_a_message_without_a_twilio_message_sid_runs_no_turn(app, sid):
    phone = Phone(app)
    form = phone.form("hello", sid="x")
    form["MessageSid"] = sid
    response = app.test_client().post("/twilio/messages", data=form,
                                      headers={"X-Twilio-Signature": sign(WEBHOOK_URL, form)})
    assert replies(response) == []
    assert phone.session is None


def test_mms_message_sids_are_accepted(app, content):
    said = Phone(app).text("hello", sid="MM" + "0123456789abcdef" * 2)
    assert said[0].startswith(content.message("en", "welcome"))


@pytest.mark.parametrize("num_media", ["²", "-1", "1e3", "٣", " 1", "99999999999999999999"])
def test_an_odd_num_media_is_read_as_no_media_never_an_error(app, content, num_media):
    said = Phone(app).text("hello", NumMedia=num_media)
    assert said[0].startswith(content.message("en", "welcome"))


@pytest.mark.parametrize("income", ["1" * 29, "$" + "9" * 29, "1" * 29 + ".55",
                                    "1,111,111,111,111,111,111,111,111,111", "1e30",
                                    "9" * 400])
def test_a_huge_income_is_asked_again_never_an_apology(app, content, income):
    phone = Phone(app)
    phone.text("hello")
    for _ in range(20):
        if phone.session.get("question") == "monthly_income":
            break
        phone.answer_current_question()
    assert phone.session["question"] == "monthly_income"
    said = phone.text(income)
    assert content.message("en", "sorry_error") not in said
    assert phone.session["question"] == "monthly_income"


def test_a_huge_body_is_refused_with_413_before_it_is_parsed(app, fake_redis):
    form = Phone(app).form("x" * 200_000)
    response = app.test_client().post("/twilio/messages", data=form,
                                      headers={"X-Twilio-Signature": sign(WEBHOOK_URL, form)})
    assert response.status_code == 413
    assert response.mimetype == "text/xml"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Response')
    assert fake_redis.keys("sj:{*") == []


def test_the_longest_message_twilio_sends_still_fits(app, content):
    phone = Phone(app)
    phone.text("hello")
    said = phone.text("आ" * 1600, MediaUrl0="https://api.twilio.com/" + "m" * 200)
    assert content.message("en", "sorry_error") not in said
