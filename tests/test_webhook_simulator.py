"""The simulator texts as any number without a signature: it must be off unless a developer
asked for it on a machine without Twilio credentials."""

from __future__ import annotations

import os

import pytest
from phone import Phone, make_app

from bot import serve
from bot.web import simulator


@pytest.mark.parametrize(("config", "served"), [
    ({"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": ""}, False),  # nothing asked for
    ({"TWILIO_ACCOUNT_SID": "", "SIMULATOR": ""}, False),  # only the Auth Token set
    ({"TWILIO_ACCOUNT_SID": "", "SIMULATOR": "1"}, False),  # asked for, with the Auth Token
    ({"SIMULATOR": "1"}, False),  # asked for, with both credentials
    ({"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "SIMULATOR": "1"}, True),
    ({"TWILIO_ACCOUNT_SID": "", "TWILIO_AUTH_TOKEN": "", "SIMULATOR": "0"}, False),
])
def test_the_simulator_is_served_only_when_asked_for_without_twilio_credentials(
        fake_redis, content, config, served):
    app = make_app(fake_redis, content, **config)
    client = app.test_client()
    assert (client.get("/simulator").status_code == 200) is served
    sent = client.post("/simulator/send", json={"Body": "STOP", "From": "+14085550123"})
    assert (sent.status_code == 200) is served
    assert (client.get("/simulator/outbox").status_code == 200) is served
    if not served:
        assert Phone(app).session is None
        assert fake_redis.keys("sj:{*") == []


def test_screener_run_asks_for_the_simulator_only_without_credentials(monkeypatch):
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "SIMULATOR"):
        monkeypatch.delenv(name, raising=False)
    serve.ask_for_simulator()
    assert simulator.enabled({"SIMULATOR": os.environ.get("SIMULATOR")})
    monkeypatch.delenv("SIMULATOR")
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "a-real-token")
    serve.ask_for_simulator()
    assert "SIMULATOR" not in os.environ
