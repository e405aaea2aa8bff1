"""Only Twilio gets in: every web hook request must carry a valid X-Twilio-Signature."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from flask import request
from phone import AUTH_TOKEN, NUMBER, WEBHOOK_URL, Phone, make_app, replies, sign, twilio_form
from twilio.request_validator import HMAC_SHA256
from werkzeug.datastructures import MultiDict

from bot.corpus import corpus_files, load_corpus
from bot.web.twilio import read_form, signature_is_valid

pytest_plugins = ["redis_server"]
SHARED_KEY_ID = "webhooks_sharedkey_0123"
SHARED_SECRET = "shared-secret-for-webhook-rules"
PUBLIC_URL = "https://textline.example.org"
INTERNAL = {"base_url": "http://10.0.0.5:8000"}  # where the proxy forwards to


@pytest.fixture
def app(fake_redis, content):
    return make_app(fake_redis, content,
                    TWILIO_WEBHOOK_KEYS=f"{SHARED_KEY_ID}={SHARED_SECRET}")


def post(app, form, headers, path="/twilio/messages", **kwargs):
    return app.test_client().post(path, data=form, headers=headers, **kwargs)


def test_a_request_signed_like_twilio_is_answered(app):
    form = Phone(app).form("hello")
    response = post(app, form, {"X-Twilio-Signature": sign(WEBHOOK_URL, form)})
    assert replies(response)


@pytest.mark.parametrize("query", ["?campaign=flyer-7", "?campaign=caf%C3%A9&n=1%202",
                                   "?campaign=café"])
def test_a_url_with_a_query_is_checked_as_twilio_signed_it(app, query):
    """Tried first as the parts came (one HMAC), then as Werkzeug writes the URL."""
    form = Phone(app).form("hello")
    for signed, accepted in ((WEBHOOK_URL + query, True), (WEBHOOK_URL + "?other=1", False)):
        response = post(app, form, {"X-Twilio-Signature": sign(signed, form)},
                        path="/twilio/messages" + query)
        assert (response.status_code == 200) is accepted, signed


def test_a_missing_signature_is_refused(app):
    assert post(app, Phone(app).form("hello"), {}).status_code == 403


def test_a_forged_signature_is_refused(app):
    form = Phone(app).form("hello")
    forged = sign(WEBHOOK_URL, form, token="not-the-auth-token")
    assert post(app, form, {"X-Twilio-Signature": forged}).status_code == 403


def test_a_signature_over_other_fields_is_refused(app):
    form = Phone(app).form("hello")
    signature = sign(WEBHOOK_URL, form)
    form["Body"] = "STOP"
    assert post(app, form, {"X-Twilio-Signature": signature}).status_code == 403


def test_a_signature_for_another_url_is_refused(app):
    form = Phone(app).form("hello")
    signature = sign("https://elsewhere.example.org/twilio/messages", form)
    assert post(app, form, {"X-Twilio-Signature": signature}).status_code == 403


def test_nothing_is_accepted_when_no_auth_token_is_configured(fake_redis, content):
    app = make_app(fake_redis, content, TWILIO_AUTH_TOKEN="")
    form = Phone(app).form("hello")
    for token in ("", AUTH_TOKEN):
        response = post(app, form, {"X-Twilio-Signature": sign(WEBHOOK_URL, form, token=token)})
        assert response.status_code == 403
    assert fake_redis.keys("sj:{*") == []


def test_a_webhook_rule_signature_with_hmac_sha256_is_accepted(app):
    form = Phone(app).form("hello")
    headers = {
        "X-Twilio-Signature": sign(WEBHOOK_URL, form, SHARED_SECRET, HMAC_SHA256),
        "X-Twilio-Webhooks-Signature-Settings": f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256",
    }
    assert replies(post(app, form, headers))


@pytest.mark.parametrize("settings", [
    "key=webhooks_sharedkey_unknown,algorithm=HMAC_SHA256",  # a key we were not given
    f"key={SHARED_KEY_ID},algorithm=HMAC_SHA1",  # the header names another algorithm
    f"key={SHARED_KEY_ID},algorithm=HMAC_MD5",  # an algorithm nobody supports
])
def test_a_webhook_rule_signature_that_does_not_match_its_settings_is_refused(app, settings):
    form = Phone(app).form("hello")
    headers = {
        "X-Twilio-Signature": sign(WEBHOOK_URL, form, SHARED_SECRET, HMAC_SHA256),
        "X-Twilio-Webhooks-Signature-Settings": settings,
    }
    assert post(app, form, headers).status_code == 403


def test_the_auth_token_does_not_sign_a_webhook_rule_request(app):
    form = Phone(app).form("hello")
    headers = {
        "X-Twilio-Signature": sign(WEBHOOK_URL, form, AUTH_TOKEN, HMAC_SHA256),
        "X-Twilio-Webhooks-Signature-Settings": f"key={SHARED_KEY_ID},algorithm=HMAC_SHA256",
    }
    assert post(app, form, headers).status_code == 403


class TestBehindAProxy:
    """Twilio signs https://public-host/...; the app sees http://internal-host:8000/..."""

    @pytest.fixture
    def app(self, fake_redis, content):
        return make_app(fake_redis, content, PUBLIC_URL=PUBLIC_URL + "/")

    def test_the_public_url_validates(self, app):
        form = Phone(app).form("hello")
        signature = sign(f"{PUBLIC_URL}/twilio/messages", form)
        response = post(app, form, {"X-Twilio-Signature": signature}, **INTERNAL)
        assert replies(response)

    def test_the_query_string_is_part_of_the_signed_url(self, app):
        form = Phone(app).form("hello")
        signature = sign(f"{PUBLIC_URL}/twilio/messages?campaign=flyer-7", form)
        response = post(app, form, {"X-Twilio-Signature": signature},
                        path="/twilio/messages?campaign=flyer-7", **INTERNAL)
        assert replies(response)

    def test_the_internal_url_does_not_validate(self, app):
        form = Phone(app).form("hello")
        signature = sign("http://10.0.0.5:8000/twilio/messages", form)
        response = post(app, form, {"X-Twilio-Signature": signature}, **INTERNAL)
        assert response.status_code == 403

    def test_twilio_signing_with_the_default_port_also_validates(self, app):
        form = Phone(app).form("hello")
        signature = sign(f"{PUBLIC_URL}:443/twilio/messages", form)
        response = post(app, form, {"X-Twilio-Signature": signature}, **INTERNAL)
        assert replies(response)


def test_a_field_sent_twice_is_signed_with_both_values(app):
    """Twilio signs every value of a field; the library reads them from Werkzeug's form and
    from the faster view the app hands it alike."""
    items = [*Phone(app).form("hello").items(), ("MediaUrl0", "b"), ("MediaUrl0", "a")]
    body = urlencode(items)
    kinds = {"content_type": "application/x-www-form-urlencoded"}
    for signed, accepted in ((items, True), (items[:-1], False)):
        response = post(app, body, {"X-Twilio-Signature": sign(WEBHOOK_URL, MultiDict(signed))},
                        **kinds)
        assert (response.status_code == 200) is accepted, signed


def test_status_callbacks_need_a_signature_too(app):
    form = {"MessageSid": "SM" + "2" * 32, "MessageStatus": "delivered", "To": "+14085550123"}
    assert post(app, form, {}, path="/twilio/status").status_code == 403
    url = "http://localhost/twilio/status"
    response = post(app, form, {"X-Twilio-Signature": sign(url, form)}, path="/twilio/status")
    assert response.status_code == 204


@pytest.mark.parametrize("body", [
    b"Body=hello&From=%2B14085550123",
    b"Body=caf%C3%A9+%C4%91%C3%BAng&MediaUrl0=&MediaUrl0=x",  # repeated, blank
    "Body=đúng rồi&Note=%ZZ&Bad=%ff".encode(),  # raw UTF-8, a broken and a non-UTF-8 escape
    b"Body=1%2B1%3D2&Flag&=empty-name",
    b"Body=caf\xe9&From=%2B14085550123",  # not UTF-8 at all: no form, as Werkzeug reads it
])
def test_twilio_forms_read_the_short_way_equal_werkzeugs(app, body):
    """`read_form` gives the web hooks exactly the form Werkzeug would parse from the body."""
    kinds = {"content_type": "application/x-www-form-urlencoded"}
    with app.test_request_context("/twilio/messages", method="POST", data=body, **kinds):
        read_form()
        short = request.form
    with app.test_request_context("/twilio/messages", method="POST", data=body, **kinds):
        assert short == request.form and list(short.items(multi=True)) == list(
            request.form.items(multi=True))


def test_a_signed_form_sent_as_multipart_is_still_read(app):
    """Twilio never sends one, but another kind of body still goes by `request.form`."""
    form = Phone(app).form("hello")
    response = post(app, form, {"X-Twilio-Signature": sign(WEBHOOK_URL, form)},
                    content_type="multipart/form-data")
    assert replies(response)


def test_an_unsigned_body_that_is_not_utf8_is_refused_not_answered(app):
    response = post(app, b"Body=caf\xe9&From=%2B14085550123", {"X-Twilio-Signature": "x"},
                    content_type="application/x-www-form-urlencoded")
    assert response.status_code == 403


def test_every_corpus_message_in_twilios_full_form_reads_and_verifies_as_werkzeug_reads_it(app):
    """What residents really text (tests/corpus/, five languages and scripts), in the whole
    form Twilio posts, encoded as Twilio encodes it (spaces as +): `read_form` gives the
    same fields as Werkzeug's parser, and the signature the library made over them holds."""
    said = {text for path in corpus_files() for case in load_corpus(path) for text in case.say}
    assert len(said) > 700
    kinds = {"content_type": "application/x-www-form-urlencoded"}
    for text in sorted(said):
        form = twilio_form("SM" + "1" * 32, NUMBER, text)
        body = urlencode(form).encode()
        signed = {"headers": {"X-Twilio-Signature": sign(WEBHOOK_URL, dict(form))}, **kinds}
        with app.test_request_context("/twilio/messages", method="POST", data=body, **signed):
            read_form()
            short = request.form
            assert signature_is_valid(), text
        with app.test_request_context("/twilio/messages", method="POST", data=body, **kinds):
            assert list(short.items(multi=True)) == list(request.form.items(multi=True))
        assert short["Body"] == text
