"""Worker fixtures: load with `pytest_plugins = ["worker_fixtures"]`.

`worker_env` sets the worker's environment (the test secret, an outbox in tmp_path, no Twilio
credentials, no quiet hours); `twilio_api` adds credentials and puts a `FakeTwilioHttp`
(worker_kit.py) under the real `twilio.rest.Client`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from phone import SECRET
from twilio.rest import Client
from worker_kit import MESSAGING_SERVICE, PUBLIC_URL, FakeTwilioHttp

from worker import delivery


@pytest.fixture
def worker_env(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SCREENER_SECRET", SECRET)
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.jsonl"))
    monkeypatch.setenv("QUIET_HOURS", "off")
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_MESSAGING_SERVICE_SID",
                 "TWILIO_FROM", "PUBLIC_URL", "WHATSAPP_TEMPLATE_SID", "SENDER_KIND"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def twilio_api(worker_env, monkeypatch) -> Callable[..., FakeTwilioHttp]:
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "0" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "token")
    monkeypatch.setenv("TWILIO_MESSAGING_SERVICE_SID", MESSAGING_SERVICE)
    monkeypatch.setenv("PUBLIC_URL", PUBLIC_URL)
    monkeypatch.setenv("SENDER_KIND", "short_code")  # the throughput tests choose their own

    def use(*answers: tuple[int, dict] | Exception) -> FakeTwilioHttp:
        http = FakeTwilioHttp(*answers)
        monkeypatch.setattr(delivery, "twilio_client", lambda settings: Client(
            settings.account_sid, settings.auth_token, http_client=http))
        return http

    return use
