"""Test helpers: an app wired for tests, and a resident's phone that texts it through
Twilio's signed web hook exactly as Twilio does (`RequestValidator.compute_signature`).
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from bot.app import create_app
from bot.store import Store, contact_id

AUTH_TOKEN = "test-auth-token-0123456789abcdef"
SECRET = "test-secret"
NUMBER = "+14085550123"
WEBHOOK_URL = "http://localhost/twilio/messages"
# An answer for every question the shipped flow may ask, so conversations survive flow edits.
ANSWERS = {"age": "22", "zip": "95112", "household_size": "1", "monthly_income": "1200",
           "youngest_child_age": "2"}
BY_TYPE = {"yes_no": "no", "number": "1", "money": "0", "zip": "95112", "choice": "1",
           "text": "ok"}
_sids = itertools.count(1)


def replied_sids(redis: Any, contact: str) -> list[str]:
    """The MessageSids whose replies Redis keeps for redeliveries, oldest first."""
    return [entry.split(b" ", 1)[0].decode()
            for entry in redis.lrange(f"sj:{{{contact}}}:replies", 0, -1)]


def make_app(redis: Any, content: Any, **config: Any) -> Flask:
    return create_app({
        "SCREENER_SECRET": SECRET,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "REDIS": redis,
        "CONTENT": content,
        **config,
    })


def new_sid() -> str:
    return f"SM{next(_sids):032d}"


class TwilioForm(dict[str, str]):
    """A form as Twilio posts it, that the validator signs the quick way: it asks for a
    field's values by `getall` first, and reaches a plain dict's only after two
    AttributeErrors a field (a load generator shares the cores with the servers it measures)."""

    def getall(self, name: str) -> list[str]:
        return [self[name]]


def twilio_form(sid: str, sender: str, body: str, to: str = "+14085550000") -> TwilioForm:
    """Every field Twilio posts for an inbound SMS, not only the four the text line reads:
    the signature covers them all, and the form is parsed whole."""
    return TwilioForm({
        "ToCountry": "US", "ToState": "CA", "SmsMessageSid": sid, "NumMedia": "0",
        "ToCity": "SAN JOSE", "FromZip": "95112", "SmsSid": sid, "FromState": "CA",
        "SmsStatus": "received", "FromCity": "SAN JOSE", "Body": body, "FromCountry": "US",
        "To": to, "MessagingServiceSid": "MG" + "2" * 32, "ToZip": "95113",
        "NumSegments": "1", "MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender,
        "ApiVersion": "2010-04-01",
    })


def sign(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN,
         algorithm: str | None = None) -> str:
    return RequestValidator(token).compute_signature(url, params, algorithm)


def replies(response: TestResponse) -> list[str]:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/xml"
    return [m.text or "" for m in ET.fromstring(response.data).iter("Message")]


class Phone:
    """One resident texting the app by SMS (or WhatsApp with `channel="whatsapp"`)."""

    def __init__(self, app: Flask, number: str = NUMBER, channel: str = "sms",
                 client: FlaskClient | None = None):
        self.app = app
        self.client = client or app.test_client()
        self.address = f"whatsapp:{number}" if channel == "whatsapp" else number
        self.contact = contact_id(SECRET.encode(), number)

    def form(self, body: str, sid: str | None = None, **fields: str) -> dict[str, str]:
        return {"MessageSid": sid or new_sid(), "AccountSid": "AC" + "0" * 32,
                "From": self.address, "To": "+14085550000", "Body": body, "NumMedia": "0",
                **fields}

    def post(self, body: str, sid: str | None = None, **fields: str) -> TestResponse:
        form = self.form(body, sid, **fields)
        return self.client.post("/twilio/messages", data=form,
                                headers={"X-Twilio-Signature": sign(WEBHOOK_URL, form)})

    def text(self, body: str, sid: str | None = None, **fields: str) -> list[str]:
        return replies(self.post(body, sid, **fields))

    @property
    def session(self) -> dict[str, Any] | None:
        return self.store.snapshot(self.contact, None).session

    @property
    def store(self) -> Store:
        return self.app.extensions["textline"].store

    def answer_current_question(self) -> list[str]:
        session = self.session
        if session is None or session["stage"] != "asking":
            return self.text("1")  # a menu (language, continue or start over): the first
        question = self.app.extensions["textline"].content.flow.question(session["question"])
        return self.text(ANSWERS.get(question.id, BY_TYPE[question.type]))

    def screen_to_results(self, limit: int = 40) -> list[str]:
        """Text hello and answer every question until the results come; every reply, in
        order."""
        said = self.text("hello")
        for _ in range(limit):
            if (self.session or {}).get("stage") == "results":
                return said
            said += self.answer_current_question()
        raise AssertionError(f"no results after {limit} answers: {self.session}")
